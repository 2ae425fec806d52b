package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/compat/golden"
)

// checkArgs are the golden check arguments that reproduce TestGolden's
// conditions against w: nothing ignored, browser sign-in on the sandbox,
// the sandbox's URL as {{sandbox}}, every device behind a trusted proxy.
func checkArgs(w *testWorld, dir string) []string {
	return []string{"check", "--target", w.URL, "--ignore", "none", "--browser",
		"--var", "sandbox=" + w.sandbox.URL, "--header", "X-Forwarded-For: " + deviceIP, dir}
}

// worldClock lets golden check move the in-process world's clock.
func worldClock(w *testWorld) goldenHooks {
	return goldenHooks{Clock: func(_ context.Context, d time.Duration) error {
		w.clock.Advance(d)
		return nil
	}}
}

// TestGoldenCommandCheck runs the project's golden suite through `passgw
// golden check`, one fresh gateway on the sandbox per scenario: every case
// must pass, none skipped.
func TestGoldenCommandCheck(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			w := newTestWorld(t)
			var out, errOut bytes.Buffer
			err := goldenCommand(context.Background(), checkArgs(w, dir), &out, &errOut, worldClock(w))
			n, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
			summary := fmt.Sprintf("golden check: %d passed, 0 failed, 0 errors, 0 skipped, 0 retried after 429\n", len(n))
			if err != nil || !strings.HasSuffix(out.String(), summary) {
				t.Errorf("golden check: %v\n%s%s", err, out.String(), errOut.String())
			}
		})
	}
}

// TestGoldenCommandDetectsChanges proves golden check fails (exit status
// 1) with a readable unified diff when a recorded answer is changed.
func TestGoldenCommandDetectsChanges(t *testing.T) {
	dst := copyScenario(t, filepath.Join(goldenDir(t), "03-signin-alice"), map[string][2]string{
		"31-tokens-authn-xml.txtar": {"<userId>acme-alice-0001</userId><mvpd>AcmeCable</mvpd>", "<mvpd>AcmeCable</mvpd><userId>acme-alicia-0001</userId>"},
	})
	w := newTestWorld(t)
	var out, errOut bytes.Buffer
	err := goldenCommand(context.Background(), checkArgs(w, dst), &out, &errOut, worldClock(w))
	if !errors.Is(err, errGoldenDiffers) {
		t.Fatalf("golden check returned %v, want errGoldenDiffers\n%s", err, out.String())
	}
	want := "FAIL  31-tokens-authn-xml.txtar: the answer differs from the recorded one:\n" +
		"--- want\n+++ got\n@@ -3,6 +3,6 @@\n" +
		` <?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		" /authentication\n" +
		` /authentication/expires = "1772532000000"` + "\n" +
		`+/authentication/userId = "acme-alice-0001"` + "\n" +
		` /authentication/mvpd = "AcmeCable"` + "\n" +
		`-/authentication/userId = "acme-alicia-0001"` + "\n" +
		` /authentication/requestor = "REF30"` + "\n" +
		"ok    32-tokens-authn-json.txtar\n"
	if !strings.Contains(out.String(), want) || !strings.HasSuffix(out.String(), "golden check: 50 passed, 1 failed, 0 errors, 0 skipped, 0 retried after 429\n") {
		t.Errorf("golden check output:\n%s\nwant it to hold:\n%s", out.String(), want)
	}
	// The command's own exit path: main prints the error and exits 1.
	if err := run(context.Background(), append([]string{"golden"}, checkArgs(newTestWorld(t), dst)...), &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, errGoldenDiffers) {
		t.Errorf("passgw golden check through run: %v", err)
	}
}

// TestGoldenCommandLiveTarget proves the rule for a live target: without
// a clock and without --browser, a step that needs them and the rest of
// its scenario are skipped with a notice, and what ran still passes;
// unless --no-skips, which fails the run.
func TestGoldenCommandLiveTarget(t *testing.T) {
	dir := filepath.Join(goldenDir(t), "04-expiry")
	w := newTestWorld(t)
	args := []string{"check", "--target", w.URL, "--ignore", "none", "--var", "sandbox=" + w.sandbox.URL,
		"--header", "X-Forwarded-For: " + deviceIP, dir}
	var out bytes.Buffer
	if err := goldenCommand(context.Background(), args, &out, &bytes.Buffer{}, goldenHooks{}); err != nil {
		t.Fatalf("golden check: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"ok    01-regcode.txtar\n",
		"ok    02-authenticate.txtar\n",
		"skip  03-authorize-json.txtar: needs a browser sign-in (enable it for a target on the sandbox)\n",
		"skip  04-tokens-authz-expired-xml.txtar: an earlier step was skipped: needs a browser sign-in",
		"golden check: 2 passed, 0 failed, 0 errors, 11 skipped, 0 retried after 429\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// With --no-skips the same run fails, exit status 3.
	out.Reset()
	err := goldenCommand(context.Background(), append([]string{"check", "--no-skips"}, args[1:]...), &out, &bytes.Buffer{}, goldenHooks{})
	if exitStatus(err) != exitGoldenErrors || !strings.Contains(out.String(), "11 skipped") {
		t.Errorf("golden check --no-skips: %v (exit status %d)\n%s", err, exitStatus(err), out.String())
	}
}

// TestGoldenCommandRecord proves golden record fills the response sections
// from a target: cases stripped of their answers come back byte for byte
// as the suite recorded them.
func TestGoldenCommandRecord(t *testing.T) {
	for _, name := range []string{"01-regcode", "02-config"} {
		src := filepath.Join(goldenDir(t), name)
		dst := t.TempDir()
		files, _ := filepath.Glob(filepath.Join(src, "*.txtar"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := golden.ParseCase(filepath.Base(f), data)
			if err != nil {
				t.Fatal(err)
			}
			c.Response = golden.Response{}
			if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), c.Format(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		w := newTestWorld(t)
		args := append([]string{"record"}, checkArgs(w, dst)[1:]...)
		var out bytes.Buffer
		if err := goldenCommand(context.Background(), args, &out, &bytes.Buffer{}, worldClock(w)); err != nil {
			t.Fatalf("golden record: %v\n%s", err, out.String())
		}
		if want := fmt.Sprintf("golden record: %d written, 0 unchanged, 0 errors, 0 skipped, 0 retried after 429\n", len(files)); !strings.HasSuffix(out.String(), want) {
			t.Errorf("output:\n%s\nwant %q", out.String(), want)
		}
		for _, f := range files {
			want, _ := os.ReadFile(f)
			got, _ := os.ReadFile(filepath.Join(dst, filepath.Base(f)))
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s recorded differently:\n%s", name, filepath.Base(f), got)
			}
		}
	}
}

// copyScenario copies a scenario directory, applying one replacement per
// named file (each must apply).
func copyScenario(t *testing.T, src string, edits map[string][2]string) string {
	t.Helper()
	dst := t.TempDir()
	files, err := filepath.Glob(filepath.Join(src, "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", src, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := edits[filepath.Base(f)]; ok {
			if !bytes.Contains(b, []byte(e[0])) {
				t.Fatalf("%s no longer holds %s", f, e[0])
			}
			b = bytes.Replace(b, []byte(e[0]), []byte(e[1]), 1)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// replayServer serves the cases under dir, as `passgw golden replay` does,
// on an in-process HTTP server.
func replayServer(t *testing.T, dir string) (*golden.Replay, *httptest.Server) {
	t.Helper()
	rp, _, err := newReplay(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return rp, srv
}

// TestGoldenReplayCommand proves `passgw golden replay` serves its
// directory until stopped.
func TestGoldenReplayCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"golden", "replay", "--addr", "127.0.0.1:0", filepath.Join(goldenDir(t), "02-config")}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	addr := regexpFind(`golden replay: 7 cases on (http://\S+)`, line)
	if addr == "" {
		t.Fatalf("replay said %q (%v)", line, err)
	}
	w := &testWorld{t: t, URL: addr, client: newTestWorld(t).client}
	resp, body := w.do("GET", "/api/v1/config/REF30.json", nil, "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"AcmeCable"`)) {
		t.Errorf("replayed config: %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("replay stopped with %v", err)
	}
}
