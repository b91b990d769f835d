package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A daemon is a server process the bench started, in its own process
// group so that stopping it stops its workers too.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string // its standard output and error
	done chan struct{}
}

// startDaemon starts bin with args, output to a log file in dir.
func startDaemon(name, dir string, env []string, bin string, args ...string) (*daemon, error) {
	logPath := filepath.Join(dir, name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(d.done)
	}()
	return d, nil
}

// stop sends SIGTERM to the daemon's process group, and SIGKILL if it
// has not exited within 10 seconds.
func (d *daemon) stop() {
	pid := d.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-d.done
	}
}

// exited reports whether the daemon has already exited.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// logTail is the end of the daemon's log, for error messages.
func (d *daemon) logTail() string {
	b, _ := os.ReadFile(d.log)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}

// waitListening waits until addr accepts connections, the daemon exits
// or the timeout passes.
func (d *daemon) waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if d.exited() {
			return fmt.Errorf("%s exited at start: %s", d.name, d.logTail())
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not listening on %s after %v: %s", d.name, addr, timeout, d.logTail())
}

// freeAddr returns a 127.0.0.1 address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// procTree is the processes pids and all their descendants.
func procTree(pids ...int) ([]int, error) {
	parent := map[int]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(pid)
		if err != nil || len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			parent[pid] = ppid
		}
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	// Descendants: repeat until nothing is added (trees here are shallow).
	for changed := true; changed; {
		changed = false
		for pid, ppid := range parent {
			if in[ppid] && !in[pid] {
				in[pid] = true
				changed = true
			}
		}
	}
	tree := make([]int, 0, len(in))
	for pid := range in {
		tree = append(tree, pid)
	}
	return tree, nil
}

// statFields are the fields of /proc/PID/stat after the command name
// (which may hold spaces and parentheses): state, ppid, ...
func statFields(pid int) ([]string, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("pid %d: stat without a command name", pid)
	}
	return strings.Fields(string(stat[i+1:])), nil
}

// treeRSS is the resident memory, in bytes, of the processes pids and all
// their descendants.
func treeRSS(pids ...int) (int64, error) {
	tree, err := procTree(pids...)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, pid := range tree {
		kb, err := statusField(pid, "VmRSS")
		if err != nil {
			continue // exited meanwhile
		}
		total += kb * 1024
	}
	return total, nil
}

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on every Linux ABI).
const clockTick = 10 * time.Millisecond

// treeCPU is the CPU time, user and system, that the processes pids and
// all their descendants have used so far (of descendants that exited,
// what their parents have waited for).
func treeCPU(pids ...int) (time.Duration, error) {
	tree, err := procTree(pids...)
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, pid := range tree {
		f, err := statFields(pid)
		if err != nil || len(f) < 15 {
			continue // exited meanwhile
		}
		// utime stime cutime cstime are fields 14 to 17 of stat, 12 to
		// 15 here.
		for _, v := range f[11:15] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("pid %d: stat field %q: %w", pid, v, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick, nil
}

// selfCPU is the CPU time, user and system, this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statusField reads a "Name: N kB" field of /proc/PID/status.
func statusField(pid int, name string) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	}
	return 0, fmt.Errorf("pid %d: no %s", pid, name)
}

// loadAverage is /proc/loadavg's three averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// A histogram is a Prometheus histogram's cumulative buckets.
type histogram struct {
	bounds []float64 // upper bounds, ascending, the last +Inf
	counts []float64 // cumulative
}

// scrapeHistogram reads the histogram name from a Prometheus text
// exposition at url.
func scrapeHistogram(ctx context.Context, url, name string) (*histogram, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape metrics: %s", resp.Status)
	}
	return parseHistogram(resp.Body, name)
}

func parseHistogram(r io.Reader, name string) (*histogram, error) {
	h := &histogram{}
	prefix := name + `_bucket{le="`
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		le, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: bucket %q: %w", name, le, err)
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: bucket count %q: %w", name, val, err)
		}
		h.bounds = append(h.bounds, bound)
		h.counts = append(h.counts, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	if len(h.bounds) == 0 {
		return nil, errors.New("no histogram " + name + " in the metrics")
	}
	return h, nil
}

// minus is h with the observations of an earlier scrape removed.
func (h *histogram) minus(before *histogram) *histogram {
	out := &histogram{bounds: h.bounds, counts: make([]float64, len(h.counts))}
	for i := range h.counts {
		out.counts[i] = h.counts[i]
		if before != nil && i < len(before.counts) {
			out.counts[i] -= before.counts[i]
		}
	}
	return out
}

// count is the number of observations.
func (h *histogram) count() float64 { return h.counts[len(h.counts)-1] }

// quantileBound is the upper bound of the bucket holding quantile q.
func (h *histogram) quantileBound(q float64) float64 {
	target := q * h.count()
	for i, c := range h.counts {
		if c >= target {
			return h.bounds[i]
		}
	}
	return h.bounds[len(h.bounds)-1]
}
