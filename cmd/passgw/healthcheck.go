package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// runHealthcheck probes a running gateway, for container HEALTHCHECKs in
// images that have no curl: exit status 0 when the URL answers 200 within
// the timeout, 1 otherwise.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gateway := gatewayFlag(fs, "base `URL` of the gateway's operator endpoints, whose /readyz is probed; a URL with a path (.../healthz) is probed as it is", true)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	setUsage(fs, "usage: passgw healthcheck [flags]\n\nProbes a running gateway, for container health checks: exit status 0 when its /readyz answers 200\nwithin --timeout (its body printed), 1 otherwise.\n")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	deprecatedAlias(fs, stderr)
	target, err := probeURL(*gateway)
	if err != nil {
		return fmt.Errorf("healthcheck: --gateway %q: %w", *gateway, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, body, err := getAnswer(ctx, target, 4<<10)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", target, resp.Status, body)
	}
	_, err = fmt.Fprintf(stdout, "%s", body)
	return err
}

// probeURL is what healthcheck probes for gateway: its /readyz, or the
// URL itself when it names a path (as --url, the flag's old name, did).
func probeURL(gateway string) (string, error) {
	u, err := url.Parse(gateway)
	if err != nil {
		return "", err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/readyz"
	}
	return u.String(), nil
}
