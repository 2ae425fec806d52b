package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/monitoring"
)

// dashboardFile is the Grafana dashboard's path from the module root.
const dashboardFile = "monitoring/grafana/passgw.json"

// grafanaDashboard is the part of a Grafana dashboard the test reads.
type grafanaDashboard struct {
	Title      string         `json:"title"`
	UID        string         `json:"uid"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// Labels Prometheus adds to every scraped series, and the bucket label of
// histograms.
var targetLabels = map[string]bool{"job": true, "instance": true}

var (
	promString   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")
	promSelector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}`)
	promMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*$`)
	promGrouping = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	promFamily   = regexp.MustCompile(`\b(?:passgw|process|go)_[a-zA-Z0-9_]+\b`)
)

// querySeries reads a PromQL query: the series it selects, each with the
// label names its matchers use, and the label names it groups by.
func querySeries(expr string) (selected map[string][]string, grouping []string) {
	// Strings may hold braces and parentheses ("{requestor}"): blank them
	// out, keeping the position of the label names before them.
	bare := promString.ReplaceAllStringFunc(expr, func(s string) string { return `""` })
	selected = map[string][]string{}
	for _, m := range promSelector.FindAllStringSubmatch(bare, -1) {
		var labels []string
		for _, part := range strings.Split(m[2], `""`) {
			if mm := promMatcher.FindStringSubmatch(strings.TrimLeft(part, ", ")); mm != nil {
				labels = append(labels, mm[1])
			}
		}
		selected[m[1]] = append(selected[m[1]], labels...)
	}
	for _, name := range promFamily.FindAllString(bare, -1) {
		if _, ok := selected[name]; !ok {
			selected[name] = nil
		}
	}
	for _, m := range promGrouping.FindAllStringSubmatch(bare, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" {
				grouping = append(grouping, l)
			}
		}
	}
	return selected, grouping
}

func TestQuerySeries(t *testing.T) {
	sel, by := querySeries(`sum by (route, le) (rate(passgw_v1_requests_total{job=~"$job",route="/reggie/v1/{requestor}/regcode", code=~` + "`5..`" + `}[5m])) / on() group_left count(passgw_build_info)`)
	if want := []string{"job", "route", "code"}; !slices.Equal(sel["passgw_v1_requests_total"], want) {
		t.Errorf("matchers %q, want %q", sel["passgw_v1_requests_total"], want)
	}
	if _, ok := sel["passgw_build_info"]; !ok || len(sel) != 2 {
		t.Errorf("series %v, want passgw_v1_requests_total and passgw_build_info", sel)
	}
	if want := []string{"route", "le"}; !slices.Equal(by, want) {
		t.Errorf("grouping %q, want %q", by, want)
	}
}

// TestDashboard checks the Grafana dashboard and the alert rules against a
// real gateway: the dashboard is valid JSON with a panel layout, and every
// query of either names only series the gateway exports, with labels those
// series carry, and matches routes by values the gateway's route label
// takes. The series are learnt
// by scraping /metrics of a gateway that served calls in every migration
// mode, so a renamed series or label fails here.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, %d panels", dashboardFile, d.Title, d.UID, len(d.Panels))
	}

	w, _ := newMonitoredWorld(t, nil)
	w.driveEverySeries()
	exported := w.exported()

	var queries []struct{ where, expr string }
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q: no grid position", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries = append(queries, struct{ where, expr string }{p.Title + " " + tg.RefID, tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			queries = append(queries, struct{ where, expr string }{"variable " + v.Name, v.Definition})
		}
	}
	// The alert rules must name real series too.
	rules, err := monitoring.ParseRules(monitoring.Rules())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.Alerts() {
		queries = append(queries, struct{ where, expr string }{"alert " + r.Alert, r.Expr})
	}
	routes := w.exportedRoutes()
	for _, q := range queries {
		for _, m := range routeMatcher.FindAllStringSubmatch(q.expr, -1) {
			if !matchesAny(m[1], m[2][1:len(m[2])-1], routes) {
				t.Errorf("%s: route%s%s matches no route the gateway exported (%d routes)", q.where, m[1], m[2], len(routes))
			}
		}
		selected, grouping := querySeries(q.expr)
		if len(selected) == 0 {
			t.Errorf("%s: names no series: %s", q.where, q.expr)
			continue
		}
		labels := map[string]bool{}
		for name, matchers := range selected {
			have, ok := exported[name]
			if !ok {
				t.Errorf("%s: the gateway does not export %s", q.where, name)
				continue
			}
			for l := range have {
				labels[l] = true
			}
			for _, l := range matchers {
				if !have[l] && !targetLabels[l] {
					t.Errorf("%s: %s has no label %q", q.where, name, l)
				}
			}
		}
		for _, l := range grouping {
			if !labels[l] && !targetLabels[l] {
				t.Errorf("%s: groups by %q, which none of its series carries", q.where, l)
			}
		}
	}
}

// routeMatcher finds the matchers on the route label in a query: the
// operator and the quoted value.
var routeMatcher = regexp.MustCompile("\\broute\\s*(=~|=)\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)")

// matchesAny reports whether a route matcher (op "=" or "=~", value
// unquoted as written) matches one of routes. A PromQL regular expression
// is anchored at both ends.
func matchesAny(op, value string, routes map[string]bool) bool {
	if op == "=" {
		value = strings.ReplaceAll(value, `\\`, `\`)
		return routes[value]
	}
	re, err := regexp.Compile("^(?:" + value + ")$")
	if err != nil {
		return false
	}
	for r := range routes {
		if re.MatchString(r) {
			return true
		}
	}
	return false
}
