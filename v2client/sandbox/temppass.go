package sandbox

import (
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"time"
)

// tempPassUsage is one TempPass trial: its clock starts on the first
// authorization (§7).
type tempPassUsage struct {
	userID string
	start  time.Time
	end    time.Time
	used   []string // distinct resources, in first-use order
}

// tempPassKeys are the keys a trial is found by: the device, and for a
// promotional pass also the identity, so a known identity on a new device
// and a new identity on a known device both continue the existing trial.
func tempPassKeys(sp, mvpd, device, identity string) []string {
	keys := []string{"device\x00" + sp + "\x00" + mvpd + "\x00" + device}
	if identity != "" {
		keys = append(keys, "identity\x00"+sp+"\x00"+mvpd+"\x00"+identity)
	}
	return keys
}

// tempPassLocked finds the trial for the keys; with start it begins one
// when none exists. Either way it links every key to the trial found.
func (s *Server) tempPassLocked(m *MVPD, keys []string, start bool) *tempPassUsage {
	var u *tempPassUsage
	for _, k := range keys {
		if u = s.tempPasses[k]; u != nil {
			break
		}
	}
	if u == nil {
		if !start {
			return nil
		}
		now := s.nowLocked()
		sum := sha1.Sum([]byte(keys[len(keys)-1]))
		u = &tempPassUsage{
			userID: "temppass_" + hex.EncodeToString(sum[:]),
			start:  now,
			end:    now.Add(time.Duration(m.TempPass.Duration)),
		}
	}
	for _, k := range keys {
		s.tempPasses[k] = u
	}
	return u
}

// tempPassIdentity reads AP-TempPass-Identity; ok is false when the pass is
// promotional and the header is missing or not Base64.
func tempPassIdentity(m *MVPD, header string) (identity string, ok bool) {
	if !m.TempPass.Promotional {
		return "", true
	}
	raw, decoded := decodeBase64(header)
	if header == "" || !decoded || len(raw) == 0 {
		return "", false
	}
	return string(raw), true
}

// tempPassErrorLocked is the code that ends the trial, or "".
func (s *Server) tempPassErrorLocked(m *MVPD, u *tempPassUsage) string {
	switch {
	case !s.nowLocked().Before(u.end):
		return CodeTempPassDurationExceeded
	case m.TempPass.MaxResources > 0 && len(u.used) >= m.TempPass.MaxResources:
		return CodeTempPassResourcesExceeded
	}
	return ""
}

// use records resource against the trial; it reports false when the
// resource is new and the allowance is spent.
func (u *tempPassUsage) use(m *MVPD, resource string) bool {
	if slices.Contains(u.used, resource) {
		return true
	}
	if m.TempPass.MaxResources > 0 && len(u.used) >= m.TempPass.MaxResources {
		return false
	}
	u.used = append(u.used, resource)
	return true
}

func (u *tempPassUsage) profile(m *MVPD) *profile {
	attrs := map[string]Attribute{
		"expiration_date": {Value: u.end.UnixMilli(), State: "plain"},
		"userID":          {Value: u.userID, State: "plain"},
	}
	if m.TempPass.Promotional {
		remaining := 0
		if m.TempPass.MaxResources > 0 {
			remaining = max(m.TempPass.MaxResources-len(u.used), 0)
		}
		attrs["remaining_resources"] = Attribute{Value: remaining, State: "plain"}
		attrs["used_assets"] = Attribute{Value: slices.Clone(u.used), State: "plain"}
	}
	return &profile{mvpd: m.ID, issuer: "Adobe", typ: "temporary", attributes: attrs, notBefore: u.start, notAfter: u.end}
}
