//go:build !windows && !plan9

package main

import (
	"io"
	"log/syslog"
)

// openSyslog connects to the local syslog daemon, or discards when there
// is none.
func openSyslog() io.Writer {
	w, err := syslog.New(syslog.LOG_ERR|syslog.LOG_MAIL, "gospamc")
	if err != nil {
		return io.Discard
	}
	return w
}
