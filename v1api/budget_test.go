//go:build !race

package v1api

import (
	"testing"

	"github.com/passgw/passgw/v1model"
)

// The allocation budgets of BENCHMARKS.md, enforced: allocations per
// operation are deterministic, so a body or a call that allocates more than
// its budget is a change in the code, not noise. Lower a budget when a
// change saves allocations; raising one is a decision to write down in
// BENCHMARKS.md. (The race detector allocates on its own, hence the build
// constraint.)

// renderBudgets are the allocations of encoding each body, by format.
var renderBudgets = map[string][2]float64{ // body: {xml, json}
	"regcode":        {6, 6},
	"config":         {6, 10},
	"authn":          {4, 6},
	"authz":          {4, 6},
	"media":          {5, 7},
	"preauthorize":   {7, 9},
	"usermetadata":   {5, 10},
	"error":          {3, 5},
	"error-enhanced": {5, 8},
}

func TestRenderAllocationBudgets(t *testing.T) {
	be := newRecordingBackend()
	enhanced := itemErrorOptions{enhanced: true, helpURL: DefaultHelpURL, trace: testRequestID}
	notFound := &v1model.Error{Status: 404, Message: v1model.MsgNotFound}
	denied := &v1model.Error{Status: 403, Code: v1model.CodeAuthorizationDeniedByMVPD, Message: v1model.MsgNotAuthorized,
		Details: "Your subscription package does not include this channel.", Action: "none", HelpURL: DefaultHelpURL, Trace: testRequestID}
	bodies := map[string]func() body{
		"regcode":        func() body { return registrationBody{be.reg} },
		"config":         func() body { return configBody{be.cfg} },
		"authn":          func() body { return authnBody{be.authn} },
		"authz":          func() body { return authzBody{be.authz} },
		"media":          func() body { return mediaBody{be.media} },
		"preauthorize":   func() body { return &preauthorizeBody{be.pre, enhanced} },
		"usermetadata":   func() body { return userMetadataBody{be.md} },
		"error":          func() body { return errorBody{notFound} },
		"error-enhanced": func() body { return errorBody{denied} },
	}
	if len(bodies) != len(renderBudgets) {
		t.Fatalf("%d bodies, %d budgets: every body needs one", len(bodies), len(renderBudgets))
	}
	for name, mk := range bodies {
		budget := renderBudgets[name]
		for i, enc := range []struct {
			format string
			encode func(body) []byte
		}{{"xml", encodeXML}, {"json", encodeJSON}} {
			got := testing.AllocsPerRun(50, func() {
				if len(enc.encode(mk())) == 0 {
					t.Fatal("empty body")
				}
			})
			if got > budget[i] {
				t.Errorf("%s/%s: %.0f allocations, budget %.0f", name, enc.format, got, budget[i])
			}
		}
	}
}

// handlerBudget bounds a whole call on the HTTP surface against an
// instant backend, the test's own request and recorder included (about 19
// of them), as BenchmarkHandler counts it.
var handlerBudgets = map[string]float64{
	"regcode":      36,
	"checkauthn":   26,
	"tokens-authn": 26,
	"authorize":    26,
	"mediatoken":   26,
	"preauthorize": 27,
}

func TestHandlerAllocationBudgets(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), nil)
	for _, c := range handlerCalls {
		budget, ok := handlerBudgets[c.name]
		if !ok {
			continue
		}
		for _, format := range []string{"xml", "json"} {
			got := testing.AllocsPerRun(50, func() { serveCall(t, h, c, format) })
			if got > budget {
				t.Errorf("%s/%s: %.0f allocations per call, budget %.0f", c.name, format, got, budget)
			}
		}
	}
}

// TestFrontAllocationBudgets: a call parsed by Front costs what the Handler
// alone costs: Front's context holds the Handler's state for the call, its
// request id and the form body put back for the layers behind Front.
func TestFrontAllocationBudgets(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), nil)
	f := &Front{Handler: h}
	for _, c := range handlerCalls {
		budget, ok := handlerBudgets[c.name]
		if !ok {
			continue
		}
		for _, format := range []string{"xml", "json"} {
			got := testing.AllocsPerRun(50, func() { serveCall(t, f, c, format) })
			if got > budget {
				t.Errorf("%s/%s: %.0f allocations per call through Front, budget %.0f", c.name, format, got, budget)
			}
		}
	}
}
