// Command passgw is the Adobe Pass v1 migration gateway.
//
//	passgw serve    [--addr HOST:PORT] [--upstream URL] [--sandbox-addr HOST:PORT] ...
//	passgw sandbox  [--addr HOST:PORT] [--fixture FILE] [--admin]
//	passgw healthcheck [--url URL] [--timeout DURATION]
//	passgw status   [--url URL] [--json] [--platforms]
//	passgw golden record|check --target URL [--ignore SELECTORS] DIR
//	passgw golden replay --addr HOST:PORT DIR
//	passgw version
//
// Every subcommand logs with log/slog to stderr and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "dev"

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "answer REST API v1 through REST API v2 (on the embedded sandbox when no upstream is set)", runServe},
		{"sandbox", "run the sandbox: a fake of Adobe Pass v2 + DCR with mock MVPD pages", runSandbox},
		{"device", "play a legacy v1 device against a gateway: regcode, sign-in URL (or sign-in on the sandbox), poll, authorize, media token", runDevice},
		{"golden", "record, check or replay golden v1 cases (record|check --target URL DIR, replay --addr HOST:PORT DIR)", runGolden},
		{"bench", "measure the gateway against direct v2 calls and a plain reverse proxy (see BENCHMARKS.md)", runBench},
		{"status", "print a running gateway's migration progress (default http://127.0.0.1:8080/status): devices seen and signed in per requestor", runStatus},
		{"healthcheck", "probe a running gateway (default http://127.0.0.1:8080/readyz); exit status 1 unless it answers 200", runHealthcheck},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, "passgw", version)
			return err
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "passgw:", err)
		os.Exit(exitStatus(err))
	}
}

// exitError is a failure with an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitUsage is the exit status of a command used wrongly.
const exitUsage = 2

// usageError is a usage error (exit status 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitStatus is the exit status err ends the command with.
func exitStatus(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: passgw <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
}
