package classifier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// A store that ingests its batches as tables (Options.Ingest) answers
// every batch as a store that commits through the write-ahead log does,
// and holds the same tokens, seen entries and counters, before and after
// it is closed and opened again: random learns, relearns and forgets of
// overlapping messages, in two scopes. A third store learns the same ops
// one Apply each (looking up each message's seen entry alone, where a
// large batch reads them all at once): the same answers again.
func TestIngestMatchesWAL(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			dirs := []string{filepath.Join(t.TempDir(), "wal"), filepath.Join(t.TempDir(), "ingest"), filepath.Join(t.TempDir(), "one by one")}
			opts := []Options{{}, {Ingest: true, L0Tables: 4}, {}}
			stores := make([]*Store, 3)
			for i := range stores {
				var err error
				if stores[i], err = Open(dirs[i], opts[i]); err != nil {
					t.Fatal(err)
				}
			}
			scopes := []Scope{"", "alice"}
			for b := range 30 {
				var ops []Op
				for range 1 + rng.IntN(2*seenPrefetchOps) {
					var toks []string
					for range rng.IntN(40) {
						toks = append(toks, fmt.Sprint("w", rng.IntN(300)))
					}
					id := fmt.Sprintf("m%d", rng.IntN(60))
					op := learnOp(id, Class("sh"[rng.IntN(2)]), int64(1000+b), toks...)
					switch rng.IntN(8) {
					case 0:
						op = forgetOp(id, toks...)
					case 1:
						op.NoRelearn = true
					case 2:
						// Known under its AltMsgID, perhaps.
						op.MsgID, op.AltMsgID = fmt.Sprintf("new%d", rng.IntN(60)), id
					}
					op.Scope = scopes[rng.IntN(2)]
					ops = append(ops, op)
				}
				var results [3][]Result
				for i, s := range stores[:2] {
					var err error
					if results[i], err = s.Apply(ctx, slices.Clone(ops)); err != nil {
						t.Fatalf("store %d batch %d: %v", i, b, err)
					}
				}
				for _, op := range ops {
					r, err := stores[2].Apply(ctx, []Op{op})
					if err != nil {
						t.Fatalf("one by one, batch %d: %v", b, err)
					}
					results[2] = append(results[2], r...)
				}
				if !slices.Equal(results[0], results[1]) || !slices.Equal(results[0], results[2]) {
					t.Fatalf("batch %d: results %v (wal), %v (ingest), %v (one by one)", b, results[0], results[1], results[2])
				}
			}
			compare := func(when string) {
				t.Helper()
				for _, sc := range scopes {
					wal, ing, one := contents(t, stores[0], sc), contents(t, stores[1], sc), contents(t, stores[2], sc)
					if !reflect.DeepEqual(wal, ing) || !reflect.DeepEqual(wal, one) {
						t.Fatalf("%s, scope %q: wal store holds\n%+v\ningest store\n%+v\none by one\n%+v", when, sc, wal.Magic, ing.Magic, one.Magic)
					}
					if len(wal.Tokens) == 0 {
						t.Fatalf("scope %q learned nothing", sc)
					}
				}
			}
			compare("open")
			for i, s := range stores {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				var err error
				if stores[i], err = Open(dirs[i], Options{}); err != nil {
					t.Fatal(err)
				}
				defer stores[i].Close()
			}
			compare("reopened")
			if _, err := os.Stat(filepath.Join(dirs[1], ingestFile)); !os.IsNotExist(err) {
				t.Errorf("ingest table left in the store: %v", err)
			}
		})
	}
}

// A table left by a bulk writer that crashed while building it is
// removed by the next writer's Open, and the store opens as before.
func TestStaleIngestTableRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bayes")
	learnAndClose(t, dir, "m1")
	stale := filepath.Join(dir, ingestFile)
	if err := os.WriteFile(stale, []byte("half a table"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{Ingest: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale ingest table still there: %v", err)
	}
	if _, ok, err := s.Seen(context.Background(), "", "m1"); err != nil || !ok {
		t.Errorf("m1 not seen after reopen: %v %v", ok, err)
	}
}
