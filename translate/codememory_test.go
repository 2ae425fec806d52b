package translate

import (
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
)

// TestExpiredCodeIsGone: tokens/authn by code (and the deployed clients'
// authenticate/{code}) answers 410 for a code whose login expired, long
// after the registration record and the v2 session are gone, and 404 for a
// code nobody signed in with, a deleted code, a logged-out device or a
// login expired for longer than ExpiredMemory.
func TestExpiredCodeIsGone(t *testing.T) {
	const authnTTL = 24 * time.Hour // the fixture's
	tests := []struct {
		name string
		// login runs after the code was registered; it reports whether the
		// user signed in.
		login      func(e *env, d v1model.Device, code string)
		after      time.Duration
		wantStatus int
		wantCode   string
	}{
		{
			name: "login seen by the device",
			login: func(e *env, d v1model.Device, code string) {
				e.secondScreen(code, "AcmeCable", "alice")
				e.authorize(d)
			},
			// Past the code's first memory (record lifetime + ExpiredMemory).
			after:      authnTTL + 6*time.Hour,
			wantStatus: 410, wantCode: v1model.CodeAuthenticationSessionExpired,
		},
		{
			name: "login seen by code only",
			login: func(e *env, d v1model.Device, code string) {
				e.secondScreen(code, "AcmeCable", "alice")
				anon := v1model.Device{Requestor: testRequestor}
				if _, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: anon, Code: code}); err != nil {
					e.t.Fatalf("tokens/authn by code after the login: %v", err)
				}
			},
			after:      authnTTL + 6*time.Hour,
			wantStatus: 410, wantCode: v1model.CodeAuthenticationSessionExpired,
		},
		{
			name: "login still valid",
			login: func(e *env, d v1model.Device, code string) {
				e.secondScreen(code, "AcmeCable", "alice")
				e.authorize(d)
			},
			after:      authnTTL - time.Minute,
			wantStatus: 200,
		},
		{
			name:       "no login",
			login:      func(e *env, d v1model.Device, code string) {},
			after:      time.Hour,
			wantStatus: 404, wantCode: v1model.CodeAuthenticationSessionMissing,
		},
		{
			name: "deleted code",
			login: func(e *env, d v1model.Device, code string) {
				e.secondScreen(code, "AcmeCable", "alice")
				e.authorize(d)
				if err := e.gw.DeleteRegcode(e.ctx, &v1model.DeleteRegcodeRequest{Device: v1model.Device{Requestor: testRequestor}, Code: code}); err != nil {
					e.t.Fatal(err)
				}
			},
			after:      authnTTL + time.Hour,
			wantStatus: 404, wantCode: v1model.CodeAuthenticationSessionMissing,
		},
		{
			name: "logged out",
			login: func(e *env, d v1model.Device, code string) {
				e.secondScreen(code, "AcmeCable", "alice")
				e.authorize(d)
				if err := e.gw.Logout(e.ctx, &v1model.LogoutRequest{Device: d}); err != nil {
					e.t.Fatal(err)
				}
			},
			after:      authnTTL + time.Hour,
			wantStatus: 404, wantCode: v1model.CodeAuthenticationSessionMissing,
		},
		{
			name: "expired longer than ExpiredMemory",
			login: func(e *env, d v1model.Device, code string) {
				e.secondScreen(code, "AcmeCable", "alice")
				e.authorize(d)
			},
			after:      authnTTL + DefaultExpiredMemory + time.Minute,
			wantStatus: 404, wantCode: v1model.CodeAuthenticationSessionMissing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			d := testDevice("code-memory")
			reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d})
			if err != nil {
				t.Fatal(err)
			}
			tt.login(e, d, reg.Code)
			e.advance(tt.after)
			// Deployed clients name the device; second screens do not.
			for _, caller := range []v1model.Device{d, {Requestor: testRequestor}} {
				tok, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: caller, Code: reg.Code})
				if tt.wantStatus == 200 {
					if err != nil || tok.MVPD != "AcmeCable" || tok.UserID != "acme-alice-0001" {
						t.Fatalf("tokens/authn by code = %+v, %v; want alice's AcmeCable login", tok, err)
					}
					continue
				}
				v1err(t, err, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

// authorize has the device authorize "news", which reads its profiles.
func (e *env) authorize(d v1model.Device) {
	e.t.Helper()
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		e.t.Fatalf("authorize: %v", err)
	}
}
