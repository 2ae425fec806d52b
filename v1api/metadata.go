package v1api

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/beevik/etree"

	"github.com/passgw/passgw/translate"
)

// User metadata (3.15): JSON fields updated, encrypted, data; XML the
// chosen <userMetadata> shape where arrays become repeated elements and
// objects nested elements.

func userMetadataJSON(md *translate.UserMetadata) jvalue {
	enc := md.Encrypted
	if enc == nil {
		enc = []string{}
	}
	data := md.Data
	if data == nil {
		data = []translate.MetadataField{}
	}
	return jobject{{"updated", unixSeconds(md)}, {"encrypted", enc}, {"data", data}}
}

func userMetadataXML(md *translate.UserMetadata) xmlBody {
	root := etree.NewElement("userMetadata")
	addText(root, "updated", strconv.FormatInt(unixSeconds(md), 10))
	for _, name := range md.Encrypted {
		addText(root, "encrypted", name)
	}
	data := root.CreateElement("data")
	for _, f := range md.Data {
		addXMLValue(data, f.Name, f.Value)
	}
	return root
}

func unixSeconds(md *translate.UserMetadata) int64 {
	if md.Updated.IsZero() {
		return 0
	}
	return md.Updated.Unix()
}

// addXMLValue renders v under parent as element(s) called name; names that
// are not XML names are dropped, and so are null values.
func addXMLValue(parent *etree.Element, name string, v any) {
	if !isXMLName(name) {
		return
	}
	switch v := v.(type) {
	case nil:
	case string:
		addText(parent, name, v)
	case bool:
		addText(parent, name, strconv.FormatBool(v))
	case int:
		addText(parent, name, strconv.Itoa(v))
	case int64:
		addText(parent, name, strconv.FormatInt(v, 10))
	case float64:
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			addText(parent, name, strconv.FormatFloat(v, 'f', -1, 64))
		}
	case json.Number:
		addText(parent, name, string(v))
	case []any:
		for _, e := range v {
			addXMLValue(parent, name, e)
		}
	case []string:
		for _, e := range v {
			addText(parent, name, e)
		}
	case map[string]any:
		el := parent.CreateElement(name)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			addXMLValue(el, k, v[k])
		}
	case []translate.MetadataField:
		el := parent.CreateElement(name)
		for _, f := range v {
			addXMLValue(el, f.Name, f.Value)
		}
	default:
		addText(parent, name, fmt.Sprint(v))
	}
}

// isXMLName reports whether s can be an unprefixed element name. Only
// ASCII names are kept: parsers disagree on which other letters XML allows.
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z'):
		case i > 0 && (r == '-' || r == '.' || ('0' <= r && r <= '9')):
		default:
			return false
		}
	}
	return true
}
