package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configError is the error of decoding the configuration file path (its
// bytes src), in the configuration's own words: an empty file says so, and
// every entry names the field and what it wants, never a Go type.
func configError(path string, src []byte, err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: the file holds no configuration: write its fields as YAML, "+
			"e.g. \"upstream: sandbox\" (CONFIG.md documents every field; passgw.example.yaml starts as-is)", path)
	}
	return fmt.Errorf("config %s: %w", path, nameFields(src, err))
}

var (
	// yamlMismatch is yaml's message for a value of the wrong kind.
	yamlMismatch = regexp.MustCompile("^cannot unmarshal !!(\\w+) (`[^`]*` )?into (\\S+)$")
	// listIndex is the trailing index of a path in a list.
	listIndex = regexp.MustCompile(`\[\d+\]$`)
	// yamlUnknown is yaml's message for a field the type lacks.
	yamlUnknown = regexp.MustCompile(`^field \S+ not found in type \S+$`)
)

// configWords rewrites a yaml decoding message in the configuration's
// words: what the field wants and what the file holds.
func configWords(msg string) string {
	if yamlUnknown.MatchString(msg) {
		return "unknown field (CONFIG.md lists every field)"
	}
	m := yamlMismatch.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{"seq": "a list", "map": "a mapping of fields", "null": "nothing"}[m[1]]
	if got == "" {
		got = strings.TrimSpace(m[2])
	}
	return "want " + wantWords(m[3]) + ", got " + got
}

// wantWords names what a configuration type wants.
func wantWords(goType string) string {
	switch {
	case goType == "main.Config":
		return "a mapping of configuration fields such as upstream: and requestors: (see CONFIG.md)"
	case goType == "main.RequestorConfig":
		return "a requestor: a mapping of fields such as id: and software_statement:"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping of names to values"
	case strings.HasPrefix(goType, "main.") || strings.HasPrefix(goType, "*main."):
		return "a mapping of fields"
	}
	switch strings.TrimPrefix(goType, "*") {
	case "time.Duration":
		return "a duration such as 10s, 1m30s or 24h"
	case "string":
		return "a text value"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "uint32":
		return "a whole number"
	case "float64", "float32":
		return "a number"
	}
	return "another kind of value"
}

// nameFields rewrites the entries of a YAML decoding error, which name only
// a line ("line 4: cannot unmarshal !!str `soon` into time.Duration"), so
// that each names the configuration field at that line, as the other
// configuration errors do, in the configuration's words
// ("shutdown_timeout (line 4): want a duration such as 10s, 1m30s or 24h,
// got `soon`"). Other errors are returned unchanged.
func nameFields(src []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil {
		return err
	}
	fields := map[int]string{}
	fieldLines(&doc, "", fields)
	// Each entry of a yaml.TypeError reads "line N: message".
	lineError := regexp.MustCompile(`^line (\d+): (.*)$`)
	errs := make([]error, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := lineError.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, errors.New(configWords(e)))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		field, ok := fields[line]
		if mm := yamlMismatch.FindStringSubmatch(m[2]); mm != nil {
			switch {
			case mm[3] == "main.Config":
				// The whole file is something else than a mapping.
				field, ok = "the file", true
			case mm[1] == "seq" || mm[1] == "map":
				// A collection written on its key's line ("addr: [1]"):
				// the line's innermost path is inside it, the field is
				// the key.
				field = listIndex.ReplaceAllString(field, "")
			}
		}
		if ok {
			errs = append(errs, fmt.Errorf("%s (line %d): %s", field, line, configWords(m[2])))
		} else {
			errs = append(errs, fmt.Errorf("line %d: %s", line, configWords(m[2])))
		}
	}
	return errors.Join(errs...)
}

// fieldLines records, for each line holding a mapping key or a sequence
// item, the field path there ("requestors[0].throttle.interval"). The
// innermost path of a line wins.
func fieldLines(n *yaml.Node, path string, out map[int]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			fieldLines(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[k.Line] = p
			fieldLines(v, p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if _, ok := out[c.Line]; !ok || c.Kind == yaml.ScalarNode {
				out[c.Line] = p
			}
			fieldLines(c, p, out)
		}
	}
}
