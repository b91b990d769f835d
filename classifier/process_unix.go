//go:build unix

package classifier

import (
	"errors"
	"strconv"
	"syscall"
)

// processRunning reports whether a process with the given pid exists on
// this host.
func processRunning(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	err = syscall.Kill(n, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
