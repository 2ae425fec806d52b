package v2client

import (
	"encoding/json"
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
