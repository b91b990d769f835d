// Package peakmem measures what running a piece of code costs the process
// in memory at its peak, for tests that bound it ("a 100 MB zlib bomb
// costs under 50 MB").
//
// # Why the peak resident set
//
// The measure is the kernel's high-water mark of the process's resident
// set (VmHWM in /proc/self/status), reset just before the code runs by
// writing 5 to /proc/self/clear_refs (Linux 4.0 and later), minus the
// resident set at that moment. It is trustworthy where sampling is not:
//
//   - the kernel updates the mark on every page the process touches, so no
//     peak is missed however short, and nothing has to be sampled while
//     the code runs;
//   - it counts everything an administrator would see (heap, stacks,
//     runtime metadata, and garbage the collector has not yet returned),
//     not only the live heap objects;
//   - it is per process: other programs on a busy shared machine move
//     timings, never this number.
//
// Before the baseline a full collection runs and free memory is returned
// to the OS (debug.FreeOSMemory), so garbage left by earlier tests is
// neither in the baseline nor reused silently by the code measured. What
// can still blur the number is other goroutines of the same test process
// allocating at the same time: call Measure from tests that do not run
// in parallel.
package peakmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

// ErrUnsupported is returned where the peak resident set cannot be
// reset or read (not Linux, or /proc not mounted).
var ErrUnsupported = errors.New("peak resident set not measurable here")

// Measure runs f and returns by how many bytes the process's peak
// resident set rose above its resident set just before f.
func Measure(f func()) (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("%w: reset VmHWM: %w", ErrUnsupported, err)
	}
	base, err := status("VmRSS")
	if err != nil {
		return 0, err
	}
	f()
	peak, err := status("VmHWM")
	if err != nil {
		return 0, err
	}
	return peak - base, nil
}

// status reads one "Name: N kB" field of /proc/self/status, in bytes.
func status(name string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(name+":"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s in /proc/self/status: %w", name, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no %s in /proc/self/status", ErrUnsupported, name)
}
