package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v2client/sandbox"
)

var (
	deviceOK        = regexp.MustCompile(`(?m)^passgw device: ok: (\S+) signed in as acme-alice-0001 on AcmeCable, news authorized, media token obtained \((\d+) calls, (\d+) retried after 429\)$`)
	deviceFailed    = regexp.MustCompile(`(?m)^passgw device: FAILED: (.+)$`)
	signInLine      = regexp.MustCompile(`(?m)^sign in: open (http://\S+)$`)
	mediaTokenXML   = regexp.MustCompile(`<serializedToken>([^<]+)</serializedToken>`)
	mediaTokenJSON  = regexp.MustCompile(`"serializedToken":"([^"]+)"`)
	deviceCallLines = regexp.MustCompile(`(?m)^> (GET|POST) (\S+)\n< (\d+) `)
)

// TestDeviceCommand runs `passgw device` against a default `passgw serve`
// process on its sandbox, in both formats, signing in by itself: every
// call of a device is made and printed with its v1 answer, the media token
// it fetched is one the sandbox issued, and the summary says so with exit
// status 0.
func TestDeviceCommand(t *testing.T) {
	t.Parallel()
	gw := startDefaultServe(t, "serve")
	for _, tt := range []struct {
		format string
		token  *regexp.Regexp
		body   string
	}{
		{"xml", mediaTokenXML, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:regcode`},
		{"json", mediaTokenJSON, `{"id":"`},
	} {
		out, errOut, status := runPassgw(t, time.Minute, "device", "--gateway", gw.URL, "--format", tt.format, "--sign-in", "alice:alice-pass")
		m := deviceOK.FindStringSubmatch(out)
		if status != 0 || m == nil {
			t.Fatalf("%s: exit status %d, want 0 and the ok summary\nstdout:\n%s\nstderr:\n%s", tt.format, status, out, errOut)
		}
		var calls []string
		for _, c := range deviceCallLines.FindAllStringSubmatch(out, -1) {
			calls = append(calls, c[1]+" "+strings.SplitN(c[2], "?", 2)[0]+" "+c[3])
		}
		want := []string{
			"GET /api/v1/checkauthn 403", "POST /reggie/v1/REF30/regcode 201", "GET /api/v1/tokens/authn 200",
			"GET /api/v1/authorize 200", "GET /api/v1/tokens/media 200",
		}
		if strings.Join(calls, "\n") != strings.Join(want, "\n") || m[2] != "5" {
			t.Errorf("%s: calls\n%s\nwant\n%s\n(summary says %s)", tt.format, strings.Join(calls, "\n"), strings.Join(want, "\n"), m[2])
		}
		if !strings.Contains(out, "< 201 Created\n"+tt.body) {
			t.Errorf("%s: the regcode answer is not printed in its format:\n%s", tt.format, out)
		}
		if !strings.Contains(out, "deviceId="+m[1]+"&") {
			t.Errorf("%s: the calls do not name the device %s", tt.format, m[1])
		}
		u := signInLine.FindStringSubmatch(out)
		if u == nil || !strings.HasPrefix(u[1], gw.URL+"/api/v1/authenticate?reg_code=") || strings.Contains(u[1], "reg_code=CODE") {
			t.Errorf("%s: no sign-in URL with the code:\n%s", tt.format, out)
		}
		token := tt.token.FindStringSubmatch(out)
		if token == nil {
			t.Fatalf("%s: no media token printed:\n%s", tt.format, out)
		}
		// The sandbox's media token: base64 of its claims, a bar and a
		// signature.
		raw, err := base64.StdEncoding.DecodeString(token[1])
		claims, _, _ := strings.Cut(string(raw), "|")
		if err != nil || !strings.Contains(claims, `"resource":"news"`) || !strings.Contains(claims, `"userID":"acme-alice-0001"`) {
			t.Errorf("%s: the media token is not the sandbox's for news and alice: %q, %v", tt.format, raw, err)
		}
		t.Log(m[0])
	}
}

// TestDeviceSignInURL proves the printed sign-in URL is the one a second
// screen opens: the device waits, polling, while a browser signs in at
// exactly that URL, and then finishes; run again with its id, the device
// is signed in already and needs no code.
func TestDeviceSignInURL(t *testing.T) {
	t.Parallel()
	gw := startDefaultServe(t, "serve")
	cmd := exec.Command(passgwBinary(t), "device", "--gateway", gw.URL, "--format", "json", "--poll", "1s", "--wait", "40s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	signedIn := false
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if m := signInLine.FindStringSubmatch(lines.Text()); m != nil && !signedIn {
			signedIn = true
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			landed, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, m[1], "alice", "alice-pass")
			cancel()
			if err != nil || !strings.HasPrefix(landed, gw.URL+signedInPath) {
				t.Fatalf("signing in at the printed URL %s: landed on %q, %v", m[1], landed, err)
			}
		}
	}
	if err := cmd.Wait(); err != nil || !signedIn || deviceOK.FindString(out.String()) == "" {
		t.Fatalf("device: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "in a browser and sign in; waiting up to 40s, asking every 1s") {
		t.Errorf("no word on what to do with the URL:\n%s", out.String())
	}

	// The same device again: signed in already, it goes straight on.
	id := deviceOK.FindStringSubmatch(out.String())[1]
	again, errOut, status := runPassgw(t, time.Minute, "device", "--gateway", gw.URL, "--device-id", id, "--wait", "1s")
	var calls []string
	for _, c := range deviceCallLines.FindAllStringSubmatch(again, -1) {
		calls = append(calls, c[1]+" "+strings.SplitN(c[2], "?", 2)[0]+" "+c[3])
	}
	want := "GET /api/v1/checkauthn 200\nGET /api/v1/tokens/authn 200\nGET /api/v1/authorize 200\nGET /api/v1/tokens/media 200"
	if status != 0 || strings.Join(calls, "\n") != want || !strings.Contains(again, "signed in already") {
		t.Errorf("the device again: exit status %d, calls\n%s\nwant\n%s\nstdout:\n%s\nstderr:\n%s", status, strings.Join(calls, "\n"), want, again, errOut)
	}
}

// TestDeviceCommandFailures proves the exit statuses a deployment pipeline
// reads: 1 when the gateway refuses a call (an unknown requestor, a wrong
// password, nobody signing in), 3 when it is down, 2 on a usage error;
// each with a FAILED summary naming the step.
func TestDeviceCommandFailures(t *testing.T) {
	t.Parallel()
	gw := startDefaultServe(t, "serve")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	for _, tt := range []struct {
		name    string
		args    []string
		status  int
		summary string // in the FAILED line; "" for a usage error
	}{
		{"unknown requestor", []string{"--gateway", gw.URL, "--requestor", "NOPE", "--sign-in", "alice:alice-pass"}, 1,
			"checkauthn: the gateway answered 400"},
		{"wrong password", []string{"--gateway", gw.URL, "--sign-in", "alice:wrong"}, 1, "sign-in as alice: "},
		{"nobody signs in", []string{"--gateway", gw.URL, "--poll", "1s", "--wait", "1s"}, 1, "nobody signed in within 1s"},
		{"gateway down", []string{"--gateway", down, "--sign-in", "alice:alice-pass"}, 3, "checkauthn: the gateway did not answer: "},
		{"bad format", []string{"--gateway", gw.URL, "--format", "yaml"}, 2, ""},
		{"stray argument", []string{"--gateway", gw.URL, "now"}, 2, ""},
		{"fast polling", []string{"--poll", "100ms"}, 2, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := runPassgw(t, time.Minute, append([]string{"device"}, tt.args...)...)
			if status != tt.status {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.status, out, errOut)
			}
			if tt.summary == "" {
				if !strings.Contains(errOut, "usage: passgw device") {
					t.Errorf("no usage on stderr:\n%s", errOut)
				}
				return
			}
			if m := deviceFailed.FindStringSubmatch(out); m == nil || !strings.Contains(m[1], tt.summary) {
				t.Errorf("summary lacks %q:\n%s", tt.summary, out)
			}
		})
	}
}
