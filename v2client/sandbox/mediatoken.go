package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MediaToken is what a serializedToken the sandbox issued says.
type MediaToken struct {
	ID              string
	ServiceProvider string
	MVPD            string
	Resource        string
	UserID          string
	// Device is the AP-Device-Identifier fingerprint value of the caller.
	Device    string
	NotBefore time.Time
	NotAfter  time.Time
}

// mediaClaims is the signed part of a serialized media token.
type mediaClaims struct {
	ID              string `json:"id"`
	ServiceProvider string `json:"serviceProvider"`
	MVPD            string `json:"mvpd"`
	Resource        string `json:"resource"`
	UserID          string `json:"userID"`
	Device          string `json:"device"`
	NotBefore       int64  `json:"notBefore"`
	NotAfter        int64  `json:"notAfter"`
}

// Errors from VerifyMediaToken.
var (
	ErrMediaTokenInvalid = errors.New("media token is not one the sandbox issued")
	ErrMediaTokenExpired = errors.New("media token is outside its validity window")
)

// mediaTokenLocked issues the short media token of a permit. Its serialized
// form is Base64 of "<claims JSON>|<hex HMAC-SHA256 of the claims>", signed
// with the sandbox's key.
func (s *Server) mediaTokenLocked(t MediaToken) *mediaTokenRef {
	now := s.nowLocked()
	mc := mediaClaims{
		ID:              s.ids.UUID(),
		ServiceProvider: t.ServiceProvider,
		MVPD:            t.MVPD,
		Resource:        t.Resource,
		UserID:          t.UserID,
		Device:          t.Device,
		NotBefore:       now.UnixMilli(),
		NotAfter:        now.Add(time.Duration(s.fixture.TTLs.MediaToken)).UnixMilli(),
	}
	claims, _ := json.Marshal(mc)
	mac := hmac.New(sha256.New, s.key)
	mac.Write(claims)
	blob := append(claims, '|')
	blob = append(blob, hex.EncodeToString(mac.Sum(nil))...)
	return &mediaTokenRef{
		NotBefore:       mc.NotBefore,
		NotAfter:        mc.NotAfter,
		SerializedToken: base64.StdEncoding.EncodeToString(blob),
	}
}

// VerifyMediaToken checks that serialized is a media token this sandbox
// issued and that the sandbox's clock is within its validity window; it
// returns the token's claims (also on ErrMediaTokenExpired).
func (s *Server) VerifyMediaToken(serialized string) (MediaToken, error) {
	blob, err := base64.StdEncoding.DecodeString(serialized)
	if err != nil {
		return MediaToken{}, fmt.Errorf("%w: not Base64", ErrMediaTokenInvalid)
	}
	i := bytes.LastIndexByte(blob, '|')
	if i < 0 {
		return MediaToken{}, fmt.Errorf("%w: no signature", ErrMediaTokenInvalid)
	}
	claims, sig := blob[:i], blob[i+1:]
	want, err := hex.DecodeString(string(sig))
	mac := hmac.New(sha256.New, s.key)
	mac.Write(claims)
	if err != nil || !hmac.Equal(want, mac.Sum(nil)) {
		return MediaToken{}, fmt.Errorf("%w: bad signature", ErrMediaTokenInvalid)
	}
	var mc mediaClaims
	if err := json.Unmarshal(claims, &mc); err != nil {
		return MediaToken{}, fmt.Errorf("%w: claims: %w", ErrMediaTokenInvalid, err)
	}
	t := MediaToken{
		ID:              mc.ID,
		ServiceProvider: mc.ServiceProvider,
		MVPD:            mc.MVPD,
		Resource:        mc.Resource,
		UserID:          mc.UserID,
		Device:          mc.Device,
		NotBefore:       time.UnixMilli(mc.NotBefore),
		NotAfter:        time.UnixMilli(mc.NotAfter),
	}
	now := s.Now()
	if now.Before(t.NotBefore) || !now.Before(t.NotAfter) {
		return t, ErrMediaTokenExpired
	}
	return t, nil
}
