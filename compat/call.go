package compat

import (
	"net/http"

	"github.com/passgw/passgw/v1api"
)

// Call is what the migration router needs to know about a v1 request
// before choosing where it goes: what the v1 surface (package v1api) parsed
// of it, as v1api.Call describes.
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

// IdentifyCall returns the Call of r, as v1api parsed it (v1api.ParseCall:
// the call v1api.Front carries in r's context, else r parsed now, its body
// put back for whoever answers).
func IdentifyCall(r *http.Request) Call {
	c := v1api.ParseCall(r)
	return Call{Op: c.Route(), Requestor: c.Requestor(), DeviceID: c.DeviceID(), Code: c.Code(), ReadOnly: c.ReadOnly()}
}
