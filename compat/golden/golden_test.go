package golden

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

const sampleCase = `Registration code, JSON.
-- browser --
signin alice alice-pass
-- request --
POST /reggie/v1/REF30/regcode?format=json HTTP/1.1
Accept: application/json
Content-Type: application/x-www-form-urlencoded

deviceId=dev-1&ttl=600
-- response --
HTTP/1.1 201 Created
Content-Type: application/json; charset=utf-8

{"id":"00000000-0000-4000-8000-000000000001","code":"ABC1234","generated":1772445600000}
`

func TestParseCase(t *testing.T) {
	c, err := ParseCase("01-regcode.txtar", []byte(sampleCase))
	if err != nil {
		t.Fatal(err)
	}
	want := &Case{
		Name:    "01-regcode.txtar",
		Comment: "Registration code, JSON.\n",
		Extra:   []txtar.File{{Name: "browser", Data: []byte("signin alice alice-pass\n")}},
		Request: Request{
			Method: "POST", Target: "/reggie/v1/REF30/regcode?format=json",
			Header: http.Header{"Accept": {"application/json"}, "Content-Type": {"application/x-www-form-urlencoded"}},
			Body:   []byte("deviceId=dev-1&ttl=600"),
		},
		Response: Response{
			Status: 201,
			Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			Body:   []byte(`{"id":"00000000-0000-4000-8000-000000000001","code":"ABC1234","generated":1772445600000}`),
		},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("ParseCase (-want +got):\n%s", diff)
	}
	if got := string(c.Format()); got != sampleCase {
		t.Errorf("Format does not reproduce the archive:\n%s", UnifiedDiff("archive", "Format", strings.Split(sampleCase, "\n"), strings.Split(got, "\n")))
	}
}

// TestFormatRoundTrip proves bodies survive Format and ParseCase byte for
// byte, trailing newlines and CRLF included.
func TestFormatRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		resp Response
	}{
		{"no body", Response{Status: 204, Header: http.Header{}}},
		{"compact json", Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"a":1}`)}},
		{"trailing newline", Response{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("line\n")}},
		{"crlf html", Response{Status: 429, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<html>\r\n<body>x</body>\r\n</html>\r\n")}},
		{"redirect", Response{Status: 302, Header: http.Header{"Location": {"http://sandbox/api/v2/authenticate/REF30/ABC"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Case{Name: "x", Request: Request{Method: "GET", Target: "/api/v1/checkauthn?deviceId=d", Header: http.Header{}}, Response: tt.resp}
			out, err := ParseCase("x", in.Format())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(in.Response.Body, out.Response.Body); diff != "" {
				t.Errorf("body changed (-before +after):\n%s", diff)
			}
			if out.Response.Status != tt.resp.Status || !cmp.Equal(out.Response.Header, tt.resp.Header) {
				t.Errorf("got %d %v, want %d %v", out.Response.Status, out.Response.Header, tt.resp.Status, tt.resp.Header)
			}
		})
	}
}

// TestSectionsAreNetHTTPMessages proves a section is what net/http reads:
// its head parses with http.ReadRequest / http.ReadResponse.
func TestSectionsAreNetHTTPMessages(t *testing.T) {
	c, err := ParseCase("x", []byte(sampleCase))
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.Request.Format())))
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.URL.Query().Get("format") != "json" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("ReadRequest: %s %s %v", r.Method, r.URL, r.Header)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.Response.Format())), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || !bytes.HasPrefix(body, []byte(`{"id":`)) {
		t.Errorf("ReadResponse: %d %q", resp.StatusCode, body)
	}
}

func TestParseCaseErrors(t *testing.T) {
	if _, err := ParseCase("x", []byte("-- response --\nHTTP/1.1 200 OK\n\n")); !errors.Is(err, ErrNoRequest) {
		t.Errorf("no request: %v, want ErrNoRequest", err)
	}
	if _, err := ParseCase("x", []byte("-- request --\nnot a request line\n")); err == nil {
		t.Error("malformed request line accepted")
	}
	if _, err := ParseCase("x", []byte("-- request --\nGET / HTTP/1.1\n\n-- response --\nHTTP/1.1 abc\n\n")); err == nil {
		t.Error("malformed status line accepted")
	}
	c, err := ParseCase("x", []byte("-- request --\nGET / HTTP/1.1\n\n"))
	if err != nil || c.Response.Status != 0 {
		t.Errorf("case to record: %v, %+v", err, c)
	}
}

// TestReplay sends a case's request to a real server and reads the answer
// back, keeping only the recorded headers.
func TestReplay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.Path != "/reggie/v1/REF30/regcode" || string(body) != "deviceId=dev-1&ttl=600" ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("server got %s %s %v %q", r.Method, r.URL, r.Header, body)
		}
		w.Header().Set("Adobe-Request-Id", "volatile")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"00000000-0000-4000-8000-000000000001","code":"ABC1234","generated":1772445600000}`)
	}))
	defer srv.Close()
	c, err := ParseCase("x", []byte(sampleCase))
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.Request.NewHTTPRequest(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadResponse(resp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Adobe-Request-Id") != "" {
		t.Error("volatile header kept")
	}
	if d := Compare(c.Response, got, nil); d != "" {
		t.Errorf("replayed answer differs:\n%s", d)
	}
}
