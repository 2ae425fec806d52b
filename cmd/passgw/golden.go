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

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/v2client/v2test"
)

// errGoldenDiffers is what golden check returns when an answer differs
// (exit status 1).
var errGoldenDiffers = errors.New("golden check: answers differ from the recorded ones")

// goldenHooks reach into a target that runs in the same process. The zero
// value is a live target elsewhere.
type goldenHooks struct {
	// Clock advances the target's clock for clock sections; nil skips
	// them (and the rest of their scenario).
	Clock func(ctx context.Context, d time.Duration) error
}

func runGolden(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return golden(ctx, args, stdout, stderr, goldenHooks{})
}

const goldenUsage = `usage:
  passgw golden record --target URL [flags] DIR   fill the response sections of the cases under DIR from the target
  passgw golden check  --target URL [flags] DIR   replay the cases against the target and compare (exit status 1 on a difference)
  passgw golden replay --addr HOST:PORT DIR       serve the recorded cases as a stand-in v1 upstream

Every directory under DIR holding .txtar files is a scenario whose cases run in name order.
A clock section cannot move a live target's clock: that case and the rest of its scenario are
skipped with a notice. A browser section ("signin USER PASSWORD") needs --browser, which follows
the previous answer's Location through the sandbox's mock MVPD login form: only a gateway on the
sandbox can sign in that way; without --browser the case and the rest of its scenario are skipped.
`

func golden(ctx context.Context, args []string, stdout, stderr io.Writer, hooks goldenHooks) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, goldenUsage)
		return flag.ErrHelp
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
	return fmt.Errorf("golden: unknown subcommand %q", args[0])
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func goldenRun(ctx context.Context, mode string, args []string, stdout, stderr io.Writer, hooks goldenHooks) error {
	fs := flag.NewFlagSet("golden "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "base `URL` of the service the requests go to (required)")
	ignore := fs.String("ignore", "default", "comma-separated `selectors` of volatile values not compared (header:NAME, json:KEY, xml:NAME, NAME); "+
		"\"default\" stands for the ids, codes, times and tokens a live service varies, \"none\" for nothing")
	browser := fs.Bool("browser", false, "sign in for browser sections through the sandbox's mock MVPD pages")
	var vars, headers listFlag
	fs.Var(&vars, "var", "`NAME=VALUE` for {{NAME}} in requests and answers (repeatable), e.g. sandbox=http://127.0.0.1:8081")
	fs.Var(&headers, "header", "`NAME: VALUE` added to every request that does not set NAME (repeatable), e.g. \"X-Forwarded-For: 203.0.113.7\"")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" || fs.NArg() != 1 {
		fmt.Fprint(stderr, goldenUsage)
		return errors.New("golden " + mode + ": --target URL and one DIR are required")
	}
	dir := fs.Arg(0)
	rn := &compat.Runner{Target: *target, Vars: map[string]string{}, Header: http.Header{}, Clock: hooks.Clock}
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return fmt.Errorf("golden %s: --var %q: want NAME=VALUE", mode, v)
		}
		rn.Vars[name] = value
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("golden %s: --header %q: want \"NAME: VALUE\"", mode, h)
		}
		rn.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	sels, err := parseIgnore(*ignore)
	if err != nil {
		return fmt.Errorf("golden %s: %w", mode, err)
	}
	rn.Ignore = sels
	if *browser {
		rn.Browser = func(ctx context.Context, location, user, password string) error {
			_, err := v2test.SignIn(ctx, &http.Client{Timeout: 30 * time.Second}, location, user, password)
			return err
		}
	}
	scenarios, err := compat.LoadScenarios(dir)
	if err != nil {
		return err
	}
	var passed, failed, skipped, recorded int
	for _, sc := range scenarios {
		for _, res := range rn.Run(ctx, sc) {
			name, _ := filepath.Rel(dir, res.Step.Path)
			name = filepath.ToSlash(name)
			switch {
			case res.Skipped != "":
				skipped++
				fmt.Fprintf(stdout, "skip  %s: %s\n", name, res.Skipped)
			case res.Err != nil:
				failed++
				fmt.Fprintf(stdout, "FAIL  %s: %v\n", name, res.Err)
			case mode == "record":
				if res.Diff == "" {
					passed++
					continue
				}
				c := *res.Step.Case
				c.Response = res.Got
				if err := os.WriteFile(res.Step.Path, c.Format(), 0o644); err != nil {
					return fmt.Errorf("golden record: %w", err)
				}
				recorded++
				fmt.Fprintf(stdout, "wrote %s\n", name)
			case res.Diff != "":
				failed++
				fmt.Fprintf(stdout, "FAIL  %s: the answer differs from the recorded one:\n%s", name, res.Diff)
			default:
				passed++
				fmt.Fprintf(stdout, "ok    %s\n", name)
			}
		}
	}
	if mode == "record" {
		fmt.Fprintf(stdout, "golden record: %d written, %d unchanged, %d failed, %d skipped\n", recorded, passed, failed, skipped)
		if failed > 0 {
			return fmt.Errorf("golden record: %d cases could not be recorded", failed)
		}
		return nil
	}
	fmt.Fprintf(stdout, "golden check: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		return errGoldenDiffers
	}
	return nil
}

// parseIgnore reads the --ignore list.
func parseIgnore(s string) (compat.Ignore, error) {
	var out compat.Ignore
	for _, sel := range strings.Split(s, ",") {
		switch sel = strings.TrimSpace(sel); sel {
		case "", "none":
		case "default":
			out = append(out, compat.DefaultIgnore()...)
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, goldenUsage)
		return errors.New("golden replay: one DIR is required")
	}
	rp, n, err := newReplay(fs.Arg(0), slog.New(slog.NewTextHandler(stderr, nil)))
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

// newReplay loads every case under dir into a compat.Replay.
func newReplay(dir string, logger *slog.Logger) (*compat.Replay, int, error) {
	scenarios, err := compat.LoadScenarios(dir)
	if err != nil {
		return nil, 0, err
	}
	var cases []*compat.Case
	for _, sc := range scenarios {
		for _, st := range sc.Steps {
			cases = append(cases, st.Case)
		}
	}
	return compat.NewReplay(cases, logger), len(cases), nil
}
