// Package perfrec records the Go runtime's CPU profile or execution
// trace of a process into a file, for performance work: gospamd's
// GOSPAMD_CPUPROFILE and GOSPAMD_TRACE, and the peer benchmark's
// -cpuprofile.
package perfrec

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// CPUProfile writes a CPU profile (go tool pprof) to path until the
// returned function is called.
func CPUProfile(path string) (stop func(), err error) {
	return record(path, "CPU profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// Trace writes an execution trace (go tool trace: where the cores sit
// idle) to path until the returned function is called.
func Trace(path string) (stop func(), err error) {
	return record(path, "trace", trace.Start, trace.Stop)
}

func record(path, what string, start func(io.Writer) error, stop func()) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", what, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", what, err)
	}
	return func() {
		stop()
		f.Close()
	}, nil
}
