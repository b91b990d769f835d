package scan_test

import (
	"context"
	"testing"
	"time"

	"github.com/gospamd/gospamd/scan"
)

// A scan honours its context's deadline: past it the result carries
// TIME_LIMIT_EXCEEDED and nothing is autolearned from it.
func TestScanDeadline(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	res, err := f.svc.Scan(ctx, &scan.Request{Message: spamMsg})
	if err != nil {
		t.Fatalf("scan past its deadline: %v, want a partial result", err)
	}
	found := false
	for _, h := range res.Rules.Hits {
		found = found || h.Rule == "TIME_LIMIT_EXCEEDED"
	}
	if !found {
		t.Errorf("scan past its deadline: hits %v, want TIME_LIMIT_EXCEEDED", res.Rules.Rules())
	}
	if m := f.magic(t); m.NSpam != 0 {
		t.Errorf("a scan cut short was autolearned: %+v", m)
	}
}
