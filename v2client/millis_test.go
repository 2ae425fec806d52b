package v2client

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMillisJSON(t *testing.T) {
	tests := []struct {
		in      string
		wantMS  int64
		wantSet bool
		wantOut string
		wantErr bool
	}{
		{in: `"1733735289035"`, wantMS: 1733735289035, wantSet: true, wantOut: `"1733735289035"`},
		{in: `1697094207324`, wantMS: 1697094207324, wantSet: true, wantOut: `1697094207324`},
		{in: ` 42 `, wantMS: 42, wantSet: true, wantOut: `42`},
		{in: `0`, wantMS: 0, wantSet: true, wantOut: `0`},
		{in: `1.5e12`, wantMS: 1500000000000, wantSet: true, wantOut: `1500000000000`},
		{in: `"1.5e12"`, wantMS: 1500000000000, wantSet: true, wantOut: `"1500000000000"`},
		{in: `null`, wantOut: `null`},
		{in: `""`, wantOut: `null`},
		{in: `"soon"`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var m Millis
			err := json.Unmarshal([]byte(tt.in), &m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if m.Int64() != tt.wantMS || m.IsZero() == tt.wantSet {
				t.Errorf("got %d set=%v, want %d set=%v", m.Int64(), !m.IsZero(), tt.wantMS, tt.wantSet)
			}
			out, err := json.Marshal(m)
			if err != nil || string(out) != tt.wantOut {
				t.Errorf("marshal = %s, %v; want %s", out, err, tt.wantOut)
			}
		})
	}
}

func TestMillisTime(t *testing.T) {
	at := time.Date(2024, 12, 9, 9, 8, 9, 35e6, time.UTC)
	m := MillisOf(at)
	if !m.Time().Equal(at) || m.Int64() != 1733735289035 {
		t.Errorf("MillisOf(%v) = %v (%d)", at, m.Time(), m.Int64())
	}
	if out, _ := json.Marshal(m.Quoted()); string(out) != `"1733735289035"` {
		t.Errorf("Quoted marshals as %s", out)
	}
	if !m.Equal(m.Quoted()) || m.Equal(Millis{}) {
		t.Error("Equal must compare instants, ignoring the JSON form")
	}
	if !(Millis{}).Time().IsZero() {
		t.Error("absent Millis must give the zero time")
	}
	// omitzero keeps absent timestamps absent.
	out, _ := json.Marshal(Session{ActionName: "authorize"})
	if string(out) != `{"actionName":"authorize","actionType":""}` {
		t.Errorf("absent timestamps encoded: %s", out)
	}
}

// millisReference is the straightforward reading of a timestamp, through a
// string and encoding/json, that UnmarshalJSON's copy-free path must match.
func millisReference(b []byte) (Millis, error) {
	b = []byte(strings.TrimSpace(string(b)))
	if string(b) == "null" {
		return Millis{}, nil
	}
	quoted := len(b) > 0 && b[0] == '"'
	text := string(b)
	if quoted {
		if err := json.Unmarshal(b, &text); err != nil {
			return Millis{}, err
		}
		if text == "" {
			return Millis{}, nil
		}
	}
	ms, err := parseMillis(text)
	if err != nil {
		return Millis{}, err
	}
	return Millis{ms: ms, set: true, quoted: quoted}, nil
}

// FuzzMillis checks that UnmarshalJSON reads every input as the reference
// does: the same instant, presence and JSON form, or an error for both.
func FuzzMillis(f *testing.F) {
	for _, s := range []string{`1733735289035`, `"1733735289035"`, `-5`, `"-"`, `-`, `""`, `"`, `null`, ` 42 `,
		`999999999999999999`, `9999999999999999999`, `-9223372036854775808`, `+1`, `"+1"`, `1.5e12`, `"\u0031"`, `01`, `"12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Millis
		gotErr := got.UnmarshalJSON(b)
		want, wantErr := millisReference(b)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("UnmarshalJSON(%q) error = %v, reference error = %v", b, gotErr, wantErr)
		}
		if gotErr == nil && got != want {
			t.Fatalf("UnmarshalJSON(%q) = %+v, reference %+v", b, got, want)
		}
	})
}
