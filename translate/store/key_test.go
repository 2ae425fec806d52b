package store

import (
	"strings"
	"testing"
)

// TestKeyStable pins keys to the values earlier versions of the gateway
// wrote, so that a shared store keeps finding what they stored.
func TestKeyStable(t *testing.T) {
	tests := []struct {
		prefix string
		parts  []string
		want   string
	}{
		{"gen", nil, "gen:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"},
		{"decision", []string{"REF30", "bench-device-0001", "sports"}, "decision:BBFpA8rrQH-5EdNmDstLpbiDUJELpzBYUZs3P94H9vY"},
		{"x", []string{"ab", "c"}, "x:YB1UduLM_iyHorunoyJllzSgV0nVtap4H1E-SRLbDV8"},
		{"x", []string{"a", "bc"}, "x:P6-hzy8Zp8ESm-sgzwmD9zpImiIfwN0vFtG-KS0IkgU"},
		// Longer than the stack buffer.
		{"media", []string{strings.Repeat(`<media:content url="x"/>`, 20)}, "media:XestzPMCxt4zKg0pPj6lpBdV76gAj-RkZDaPecO5F4o"},
	}
	for _, tt := range tests {
		if got := Key(tt.prefix, tt.parts...); got != tt.want {
			t.Errorf("Key(%q, %q) = %q, want %q", tt.prefix, tt.parts, got, tt.want)
		}
	}
}

// TestDeviceKey: every key of one device carries one hash tag, and keys of
// other devices, requestors or items differ.
func TestDeviceKey(t *testing.T) {
	tag := func(k string) string {
		open, close := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
		if open < 0 || close < open+2 {
			t.Fatalf("key %q has no hash tag", k)
		}
		return k[open+1 : close]
	}
	gen := DeviceKey("gen", "REF30", "device-1")
	decision := DeviceKey("decision", "REF30", "device-1", "sports")
	if tag(gen) != tag(decision) || !strings.HasPrefix(gen, "gen:{") || !strings.HasPrefix(decision, "decision:{") {
		t.Errorf("keys of one device %q and %q do not share their hash tag", gen, decision)
	}
	seen := map[string]bool{}
	for _, k := range []string{gen, decision,
		DeviceKey("decision", "REF30", "device-1", "news"),
		DeviceKey("decision", "REF30", "device-2", "sports"),
		DeviceKey("decision", "REF30E", "device-1", "sports"),
		DeviceKey("decision", "REF3", "0device-1", "sports"),
		DeviceKey("gen", "REF30", "device-2"),
	} {
		if seen[k] {
			t.Errorf("key %q built twice", k)
		}
		seen[k] = true
	}
	if tag(DeviceKey("gen", "REF3", "0device-1")) == tag(gen) {
		t.Error("requestor and device run together in the hash tag")
	}
}
