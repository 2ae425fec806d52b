// Package architecture keeps ARCHITECTURE.md true: its test reads the
// document's table of which package may import which and checks it against
// the module's real import graph, as go list reports it.
package architecture
