package uuid

import (
	"regexp"
	"testing"
)

var canonicalV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if !canonicalV4.MatchString(id) {
			t.Fatalf("%q is not a canonical version-4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("%q issued twice", id)
		}
		seen[id] = true
	}
}

func TestV4(t *testing.T) {
	var b [16]byte
	for i := range b {
		b[i] = 0xff
	}
	if got, want := V4(b), "ffffffff-ffff-4fff-bfff-ffffffffffff"; got != want {
		t.Errorf("V4(all ones) = %s, want %s", got, want)
	}
	if got, want := V4([16]byte{}), "00000000-0000-4000-8000-000000000000"; got != want {
		t.Errorf("V4(zeros) = %s, want %s", got, want)
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", false}, // upper case would not come back the same
		{"0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", false},
		{"{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}", false},
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g", false},
		{"0a1b2c3d-4e5f-4a6b-8c7d+9e0f1a2b3c4d", false},
		{"", false},
	} {
		raw, ok := Parse(tt.in)
		if ok != tt.ok {
			t.Errorf("Parse(%q) ok = %t, want %t", tt.in, ok, tt.ok)
			continue
		}
		if ok && Format(raw) != tt.in {
			t.Errorf("Format(Parse(%q)) = %q", tt.in, Format(raw))
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	f.Add("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4")
	f.Fuzz(func(t *testing.T, s string) {
		if raw, ok := Parse(s); ok && Format(raw) != s {
			t.Fatalf("Format(Parse(%q)) = %q", s, Format(raw))
		}
	})
}
