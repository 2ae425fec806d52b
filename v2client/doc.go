// Package v2client is a typed client for Adobe Pass Authentication REST API
// v2 and its Dynamic Client Registration (DCR) endpoints. The § numbers in
// its comments are sections of testdata/spec/v2.md, the project's working
// reference of Adobe's v2 and DCR pages (§15 lists where the pages, samples
// and OpenAPI files disagree and what the client does).
//
// # Calls
//
// A Client has one method per endpoint: Configuration, CreateSession,
// ResumeSession (POST), RetrieveSession, Profiles, Profile, ProfileByCode,
// PartnerSession, PartnerProfile, Authorize, Preauthorize, Logout (GET, with
// redirectUrl always sent), Register and Token. AuthenticateURL builds the
// URL a user agent opens to log in; ResolveURL makes the relative urls of
// session and logout answers absolute. BaseURL is one scheme and host
// (ProductionURL, StagingURL, PrequalProductionURL, PrequalStagingURL or a
// sandbox); the client appends /api/v2 and /o.
//
// Request bodies use the content types Adobe documents: forms for sessions,
// partner profiles and the DCR token call, application/json;charset=utf-8
// for decisions and DCR registration. Every call sends
// Accept: application/json;charset=utf-8.
//
// Each HTTP attempt carries the route template of its endpoint (the Route
// constants, read with RouteOf), so that a transport observing the calls
// names them without matching paths.
//
// # Headers
//
// Per-call headers are set with Options (WithDeviceID, WithDeviceInfo,
// WithForwardedFor, WithSubjectToken, ...). The device headers go on every v2
// call; single sign-on, partner and TempPass headers go only to the
// endpoints that list them, and any other option is dropped, so a caller can
// pass one set of device options to every call. DCR calls carry only
// X-Device-Info and User-Agent.
//
// # Answers
//
// Answer types mirror the documented bodies and ignore unknown fields.
// Timestamps decode into Millis, which accepts a JSON string or number of
// epoch milliseconds and re-encodes in the form it was given. Decoding a
// documented sample and encoding it again gives the same JSON value.
//
// # Errors
//
// A non-2xx answer is an *HTTPError carrying the HTTP status; when the body
// is an Enhanced Error it wraps an *Error, and a DCR {"error": ...} body wraps
// a *DCRError, both reachable with errors.As. A 429 matches ErrThrottled, a
// timeout ErrTimeout (see IsThrottled, IsTimeout). Denials on decisions are
// not HTTP errors: they are item-level Errors on each Decision. No error
// string ever includes a token, client secret or software statement.
//
// # Tokens
//
// Client.Tokens supplies the bearer token. TokenSource implements it with
// DCR: it registers once per service provider and keeps the credentials in a
// CredentialStore (MemoryStore by default), caches the access token until
// created_at + expires_in minus a skew, shares one refresh among concurrent
// callers, refreshes once after a v2 401 (the call is then retried once and a
// second 401 is returned, matching ErrUnauthorized), and registers again only
// when the token endpoint answers invalid_client. A CredentialStore shared by
// several processes should also implement CredentialLocker, so that they
// register and refresh one at a time and end up with one registration.
//
// # Timeouts and retries
//
// Each HTTP attempt is bounded by Client.Timeout. Idempotent GETs
// (configuration, profiles, retrieve session) are retried a bounded number
// of times on connection failures and 502, 503 and 504 answers. POSTs and
// logout are never retried, except the single retry after a 401 refresh;
// 429 answers and timeouts are never retried.
package v2client
