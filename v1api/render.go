package v1api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/passgw/passgw/translate"
)

// Content types of the answers.
const (
	contentTypeXML   = "application/xml; charset=utf-8"
	contentTypeJSON  = "application/json; charset=utf-8"
	contentTypeBytes = "application/octet-stream"
	contentTypeHTML  = "text/html"
)

// throttlePage is the 429 body v1 sent (an openresty page), with CRLF line
// ends as it was measured on the wire.
const throttlePage = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n" +
	"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"

// xmlBody is the root element of an XML answer.
type xmlBody = *etree.Element

// write sends a successful answer.
func (h *Handler) write(w http.ResponseWriter, c *call, res result) {
	switch {
	case res.location != "":
		w.Header().Set("Location", res.location)
		w.WriteHeader(http.StatusFound)
	case res.octets != nil:
		w.Header().Set("Content-Type", contentTypeBytes)
		w.Header().Set("Content-Length", strconv.Itoa(len(res.octets)))
		w.WriteHeader(res.status)
		_, _ = w.Write(res.octets)
	case res.xml == nil && res.json == nil:
		w.WriteHeader(res.status)
	default:
		if res.confidence {
			w.Header().Set("Adobe-Response-Confidence", "full")
		}
		writeBody(w, c.format, res.status, res.xml, res.json)
	}
}

// writeBody sends x or j according to f (XML unless JSON was chosen).
func writeBody(w http.ResponseWriter, f format, status int, x xmlBody, j jvalue) {
	var body []byte
	if f == formatJSON {
		w.Header().Set("Content-Type", contentTypeJSON)
		body = encodeJSON(j)
	} else {
		w.Header().Set("Content-Type", contentTypeXML)
		body = encodeXML(x)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encodeXML writes root as a document with the JAXB prolog. Text escapes
// exactly &, < and > (and CR, so it survives parsing); characters XML cannot
// carry, invalid UTF-8 included, become U+FFFD.
func encodeXML(root xmlBody) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8" standalone="yes"`)
	doc.AddChild(root)
	doc.WriteSettings.CanonicalText = true
	b, err := doc.WriteToBytes()
	if err != nil {
		// Writing to memory does not fail.
		return nil
	}
	return b
}

func writeThrottled(w http.ResponseWriter) {
	w.Header().Set("Content-Type", contentTypeHTML)
	w.Header().Set("Content-Length", strconv.Itoa(len(throttlePage)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(throttlePage))
}

func addText(parent *etree.Element, name, value string) {
	parent.CreateElement(name).SetText(value)
}

func addOptText(parent *etree.Element, name, value string) {
	if value != "" {
		addText(parent, name, value)
	}
}

// epochMillis is t in Unix milliseconds; 0 for the zero time.
func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func millisText(t time.Time) string { return strconv.FormatInt(epochMillis(t), 10) }

func appendOpt(o jobject, name, value string) jobject {
	if value != "" {
		o = append(o, jfield{name, value})
	}
	return o
}

// Registration (3.1, 3.2): XML in the historical XSD shape, JSON the union
// of the current and historical documented fields.

func registrationXML(reg *translate.Registration) xmlBody {
	root := etree.NewElement("ns2:regcode")
	root.CreateAttr("xmlns:ns2", "model.mvc.reggie.pass.adobe.com")
	addText(root, "id", reg.ID)
	addText(root, "code", reg.Code)
	addText(root, "requestor", reg.Requestor)
	addText(root, "mvpd", reg.MVPD) // the XSD requires it: <mvpd/> when unset
	addText(root, "generated", millisText(reg.Generated))
	addText(root, "expires", millisText(reg.Expires))
	info := root.CreateElement("info")
	addText(info, "deviceId", base64.StdEncoding.EncodeToString(reg.Info.DeviceID))
	addOptText(info, "deviceType", reg.Info.DeviceType)
	addOptText(info, "deviceUser", reg.Info.DeviceUser)
	addOptText(info, "appId", reg.Info.AppID)
	addOptText(info, "appVersion", reg.Info.AppVersion)
	addOptText(info, "registrationURL", reg.Info.RegistrationURL)
	return root
}

func registrationJSON(reg *translate.Registration) jvalue {
	o := jobject{{"id", reg.ID}, {"code", reg.Code}, {"requestor", reg.Requestor}}
	o = appendOpt(o, "mvpd", reg.MVPD)
	o = append(o, jfield{"generated", epochMillis(reg.Generated)}, jfield{"expires", epochMillis(reg.Expires)})
	in := reg.Info
	info := jobject{{"deviceId", base64.StdEncoding.EncodeToString(in.DeviceID)}}
	info = appendOpt(info, "deviceType", in.DeviceType)
	info = appendOpt(info, "deviceUser", in.DeviceUser)
	info = appendOpt(info, "appId", in.AppID)
	info = appendOpt(info, "appVersion", in.AppVersion)
	info = appendOpt(info, "registrationURL", in.RegistrationURL)
	if len(in.DeviceInfo) > 0 {
		info = append(info, jfield{"deviceInfo", base64.StdEncoding.EncodeToString(in.DeviceInfo)})
	}
	info = appendOpt(info, "userAgent", in.UserAgent)
	info = appendOpt(info, "originalUserAgent", in.OriginalUserAgent)
	info = appendOpt(info, "authorizationType", in.AuthorizationType)
	if app := in.SourceApplication; app != nil {
		info = append(info, jfield{"sourceApplicationInformation",
			jobject{{"id", app.ID}, {"name", app.Name}, {"version", app.Version}}})
	}
	return append(o, jfield{"info", info})
}

// Config (3.4), the chosen shape.

func configXML(cfg *translate.Config) xmlBody {
	root := etree.NewElement("config")
	req := root.CreateElement("requestor")
	addText(req, "id", cfg.Requestor.ID)
	addText(req, "name", cfg.Requestor.Name)
	list := req.CreateElement("mvpds")
	for _, m := range cfg.Requestor.MVPDs {
		el := list.CreateElement("mvpd")
		addText(el, "id", m.ID)
		addText(el, "displayName", m.DisplayName)
		addText(el, "logoUrl", m.LogoURL)
		addText(el, "iFrameRequired", strconv.FormatBool(m.IFrameRequired))
		addText(el, "iFrameWidth", strconv.Itoa(m.IFrameWidth))
		addText(el, "iFrameHeight", strconv.Itoa(m.IFrameHeight))
		if m.EnablePlatformServices != nil {
			addText(el, "enablePlatformServices", strconv.FormatBool(*m.EnablePlatformServices))
		}
		if m.DisplayInPlatformPicker != nil {
			addText(el, "displayInPlatformPicker", strconv.FormatBool(*m.DisplayInPlatformPicker))
		}
		addOptText(el, "boardingStatus", m.BoardingStatus)
		addOptText(el, "platformMappingId", m.PlatformMappingID)
		for _, f := range m.RequiredMetadataFields {
			addText(el, "requiredMetadataFields", f)
		}
	}
	return root
}

func configJSON(cfg *translate.Config) jvalue {
	mvpds := make([]jvalue, 0, len(cfg.Requestor.MVPDs))
	for _, m := range cfg.Requestor.MVPDs {
		o := jobject{
			{"id", m.ID}, {"displayName", m.DisplayName}, {"logoUrl", m.LogoURL},
			{"iFrameRequired", m.IFrameRequired}, {"iFrameWidth", m.IFrameWidth}, {"iFrameHeight", m.IFrameHeight},
		}
		if m.EnablePlatformServices != nil {
			o = append(o, jfield{"enablePlatformServices", *m.EnablePlatformServices})
		}
		if m.DisplayInPlatformPicker != nil {
			o = append(o, jfield{"displayInPlatformPicker", *m.DisplayInPlatformPicker})
		}
		o = appendOpt(o, "boardingStatus", m.BoardingStatus)
		o = appendOpt(o, "platformMappingId", m.PlatformMappingID)
		if m.RequiredMetadataFields != nil {
			o = append(o, jfield{"requiredMetadataFields", m.RequiredMetadataFields})
		}
		mvpds = append(mvpds, o)
	}
	return jobject{{"requestor", jobject{
		{"id", cfg.Requestor.ID}, {"name", cfg.Requestor.Name}, {"mvpds", mvpds},
	}}}
}

// Authentication token (3.6-3.9).

func authnXML(t *translate.AuthnToken) xmlBody {
	root := etree.NewElement("authentication")
	addText(root, "expires", millisText(t.Expires))
	addText(root, "userId", t.UserID)
	addText(root, "mvpd", t.MVPD)
	addText(root, "requestor", t.Requestor)
	return root
}

func authnJSON(t *translate.AuthnToken) jvalue {
	return jobject{{"requestor", t.Requestor}, {"mvpd", t.MVPD}, {"userId", t.UserID}, {"expires", millisText(t.Expires)}}
}

// Authorization (3.10, 3.11).

func authzXML(t *translate.AuthzToken) xmlBody {
	root := etree.NewElement("authorization")
	addText(root, "expires", millisText(t.Expires))
	addText(root, "mvpd", t.MVPD)
	addText(root, "requestor", t.Requestor)
	addText(root, "resource", t.Resource)
	addOptText(root, "proxyMvpd", t.ProxyMVPD)
	return root
}

func authzJSON(t *translate.AuthzToken) jvalue {
	o := jobject{{"mvpd", t.MVPD}, {"resource", t.Resource}, {"requestor", t.Requestor}, {"expires", millisText(t.Expires)}}
	return appendOpt(o, "proxyMvpd", t.ProxyMVPD)
}

// Short media token (3.12).

func mediaXML(t *translate.MediaToken) xmlBody {
	root := etree.NewElement("play")
	addText(root, "expires", millisText(t.Expires))
	addText(root, "mvpdId", t.MVPDID)
	addText(root, "requestor", t.Requestor)
	addText(root, "resource", t.Resource)
	addText(root, "serializedToken", t.SerializedToken)
	addText(root, "userId", t.UserID)
	return root
}

func mediaJSON(t *translate.MediaToken) jvalue {
	return jobject{
		{"resource", t.Resource}, {"requestor", t.Requestor}, {"expires", millisText(t.Expires)},
		{"serializedToken", t.SerializedToken}, {"userId", t.UserID}, {"mvpdId", t.MVPDID},
	}
}

// Preauthorization (3.13, 3.14).

func preauthorizeXML(p *translate.Preauthorization, opts itemErrorOptions) xmlBody {
	root := etree.NewElement("resources")
	for _, d := range p.Resources {
		el := root.CreateElement("resource")
		addText(el, "id", d.ID)
		addText(el, "authorized", strconv.FormatBool(d.Authorized))
		if e := opts.item(d.Error); e != nil {
			el.AddChild(itemErrorXML(e))
		}
	}
	return root
}

func preauthorizeJSON(p *translate.Preauthorization, opts itemErrorOptions) jvalue {
	list := make([]jvalue, 0, len(p.Resources))
	for _, d := range p.Resources {
		o := jobject{{"id", d.ID}, {"authorized", d.Authorized}}
		if e := opts.item(d.Error); e != nil {
			o = append(o, jfield{"error", itemErrorJSON(e)})
		}
		list = append(list, o)
	}
	return jobject{{"resources", list}}
}
