package classifier

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gospamd/gospamd/tokenizer"
)

// The writer's cache of token counts never outlives a wholesale rewrite:
// after Clear, Restore or Expire, learning the same tokens again counts
// from what the store holds, not from what the cache remembered.
func TestWriteCacheFollowsRewrites(t *testing.T) {
	ctx := context.Background()
	shared := tokenizer.KeyOf("shared-token")
	learnOne := func(s *Store, id string) {
		t.Helper()
		if _, err := s.Apply(ctx, []Op{{MsgID: id, Class: Spam, Tokens: []tokenizer.Key{shared}, Atime: 1000}}); err != nil {
			t.Fatal(err)
		}
	}
	spamCount := func(s *Store) uint32 {
		t.Helper()
		out := make([]Counts, 1)
		if err := s.Lookup(ctx, "", []tokenizer.Key{shared}, out); err != nil {
			t.Fatal(err)
		}
		return out[0].Spam
	}
	tests := []struct {
		name    string
		rewrite func(s *Store, backup []byte) error
		want    uint32 // spam count of the shared token after one more learn
	}{
		{"clear", func(s *Store, _ []byte) error { return s.Clear(ctx, "") }, 1},
		{"restore", func(s *Store, backup []byte) error {
			_, err := s.Restore(ctx, "", bytes.NewReader(backup))
			return err
		}, 2},
		{"expire", func(s *Store, _ []byte) error {
			_, err := s.Expire(ctx, "", ExpireOptions{MaxDBSize: 1, Force: true, Now: time.Unix(2000000, 0)})
			return err
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTestStore(t)
			learnOne(s, "a")
			var backup bytes.Buffer
			if err := s.Backup(ctx, "", &backup); err != nil {
				t.Fatal(err)
			}
			learnOne(s, "b")
			if err := tt.rewrite(s, backup.Bytes()); err != nil {
				t.Fatal(err)
			}
			learnOne(s, "c")
			if got := spamCount(s); got != tt.want {
				t.Errorf("after %s and one more learn: spam count %d, want %d", tt.name, got, tt.want)
			}
		})
	}
}

// keyOrder sorts by the keys' bytes, as Pebble orders them, with any
// number of keys and ties between equal keys broken by index.
func TestKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 100, 5000} {
		keys := make([]tokenizer.Key, n)
		for i := range keys {
			for j := range keys[i] {
				keys[i][j] = byte(r.IntN(4) * 85) // few values: many ties
			}
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(x, y int) int { return bytes.Compare(keys[x][:], keys[y][:]) })
		if got := keyOrder(keys); !slices.Equal(got, want) {
			t.Errorf("%d keys: order %v, want %v", n, got[:min(n, 10)], want[:min(n, 10)])
		}
	}
}
