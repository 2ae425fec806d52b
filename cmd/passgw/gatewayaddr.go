package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
)

// defaultGateway is where `passgw serve` listens with the default
// configuration.
const defaultGateway = "http://127.0.0.1:8080"

// gatewayFlag defines --gateway, the base URL of a running gateway, the one
// name status, healthcheck and device give it. Where a command called it
// --url before, that name stays as a deprecated alias of the same value
// (scripts and container health checks may use it); deprecatedAlias says
// so on stderr after parsing.
func gatewayFlag(fs *flag.FlagSet, usage string, alias bool) *string {
	gateway := fs.String("gateway", defaultGateway, usage)
	if alias {
		fs.StringVar(gateway, "url", defaultGateway, "deprecated: the same as --gateway")
	}
	return gateway
}

// deprecatedAlias tells stderr when the parsed flags used --url, the old
// name of --gateway.
func deprecatedAlias(fs *flag.FlagSet, stderr io.Writer) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "url" {
			fmt.Fprintf(stderr, "passgw %s: --url is deprecated; use --gateway\n", fs.Name())
		}
	})
}

// getAnswer GETs target, an operator endpoint of a running gateway, and
// reads at most limit bytes of the answer's body: how status and
// healthcheck ask a gateway.
func getAnswer(ctx context.Context, target string, limit int64) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer of %s: %w", target, err)
	}
	return resp, body, nil
}
