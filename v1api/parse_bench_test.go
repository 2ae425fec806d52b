package v1api

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchDeviceInfo is the X-Device-Info of a set-top box, as devices send it.
var benchDeviceInfo = base64.StdEncoding.EncodeToString([]byte(
	`{"primaryHardwareType":"SetTopBox","model":"Roku Ultra","manufacturer":"Roku","version":"9.10","osName":"Roku OS","osVersion":"11.5","connectionType":"WiFi"}`))

// BenchmarkParse measures the steps that turn a v1 request into a typed
// call: parameters (query, form), format negotiation, device information
// and the device address.
func BenchmarkParse(b *testing.B) {
	b.Run("query", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/authorize?requestor=REF30&deviceId=bench-device-0001&resource=sports&format=json", nil)
		b.ReportAllocs()
		for b.Loop() {
			p, err := readParams(r, DefaultMaxParamBytes, DefaultMaxBodyBytes, nil, nil)
			if err != nil || p.Get("resource") != "sports" {
				b.Fatalf("readParams: %v %v", p, err)
			}
		}
	})
	b.Run("form", func(b *testing.B) {
		const form = "deviceId=bench-device-0001&deviceType=Roku&appId=bench&appVersion=1.0&ttl=1800"
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, "/reggie/v1/REF30/regcode", strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			p, err := readParams(r, DefaultMaxParamBytes, DefaultMaxBodyBytes, nil, nil)
			if err != nil || p.Get("deviceType") != "Roku" {
				b.Fatalf("readParams: %v %v", p, err)
			}
		}
	})
	b.Run("negotiate", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/checkauthn.json?requestor=REF30", nil)
		accept := []string{"text/html, application/json;q=0.9, */*;q=0.1"}
		b.ReportAllocs()
		for b.Loop() {
			_, ext := stripExtension(r)
			if negotiate(ext, "", accept) != formatJSON {
				b.Fatal("not JSON")
			}
		}
	})
	b.Run("deviceinfo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, obj, err := decodeDeviceInfo(benchDeviceInfo); err != nil || len(obj) == 0 {
				b.Fatalf("decodeDeviceInfo: %v", err)
			}
		}
	})
	b.Run("deviceaddr", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/checkauthn", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("X-Forwarded-For", "198.18.0.7")
		trusted := defaultTrustedProxies()
		b.ReportAllocs()
		for b.Loop() {
			if a, _ := deviceAddr(r, trusted); a.String() != "198.18.0.7" {
				b.Fatalf("device address %v", a)
			}
		}
	})
}

// handlerCall is one whole v1 call of BenchmarkHandler and of the
// allocation budgets (TestHandlerAllocationBudgets).
type handlerCall struct {
	name, method, target, body string
	status                     int
}

const benchDevice = "requestor=REF30&deviceId=bench-device-0001"

var handlerCalls = []handlerCall{
	{"regcode", http.MethodPost, "/reggie/v1/REF30/regcode", "deviceId=bench-device-0001&deviceType=Roku", http.StatusCreated},
	{"checkauthn", http.MethodGet, "/api/v1/checkauthn?" + benchDevice, "", http.StatusOK},
	{"tokens-authn", http.MethodGet, "/api/v1/tokens/authn?" + benchDevice, "", http.StatusOK},
	{"authorize", http.MethodGet, "/api/v1/authorize?" + benchDevice + "&resource=sports", "", http.StatusOK},
	{"mediatoken", http.MethodGet, "/api/v1/mediatoken?" + benchDevice + "&resource=sports", "", http.StatusOK},
	{"preauthorize", http.MethodGet, "/api/v1/preauthorize?" + benchDevice + "&resource=news,sports,movies,kids,weather", "", http.StatusOK},
	{"logout", http.MethodDelete, "/api/v1/logout?" + benchDevice, "", http.StatusNoContent},
}

// serveCall sends c in format (xml or json) to h as a device would and
// checks the status.
func serveCall(tb testing.TB, h http.Handler, c handlerCall, format string) {
	serveCallFrom(tb, h, c, format, "")
}

// serveCallFrom is serveCall from a web page of origin ("" for none).
func serveCallFrom(tb testing.TB, h http.Handler, c handlerCall, format, origin string) {
	var r *http.Request
	if c.body != "" {
		r = httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(c.method, c.target, nil)
	}
	if format == "json" {
		r.Header.Set("Accept", "application/json")
	}
	r.Header.Set("X-Device-Info", benchDeviceInfo)
	r.Header.Set("User-Agent", "Roku/DVP-11.5 (11.5.0.4312-46)")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != c.status {
		tb.Fatalf("%s: status %d, want %d: %s", c.name, w.Code, c.status, w.Body)
	}
}

// BenchmarkHandler serves whole v1 calls (routing, parsing, caller and
// device preparation, rendering) on a backend that answers at once: the
// cost of the HTTP surface itself, per endpoint and format.
func BenchmarkHandler(b *testing.B) {
	h := newTestHandler(b, newRecordingBackend(), nil)
	for _, c := range handlerCalls {
		for _, format := range []string{"xml", "json"} {
			b.Run(c.name+"/"+format, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					serveCall(b, h, c, format)
				}
			})
		}
	}
}
