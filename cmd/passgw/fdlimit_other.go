//go:build !unix

package main

// openFileLimit is 0: the limit is not read on this system.
func openFileLimit() uint64 { return 0 }
