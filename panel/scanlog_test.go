package panel

import (
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/scan"
)

func TestScanLog(t *testing.T) {
	l := NewScanLog(3)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	outcomes := []string{"ham", "tag", "reject", "ham", "error", "unscanned"}
	for i, o := range outcomes {
		// Two scans a minute, ten milliseconds more each.
		l.Observe(scan.Record{Time: t0.Add(time.Duration(i) * 30 * time.Second), User: o, Outcome: o,
			Elapsed: time.Duration(i+1) * 10 * time.Millisecond})
	}
	var users []string
	for _, r := range l.Recent() {
		users = append(users, r.User)
	}
	if got := strings.Join(users, ","); got != "unscanned,error,ham" {
		t.Errorf("Recent: %s, want the last three newest first", got)
	}
	ms := l.Minutes(t0.Add(3*time.Minute), 5)
	want := []MinuteCount{
		{Minute: t0.Add(-time.Minute).Truncate(time.Minute)},
		{Minute: t0.Truncate(time.Minute), Ham: 1, Tag: 1},
		{Minute: t0.Add(time.Minute).Truncate(time.Minute), Reject: 1, Ham: 1},
		{Minute: t0.Add(2 * time.Minute).Truncate(time.Minute), Errors: 1, Unscanned: 1},
		{Minute: t0.Add(3 * time.Minute).Truncate(time.Minute)},
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("minute %d: %+v, want %+v", i, ms[i], want[i])
		}
	}
	// A day later the same slots hold nothing of the old scans.
	if got := sumMinutes(l.Minutes(t0.Add(24*time.Hour+3*time.Minute), 60)); got.Scans() != 0 {
		t.Errorf("a day later the last hour counts %d scans, want 0", got.Scans())
	}
	if tot := l.Total(); tot.Scans() != 6 || tot.Ham != 2 {
		t.Errorf("Total %+v, want 6 scans, 2 ham", tot)
	}
	lat := l.Latency()
	if lat.Samples != 6 || lat.P50 != 30*time.Millisecond || lat.Max != 60*time.Millisecond || lat.P99 != 60*time.Millisecond {
		t.Errorf("Latency %+v, want p50 30ms, p99 and max 60ms over 6", lat)
	}
}

func TestVerdictGraph(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ms := []MinuteCount{{Minute: t0, Ham: 3, Tag: 1}, {Minute: t0.Add(time.Minute), Reject: 2}}
	svg := string(verdictGraph("test <graph>", bars(ms, 1), 1, "15:04"))
	for _, want := range []string{`aria-label="test &lt;graph&gt;"`, `<title>12:00 ham: 3</title>`, `<title>12:01 reject: 2</title>`, `>5<`} {
		if !strings.Contains(svg, want) {
			t.Errorf("graph lacks %s:\n%s", want, svg)
		}
	}
}
