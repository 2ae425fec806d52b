package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// nameFields rewrites the entries of a YAML decoding error, which name only
// a line ("line 4: cannot unmarshal !!str `soon` into time.Duration"), so
// that each names the configuration field at that line, as the other
// configuration errors do ("shutdown_timeout (line 4): cannot unmarshal
// ..."). Other errors are returned unchanged.
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
			errs = append(errs, errors.New(e))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		if field, ok := fields[line]; ok {
			errs = append(errs, fmt.Errorf("%s (line %d): %s", field, line, m[2]))
		} else {
			errs = append(errs, errors.New(e))
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
