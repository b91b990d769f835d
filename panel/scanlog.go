package panel

import (
	"slices"
	"sync"
	"time"

	"github.com/gospamd/gospamd/scan"
)

// A ScanLog keeps what the Status page shows of the daemon's scans: the
// last scans' summaries, verdict counts per minute over the last day,
// and the last scans' times for latency percentiles. Its memory is
// bounded (a fixed number of records, 1440 minutes, a fixed number of
// timings) whatever the traffic.
//
// # Concurrency
//
// Observe is called by every scanning goroutine (scan.Config.OnScan); the
// readers are the panel's handlers. One mutex guards it; Observe holds it
// for a few assignments.
type ScanLog struct {
	mu      sync.Mutex
	recent  []scan.Record // ring, next is the slot written next
	next    int
	full    bool
	minutes [minutesKept]MinuteCount
	times   []time.Duration // ring of scan times
	tnext   int
	tfull   bool
	total   MinuteCount // since the daemon started
}

// minutesKept is one day of per-minute counts.
const minutesKept = 24 * 60

// latencySamples is how many of the last scans' times make the
// percentiles.
const latencySamples = 2000

// A MinuteCount is the scans of one minute by outcome.
type MinuteCount struct {
	Minute    time.Time // the minute's start (zero for a minute with no scan)
	Ham       int
	Tag       int
	Reject    int
	Unscanned int
	Errors    int
}

// Scans is every scan of the minute.
func (m MinuteCount) Scans() int { return m.Ham + m.Tag + m.Reject + m.Unscanned + m.Errors }

func (m *MinuteCount) add(outcome string) {
	switch outcome {
	case "ham":
		m.Ham++
	case "tag":
		m.Tag++
	case "reject":
		m.Reject++
	case "unscanned":
		m.Unscanned++
	default:
		m.Errors++
	}
}

// NewScanLog returns a log keeping the last n scans' records (default 50
// for n <= 0).
func NewScanLog(n int) *ScanLog {
	if n <= 0 {
		n = 50
	}
	return &ScanLog{recent: make([]scan.Record, n), times: make([]time.Duration, latencySamples)}
}

// Observe records one scan; it is scan.Config.OnScan.
func (l *ScanLog) Observe(r scan.Record) {
	minute := r.Time.Truncate(time.Minute)
	slot := int(minute.Unix()/60) % minutesKept
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent[l.next] = r
	l.next = (l.next + 1) % len(l.recent)
	l.full = l.full || l.next == 0
	m := &l.minutes[slot]
	if !m.Minute.Equal(minute) {
		*m = MinuteCount{Minute: minute}
	}
	m.add(r.Outcome)
	l.total.add(r.Outcome)
	l.times[l.tnext] = r.Elapsed
	l.tnext = (l.tnext + 1) % len(l.times)
	l.tfull = l.tfull || l.tnext == 0
}

// Recent returns the last scans' records, newest first.
func (l *ScanLog) Recent() []scan.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []scan.Record
	n := l.next
	if l.full {
		n = len(l.recent)
	}
	for i := 1; i <= n; i++ {
		out = append(out, l.recent[(l.next-i+len(l.recent))%len(l.recent)])
	}
	return out
}

// Minutes returns the counts of the n minutes up to and including now's,
// oldest first (n at most one day).
func (l *ScanLog) Minutes(now time.Time, n int) []MinuteCount {
	n = min(n, minutesKept)
	end := now.Truncate(time.Minute)
	out := make([]MinuteCount, n)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range n {
		minute := end.Add(-time.Duration(n-1-i) * time.Minute)
		m := l.minutes[int(minute.Unix()/60)%minutesKept]
		if !m.Minute.Equal(minute) {
			m = MinuteCount{}
		}
		m.Minute = minute
		out[i] = m
	}
	return out
}

// Total is every scan since the daemon started, by outcome.
func (l *ScanLog) Total() MinuteCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Latency are scan-time percentiles over the last scans.
type Latency struct {
	Samples            int
	P50, P90, P99, Max time.Duration
}

// Latency returns the percentiles of the last scans' times.
func (l *ScanLog) Latency() Latency {
	l.mu.Lock()
	n := l.tnext
	if l.tfull {
		n = len(l.times)
	}
	ts := slices.Clone(l.times[:n])
	l.mu.Unlock()
	if len(ts) == 0 {
		return Latency{}
	}
	slices.Sort(ts)
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(ts))+0.5) - 1
		return ts[max(0, min(i, len(ts)-1))]
	}
	return Latency{Samples: len(ts), P50: pct(.50), P90: pct(.90), P99: pct(.99), Max: ts[len(ts)-1]}
}
