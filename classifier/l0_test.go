package classifier

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestBulkFlushesMergedByNextOpener: a bulk writer's store (L0Tables)
// leaves each run's flush as a table of its own, up to its bound, every
// token still counted; the daemon's store, opened with the default, then
// merges them in the background, and the counts are the same.
func TestBulkFlushesMergedByNextOpener(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "bayes")
	const runs = 3
	for run := range runs {
		s, err := Open(dir, Options{L0Tables: 4})
		if err != nil {
			t.Fatal(err)
		}
		var ops []Op
		for i := range 50 {
			ops = append(ops, learnOp(fmt.Sprintf("m%d-%d", run, i), Spam, 100, "shared", fmt.Sprintf("t%d-%d", run, i)))
		}
		if _, err := s.Apply(ctx, ops); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store) {
		t.Helper()
		counts := make([]Counts, 2)
		if err := s.Lookup(ctx, "", keys("shared", "t1-7"), counts); err != nil {
			t.Fatal(err)
		}
		if counts[0].Spam != runs*50 || counts[1].Spam != 1 {
			t.Fatalf("counts %+v, want shared in %d spam and t1-7 in 1", counts, runs*50)
		}
	}

	s, err := Open(dir, Options{L0Tables: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.db.Metrics().Levels[0].TablesCount; n != runs {
		t.Errorf("bulk writer: %d tables in the top level after %d runs, want %d (left unmerged)", n, runs, runs)
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(time.Minute)
	for s.db.Metrics().Levels[0].TablesCount > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("default opener: %d tables still in the top level after a minute", s.db.Metrics().Levels[0].TablesCount)
		}
		time.Sleep(10 * time.Millisecond)
	}
	check(s)
}
