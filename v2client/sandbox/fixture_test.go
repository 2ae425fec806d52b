package sandbox

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadFixture(t *testing.T) {
	def, err := json.Marshal(DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	// edit returns the default fixture's JSON with one change applied.
	edit := func(change func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(def, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	first := func(m map[string]any, key string) map[string]any { return m[key].([]any)[0].(map[string]any) }
	tests := []struct {
		name    string
		json    string
		wantErr string // substring naming the field; empty for success
	}{
		{"default round trip", string(def), ""},
		{"not JSON", "{", "parsing fixture"},
		{"unknown field", edit(func(m map[string]any) { m["colour"] = "blue" }), `unknown field "colour"`},
		{"bad duration", edit(func(m map[string]any) { m["ttls"].(map[string]any)["session"] = "half an hour" }), "duration"},
		{"zero ttl", edit(func(m map[string]any) { m["ttls"].(map[string]any)["mediaToken"] = "0s" }), "ttls.mediaToken"},
		{"no service provider", edit(func(m map[string]any) { m["serviceProviders"] = []any{} }), "serviceProviders"},
		{"unknown integrated mvpd", edit(func(m map[string]any) {
			first(m, "serviceProviders")["mvpds"] = []any{"AcmeCable", "Nope"}
		}), "serviceProviders[0].mvpds[1]"},
		{"user of unknown mvpd", edit(func(m map[string]any) { first(m, "users")["mvpd"] = "Nope" }), "users[0].mvpd"},
		{"user without password", edit(func(m map[string]any) { first(m, "users")["password"] = "" }), "users[0].password"},
		{"bad parental limit", edit(func(m map[string]any) { first(m, "users")["parentalLimit"] = "XXX" }), "users[0].parentalLimit"},
		{"bad attribute state", edit(func(m map[string]any) {
			first(m, "users")["attributes"] = map[string]any{"zip": map[string]any{"value": "1", "state": "secret"}}
		}), "users[0].attributes.zip.state"},
		{"statement of unknown provider", edit(func(m map[string]any) { first(m, "softwareStatements")["serviceProvider"] = "X" }), "softwareStatements[0].serviceProvider"},
		{"duplicate mvpd", edit(func(m map[string]any) {
			m["mvpds"] = append(m["mvpds"].([]any), first(m, "mvpds"))
		}), "mvpds[3].id"},
		{"bad degradation", edit(func(m map[string]any) { first(m, "mvpds")["degradation"] = "Everything" }), "mvpds[0].degradation"},
		{"zero resource limit", edit(func(m map[string]any) { m["resourceLimit"] = 0 }), "resourceLimit"},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "f"+string(rune('a'+i))+".json")
			if err := os.WriteFile(path, []byte(tc.json), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := LoadFixture(path)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadFixture: %v", err)
				}
				if f.TTLs.Authentication != Duration(24*time.Hour) || len(f.Users) != 3 || f.ResourceLimit != 5 {
					t.Errorf("round trip lost data: %+v", f)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadFixture error %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
	if _, err := LoadFixture(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := DefaultFixture()
	bad.Users[0].UserID = ""
	if err := bad.Validate(); !errors.Is(err, ErrInvalidFixture) {
		t.Errorf("Validate: %v, want ErrInvalidFixture", err)
	}
	if _, err := New(Config{Fixture: bad}); !errors.Is(err, ErrInvalidFixture) {
		t.Errorf("New with a bad fixture: %v", err)
	}
}
