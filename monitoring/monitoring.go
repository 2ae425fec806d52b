// Package monitoring holds what operators load into their monitoring
// stack to watch passgw: the Prometheus alert rules
// (prometheus/passgw.rules.yml, unit tested by
// prometheus/passgw.rules.test.yml) and the Grafana dashboard
// (grafana/passgw.json). OPERATIONS.md explains each alert.
//
// The package reads the rule file, so that tests can check it against the
// runbooks and evaluate a copy with shorter durations on a real
// Prometheus.
package monitoring

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// RulesFile is the rule file's path from the module root.
const RulesFile = "monitoring/prometheus/passgw.rules.yml"

//go:embed prometheus/passgw.rules.yml
var rulesYAML []byte

// Rules returns the content of the rule file.
func Rules() []byte { return bytes.Clone(rulesYAML) }

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is a group of rules evaluated together.
type RuleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is an alerting rule (Alert set) or a recording rule (Record set).
type Rule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// ParseRules reads a rule file.
func ParseRules(b []byte) (RuleFile, error) {
	var f RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return RuleFile{}, fmt.Errorf("rule file: %w", err)
	}
	return f, nil
}

// Alerts returns the alerting rules of f, in file order.
func (f RuleFile) Alerts() []Rule {
	var out []Rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// Marshal writes f as a rule file.
func (f RuleFile) Marshal() ([]byte, error) {
	return yaml.Marshal(f)
}

// rangeSelector matches the range of a range vector selector ("[5m]").
var rangeSelector = regexp.MustCompile(`\[[0-9]+(?:ms|[smhdwy])\]`)

// Shortened returns a copy of f for evaluating the rules in seconds, as the
// end-to-end test does on a real Prometheus: every range selector of every
// expression becomes window, and every alert's for becomes hold.
// Expressions, thresholds, labels and annotations are unchanged, so the copy
// fires on the same conditions as f, only sooner.
func (f RuleFile) Shortened(window, hold time.Duration) RuleFile {
	out := RuleFile{Groups: make([]RuleGroup, len(f.Groups))}
	for i, g := range f.Groups {
		g.Rules = slices.Clone(g.Rules)
		for j := range g.Rules {
			r := &g.Rules[j]
			r.Expr = rangeSelector.ReplaceAllString(r.Expr, "["+promDuration(window)+"]")
			if r.Alert != "" && r.For != "" {
				r.For = promDuration(hold)
			}
		}
		out.Groups[i] = g
	}
	return out
}

// promDuration writes d as a Prometheus duration (whole milliseconds).
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
