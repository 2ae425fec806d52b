package v1api

import (
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCallParams: the parameters a Call reads, the body put back whole.
func TestCallParams(t *testing.T) {
	const multipart = "--XX\r\nContent-Disposition: form-data; name=\"deviceId\"\r\n\r\ndev-2\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nfile\r\n--XX--\r\n"
	tests := []struct {
		name, method, target, contentType, body string
		want                                    Params
	}{
		{"query and form", "POST", "/x?deviceId=q&a=1", "application/x-www-form-urlencoded", "deviceId=f&b=2",
			Params{Query: url.Values{"deviceId": {"q"}, "a": {"1"}}, Form: url.Values{"deviceId": {"f"}, "b": {"2"}}}},
		{"broken escape kept raw", "GET", "/x?deviceId=a%zz", "", "",
			Params{Query: url.Values{"deviceId": {"a%zz"}}}},
		{"multipart without file parts", "POST", "/x", "multipart/form-data; boundary=XX", multipart,
			Params{Query: url.Values{}, Form: url.Values{"deviceId": {"dev-2"}}}},
		{"a JSON body is no form", "POST", "/x", "application/json", `{"deviceId":"j"}`,
			Params{Query: url.Values{}}},
		{"a GET body is not read", "GET", "/x", "application/x-www-form-urlencoded", "deviceId=f",
			Params{Query: url.Values{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			got := *ParseCall(r).Params()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Params (-want +got):\n%s", diff)
			}
			if rest, _ := io.ReadAll(r.Body); string(rest) != tt.body {
				t.Errorf("r.Body was not put back: %q left", rest)
			}
		})
	}
}

func TestParamsGet(t *testing.T) {
	p := Params{Query: url.Values{"a": {"q1", "q2"}, "e": {}}, Form: url.Values{"a": {"f"}, "b": {"f"}, "e": {"f"}}}
	for name, want := range map[string]string{"a": "q1", "b": "f", "e": "f", "none": ""} {
		if got := p.Get(name); got != want {
			t.Errorf("Get(%q) = %q, want %q", name, got, want)
		}
	}
	if diff := cmp.Diff([]string{"q1", "q2", "f"}, p.All("a")); diff != "" {
		t.Errorf("All(a) (-want +got):\n%s", diff)
	}
}
