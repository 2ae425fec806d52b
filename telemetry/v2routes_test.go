package telemetry

import (
	"net/http/httptest"
	"testing"
)

func TestV2RouteNames(t *testing.T) {
	tests := []struct{ method, url, want string }{
		{"POST", "http://up/o/client/register", "POST /o/client/register"},
		{"POST", "http://up/o/client/token", "POST /o/client/token"},
		{"GET", "http://up/api/v2/REF30/configuration", "GET /api/v2/{serviceProvider}/configuration"},
		{"POST", "http://up/api/v2/REF30/sessions", "POST /api/v2/{serviceProvider}/sessions"},
		{"POST", "http://up/api/v2/REF30/sessions/ABC1234", "POST /api/v2/{serviceProvider}/sessions/{code}"},
		{"GET", "http://up/api/v2/REF30/sessions/ABC1234", "GET /api/v2/{serviceProvider}/sessions/{code}"},
		{"POST", "http://up/api/v2/REF30/sessions/sso/Apple", "POST /api/v2/{serviceProvider}/sessions/sso/{partner}"},
		{"GET", "http://up/api/v2/REF30/profiles", "GET /api/v2/{serviceProvider}/profiles"},
		{"GET", "http://up/api/v2/REF30/profiles/code/ABC1234", "GET /api/v2/{serviceProvider}/profiles/code/{code}"},
		{"GET", "http://up/api/v2/REF30/profiles/AcmeCable", "GET /api/v2/{serviceProvider}/profiles/{mvpd}"},
		{"POST", "http://up/api/v2/REF30/profiles/sso/Apple", "POST /api/v2/{serviceProvider}/profiles/sso/{partner}"},
		{"POST", "http://up/api/v2/REF30/decisions/authorize/AcmeCable", "POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}"},
		{"POST", "http://up/api/v2/REF30/decisions/preauthorize/AcmeCable", "POST /api/v2/{serviceProvider}/decisions/preauthorize/{mvpd}"},
		{"GET", "http://up/api/v2/REF30/logout/AcmeCable?redirectUrl=x", "GET /api/v2/{serviceProvider}/logout/{mvpd}"},
		// An escaped slash stays inside its segment.
		{"GET", "http://up/api/v2/REF30/profiles/Acme%2FCable", "GET /api/v2/{serviceProvider}/profiles/{mvpd}"},
		// A base URL with a path prefix.
		{"GET", "http://up/adobe/api/v2/REF30/profiles", "GET /api/v2/{serviceProvider}/profiles"},
		{"POST", "http://up/adobe/o/client/token", "POST /o/client/token"},
		{"GET", "http://up/api/v2/REF30/unknown/x/y", RouteUnmatched},
		{"DELETE", "http://up/api/v2/REF30/profiles", RouteUnmatched},
		{"GET", "http://up/elsewhere", RouteUnmatched},
		// An empty segment is no value of a variable.
		{"GET", "http://up/api/v2//profiles", RouteUnmatched},
	}
	names := newV2Router()
	for _, tt := range tests {
		if got := names.name(httptest.NewRequest(tt.method, tt.url, nil)); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.url, got, tt.want)
		}
	}
}
