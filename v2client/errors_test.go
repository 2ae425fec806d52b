package v2client

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// fixed answers every request with one status, content type and body, and
// counts the requests.
type fixed struct {
	status      int
	contentType string
	body        string
	hits        atomic.Int32
}

func (f *fixed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	w.Header().Set("Content-Type", f.contentType)
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

func serve(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, RetryBackoff: 1}
}

func TestTopLevelEnhancedError(t *testing.T) {
	body := string(testenv.Sample(t, "v2", "error-top-level-invalid-parameter-service-provider.json"))
	c := serve(t, &fixed{status: 400, contentType: "application/json;charset=UTF-8", body: body})
	_, err := c.Configuration(t.Context(), "NOPE")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 400 || he.Method != "GET" || he.Path != "/api/v2/NOPE/configuration" {
		t.Fatalf("err = %#v", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(*Error) failed for %v", err)
	}
	if e.Status != he.StatusCode || e.Code != "invalid_parameter_service_provider" || e.Action != ActionNone ||
		e.Trace != "12f6fef9-d2e0-422b-a9d7-60d799abe353" {
		t.Errorf("enhanced = %+v", e)
	}
	if Code(err) != "invalid_parameter_service_provider" || StatusCode(err) != 400 {
		t.Errorf("Code/StatusCode = %q/%d", Code(err), StatusCode(err))
	}
	if IsThrottled(err) || IsTimeout(err) || errors.Is(err, ErrUnauthorized) {
		t.Errorf("a 400 matched a sentinel: %v", err)
	}
	if !strings.Contains(err.Error(), "invalid_parameter_service_provider") {
		t.Errorf("Error() = %q lacks the code", err)
	}
}

func TestTempPassProfileErrorsAreTopLevel(t *testing.T) {
	tests := []struct {
		sample string
		status int
		code   string
	}{
		{"profiles-mvpd-403-temppass-basic-duration.json", 403, "temporary_access_duration_limit_exceeded"},
		{"profiles-code-403-temppass-promo-resources.json", 403, "temporary_access_resources_limit_exceeded"},
		{"profiles-mvpd-500-temppass-basic-config.json", 500, "invalid_configuration_temporary_access"},
		{"profiles-mvpd-400-temppass-promo-identity.json", 400, "invalid_header_identity_for_temporary_access"},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			f := &fixed{status: tt.status, contentType: "application/json", body: string(testenv.Sample(t, "v2", tt.sample))}
			c := serve(t, f)
			_, err := c.ProfileByCode(t.Context(), "REF30", "CODE")
			if StatusCode(err) != tt.status || Code(err) != tt.code {
				t.Errorf("got %d %q from %v", StatusCode(err), Code(err), err)
			}
			// A 500 on an idempotent GET is not a transient failure.
			if f.hits.Load() != 1 {
				t.Errorf("%d requests for one call", f.hits.Load())
			}
		})
	}
}

func TestItemLevelErrors(t *testing.T) {
	c := serve(t, &fixed{status: 200, contentType: "application/json", body: string(testenv.Sample(t, "v2", "error-item-level-decisions.json"))})
	d, err := c.Authorize(t.Context(), "REF30", "Cablevision", []string{"REF30", "REF40"})
	if err != nil {
		t.Fatalf("a deny must not be an HTTP error: %v", err)
	}
	if len(d.Decisions) != 2 {
		t.Fatalf("decisions = %+v", d)
	}
	if permit := d.Decisions[0]; !permit.Authorized || permit.Error != nil || permit.Token == nil {
		t.Errorf("permit = %+v", permit)
	}
	deny := d.Decisions[1]
	if deny.Authorized || deny.Error == nil {
		t.Fatalf("deny = %+v", deny)
	}
	var e *Error
	if !errors.As(error(deny.Error), &e) || e.Status != 403 || e.Code != "authorization_denied_by_mvpd" ||
		e.Details != `Your subscription package does not include the "Live" channel` {
		t.Errorf("item error = %+v", deny.Error)
	}
}

func TestThrottled(t *testing.T) {
	f := &fixed{status: 429, contentType: "text/html", body: string(testenv.Sample(t, "v2", "throttling-429.html"))}
	c := serve(t, f)
	_, err := c.Profiles(t.Context(), "REF30")
	if !IsThrottled(err) || !errors.Is(err, ErrThrottled) || StatusCode(err) != 429 {
		t.Fatalf("err = %v", err)
	}
	var e *Error
	if errors.As(err, &e) || Code(err) != "" {
		t.Errorf("an HTML body produced an enhanced error: %+v", e)
	}
	var he *HTTPError
	if errors.As(err, &he); he.ContentType != "text/html" {
		t.Errorf("content type = %q", he.ContentType)
	}
	if strings.Contains(err.Error(), "<html") {
		t.Errorf("the HTML body leaked into the error: %q", err)
	}
	if f.hits.Load() != 1 {
		t.Errorf("a 429 was retried: %d requests", f.hits.Load())
	}
}

func TestNonJSONServerError(t *testing.T) {
	c := serve(t, &fixed{status: 500, contentType: "text/plain", body: "upstream exploded"})
	_, err := c.Authorize(t.Context(), "REF30", "AcmeCable", []string{"news"})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 500 || he.Enhanced != nil || he.DCR != nil {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "exploded") {
		t.Errorf("body leaked into %q", err)
	}
}

func TestDCRErrors(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		code          string
		invalidClient bool
	}{
		{"sample", string(testenv.Sample(t, "v2", "dcr-token-400.json")), DCRInvalidRequest, false},
		{"invalid client", `{"error":"invalid_client","error_description":"unknown client"}`, DCRInvalidClient, true},
		{"unapproved statement", `{"error":"unapproved_software_statement"}`, DCRUnapprovedSoftwareStatement, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serve(t, &fixed{status: 400, contentType: "application/json", body: tt.body})
			_, err := c.Token(t.Context(), ClientCredentials{ClientID: "id", ClientSecret: "very-secret"})
			var d *DCRError
			if !errors.As(err, &d) || d.Code != tt.code {
				t.Fatalf("err = %v", err)
			}
			if IsInvalidClient(err) != tt.invalidClient {
				t.Errorf("IsInvalidClient = %v", !tt.invalidClient)
			}
			if StatusCode(err) != 400 || Code(err) != "" {
				t.Errorf("status %d code %q", StatusCode(err), Code(err))
			}
			if strings.Contains(err.Error(), "very-secret") {
				t.Errorf("secret in %q", err)
			}
		})
	}
}

func TestUndecodableSuccess(t *testing.T) {
	c := serve(t, &fixed{status: 200, contentType: "application/json", body: `{"profiles": [`})
	if _, err := c.Profiles(t.Context(), "REF30"); err == nil {
		t.Fatal("truncated JSON accepted")
	}
	c = serve(t, &fixed{status: 200, contentType: "application/json", body: ``})
	if _, err := c.Profiles(t.Context(), "REF30"); err == nil {
		t.Fatal("empty body accepted")
	}
}

// TestErrorsNameTheRoute: an error of a call whose path carries a
// registration code names the call by its route template, never by the
// path, whether v2 answered with an error, with an unreadable body, or not
// at all, since errors end up in log lines.
func TestErrorsNameTheRoute(t *testing.T) {
	const code = "ABC1234"
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		c    *Client
	}{
		{"error answer", serve(t, &fixed{status: 500, contentType: "text/html", body: "<html>oops</html>"})},
		{"empty body", serve(t, &fixed{status: 200, contentType: "application/json"})},
		{"no answer", &Client{BaseURL: closed.URL, Retries: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.RetrieveSession(t.Context(), "REF30", code)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); strings.Contains(msg, code) || !strings.Contains(msg, RouteRetrieveSession) {
				t.Errorf("error %q: want the route %q, not the code", msg, RouteRetrieveSession)
			}
		})
	}
}
