package v1api

import "github.com/passgw/passgw/v1model"

// Error bodies. A *v1model.Error whose Code is set is rendered in the
// enhanced form (the handler clears Code for requestors without enhanced
// codes, and an error without a fitting code stays legacy).

// message is e.Message as the format wrote it: v1 said "Not found" in XML
// and "Not Found" in JSON.
func message(e *v1model.Error, f format) string {
	if f == formatJSON && e.Message == v1model.MsgNotFound {
		return "Not Found"
	}
	return e.Message
}

// errorBody is a v1 error answer.
type errorBody struct{ e *v1model.Error }

func (b errorBody) writeXML(w *xmlWriter) {
	e := b.e
	w.start("error")
	if e.Code == "" {
		w.int("status", int64(e.Status))
		w.text("message", message(e, formatXML))
		w.optText("details", e.Details)
		w.end("error")
		return
	}
	w.text("action", e.Action)
	w.int("status", int64(e.Status))
	w.text("code", e.Code)
	w.text("message", message(e, formatXML))
	w.optText("details", e.Details)
	w.text("helpUrl", e.HelpURL)
	w.text("trace", e.Trace)
	w.end("error")
}

func (b errorBody) writeJSON(w *jsonWriter) {
	e := b.e
	w.beginObject()
	if e.Code != "" {
		w.str("action", e.Action)
		w.int("status", int64(e.Status))
		w.str("code", e.Code)
	} else {
		w.int("status", int64(e.Status))
	}
	w.str("message", message(e, formatJSON))
	switch {
	case e.Details != "":
		w.str("details", e.Details)
	case e.NullDetails:
		w.null("details")
	}
	if e.Code != "" {
		w.str("helpUrl", e.HelpURL)
		w.str("trace", e.Trace)
	}
	w.endObject()
}

// itemErrorOptions decide whether and how preauthorize item errors are
// rendered: only for requestors with enhanced codes.
type itemErrorOptions struct {
	enhanced bool
	helpURL  string
	trace    string
}

// item returns the completed copy of e to render, or false.
func (o itemErrorOptions) item(e *v1model.Error) (v1model.Error, bool) {
	if e == nil || !o.enhanced {
		return v1model.Error{}, false
	}
	c := *e
	if c.Code != "" {
		completeEnhanced(&c, o.helpURL, o.trace)
	}
	return c, true
}

// writeItemErrorXML puts action last, as the preauthorize pages do.
func writeItemErrorXML(w *xmlWriter, e *v1model.Error) {
	w.start("error")
	w.int("status", int64(e.Status))
	w.optText("code", e.Code)
	w.text("message", message(e, formatXML))
	w.optText("details", e.Details)
	w.optText("helpUrl", e.HelpURL)
	w.optText("trace", e.Trace)
	w.optText("action", e.Action)
	w.end("error")
}

// writeItemErrorJSON puts action first, as the enhanced-codes page does.
func writeItemErrorJSON(w *jsonWriter, e *v1model.Error) {
	w.beginObject()
	w.optStr("action", e.Action)
	w.int("status", int64(e.Status))
	w.optStr("code", e.Code)
	w.str("message", message(e, formatJSON))
	w.optStr("details", e.Details)
	w.optStr("helpUrl", e.HelpURL)
	w.optStr("trace", e.Trace)
	w.endObject()
}
