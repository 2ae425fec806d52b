package v1api

import (
	"testing"

	"github.com/passgw/passgw/translate"
)

// BenchmarkRender encodes each v1 body in XML and JSON from its typed
// answer (sample-like values). allocs/op per body is the allocation budget
// recorded in BENCHMARKS.md: compare runs with benchstat and keep it from
// growing.
func BenchmarkRender(b *testing.B) {
	be := newRecordingBackend()
	enhanced := itemErrorOptions{enhanced: true, helpURL: DefaultHelpURL, trace: testRequestID}
	notFound := &translate.Error{Status: 404, Message: translate.MsgNotFound}
	denied := &translate.Error{Status: 403, Code: translate.CodeAuthorizationDeniedByMVPD, Message: translate.MsgNotAuthorized,
		Details: "Your subscription package does not include this channel.", Action: "none", HelpURL: DefaultHelpURL, Trace: testRequestID}
	bodies := []struct {
		name string
		xml  func() xmlBody
		json func() jvalue
	}{
		{"regcode", func() xmlBody { return registrationXML(be.reg) }, func() jvalue { return registrationJSON(be.reg) }},
		{"config", func() xmlBody { return configXML(be.cfg) }, func() jvalue { return configJSON(be.cfg) }},
		{"authn", func() xmlBody { return authnXML(be.authn) }, func() jvalue { return authnJSON(be.authn) }},
		{"authz", func() xmlBody { return authzXML(be.authz) }, func() jvalue { return authzJSON(be.authz) }},
		{"media", func() xmlBody { return mediaXML(be.media) }, func() jvalue { return mediaJSON(be.media) }},
		{"preauthorize", func() xmlBody { return preauthorizeXML(be.pre, enhanced) }, func() jvalue { return preauthorizeJSON(be.pre, enhanced) }},
		{"usermetadata", func() xmlBody { return userMetadataXML(be.md) }, func() jvalue { return userMetadataJSON(be.md) }},
		{"error", func() xmlBody { return errorXML(notFound) }, func() jvalue { return errorJSON(notFound) }},
		{"error-enhanced", func() xmlBody { return errorXML(denied) }, func() jvalue { return errorJSON(denied) }},
	}
	for _, body := range bodies {
		b.Run(body.name+"/xml", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = len(encodeXML(body.xml()))
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
				n = len(encodeJSON(body.json()))
			}
			if n == 0 {
				b.Fatal("empty body")
			}
			b.SetBytes(int64(n))
		})
	}
}
