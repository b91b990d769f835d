package classifier

import (
	"bytes"
	"context"
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
