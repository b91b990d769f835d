package corpus

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

func TestMessageDate(t *testing.T) {
	from := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		msg  string
		want string // YYYY-MM-DD, "" when undated
	}{
		{"date header", "Date: Tue, 3 Sep 2002 10:00:00 +0000\nSubject: x\n\nbody\n", "2002-09-03"},
		{"year out of range falls back to Received",
			"Received: from a by b; Wed, 4 Sep 2002 11:00:00 +0000\nDate: Tue, 3 Sep 1900 10:00:00 +0000\n\nbody\n", "2002-09-04"},
		{"both out of range", "Received: from a by b; Wed, 4 Sep 2028 11:00:00 +0000\nDate: Tue, 3 Sep 2028 10:00:00 +0000\n\nbody\n", ""},
		{"no date at all", "Subject: x\n\nbody\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MessageDate(tokenizer.Parse([]byte(tt.msg)), from, to)
			s := ""
			if ok {
				s = got.UTC().Format("2006-01-02")
			}
			if s != tt.want {
				t.Errorf("MessageDate = %q (ok %v), want %q", s, ok, tt.want)
			}
		})
	}
}

func TestSplitByDate(t *testing.T) {
	day := func(d int) time.Time {
		if d == 0 {
			return time.Time{}
		}
		return time.Date(2002, 9, d, 0, 0, 0, 0, time.UTC)
	}
	tests := []struct {
		name         string
		labels       []Label
		days         []int // 0: undated
		fraction     float64
		older, newer []int
		counts       [2][3]int // per class: older, newer, undated
	}{
		{
			name:   "each class split on its own",
			labels: []Label{Ham, Ham, Ham, Ham, Spam, Spam},
			days:   []int{4, 1, 3, 2, 20, 10},
			// ham by date: 1,3,2,0 → older 1,3 (days 1,2); spam: 5,4 → older 5.
			fraction: 0.5,
			older:    []int{1, 3, 5},
			newer:    []int{2, 0, 4},
			counts:   [2][3]int{{2, 2, 0}, {1, 1, 0}},
		},
		{
			name:     "undated messages train",
			labels:   []Label{Ham, Ham, Ham, Spam, Spam},
			days:     []int{0, 5, 6, 7, 0},
			fraction: 0.5,
			older:    []int{0, 4, 1, 3},
			newer:    []int{2},
			counts:   [2][3]int{{1, 1, 1}, {1, 0, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dates := make([]time.Time, len(tt.days))
			for i, d := range tt.days {
				dates[i] = day(d)
			}
			older, newer, counts := splitByDate(tt.labels, dates, tt.fraction)
			if !slices.Equal(older, tt.older) || !slices.Equal(newer, tt.newer) {
				t.Errorf("split = %v | %v, want %v | %v", older, newer, tt.older, tt.newer)
			}
			for l, c := range counts {
				if got := [3]int{c.Older, c.Newer, c.Undated}; got != tt.counts[l] {
					t.Errorf("%s counts = %v, want %v", Label(l), got, tt.counts[l])
				}
			}
		})
	}
}

// TestRunTimeSplit scans a small dated corpus: every newer message is
// newer than every older one of its class, and the counts add up.
func TestRunTimeSplit(t *testing.T) {
	dir := t.TempDir()
	var hamDir, spamDir = filepath.Join(dir, "ham"), filepath.Join(dir, "spam")
	for _, d := range []string{hamDir, spamDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(d string, i int, body string) {
		date := time.Date(2002, 8, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
		msg := fmt.Sprintf("Date: %s\nMessage-ID: <%s%d@example.com>\nSubject: m %d\n\n%s\n", date.Format(time.RFC1123Z), filepath.Base(d), i, i, body)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("%02d", (i*7)%20)), []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		write(hamDir, i, "meeting notes for the project")
		write(spamDir, i, "buy cheap pills now")
	}
	mc := &MassCheck{
		Ham: []string{hamDir}, Spam: []string{spamDir}, TempDir: dir, Workers: 1,
		Engine: func(b rules.BayesReader) (*rules.Engine, error) {
			opt := rules.DefaultOptions()
			opt.Bayes = b
			return rules.New(opt)
		},
	}
	res, err := mc.RunTimeSplit(context.Background(), TimeSplit{Fraction: 0.7, Folds: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []Label{Ham, Spam} {
		c := res.Counts[l]
		if c.Older != 14 || c.Newer != 6 || c.Undated != 0 {
			t.Errorf("%s: counts %+v, want 14 older, 6 newer", l, c)
		}
		var lastOlder, firstNewer time.Time
		for _, s := range res.Older {
			if s.Label == l && s.Date.After(lastOlder) {
				lastOlder = s.Date
			}
		}
		for _, s := range res.Newer {
			if s.Label == l && (firstNewer.IsZero() || s.Date.Before(firstNewer)) {
				firstNewer = s.Date
			}
		}
		if !firstNewer.After(lastOlder) {
			t.Errorf("%s: newest older message %v is not older than the oldest newer %v", l, lastOlder, firstNewer)
		}
	}
	if len(res.Older) != 28 || len(res.Newer) != 12 {
		t.Errorf("parts have %d and %d messages, want 28 and 12", len(res.Older), len(res.Newer))
	}
}

func TestFreqs(t *testing.T) {
	scored := []Scored{
		{Label: Spam, Tests: []string{"A", "B"}},
		{Label: Spam, Tests: []string{"A"}},
		{Label: Ham, Tests: []string{"B"}},
		{Label: Ham},
	}
	got := Freqs(scored, map[string]float64{"A": 2, "B": 0.5, "C": 1})
	want := []struct {
		rule      string
		spam, ham int
		so        float64
		score     float64
		spamPct   float64
	}{
		{"A", 2, 0, 1, 2, 100},
		{"B", 1, 1, 0.5, 0.5, 50},
		{"C", 0, 0, math.NaN(), 1, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		soOK := g.SO == w.so || (math.IsNaN(w.so) && math.IsNaN(g.SO))
		if g.Rule != w.rule || g.Spam != w.spam || g.Ham != w.ham || !soOK || g.Score != w.score || g.SpamPct != w.spamPct {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
}
