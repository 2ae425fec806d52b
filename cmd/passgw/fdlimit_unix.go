//go:build unix

package main

import "syscall"

// openFileLimit is the process' soft limit on open files (Go raises it to
// the hard limit at start), or 0 when it cannot be read.
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return l.Cur
}
