// Package compat is the migration router in front of the v1 surface: for
// each v1 call (read from the v1api.Call that v1api.Front parsed) the
// requestor's Policy decides whether the gateway translates it, the v1
// upstream answers it (passthrough), both do and their answers are compared
// (shadow, with golden.Compare), or the device's canary bucket decides
// (canary, sticky per device); the v1 end-of-life Guard sends a requestor
// back to the gateway when the upstream stops answering v1.
//
// The golden-file tooling it compares with (cases, comparison, scenarios,
// replay) is package compat/golden.
package compat
