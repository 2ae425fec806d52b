package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
)

// statusPath is the operator endpoint of the migration progress figures.
const statusPath = "/status"

// statusAnswer is the body of GET /status.
type statusAnswer struct {
	Version string `json:"version"`
	// StdError is the relative standard error of the distinct counts.
	StdError float64                  `json:"std_error"`
	Progress telemetry.ProgressCounts `json:"progress"`
	// Error is set when the store could not be read; Progress then holds
	// the last figures read.
	Error string `json:"error,omitempty"`
}

func statusHandler(p *telemetry.Progress) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counts, err := p.Counts(r.Context())
		a := statusAnswer{Version: releaseVersion(), StdError: store.DistinctStdError, Progress: counts}
		if err != nil {
			a.Error = err.Error()
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a)
	})
}

// runStatus prints the migration progress of a running gateway, read from
// its /status endpoint: per requestor and window, the distinct devices
// seen, signed in through v2, signed in on v1, and signed in on v1 only.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := gatewayFlag(fs, "base `URL` of the gateway's operator endpoints", true)
	asJSON := fs.Bool("json", false, "print the endpoint's JSON as is")
	platforms := fs.Bool("platforms", false, "add a line per platform under each requestor")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the answer")
	setUsage(fs, "usage: passgw status [flags]\n\nPrints a running gateway's migration progress, read from its /status endpoint: per requestor, the\ndistinct devices seen, signed in through v2, signed in on v1, and on v1 only.\n")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	deprecatedAlias(fs, stderr)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	target := strings.TrimSuffix(*base, "/") + statusPath
	resp, body, err := getAnswer(ctx, target, 4<<20)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	var a statusAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("status: %s answered %s, not the status of a passgw (%v)", target, resp.Status, err)
	}
	if *asJSON {
		_, err = stdout.Write(body)
	} else {
		err = printStatus(stdout, a, *platforms)
	}
	if err == nil && a.Error != "" {
		err = fmt.Errorf("status: the gateway could not read its store (figures of %s shown): %s", a.Progress.At.Format(time.RFC3339), a.Error)
	}
	return err
}

func printStatus(w io.Writer, a statusAnswer, platforms bool) error {
	fmt.Fprintf(w, "passgw %s: migration progress at %s (distinct devices, estimated within ±%.1f%% for 2 in 3 figures)\n\n",
		a.Version, a.Progress.At.UTC().Format(time.RFC3339), 100*a.StdError)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "requestor\tplatform\twindow\tseen\tsigned in v2\tsigned in v1\tv1 only\tv2 share of seen\t")
	line := func(rq, pl, win string, n map[string]uint64) {
		share := "-"
		if seen := n[telemetry.StateSeen]; seen > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(min(n[telemetry.StateSignedInV2], seen))/float64(seen))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", rq, pl, win,
			n[telemetry.StateSeen], n[telemetry.StateSignedInV2], n[telemetry.StateSignedInV1], n[telemetry.StateV1Only], share)
	}
	requestors := make([]string, 0, len(a.Progress.Requestors))
	for rq := range a.Progress.Requestors {
		requestors = append(requestors, rq)
	}
	slices.Sort(requestors)
	for _, rq := range requestors {
		rp := a.Progress.Requestors[rq]
		for _, win := range telemetry.ProgressWindows() {
			line(rq, "all", win, rp.Windows[win])
		}
		if !platforms {
			continue
		}
		pls := make([]string, 0, len(rp.Platforms))
		for pl := range rp.Platforms {
			pls = append(pls, pl)
		}
		slices.Sort(pls)
		for _, pl := range pls {
			for _, win := range telemetry.ProgressWindows() {
				line(rq, pl, win, rp.Platforms[pl][win])
			}
		}
	}
	return tw.Flush()
}

// releaseVersion is the version the gateway reports on /metrics
// (passgw_build_info) and /status: the linker-set release, else the module
// version of the build information, as `passgw version` says.
func releaseVersion() string {
	if version != "" && version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
