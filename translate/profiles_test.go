package translate

import (
	"testing"
	"time"

	"github.com/passgw/passgw/v2client"
)

func TestChooseProfile(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) v2client.Millis { return v2client.MillisOf(now.Add(d)) }
	p := func(nb, na time.Duration, typ string) v2client.Profile {
		return v2client.Profile{NotBefore: ms(nb), NotAfter: ms(na), Type: typ}
	}
	tests := []struct {
		name     string
		profiles map[string]v2client.Profile
		want     string
	}{
		{"none", map[string]v2client.Profile{}, ""},
		{"one", map[string]v2client.Profile{"A": p(-time.Hour, time.Hour, "regular")}, "A"},
		{"most recent notBefore wins", map[string]v2client.Profile{
			"Old": p(-2*time.Hour, 48*time.Hour, "regular"),
			"New": p(-time.Hour, time.Hour, "regular"),
		}, "New"},
		{"tie goes to longest notAfter", map[string]v2client.Profile{
			"Short": p(-time.Hour, time.Hour, "regular"),
			"Long":  p(-time.Hour, 2*time.Hour, "regular"),
		}, "Long"},
		{"full tie is stable", map[string]v2client.Profile{
			"B": p(-time.Hour, time.Hour, "regular"),
			"A": p(-time.Hour, time.Hour, "regular"),
		}, "A"},
		{"temppass counts like any other", map[string]v2client.Profile{
			"AcmeCable":      p(-2*time.Hour, 20*time.Hour, "regular"),
			"TempPass_REF30": p(-time.Minute, 9*time.Minute, "temporary"),
		}, "TempPass_REF30"},
		{"signed in after a free preview", map[string]v2client.Profile{
			"TempPass_REF30": p(-time.Hour, time.Minute, "temporary"),
			"AcmeCable":      p(-time.Minute, 24*time.Hour, "regular"),
		}, "AcmeCable"},
		{"expired skipped", map[string]v2client.Profile{
			"Expired": p(-time.Minute, 0, "regular"),
			"Valid":   p(-time.Hour, time.Hour, "regular"),
		}, "Valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // map order varies between runs
				a, ok := chooseProfile(tt.profiles, now)
				got := ""
				if ok {
					got = a.MVPD
				}
				if got != tt.want {
					t.Fatalf("chose %q, want %q", got, tt.want)
				}
			}
		})
	}
}
