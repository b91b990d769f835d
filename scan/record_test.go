package scan_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
)

// OnScan is told of every scan with its summary: user, outcome, score,
// levels and the rules that added most, highest first.
func TestOnScan(t *testing.T) {
	var mu sync.Mutex
	var got []scan.Record
	f := newFixture(t, func(c *scan.Config) {
		c.OnScan = func(r scan.Record) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, r)
		}
	})
	ctx := context.Background()
	for _, req := range []*scan.Request{{User: "", Message: spamMsg}, {User: "bob", Message: hamMsg}} {
		if _, err := f.svc.Scan(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Scan(ctx, &scan.Request{User: "../etc", Message: hamMsg}); err == nil {
		t.Fatal("a bad user name was scanned")
	}
	if len(got) != 3 {
		t.Fatalf("OnScan called %d times, want 3", len(got))
	}
	spam, ham, bad := got[0], got[1], got[2]
	if spam.Outcome != "tag" || spam.Verdict != rules.VerdictTag || spam.Score < 20 || spam.Tag != 5 || spam.Time.IsZero() || spam.Elapsed <= 0 {
		t.Errorf("spam record %+v", spam)
	}
	if len(spam.TopRules) < 2 || spam.TopRules[0].Score != 10 || spam.TopRules[1].Score != 10 ||
		len(spam.TopRules) > scan.MaxTopRules {
		t.Errorf("spam top rules %+v, want the two 10-point site rules first, at most %d", spam.TopRules, scan.MaxTopRules)
	}
	for i := 1; i < len(spam.TopRules); i++ {
		if spam.TopRules[i].Score > spam.TopRules[i-1].Score {
			t.Errorf("top rules not highest first: %+v", spam.TopRules)
		}
	}
	if ham.User != "bob" || ham.Outcome != "ham" || ham.Score >= ham.Tag {
		t.Errorf("ham record %+v", ham)
	}
	if bad.Outcome != "error" || bad.User != "../etc" {
		t.Errorf("failed scan record %+v", bad)
	}
}
