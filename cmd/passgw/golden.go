package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/v2client/sandbox"
)

// Outcomes of golden record and check besides success, with their exit
// statuses: 1 when an answer differs from the recorded one, 3 when a case
// could not be run to an answer (target down, still throttled, a broken
// case). Usage errors exit 2.
var errGoldenDiffers = errors.New("golden check: answers differ from the recorded ones")

// exitGoldenErrors is the exit status of golden record and check when a
// case could not be run to an answer.
const exitGoldenErrors = 3

// goldenHooks reach into a target that runs in the same process. The zero
// value is a live target elsewhere.
type goldenHooks struct {
	// Clock advances the target's clock for clock sections; nil skips
	// them (and the rest of their scenario).
	Clock func(ctx context.Context, d time.Duration) error
}

func runGolden(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return goldenCommand(ctx, args, stdout, stderr, goldenHooks{})
}

const goldenUsage = `usage: passgw golden record|check|replay [flags] DIR

  passgw golden record --target URL [flags] DIR   fill the response sections of the cases under DIR from the target
  passgw golden check  --target URL [flags] DIR   replay the cases against the target and compare
  passgw golden replay --addr HOST:PORT DIR       serve the recorded cases as a stand-in v1 upstream

Every directory under DIR holding .txtar files is a scenario whose cases run in name order.
In requests, {{code}} is the scenario's latest registration code, {{code1}}, {{code2}}, ... each
one in order, {{gateway}} the target's base URL and {{sandbox}} the v2 service's (learned from the
authenticate redirect, or --var sandbox=URL). In recorded answers these values are written back
as placeholders, headers included, so a recording made on one target checks on another.

A 429 Too Many Requests is waited out (at least 1 s, or Retry-After) and the request sent again,
up to 10 times; it is never recorded unless the case's recorded answer is a 429. So is a
preauthorize answer that left resources undecided (Adobe-Response-Confidence: partial).

A clock section cannot move a live target's clock: that case and the rest of its scenario are
skipped with a notice. A browser section ("signin USER PASSWORD") needs --browser, which follows
the previous answer's Location through the sandbox's mock MVPD login form: only a gateway on the
sandbox can sign in that way; without --browser the case and the rest of its scenario are skipped.

The last line of record and check is a summary; the exit status is 0 when every case that ran
agreed (or was recorded), 1 when an answer differs, 2 on a usage error and 3 when a case could
not be run to an answer (target down, still throttled, a broken case) or, with --no-skips, was
skipped.
`

func goldenCommand(ctx context.Context, args []string, stdout, stderr io.Writer, hooks goldenHooks) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, goldenUsage)
		return usageError("golden: record, check or replay?")
	}
	switch args[0] {
	case "record", "check":
		return goldenRun(ctx, args[0], args[1:], stdout, stderr, hooks)
	case "replay":
		return goldenReplay(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, goldenUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, goldenUsage)
	return usageError("golden: unknown subcommand %q", args[0])
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func goldenRun(ctx context.Context, mode string, args []string, stdout, stderr io.Writer, hooks goldenHooks) error {
	fs := flag.NewFlagSet("golden "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "base `URL` of the service the requests go to (required)")
	ignore := fs.String("ignore", "default", "comma-separated `selectors` of volatile values not compared (header:NAME, json:KEY, json:$.PATH, xml:NAME, xml:/PATH, NAME); "+
		"\"default\" stands for what a live v1 varies from run to run (registration ids and times, expiries, media tokens, traces), \"none\" for nothing")
	browser := fs.Bool("browser", false, "sign in for browser sections through the sandbox's mock MVPD pages")
	noSkips := fs.Bool("no-skips", false, "fail the run (exit status 3) when a case is skipped, so that a CI notices a suite that did not run whole")
	var vars, headers listFlag
	fs.Var(&vars, "var", "`NAME=VALUE` for {{NAME}} in requests and answers (repeatable), e.g. sandbox=http://127.0.0.1:8081")
	fs.Var(&headers, "header", "`NAME: VALUE` added to every request that does not set NAME (repeatable), e.g. \"X-Forwarded-For: 203.0.113.7\"")
	setUsage(fs, goldenUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *target == "" || fs.NArg() != 1 {
		fs.Usage()
		return usageError("golden %s: --target URL and one DIR are required", mode)
	}
	dir := fs.Arg(0)
	rn := &golden.Runner{Target: *target, Vars: map[string]string{}, Header: http.Header{}, Clock: hooks.Clock}
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			fs.Usage()
			return usageError("golden %s: --var %q: want NAME=VALUE", mode, v)
		}
		rn.Vars[name] = value
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			fs.Usage()
			return usageError("golden %s: --header %q: want \"NAME: VALUE\"", mode, h)
		}
		rn.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	sels, err := parseIgnore(*ignore)
	if err != nil {
		fs.Usage()
		return usageError("golden %s: %v", mode, err)
	}
	rn.Ignore = sels
	if *browser {
		// The browser's calls count against the same address's allowance
		// as the device's, so they wait out a 429 too.
		client := &http.Client{Timeout: 30 * time.Second, Transport: &golden.ThrottleRetry{}}
		rn.Browser = func(ctx context.Context, location, user, password string) error {
			_, err := sandbox.SignIn(ctx, client, location, user, password)
			return err
		}
	}
	scenarios, err := golden.LoadScenarios(dir)
	if err != nil {
		return &exitError{code: exitGoldenErrors, err: err}
	}
	var t goldenTally
	for _, sc := range scenarios {
		for _, res := range rn.Run(ctx, sc) {
			name, _ := filepath.Rel(dir, res.Step.Path)
			if err := t.add(mode, filepath.ToSlash(name), res, stdout); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(stdout, t.summary(mode))
	switch {
	case t.errors > 0:
		return &exitError{code: exitGoldenErrors, err: fmt.Errorf("golden %s: %d cases could not be run to an answer", mode, t.errors)}
	case *noSkips && t.skipped > 0:
		return &exitError{code: exitGoldenErrors, err: fmt.Errorf("golden %s: %d cases were skipped (--no-skips)", mode, t.skipped)}
	case t.failed > 0:
		return errGoldenDiffers
	}
	return nil
}

// goldenTally counts the outcomes of golden record or check.
type goldenTally struct {
	passed, written, failed, errors, skipped, throttled int
}

// add reports one result (and, recording, writes its answer).
func (t *goldenTally) add(mode, name string, res golden.Result, stdout io.Writer) error {
	t.throttled += res.Throttled
	switch {
	case res.Skipped != "":
		t.skipped++
		fmt.Fprintf(stdout, "skip  %s: %s\n", name, res.Skipped)
	case res.Err != nil:
		t.errors++
		fmt.Fprintf(stdout, "ERROR %s: %v\n", name, res.Err)
	case res.Diff == "":
		t.passed++
		if mode == "check" {
			fmt.Fprintf(stdout, "ok    %s\n", name)
		}
	case mode == "record":
		c := *res.Step.Case
		c.Response = res.Got
		if err := os.WriteFile(res.Step.Path, c.Format(), 0o644); err != nil {
			return &exitError{code: exitGoldenErrors, err: fmt.Errorf("golden record: %w", err)}
		}
		t.written++
		fmt.Fprintf(stdout, "wrote %s\n", name)
	default:
		t.failed++
		fmt.Fprintf(stdout, "FAIL  %s: the answer differs from the recorded one:\n%s", name, res.Diff)
	}
	return nil
}

// summary is the last line of the output, one a CI can read.
func (t *goldenTally) summary(mode string) string {
	if mode == "record" {
		return fmt.Sprintf("golden record: %d written, %d unchanged, %d errors, %d skipped, %d retried after 429",
			t.written, t.passed, t.errors, t.skipped, t.throttled)
	}
	return fmt.Sprintf("golden check: %d passed, %d failed, %d errors, %d skipped, %d retried after 429",
		t.passed, t.failed, t.errors, t.skipped, t.throttled)
}

// parseIgnore reads the --ignore list.
func parseIgnore(s string) (golden.Ignore, error) {
	var out golden.Ignore
	for _, sel := range strings.Split(s, ",") {
		switch sel = strings.TrimSpace(sel); sel {
		case "", "none":
		case "default":
			out = append(out, golden.DefaultIgnore()...)
		default:
			if kind, name, ok := strings.Cut(sel, ":"); ok && name == "" {
				return nil, fmt.Errorf("--ignore: selector %q names nothing after %s:", sel, kind)
			}
			out = append(out, sel)
		}
	}
	return out, nil
}

func goldenReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("golden replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "`HOST:PORT` to listen on")
	setUsage(fs, goldenUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("golden replay: one DIR is required")
	}
	rp, n, err := newReplay(fs.Arg(0), slog.New(slog.NewTextHandler(stderr, nil)).With("component", "replay"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("golden replay: %w", err)
	}
	fmt.Fprintf(stdout, "golden replay: %d cases on http://%s\n", n, ln.Addr())
	return serveUntilDone(ctx, &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}, ln, 5*time.Second)
}

// newReplay loads every case under dir into a golden.Replay.
func newReplay(dir string, logger *slog.Logger) (*golden.Replay, int, error) {
	scenarios, err := golden.LoadScenarios(dir)
	if err != nil {
		return nil, 0, err
	}
	var cases []*golden.Case
	for _, sc := range scenarios {
		for _, st := range sc.Steps {
			cases = append(cases, st.Case)
		}
	}
	return golden.NewReplay(cases, logger), len(cases), nil
}
