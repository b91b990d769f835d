package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

// A scan's lookup answers the seen index in the same call: the class
// of the first id found (SpamAssassin's msgid, then the Message-ID),
// nothing for a message never learned, and the same counts as without
// ids.
func TestLookupScanSeen(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr})
	keys := []tokenizer.Key{tokenizer.KeyOf("a"), tokenizer.KeyOf("b"), tokenizer.KeyOf("never")}
	ops := []classifier.Op{
		{MsgID: "spam1@sa_generated", Class: classifier.Spam, Tokens: keys[:2], Atime: 1},
		{MsgID: "ham1@sa_generated", Class: classifier.Ham, Tokens: keys[1:2], Atime: 1},
	}
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	want := []classifier.Counts{{Spam: 1}, {Spam: 1, Ham: 1}, {}}
	for _, tt := range []struct {
		ids  []string
		want classifier.Class
	}{
		{nil, 0},
		{[]string{"spam1@sa_generated"}, classifier.Spam},
		{[]string{"other@sa_generated", "ham1@sa_generated"}, classifier.Ham},
		{[]string{"ham1@sa_generated", "spam1@sa_generated"}, classifier.Ham},
		{[]string{"other@sa_generated", "other@example.com"}, 0},
	} {
		out := make([]classifier.Counts, len(keys))
		m, seen, err := s.LookupScan(ctx, "", keys, out, tt.ids)
		if err != nil {
			t.Fatal(err)
		}
		if seen != tt.want || m.NSpam != 1 || m.NHam != 1 {
			t.Errorf("ids %q: seen %q, counters %d/%d; want %q, 1/1", tt.ids, seen, m.NSpam, m.NHam, tt.want)
		}
		for i := range out {
			if out[i].Spam != want[i].Spam || out[i].Ham != want[i].Ham {
				t.Errorf("ids %q: token %d counts %+v, want %+v", tt.ids, i, out[i], want[i])
			}
		}
	}
}

// The tokens a scan used get their TTL renewed in the background, as
// SpamAssassin's scan renews them (tok_touch_all); a token renewed
// recently is not renewed again; tokens not noted keep their TTL.
func TestNoteUsedRenewsTTL(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	const ttl = 21 * 24 * time.Hour
	s := openStore(t, redisstore.Options{Addr: srv.Addr, TokenTTL: ttl})
	used, unused := tokenizer.KeyOf("used"), tokenizer.KeyOf("unused")
	if _, err := s.Apply(ctx, []classifier.Op{{MsgID: "m", Class: classifier.Spam, Tokens: []tokenizer.Key{used, unused}, Atime: 1}}); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	for _, k := range []tokenizer.Key{used, unused} {
		if err := raw.Expire(ctx, "w:"+string(k[:]), time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s.NoteUsed("", []tokenizer.Key{used})
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := raw.TTL(ctx, "w:"+string(used[:])).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got > ttl-time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the used token's TTL is %v 10 s after the scan noted it, want it renewed to %v", got, ttl)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := raw.TTL(ctx, "w:"+string(unused[:])).Val(); got > time.Hour {
		t.Errorf("a token no scan used has its TTL renewed: %v", got)
	}

	// Renewed a moment ago: noted again, it is left alone.
	if err := raw.Expire(ctx, "w:"+string(used[:]), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	s.NoteUsed("", []tokenizer.Key{used})
	time.Sleep(time.Second)
	if got := raw.TTL(ctx, "w:"+string(used[:])).Val(); got > time.Hour {
		t.Errorf("a token renewed a second ago was renewed again: TTL %v", got)
	}
}
