// Package sandbox is an in-memory fake of Adobe Pass Authentication REST API
// v2 and Dynamic Client Registration, with mock MVPD login pages, served
// beside the client it fakes (as cloud.google.com/go/pubsub/pstest is): for
// tests, for `passgw sandbox`, and for `passgw serve` without Adobe.
//
// It implements the contract of testdata/spec/v2.md, the project's working
// reference of Adobe's v2 and DCR pages (the § numbers in this package's
// comments are its sections): every endpoint, its statuses, the exact JSON
// types (session notBefore/notAfter as strings of epoch
// milliseconds, every other time as a number), the required headers of each
// endpoint, bearer tokens bound to the service provider of the software
// statement, Enhanced Error codes top-level and item-level, sessions that
// expire, profiles per client, service provider, device and MVPD, decisions
// from per-user entitlements and parental limits, TempPass trials, logout
// actions, platform/service-token SSO, Apple partner SSO, and throttling by
// X-Forwarded-For.
//
// # Running it
//
// NewServer starts a Server on a 127.0.0.1 listener (Server.URL, Close).
// New makes one without a listener: a Server is an http.Handler, so another
// process can mount it on its own address, with Config.BaseURL (or
// SetBaseURL) telling it the absolute URL it is reached at.
//
// The default world is DefaultFixture: service provider REF30 (domains
// example.com and localhost), software statement "sandbox-statement", MVPDs
// AcmeCable (logout page, Apple platformMappingId AcmeCable), BetaFiber and
// TempPass_REF30 (10 minutes, 3 resources), users alice/alice-pass and
// bob/bob-pass on AcmeCable (bob is entitled to news and sports only) and
// carol/carol-pass on BetaFiber (parental limit TV-14). LoadFixture reads
// another world from JSON (the Fixture type's field names; durations as Go
// duration strings such as "24h").
//
// # The browser part
//
// GET /api/v2/authenticate/{sp}/{code} answers 302 to
// /adobe-services/authenticate/saml?... (Adobe's documented query names plus
// reg_code), which answers 302 to /adobe-services/mvpd/{mvpd}/login?...: an
// HTML form with inputs "username" and "password". A right password of a
// subscriber of that MVPD stores the regular profile (and an SSO profile for
// each SSO header the session was created with), completes the session and
// answers 302 to the session's redirectUrl; anything else shows the form
// again with an error (200). /adobe-services/logout answers 302 to its
// redirect_url. SignIn drives all of this like a browser would.
//
// # Tests
//
// Config.Now and Server.Advance control time; DeterministicIDs makes codes,
// ids, secrets and the signing key repeatable. Requests and
// UnhandledRequests record what arrived (unknown paths and wrong methods
// are unhandled: 404 or 405, and logged), Profiles shows stored profiles,
// VerifyMediaToken checks a serializedToken, PartnerSAMLResponse plays
// Apple's part of partner SSO, Reset forgets all user state. AddFault
// injects latency, forced statuses, 429s, dropped connections and early
// access-token expiry, scoped by path pattern, method and count. With
// Config.Admin the same controls are served over HTTP for tests that drive a
// sandbox in another process (neither throttled nor subject to faults):
//
//	GET    /_sandbox/faults                  list active faults
//	POST   /_sandbox/faults                  add a fault (JSON Fault; latency as "2s") -> 201 {"id":..}
//	DELETE /_sandbox/faults                  remove all faults
//	DELETE /_sandbox/faults/{id}             remove one fault
//	GET    /_sandbox/clock                   {"now": <ms>}
//	POST   /_sandbox/clock                   {"advance":"1s"} -> {"now": <ms>}
//	POST   /_sandbox/tokens/expire           invalidate every access token
//	POST   /_sandbox/throttling              {"enabled": false}
//	POST   /_sandbox/reset                   Server.Reset
//	GET    /_sandbox/registrations           DCR clients registered, by service provider: {"REF30": 1}
//	GET    /_sandbox/unhandled               the requests no route served
//	POST   /_sandbox/partner/saml-response   {"request":..,"username":..} -> {"SAMLResponse":..}
//	POST   /_sandbox/media-token/verify      {"token":..} -> claims, or 400 {"error":"invalid"|"expired"}
//
// Without Config.Admin these paths are unknown like any other. Requests
// keeps every request's headers and body (bearer tokens and client secrets
// included) in memory for assertions; nothing of them is logged.
//
// # Differences from production
//
//   - Software statements are matched literally against the fixture, not
//     parsed or verified as JWTs; access tokens are opaque random strings,
//     not RS256 JWTs. DCR register requires X-Device-Info (as documented)
//     but does not read it.
//   - The MVPD login is a local HTML form, not a SAML/OAuth exchange with a
//     real identity provider; the hop through /adobe-services carries the
//     code in a reg_code query parameter instead of a cookie.
//   - Media tokens are Base64 of "<claims JSON>|<hex HMAC-SHA256>" signed
//     with a per-sandbox key; only VerifyMediaToken (not Adobe's Media Token
//     Verifier) accepts them.
//   - Partner (Apple) SSO uses a sandbox SAML dialect described in sso.go;
//     no real Apple framework or XML signature is involved.
//   - The configuration answer is built from the fixture; it varies by
//     platform only in its os (the caller's X-Device-Info osName), and
//     optional fields Adobe may add are absent.
//   - X-Device-Info is checked for presence and Base64 only, unless
//     Config.StrictDeviceInfo (then valid JSON with model, version, osName,
//     osVersion and connectionType); device classification, and the shorter
//     TTLs Adobe applies to unknown devices, are not modelled. Accept is not
//     checked.
//   - A missing or wrong Content-Type on an endpoint that requires one, and
//     a wrong method, answer 400 and 405 with an Enhanced Error body that has
//     no code (Adobe documents none).
//   - domainName is not checked against the service provider's domains.
//   - Degradation rules exist only as the fixture's MVPD.degradation field
//     (AuthNAll, AuthZAll, AuthZNone) and are absent from DefaultFixture.
//   - TempPass logout answers complete but keeps the trial: there is no
//     management API to reset it (use Reset).
//   - Profiles are never invalidated by the MVPD (no
//     authenticated_profile_invalidated), home-based authentication and
//     network_* errors do not occur unless injected with a fault.
//   - Throttling follows the documented bucket (one request per second
//     after a one-time burst of ten, per first X-Forwarded-For entry or
//     remote address) on /o/client/ and /api/v2/; the 429 page is the
//     documented openresty page with LF line ends.
//   - State lives in memory in one process and is lost on restart.
package sandbox
