package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/passgw/passgw/v2client/sandbox"
)

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "`HOST:PORT` to listen on (port 0 picks a free one)")
	fixture := fs.String("fixture", "", "JSON `FILE` describing the sandbox world (default: the built-in fixture)")
	admin := fs.Bool("admin", false, "serve the /_sandbox/ admin endpoints (fault injection, clock, reset)")
	noThrottle := fs.Bool("no-throttle", false, "switch off the per-device throttle")
	setUsage(fs, "usage: passgw sandbox [flags]\n\nRuns the sandbox alone: a fake of Adobe Pass REST API v2 and DCR with mock MVPD sign-in pages\n(alice/alice-pass, bob/bob-pass, carol/carol-pass), for a gateway started with --upstream URL.\n")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	cfg := sandbox.Config{Admin: *admin, DisableThrottling: *noThrottle, Logger: logger.With("component", "sandbox")}
	if *fixture != "" {
		f, err := sandbox.LoadFixture(*fixture)
		if err != nil {
			return err
		}
		cfg.Fixture = f
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	sb, err := sandbox.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "sandbox listening on %s (v2 API under /api/v2, DCR under /o, MVPD pages under /adobe-services)\n", cfg.BaseURL)
	return serveUntilDone(ctx, &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}, ln, 10*time.Second)
}
