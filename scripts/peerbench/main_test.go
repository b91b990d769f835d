package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/loadgen"
)

// A corpus of dated messages splits by date within each class; undated
// ones count as the oldest.
func TestSplitCorpus(t *testing.T) {
	dir := t.TempDir()
	write := func(folder, name, date string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		msg := "Subject: x\n"
		if date != "" {
			msg = "Date: " + date + "\n" + msg
		}
		if err := os.WriteFile(filepath.Join(dir, folder, name), []byte(msg+"\nbody\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		// Names in the opposite order of dates: the split must use dates.
		write("easy_ham", fmt.Sprintf("%05d.h", 10-i), fmt.Sprintf("Mon, %d Jul 2002 10:00:00 +0000", i+1))
	}
	write("hard_ham", "00001.x", "")
	for i := range 4 {
		write("spam", fmt.Sprintf("%05d.s", i), fmt.Sprintf("Tue, %d Aug 2002 10:00:00 +0000", i+1))
	}
	s, err := splitCorpus(dir, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.trainHam) != 8 || len(s.trainSpam) != 3 || len(s.test) != 4 {
		t.Fatalf("train %d ham %d spam, test %d", len(s.trainHam), len(s.trainSpam), len(s.test))
	}
	if !strings.HasSuffix(s.trainHam[0].path, "00001.x") {
		t.Errorf("undated message not first in training: %s", s.trainHam[0].path)
	}
	var names []string
	for _, m := range s.test {
		names = append(names, filepath.Base(m.path))
	}
	if got, want := strings.Join(names, " "), "00003.h 00002.h 00001.h 00003.s"; !strings.HasPrefix(got, want) {
		t.Errorf("test set %s, want it to start %s (newest ham, by date, then spam)", got, want)
	}
	if _, err := splitCorpus(dir, 1); err == nil {
		t.Error("fraction 1 accepted")
	}
}

func TestHistogram(t *testing.T) {
	text := `# HELP gospamd_scan_seconds Time to scan one message.
# TYPE gospamd_scan_seconds histogram
gospamd_scan_seconds_bucket{le="0.005"} 50
gospamd_scan_seconds_bucket{le="0.01"} 90
gospamd_scan_seconds_bucket{le="0.025"} 99
gospamd_scan_seconds_bucket{le="0.05"} 100
gospamd_scan_seconds_bucket{le="+Inf"} 100
gospamd_scan_seconds_sum 0.9
gospamd_scan_seconds_count 100
gospamd_other_bucket{le="1"} 7
`
	h, err := parseHistogram(strings.NewReader(text), "gospamd_scan_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if h.count() != 100 || h.quantileBound(0.5) != 0.005 || h.quantileBound(0.99) != 0.025 {
		t.Fatalf("count %v, p50 %v, p99 %v", h.count(), h.quantileBound(0.5), h.quantileBound(0.99))
	}
	before, _ := parseHistogram(strings.NewReader(strings.ReplaceAll(text, "} 100", "} 60")), "gospamd_scan_seconds")
	if d := h.minus(before); d.count() != 40 {
		t.Errorf("difference counts %v", d.count())
	}
	if _, err := parseHistogram(strings.NewReader("x 1\n"), "gospamd_scan_seconds"); err == nil {
		t.Error("missing histogram not reported")
	}
}

func TestSampleOf(t *testing.T) {
	msgs := make([][]byte, 10)
	for i := range msgs {
		msgs[i] = []byte{byte(i)}
	}
	got := sampleOf(msgs, 3)
	if len(got) != 3 || got[0][0] != 0 || got[1][0] != 3 || got[2][0] != 6 {
		t.Errorf("sample %v", got)
	}
	if len(sampleOf(msgs, 50)) != 10 {
		t.Error("sample larger than the set")
	}
}

// The RSS of this process tree is this process's at least.
func TestTreeRSS(t *testing.T) {
	rss, err := treeRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("rss %d, %v", rss, err)
	}
}

// The CPU time of a process tree counts its children's: a child that
// burns CPU shows in its parent's tree, and only there.
func TestTreeCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var child time.Duration
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && child < 200*time.Millisecond; time.Sleep(50 * time.Millisecond) {
		var err error
		if child, err = treeCPU(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if child < 200*time.Millisecond {
		t.Fatalf("the busy child used %v of CPU", child)
	}
	mine, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if mine < child {
		t.Errorf("this process's tree used %v, less than its child's %v", mine, child)
	}
	if self := selfCPU(); self <= 0 || self > mine {
		t.Errorf("selfCPU %v, tree %v", self, mine)
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3 * ms}, 3 * ms},
		{[]time.Duration{5 * ms, 1 * ms, 3 * ms}, 3 * ms},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 3 * ms}, 2500 * time.Microsecond},
	} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A summary of rounds takes the median rate and CPU time a message, pools
// the latencies and keeps the largest RSS; the ratios pair the rounds.
func TestSummarizeRounds(t *testing.T) {
	round := func(msgs int, secs float64, cpu time.Duration, rss int64) row {
		res := &loadgen.Result{Requests: msgs, Elapsed: time.Duration(secs * float64(time.Second))}
		for i := range msgs {
			res.Latencies = append(res.Latencies, time.Duration(i+1)*time.Millisecond)
		}
		return row{res: res, cpu: cpu, rss: rss}
	}
	fast := []row{round(100, 1, 100*time.Millisecond, 10), round(100, 2, 300*time.Millisecond, 30), round(100, 0.5, 200*time.Millisecond, 20)}
	s := summarize("x", fast)
	if s.skipped != "" || s.perSecond() != 100 || s.cpuPerMessage() != 2*time.Millisecond || s.rss != 30 || len(s.res.Latencies) != 300 {
		t.Fatalf("summary: %q, %v/s, cpu %v, rss %d, %d latencies", s.skipped, s.perSecond(), s.cpuPerMessage(), s.rss, len(s.res.Latencies))
	}
	if !slices.IsSorted(s.res.Latencies) {
		t.Error("pooled latencies not sorted")
	}
	if e := summarize("y", nil); e.skipped == "" || e.res != nil {
		t.Errorf("no rounds summarized as %+v", e)
	}
	slow := []row{round(10, 1, 100*time.Millisecond, 1), round(10, 1, 100*time.Millisecond, 1)}
	rate, cpu := roundRatios(fast, slow)
	if want := []float64{10, 5}; !slices.Equal(rate, want) {
		t.Errorf("rate ratios %v, want %v (paired rounds only)", rate, want)
	}
	if want := []float64{10, 10.0 / 3}; len(cpu) != 2 || cpu[0] != want[0] || math.Abs(cpu[1]-want[1]) > 1e-9 {
		t.Errorf("cpu ratios %v, want %v", cpu, want)
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("medianFloat = %v", got)
	}
}
