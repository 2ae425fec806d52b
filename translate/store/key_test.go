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
