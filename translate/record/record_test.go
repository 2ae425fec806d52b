package record

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v2client"
)

// storedValue is what every record type is.
type storedValue interface {
	AppendBinary([]byte) ([]byte, error)
	UnmarshalBinary([]byte) error
}

// fresh returns a new zero record of the kind a testdata file name starts
// with.
func fresh(t *testing.T, name string) storedValue {
	t.Helper()
	switch kind, _, _ := strings.Cut(name, "-"); kind {
	case "registration":
		return &Registration{}
	case "profiles":
		return &ProfileSet{}
	case "decision":
		return &Decision{}
	}
	t.Fatalf("testdata %s: unknown kind of record", name)
	return nil
}

// sameJSON fails unless want and got have the same JSON form, which covers
// every field of the stored types (Millis' number-or-string form included).
func sameJSON(t *testing.T, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(w) != string(g) {
		t.Errorf("decoded value differs:\nwant %s\ngot  %s", w, g)
	}
}

// legacyCase is a record as a gateway before format versions stored it
// (testdata/v0/NAME.bin, written by that gateway's encoder) and the value it
// holds (NAME.json).
type legacyCase struct {
	name  string
	v0    []byte
	value storedValue
}

func legacyCases(t *testing.T) []legacyCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "v0", "*.bin"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/v0 records (%v)", err)
	}
	var cases []legacyCase
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bin")
		v0, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		j, err := os.ReadFile(strings.TrimSuffix(f, ".bin") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		value := fresh(t, name)
		if err := json.Unmarshal(j, value); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		cases = append(cases, legacyCase{name, v0, value})
	}
	return cases
}

// TestReadsVersion0: records stored before the format carried a version
// (no version byte) decode to what they held: a rolling upgrade meets them
// in Redis.
func TestReadsVersion0(t *testing.T) {
	for _, c := range legacyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if c.v0[0]&versioned != 0 {
				t.Fatalf("testdata starts with %#x: not a version 0 record", c.v0[0])
			}
			got := fresh(t, c.name)
			if err := got.UnmarshalBinary(c.v0); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, c.value, got)
		})
	}
}

// TestRoundTrip: every record comes back from its stored form exactly,
// whichever of its fields repeat one another, and the stored form carries
// the format version, then version 0's fields.
func TestRoundTrip(t *testing.T) {
	for _, c := range legacyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.value.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 2 || b[0] != c.v0[0]|versioned || b[1] != Version {
				t.Fatalf("stored form starts % x, want kind %#x with the version bit, then version %d", b[:min(len(b), 2)], c.v0[0], Version)
			}
			got := fresh(t, c.name)
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, c.value, got)
			if r, ok := c.value.(*Registration); ok {
				if g := got.(*Registration); !g.Registration.Generated.Equal(r.Registration.Generated) {
					t.Errorf("generated %v, want %v (to the nanosecond)", g.Registration.Generated, r.Registration.Generated)
				}
			}
			// Version 1 changed no field: past its header it is version 0's
			// form, wherever that does not depend on map order.
			if s, ok := c.value.(*ProfileSet); !ok || len(s.Profiles) == 0 {
				if string(b[2:]) != string(c.v0[1:]) {
					t.Errorf("fields differ from version 0's:\n% x\n% x", b[2:], c.v0[1:])
				}
			}
		})
	}
}

// TestRecordWrittenInVersion0: written at version 0, for instances of a gateway
// before format versions during a rolling upgrade, a record is byte for byte
// what that gateway's encoder wrote (testdata/v0), and reads back. A cached
// profiles answer's maps are written in Go's map order, so its bytes must
// match in one of the orders a few writes go through. The record written is
// the one read from the previous encoder's bytes, whose attribute values are
// the compact JSON the gateway stores (NAME.json's are indented).
func TestRecordWrittenInVersion0(t *testing.T) {
	for _, c := range legacyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			read := fresh(t, c.name)
			if err := read.UnmarshalBinary(c.v0); err != nil {
				t.Fatal(err)
			}
			v := read.(versionedValue)
			var b []byte
			for range 1000 {
				var err error
				if b, err = v.AppendVersion(nil, 0); err != nil {
					t.Fatal(err)
				}
				if string(b) == string(c.v0) {
					break
				}
			}
			if string(b) != string(c.v0) {
				t.Fatalf("version 0 form differs from the previous encoder's:\n% x\n% x", b, c.v0)
			}
			got := fresh(t, c.name)
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, c.value, got)
			// Version is what AppendBinary writes; no other version is
			// written.
			bin, _ := c.value.AppendBinary(nil)
			if v1, err := v.AppendVersion(nil, Version); err != nil || string(v1[:2]) != string(bin[:2]) {
				t.Errorf("AppendVersion(%d) = % x, %v; want AppendBinary's header % x", Version, v1[:min(len(v1), 2)], err, bin[:2])
			}
			for _, bad := range []int{-1, Version + 1, 255} {
				if out, err := v.AppendVersion([]byte("x"), bad); err == nil || string(out) != "x" {
					t.Errorf("AppendVersion(%d) = %q, %v; want an error and nothing appended", bad, out, err)
				}
			}
		})
	}
}

// versionedValue is what every record type is besides a storedValue.
type versionedValue interface {
	AppendVersion(b []byte, version int) ([]byte, error)
}

// TestRegistrationSize: a registration record as the gateway creates it is
// stored in at most 300 bytes and a third of its JSON.
func TestRegistrationSize(t *testing.T) {
	for _, c := range legacyCases(t) {
		if c.name != "registration-as-created" {
			continue
		}
		b, _ := c.value.AppendBinary(nil)
		j, _ := json.Marshal(c.value)
		if len(b) > 300 || 3*len(b) > len(j) {
			t.Errorf("stored record is %d bytes (JSON %d): want at most 300 and a third of the JSON", len(b), len(j))
		}
		return
	}
	t.Fatal("no registration-as-created in testdata/v0")
}

// TestReadsJSON: values stored as JSON (by the earliest gateways) are still
// read.
func TestReadsJSON(t *testing.T) {
	for _, c := range legacyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			j, err := json.Marshal(c.value)
			if err != nil {
				t.Fatal(err)
			}
			got := fresh(t, c.name)
			if err := got.UnmarshalBinary(j); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, c.value, got)
		})
	}
}

// TestMalformed: a cut, extended, foreign or unknown stored value is an
// error, never a panic or a partly filled value; one of a newer version
// says so.
func TestMalformed(t *testing.T) {
	for _, c := range legacyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.value.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, form := range [][]byte{b, c.v0} {
				for n := range len(form) {
					if err := fresh(t, c.name).UnmarshalBinary(form[:n]); !errors.Is(err, ErrMalformed) {
						t.Errorf("cut to %d of %d bytes: error %v, want ErrMalformed", n, len(form), err)
					}
				}
				if err := fresh(t, c.name).UnmarshalBinary(append(form[:len(form):len(form)], 0)); !errors.Is(err, ErrMalformed) {
					t.Errorf("with a trailing byte: error %v, want ErrMalformed", err)
				}
			}
			for _, kind := range []byte{0x7f, 0x7f | versioned, 0x00, versioned} {
				other := append([]byte{kind}, b[1:]...)
				if err := fresh(t, c.name).UnmarshalBinary(other); !errors.Is(err, ErrMalformed) {
					t.Errorf("kind %#x: error %v, want ErrMalformed", kind, err)
				}
			}
			for _, other := range []storedValue{&Registration{}, &ProfileSet{}, &Decision{}} {
				if kindOf(other) == kindOf(c.value) {
					continue
				}
				if err := other.UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
					t.Errorf("read as %T: error %v, want ErrMalformed", other, err)
				}
			}
			zero := append([]byte{b[0], 0}, b[2:]...)
			if err := fresh(t, c.name).UnmarshalBinary(zero); !errors.Is(err, ErrMalformed) {
				t.Errorf("version 0 written with a version byte: error %v, want ErrMalformed", err)
			}
			newer := append([]byte{b[0], Version + 1}, b[2:]...)
			if err := fresh(t, c.name).UnmarshalBinary(newer); !errors.Is(err, ErrNewerVersion) {
				t.Errorf("version %d: error %v, want ErrNewerVersion", Version+1, err)
			}
		})
	}
}

// kindOf is the kind byte v writes.
func kindOf(v storedValue) byte {
	b, _ := v.AppendBinary(nil)
	return b[0] &^ versioned
}

// TestCanonicalUUID: only the canonical lower-case form is stored as 16
// bytes, so that a stored id reads back as the same string.
func TestCanonicalUUID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", false},
		{"0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", false},
		{"{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}", false},
		{"urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", false},
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g", false},
		{"0a1b2c3d-4e5f-4a6b-8c7d+9e0f1a2b3c4d", false},
		{"", false},
	} {
		raw, ok := canonicalUUID(tt.in)
		if ok != tt.ok {
			t.Errorf("canonicalUUID(%q) ok = %t, want %t", tt.in, ok, tt.ok)
			continue
		}
		if ok && raw.String() != tt.in {
			t.Errorf("canonicalUUID(%q) formats back as %q", tt.in, raw.String())
		}
	}
}

func FuzzCanonicalUUID(f *testing.F) {
	f.Add("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	f.Add("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4")
	f.Fuzz(func(t *testing.T, s string) {
		if raw, ok := canonicalUUID(s); ok && raw.String() != s {
			t.Fatalf("canonicalUUID(%q) formats back as %q", s, raw.String())
		}
	})
}

// BenchmarkStoredValues measures decoding what a call reads from the store:
// the cached profiles of every call and the kept decision of tokens/authz
// and mediatoken, in their binary form and, for comparison, as JSON.
func BenchmarkStoredValues(b *testing.B) {
	set := ProfileSet{Profiles: map[string]v2client.Profile{"AcmeCable": {
		NotBefore: v2client.MillisFromInt(1772445600000), NotAfter: v2client.MillisFromInt(1772532000000),
		Issuer: "AcmeCable", Type: "regular",
		Attributes: map[string]v2client.Attribute{"userID": {Value: json.RawMessage(`"alice"`)}, "zip": {Value: json.RawMessage(`["10001"]`)}},
	}}, Seen: &SeenProfile{MVPD: "AcmeCable", NotAfter: time.UnixMilli(1772532000000)}}
	k := Decision{Resource: "sports", MVPD: "AcmeCable", UserID: "alice", NotAfter: time.Now(), MediaToken: strings.Repeat("t", 200), MediaNotAfter: time.Now()}
	run := func(name string, v interface{ AppendBinary([]byte) ([]byte, error) }, decode func([]byte) error) {
		bin, _ := v.AppendBinary(nil)
		js, _ := json.Marshal(v)
		for _, f := range []struct {
			form string
			b    []byte
		}{{"binary", bin}, {"json", js}} {
			b.Run(name+"/"+f.form, func(b *testing.B) {
				b.ReportAllocs()
				b.ReportMetric(float64(len(f.b)), "bytes")
				for b.Loop() {
					if err := decode(f.b); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	run("profiles", set, func(b []byte) error { var v ProfileSet; return v.UnmarshalBinary(b) })
	run("decision", k, func(b []byte) error { var v Decision; return v.UnmarshalBinary(b) })
}
