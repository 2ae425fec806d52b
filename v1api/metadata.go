package v1api

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/passgw/passgw/v1model"
)

// User metadata (3.15): JSON fields updated, encrypted, data; XML the
// chosen <userMetadata> shape where arrays become repeated elements and
// objects nested elements.

type userMetadataBody struct{ md *v1model.UserMetadata }

func (b userMetadataBody) writeJSON(w *jsonWriter) {
	md := b.md
	w.beginObject()
	w.int("updated", unixSeconds(md))
	w.name("encrypted")
	if md.Encrypted == nil {
		w.value([]string{})
	} else {
		w.value(md.Encrypted)
	}
	w.name("data")
	if md.Data == nil {
		w.value([]v1model.MetadataField{})
	} else {
		w.value(md.Data)
	}
	w.endObject()
}

func (b userMetadataBody) writeXML(w *xmlWriter) {
	md := b.md
	w.start("userMetadata")
	w.int("updated", unixSeconds(md))
	for _, name := range md.Encrypted {
		w.text("encrypted", name)
	}
	w.start("data")
	for _, f := range md.Data {
		writeXMLValue(w, f.Name, f.Value)
	}
	w.end("data")
	w.end("userMetadata")
}

func unixSeconds(md *v1model.UserMetadata) int64 {
	if md.Updated.IsZero() {
		return 0
	}
	return md.Updated.Unix()
}

// writeXMLValue renders v as element(s) called name; names that are not
// XML names are dropped, and so are null values.
func writeXMLValue(w *xmlWriter, name string, v any) {
	if !isXMLName(name) {
		return
	}
	switch v := v.(type) {
	case nil:
	case string:
		w.text(name, v)
	case bool:
		w.bool(name, v)
	case int:
		w.int(name, int64(v))
	case int64:
		w.int(name, v)
	case float64:
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			w.text(name, strconv.FormatFloat(v, 'f', -1, 64))
		}
	case json.Number:
		w.text(name, string(v))
	case []any:
		for _, e := range v {
			writeXMLValue(w, name, e)
		}
	case []string:
		for _, e := range v {
			w.text(name, e)
		}
	case map[string]any:
		w.start(name)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			writeXMLValue(w, k, v[k])
		}
		w.end(name)
	case []v1model.MetadataField:
		w.start(name)
		for _, f := range v {
			writeXMLValue(w, f.Name, f.Value)
		}
		w.end(name)
	default:
		w.text(name, fmt.Sprint(v))
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
