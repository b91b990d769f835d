//go:build !unix

package classifier

// processRunning cannot tell on this platform and assumes the holder
// named in the holder file is alive.
func processRunning(pid string) bool { return pid != "" }
