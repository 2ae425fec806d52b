package callerauth_test

import (
	"log"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1api/callerauth"
)

// Example wires the issuer, the verifier and the throttle into one server.
func Example() {
	var backend v1api.Backend // the translate.Gateway
	logger := slog.Default()
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

	current, err := callerauth.ParseKey("k2:c2lnbmluZy1rZXktbnVtYmVyLXR3by0wMTIzNDU2Nzg5")
	if err != nil {
		log.Fatal(err)
	}
	previous, err := callerauth.ParseKey("k1:c2lnbmluZy1rZXktbnVtYmVyLW9uZS0wMTIzNDU2Nzg5")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := callerauth.NewKeyRing(current, previous)
	if err != nil {
		log.Fatal(err)
	}
	issuer, err := callerauth.NewIssuer(callerauth.IssuerConfig{
		Keys:       keys,
		Statements: []callerauth.Statement{{Requestor: "REF30", Text: "sandbox-statement"}},
		Logger:     logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	modes := map[string]callerauth.Mode{"REF30": callerauth.ModeOptional}
	verifier := callerauth.NewVerifier(callerauth.VerifierConfig{
		Issuer: issuer,
		Policy: func(requestor string) callerauth.Mode { return modes[requestor] },
		SigningKey: func(requestor, publicKey string) ([]byte, bool) {
			return nil, false // legacy HMAC keys per requestor, when the operator has them
		},
		Nonces: &callerauth.MemoryNonces{}, // the shared store when several instances run
		Logger: logger,
	})
	throttle := &v1api.Throttle{
		TrustedProxies: trusted,
		Limit: func(requestor string) (v1api.ThrottleLimit, bool) {
			return v1api.DefaultThrottleLimit(), true // or per requestor; false = off
		},
	}
	v1, err := v1api.New(v1api.Config{
		Backend:        backend,
		Logger:         logger,
		TrustedProxies: trusted,
		Authenticate:   verifier.Authenticate,
		Throttle:       throttle,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/o/client/", throttle.Wrap(issuer))
	mux.Handle("/", v1)
	_ = &http.Server{Addr: ":8080", Handler: mux}
}
