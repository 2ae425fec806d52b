package compat

import (
	"net/http"

	"github.com/passgw/passgw/v1api"
)

// Call is what the migration router needs to know about a v1 request
// before choosing where it goes. It is read the way the v1 surface
// (package v1api) reads it: the requestor from the path, else from the
// operation's requestor parameters, else from a signed Authorization
// header; parameters from the query first, then a form or multipart body.
type Call struct {
	// Op is the v1 operation as a route template, such as
	// "GET /api/v1/checkauthn"; "" when the request matches no v1 route.
	Op        string
	Requestor string
	DeviceID  string
	// Code is the registration code the call names (path or reg_code).
	Code string
	// ReadOnly reports an operation that changes no state, upstream or in
	// the gateway, so that shadow mode may run it twice.
	ReadOnly bool
}

// Operation kinds that the canary remembers a device by.
const (
	opRegcodeCreate = "POST /reggie/v1/{requestor}/regcode"
	opFreePreview   = "POST /api/v1/authenticate/freepreview"
)

// IdentifyCall reads the Call of r. body is the start of r's body (nil
// for none); IdentifyCall never reads r.Body itself, so the caller decides
// how the body reaches whoever answers.
func IdentifyCall(r *http.Request, body []byte) Call {
	p := v1api.ParamsOf(r, body)
	var c Call
	requestorParams := []string{"requestor"}
	if op, ok := v1api.Identify(r); ok {
		c.Op, c.ReadOnly = op.Template, op.ReadOnly
		c.Requestor, c.Code = op.Vars["requestor"], op.Vars["code"]
		requestorParams = op.RequestorParams
	}
	for _, name := range requestorParams {
		if c.Requestor != "" {
			break
		}
		c.Requestor = p.Get(name)
	}
	if c.Requestor == "" {
		c.Requestor = v1api.SignedHeaderRequestor(r.Header.Get("Authorization"))
	}
	if c.Code == "" {
		c.Code = p.Get("reg_code")
	}
	c.DeviceID = p.Get("deviceId")
	return c
}
