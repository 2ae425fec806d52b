package v1api

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/passgw/passgw/v1model"
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

// body is a v1 answer that renders in either format. Only the format the
// call chose is ever rendered.
type body interface {
	writeXML(w *xmlWriter)
	writeJSON(w *jsonWriter)
}

// renderBuf is a pooled rendering buffer: the writers live in it, so that
// rendering through the body interface does not allocate them per call.
type renderBuf struct {
	buf []byte
	x   xmlWriter
	j   jsonWriter
}

// maxPooledBody bounds the buffers kept for reuse, so that one huge answer
// does not pin its buffer for the life of the process.
const maxPooledBody = 64 << 10

func (h *Handler) getBuf() *renderBuf {
	if rb, ok := h.bufs.Get().(*renderBuf); ok {
		return rb
	}
	return &renderBuf{buf: make([]byte, 0, 1024)}
}

func (h *Handler) putBuf(rb *renderBuf) {
	if cap(rb.buf) > maxPooledBody {
		return
	}
	rb.buf = rb.buf[:0]
	h.bufs.Put(rb)
}

// render appends b in format f to rb.buf: XML as a document with the JAXB
// prolog, JSON as one value.
func (rb *renderBuf) render(f format, b body) []byte {
	if f == formatJSON {
		rb.j = jsonWriter{buf: rb.buf[:0]}
		b.writeJSON(&rb.j)
		rb.buf, rb.j.buf = rb.j.buf, nil
	} else {
		rb.x = xmlWriter{buf: append(rb.buf[:0], xmlProlog...)}
		b.writeXML(&rb.x)
		rb.buf, rb.x.buf = rb.x.buf, nil
	}
	return rb.buf
}

// write sends a successful answer.
func (h *Handler) write(w http.ResponseWriter, c *call, res result) {
	switch {
	case res.location != "":
		w.Header()["Location"] = c.headerValue(res.location)
		w.WriteHeader(http.StatusFound)
	case res.octets != nil:
		hdr := w.Header()
		hdr["Content-Type"] = c.headerValue(contentTypeBytes)
		hdr["Content-Length"] = c.headerValue(strconv.Itoa(len(res.octets)))
		w.WriteHeader(res.status)
		_, _ = w.Write(res.octets)
	case res.body == nil:
		w.WriteHeader(res.status)
	default:
		if res.confidence {
			v := "full"
			if res.partial {
				v = "partial"
			}
			w.Header()["Adobe-Response-Confidence"] = c.headerValue(v)
		}
		h.writeBody(w, c, res.status, res.body)
	}
}

// writeBody renders b in the call's format (XML unless JSON was chosen)
// and sends it.
func (h *Handler) writeBody(w http.ResponseWriter, c *call, status int, b body) {
	rb := h.getBuf()
	defer h.putBuf(rb)
	out := rb.render(c.format, b)
	hdr := w.Header()
	if c.format == formatJSON {
		hdr["Content-Type"] = c.headerValue(contentTypeJSON)
	} else {
		hdr["Content-Type"] = c.headerValue(contentTypeXML)
	}
	hdr["Content-Length"] = c.headerValue(strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func writeThrottled(w http.ResponseWriter) {
	w.Header().Set("Content-Type", contentTypeHTML)
	w.Header().Set("Content-Length", strconv.Itoa(len(throttlePage)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, throttlePage)
}

// epochMillis is t in Unix milliseconds; 0 for the zero time.
func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// base64 writes an element holding data in standard Base64.
func (w *xmlWriter) base64(tag string, data []byte) {
	w.start(tag)
	if len(data) > 0 {
		w.closeStart()
		w.buf = base64.StdEncoding.AppendEncode(w.buf, data)
	}
	w.end(tag)
}

// base64 writes the member name: data in standard Base64, a string.
func (w *jsonWriter) base64(name string, data []byte) {
	w.name(name)
	w.buf = append(w.buf, '"')
	w.buf = base64.StdEncoding.AppendEncode(w.buf, data)
	w.buf = append(w.buf, '"')
	w.comma = true
}

// millis writes the member name: t in Unix milliseconds, as a string (the
// token bodies' "expires").
func (w *jsonWriter) millis(name string, t time.Time) {
	w.name(name)
	w.buf = append(w.buf, '"')
	w.buf = appendInt(w.buf, epochMillis(t))
	w.buf = append(w.buf, '"')
	w.comma = true
}

// Registration (3.1, 3.2): XML in the historical XSD shape, JSON the union
// of the current and historical documented fields.

type registrationBody struct{ reg *v1model.Registration }

func (b registrationBody) writeXML(w *xmlWriter) {
	reg := b.reg
	w.start("ns2:regcode")
	w.attr("xmlns:ns2", "model.mvc.reggie.pass.adobe.com")
	w.text("id", reg.ID)
	w.text("code", reg.Code)
	w.text("requestor", reg.Requestor)
	w.text("mvpd", reg.MVPD) // the XSD requires it: <mvpd/> when unset
	w.int("generated", epochMillis(reg.Generated))
	w.int("expires", epochMillis(reg.Expires))
	w.start("info")
	w.base64("deviceId", reg.Info.DeviceID)
	w.optText("deviceType", reg.Info.DeviceType)
	w.optText("deviceUser", reg.Info.DeviceUser)
	w.optText("appId", reg.Info.AppID)
	w.optText("appVersion", reg.Info.AppVersion)
	w.optText("registrationURL", reg.Info.RegistrationURL)
	w.end("info")
	w.end("ns2:regcode")
}

func (b registrationBody) writeJSON(w *jsonWriter) {
	reg := b.reg
	w.beginObject()
	w.str("id", reg.ID)
	w.str("code", reg.Code)
	w.str("requestor", reg.Requestor)
	w.optStr("mvpd", reg.MVPD)
	w.int("generated", epochMillis(reg.Generated))
	w.int("expires", epochMillis(reg.Expires))
	in := &reg.Info
	w.name("info")
	w.beginObject()
	w.base64("deviceId", in.DeviceID)
	// The documented keys are there, null when unset, as captured v1
	// answers have them (a deployed add-on's sample:
	// "deviceUser":null,"appId":null,"appVersion":null,"registrationURL":null).
	w.strOrNull("deviceType", in.DeviceType)
	w.strOrNull("deviceUser", in.DeviceUser)
	w.strOrNull("appId", in.AppID)
	w.strOrNull("appVersion", in.AppVersion)
	w.strOrNull("registrationURL", in.RegistrationURL)
	if len(in.DeviceInfo) > 0 {
		w.base64("deviceInfo", in.DeviceInfo)
	}
	w.optStr("userAgent", in.UserAgent)
	w.optStr("originalUserAgent", in.OriginalUserAgent)
	w.optStr("authorizationType", in.AuthorizationType)
	if app := in.SourceApplication; app != nil {
		w.name("sourceApplicationInformation")
		w.beginObject()
		w.str("id", app.ID)
		w.str("name", app.Name)
		w.str("version", app.Version)
		w.endObject()
	}
	w.endObject()
	w.endObject()
}

// Config (3.4), the chosen shape.

type configBody struct{ cfg *v1model.Config }

func (b configBody) writeXML(w *xmlWriter) {
	cfg := b.cfg
	w.start("config")
	w.start("requestor")
	w.text("id", cfg.Requestor.ID)
	w.text("name", cfg.Requestor.Name)
	w.start("mvpds")
	for i := range cfg.Requestor.MVPDs {
		m := &cfg.Requestor.MVPDs[i]
		w.start("mvpd")
		w.text("id", m.ID)
		w.text("displayName", m.DisplayName)
		w.text("logoUrl", m.LogoURL)
		w.bool("iFrameRequired", m.IFrameRequired)
		w.int("iFrameWidth", int64(m.IFrameWidth))
		w.int("iFrameHeight", int64(m.IFrameHeight))
		if m.EnablePlatformServices != nil {
			w.bool("enablePlatformServices", *m.EnablePlatformServices)
		}
		if m.DisplayInPlatformPicker != nil {
			w.bool("displayInPlatformPicker", *m.DisplayInPlatformPicker)
		}
		w.optText("boardingStatus", m.BoardingStatus)
		w.optText("platformMappingId", m.PlatformMappingID)
		for _, f := range m.RequiredMetadataFields {
			w.text("requiredMetadataFields", f)
		}
		w.end("mvpd")
	}
	w.end("mvpds")
	w.end("requestor")
	w.end("config")
}

func (b configBody) writeJSON(w *jsonWriter) {
	cfg := b.cfg
	w.beginObject()
	w.name("requestor")
	w.beginObject()
	w.str("id", cfg.Requestor.ID)
	w.str("name", cfg.Requestor.Name)
	w.name("mvpds")
	w.beginArray()
	for i := range cfg.Requestor.MVPDs {
		m := &cfg.Requestor.MVPDs[i]
		w.beginObject()
		w.str("id", m.ID)
		w.str("displayName", m.DisplayName)
		w.str("logoUrl", m.LogoURL)
		w.bool("iFrameRequired", m.IFrameRequired)
		w.int("iFrameWidth", int64(m.IFrameWidth))
		w.int("iFrameHeight", int64(m.IFrameHeight))
		if m.EnablePlatformServices != nil {
			w.bool("enablePlatformServices", *m.EnablePlatformServices)
		}
		if m.DisplayInPlatformPicker != nil {
			w.bool("displayInPlatformPicker", *m.DisplayInPlatformPicker)
		}
		w.optStr("boardingStatus", m.BoardingStatus)
		w.optStr("platformMappingId", m.PlatformMappingID)
		if m.RequiredMetadataFields != nil {
			w.name("requiredMetadataFields")
			w.value(m.RequiredMetadataFields)
		}
		w.endObject()
	}
	w.endArray()
	w.endObject()
	w.endObject()
}

// Authentication token (3.6-3.9).

type authnBody struct{ t *v1model.AuthnToken }

func (b authnBody) writeXML(w *xmlWriter) {
	t := b.t
	w.start("authentication")
	w.int("expires", epochMillis(t.Expires))
	w.text("userId", t.UserID)
	w.text("mvpd", t.MVPD)
	w.text("requestor", t.Requestor)
	w.end("authentication")
}

func (b authnBody) writeJSON(w *jsonWriter) {
	t := b.t
	w.beginObject()
	w.str("requestor", t.Requestor)
	w.str("mvpd", t.MVPD)
	w.str("userId", t.UserID)
	w.millis("expires", t.Expires)
	w.endObject()
}

// Authorization (3.10, 3.11).

type authzBody struct{ t *v1model.AuthzToken }

func (b authzBody) writeXML(w *xmlWriter) {
	t := b.t
	w.start("authorization")
	w.int("expires", epochMillis(t.Expires))
	w.text("mvpd", t.MVPD)
	w.text("requestor", t.Requestor)
	w.text("resource", t.Resource)
	w.optText("proxyMvpd", t.ProxyMVPD)
	w.end("authorization")
}

func (b authzBody) writeJSON(w *jsonWriter) {
	t := b.t
	w.beginObject()
	w.str("mvpd", t.MVPD)
	w.str("resource", t.Resource)
	w.str("requestor", t.Requestor)
	w.millis("expires", t.Expires)
	w.optStr("proxyMvpd", t.ProxyMVPD)
	w.endObject()
}

// Short media token (3.12).

type mediaBody struct{ t *v1model.MediaToken }

func (b mediaBody) writeXML(w *xmlWriter) {
	t := b.t
	w.start("play")
	w.int("expires", epochMillis(t.Expires))
	w.text("mvpdId", t.MVPDID)
	w.text("requestor", t.Requestor)
	w.text("resource", t.Resource)
	w.text("serializedToken", t.SerializedToken)
	w.text("userId", t.UserID)
	w.end("play")
}

func (b mediaBody) writeJSON(w *jsonWriter) {
	t := b.t
	w.beginObject()
	w.str("resource", t.Resource)
	w.str("requestor", t.Requestor)
	w.millis("expires", t.Expires)
	w.str("serializedToken", t.SerializedToken)
	w.str("userId", t.UserID)
	w.str("mvpdId", t.MVPDID)
	w.endObject()
}

// Preauthorization (3.13, 3.14).

type preauthorizeBody struct {
	p    *v1model.Preauthorization
	opts itemErrorOptions
}

func (b *preauthorizeBody) writeXML(w *xmlWriter) {
	w.start("resources")
	for i := range b.p.Resources {
		d := &b.p.Resources[i]
		w.start("resource")
		w.text("id", d.ID)
		w.bool("authorized", d.Authorized)
		if e, ok := b.opts.item(d.Error); ok {
			writeItemErrorXML(w, &e)
		}
		w.end("resource")
	}
	w.end("resources")
}

func (b *preauthorizeBody) writeJSON(w *jsonWriter) {
	w.beginObject()
	w.name("resources")
	w.beginArray()
	for i := range b.p.Resources {
		d := &b.p.Resources[i]
		w.beginObject()
		w.str("id", d.ID)
		w.bool("authorized", d.Authorized)
		if e, ok := b.opts.item(d.Error); ok {
			w.name("error")
			writeItemErrorJSON(w, &e)
		}
		w.endObject()
	}
	w.endArray()
	w.endObject()
}
