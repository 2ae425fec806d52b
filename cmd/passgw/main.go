// Command passgw is the Adobe Pass v1 migration gateway.
//
//	passgw serve    [--config FILE] [--addr HOST:PORT] [--upstream URL] [--sandbox-addr HOST:PORT] [--store URL]
//	passgw device   [--gateway URL] [--sign-in USER:PASSWORD] [--format xml|json] ...
//	passgw sandbox  [--addr HOST:PORT] [--fixture FILE] [--admin]
//	passgw golden record|check --target URL [--ignore SELECTORS] [--browser] DIR
//	passgw golden replay --addr HOST:PORT DIR
//	passgw bench    [flags]
//	passgw healthcheck [--gateway URL] [--timeout DURATION]
//	passgw status   [--gateway URL] [--json] [--platforms]
//	passgw version
//	passgw help [COMMAND]
//
// Every command prints its usage on stdout with -h, --help or help, and
// exits 0; a usage error prints the usage on stderr and exits 2. Every
// command logs with log/slog to stderr and stops cleanly on SIGINT or
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
	"runtime"
	"runtime/debug"
	"syscall"
)

// version is the release, set at link time (-ldflags "-X
// main.version=v1.2.3"); empty, or dev, means the module version of the
// build information.
var version = ""

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "answer REST API v1 through REST API v2 (on the embedded sandbox when no upstream is set)", runServe},
		{"device", "play a legacy v1 device against a gateway: regcode, sign-in URL (or sign-in on the sandbox), poll, authorize, media token", runDevice},
		{"sandbox", "run the sandbox: a fake of Adobe Pass v2 + DCR with mock MVPD pages", runSandbox},
		{"golden", "record, check or replay golden v1 cases (record|check --target URL DIR, replay --addr HOST:PORT DIR)", runGolden},
		{"bench", "measure the gateway against direct v2 calls and a plain reverse proxy (see BENCHMARKS.md)", runBench},
		{"status", "print a running gateway's migration progress (default http://127.0.0.1:8080/status): devices seen and signed in per requestor", runStatus},
		{"healthcheck", "probe a running gateway (default http://127.0.0.1:8080/readyz); exit status 1 unless it answers 200", runHealthcheck},
		{"version", "print the module version, VCS revision and Go version (also --version)", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var e *exitError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		// Asked for help in a way run did not see first; the usage is out.
	case errors.As(err, &e) && e.reported:
		os.Exit(e.code)
	default:
		fmt.Fprintln(os.Stderr, "passgw:", err)
		os.Exit(exitStatus(err))
	}
}

// run runs the command args name. Help (-h, --help, help, or help
// COMMAND) prints the usage on stdout and returns nil; a usage error
// prints the usage on stderr and returns an error of exit status 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return usageError("no command given")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(rest) > 0 {
			return run(ctx, []string{rest[0], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		if !helpWanted(rest) {
			return c.run(ctx, rest, stdout, stderr)
		}
		if len(rest) == 1 && rest[0] == "help" {
			rest = []string{"-h"}
		}
		// The command prints its usage where it prints usage errors: here,
		// on stdout.
		if err := c.run(ctx, rest, stdout, stdout); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	}
	usage(stderr)
	return usageError("unknown command %q", name)
}

// helpWanted reports whether a command's arguments ask for its usage: -h,
// -help or --help before any "--", or the one word help.
func helpWanted(args []string) bool {
	if len(args) == 1 && args[0] == "help" {
		return true
	}
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: passgw <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "passgw help <command> (or passgw <command> --help) prints a command's usage.")
}

// setUsage makes fs print text, then its flags, as the command's usage,
// on fs's output.
func setUsage(fs *flag.FlagSet, text string) {
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), text)
		fmt.Fprintln(fs.Output(), "\nflags:")
		fs.PrintDefaults()
	}
}

// parseFlags parses args with fs: nil, flag.ErrHelp for -h (fs printed its
// usage), or a usage error (exit status 2) that fs has reported with its
// usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: exitUsage, err: err, reported: true}
}

// parseNoArgs is parseFlags for a command that takes no arguments: any
// left after the flags is a usage error.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return noArgs(fs)
}

// noArgs refuses arguments left after the flags (a usage error).
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	fs.Usage()
	return usageError("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "usage: passgw version\n\nPrints the module version, the VCS revision it was built from and the Go version.\n")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, versionLine(version))
	return err
}

// versionLine reads "passgw VERSION [revision REV [(modified)]] GOVERSION":
// the linker-set release, else the module version of the build
// information (a pseudo-version from the VCS, or "(devel)"), and the
// revision the build information records.
func versionLine(release string) string {
	v, rev, modified, goVersion := release, "", false, runtime.Version()
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" || v == "dev" {
			v = info.Main.Version
		}
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	line := "passgw " + v
	if rev != "" {
		line += " revision " + rev
		if modified {
			line += " (modified)"
		}
	}
	return line + " " + goVersion
}

// exitError is a failure with an exit status other than 1.
type exitError struct {
	code int
	err  error
	// reported is set when the error was printed already (by a flag set).
	reported bool
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
