//go:build windows || plan9

package main

import "io"

// openSyslog: no syslog here; use -l to see messages.
func openSyslog() io.Writer { return io.Discard }
