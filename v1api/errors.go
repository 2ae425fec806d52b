package v1api

import (
	"strconv"

	"github.com/beevik/etree"

	"github.com/passgw/passgw/translate"
)

// Error bodies. A *translate.Error whose Code is set is rendered in the
// enhanced form (the handler clears Code for requestors without enhanced
// codes, and an error without a fitting code stays legacy).

// message is e.Message as the format wrote it: v1 said "Not found" in XML
// and "Not Found" in JSON.
func message(e *translate.Error, f format) string {
	if f == formatJSON && e.Message == translate.MsgNotFound {
		return "Not Found"
	}
	return e.Message
}

func errorXML(e *translate.Error) xmlBody {
	root := etree.NewElement("error")
	if e.Code == "" {
		addText(root, "status", strconv.Itoa(e.Status))
		addText(root, "message", message(e, formatXML))
		addOptText(root, "details", e.Details)
		return root
	}
	addText(root, "action", e.Action)
	addText(root, "status", strconv.Itoa(e.Status))
	addText(root, "code", e.Code)
	addText(root, "message", message(e, formatXML))
	addOptText(root, "details", e.Details)
	addText(root, "helpUrl", e.HelpURL)
	addText(root, "trace", e.Trace)
	return root
}

func errorJSON(e *translate.Error) jvalue {
	var o jobject
	if e.Code != "" {
		o = jobject{{"action", e.Action}, {"status", e.Status}, {"code", e.Code}}
	} else {
		o = jobject{{"status", e.Status}}
	}
	o = append(o, jfield{"message", message(e, formatJSON)})
	switch {
	case e.Details != "":
		o = append(o, jfield{"details", e.Details})
	case e.NullDetails:
		o = append(o, jfield{"details", jnull{}})
	}
	if e.Code != "" {
		o = append(o, jfield{"helpUrl", e.HelpURL}, jfield{"trace", e.Trace})
	}
	return o
}

// itemErrorOptions decide whether and how preauthorize item errors are
// rendered: only for requestors with enhanced codes.
type itemErrorOptions struct {
	enhanced bool
	helpURL  string
	trace    string
}

// item returns the completed copy of e to render, or nil.
func (o itemErrorOptions) item(e *translate.Error) *translate.Error {
	if e == nil || !o.enhanced {
		return nil
	}
	c := *e
	if c.Code != "" {
		completeEnhanced(&c, o.helpURL, o.trace)
	}
	return &c
}

// itemErrorXML puts action last, as the preauthorize pages do.
func itemErrorXML(e *translate.Error) xmlBody {
	el := etree.NewElement("error")
	addText(el, "status", strconv.Itoa(e.Status))
	addOptText(el, "code", e.Code)
	addText(el, "message", message(e, formatXML))
	addOptText(el, "details", e.Details)
	addOptText(el, "helpUrl", e.HelpURL)
	addOptText(el, "trace", e.Trace)
	addOptText(el, "action", e.Action)
	return el
}

// itemErrorJSON puts action first, as the enhanced-codes page does.
func itemErrorJSON(e *translate.Error) jvalue {
	var o jobject
	o = appendOpt(o, "action", e.Action)
	o = append(o, jfield{"status", e.Status})
	o = appendOpt(o, "code", e.Code)
	o = append(o, jfield{"message", message(e, formatJSON)})
	o = appendOpt(o, "details", e.Details)
	o = appendOpt(o, "helpUrl", e.HelpURL)
	return appendOpt(o, "trace", e.Trace)
}
