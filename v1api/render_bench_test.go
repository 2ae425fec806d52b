package v1api

import (
	"testing"

	"github.com/passgw/passgw/v1model"
)

// BenchmarkRender encodes each v1 body in XML and JSON from its typed
// answer (sample-like values). allocs/op per body is the allocation budget
// recorded in BENCHMARKS.md: compare runs with benchstat and keep it from
// growing.
func BenchmarkRender(b *testing.B) {
	be := newRecordingBackend()
	enhanced := itemErrorOptions{enhanced: true, helpURL: DefaultHelpURL, trace: testRequestID}
	notFound := &v1model.Error{Status: 404, Message: v1model.MsgNotFound}
	denied := &v1model.Error{Status: 403, Code: v1model.CodeAuthorizationDeniedByMVPD, Message: v1model.MsgNotAuthorized,
		Details: "Your subscription package does not include this channel.", Action: "none", HelpURL: DefaultHelpURL, Trace: testRequestID}
	bodies := []struct {
		name string
		body func() body
	}{
		{"regcode", func() body { return registrationBody{be.reg} }},
		{"config", func() body { return configBody{be.cfg} }},
		{"authn", func() body { return authnBody{be.authn} }},
		{"authz", func() body { return authzBody{be.authz} }},
		{"media", func() body { return mediaBody{be.media} }},
		{"preauthorize", func() body { return &preauthorizeBody{be.pre, enhanced} }},
		{"usermetadata", func() body { return userMetadataBody{be.md} }},
		{"error", func() body { return errorBody{notFound} }},
		{"error-enhanced", func() body { return errorBody{denied} }},
	}
	for _, body := range bodies {
		b.Run(body.name+"/xml", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = len(encodeXML(body.body()))
			}
			if n == 0 {
				b.Fatal("empty body")
			}
			b.SetBytes(int64(n))
		})
		b.Run(body.name+"/json", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = len(encodeJSON(body.body()))
			}
			if n == 0 {
				b.Fatal("empty body")
			}
			b.SetBytes(int64(n))
		})
	}
}
