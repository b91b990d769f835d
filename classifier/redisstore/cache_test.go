package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

// checkLookup compares s's (cached) lookup of keys with the uncached
// script's, at once: the cache must never answer an old count.
func checkLookup(t *testing.T, s *redisstore.Store, keys []tokenizer.Key, ids []string, what string) {
	t.Helper()
	ctx := context.Background()
	got := make([]classifier.Counts, len(keys))
	want := make([]classifier.Counts, len(keys))
	gm, gseen, err := s.LookupScan(ctx, "", keys, got, ids)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	wm, wseen, err := s.LookupScanLua(ctx, "", keys, want, ids)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if gm != wm || gseen != wseen {
		t.Fatalf("%s: magic %+v seen %q, the server has %+v %q", what, gm, gseen, wm, wseen)
	}
	for i := range keys {
		if got[i] != want[i] {
			t.Fatalf("%s: token %d: %+v, the server has %+v", what, i, got[i], want[i])
		}
	}
}

// Whatever changes the tokens (a learn or forget by another host, a
// write by hand, an expiry, a deletion, a flush), the next lookup of
// the caching store answers the server's counts at once.
func TestCacheIsExact(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr, TokenTTL: redisstore.DefaultTokenTTL})
	other := openStore(t, redisstore.Options{Addr: srv.Addr, TokenTTL: redisstore.DefaultTokenTTL})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	keys := make([]tokenizer.Key, 300)
	for i := range keys {
		keys[i] = tokenizer.KeyOf(fmt.Sprintf("tok%d", i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	someKeys := func() []tokenizer.Key {
		n := 1 + rng.IntN(60)
		out := make([]tokenizer.Key, 0, n)
		for range n {
			out = append(out, keys[rng.IntN(len(keys))])
		}
		return out
	}
	ids := []string{"m3@sa_generated"}
	checkLookup(t, s, keys, ids, "empty database")
	for step := range 200 {
		var what string
		switch op := rng.IntN(10); {
		case op < 5:
			class := classifier.Spam
			if rng.IntN(2) == 0 {
				class = classifier.Ham
			}
			msg := fmt.Sprintf("m%d@sa_generated", rng.IntN(30))
			what = "learn " + msg
			if _, err := other.Apply(ctx, []classifier.Op{{MsgID: msg, Class: class, Tokens: someKeys(), Atime: 1}}); err != nil {
				t.Fatal(err)
			}
		case op < 7:
			msg := fmt.Sprintf("m%d@sa_generated", rng.IntN(30))
			what = "forget " + msg
			if _, err := other.Apply(ctx, []classifier.Op{{MsgID: msg, Forget: true, Atime: 1}}); err != nil {
				t.Fatal(err)
			}
		case op == 7:
			k := keys[rng.IntN(len(keys))]
			what = "HINCRBY by hand"
			if err := raw.HIncrBy(ctx, "w:"+string(k[:]), "h", 3).Err(); err != nil {
				t.Fatal(err)
			}
		case op == 8:
			what = "expiry"
			for _, k := range someKeys() {
				if err := raw.PExpire(ctx, "w:"+string(k[:]), time.Millisecond).Err(); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(5 * time.Millisecond)
		default:
			what = "DEL"
			k := keys[rng.IntN(len(keys))]
			if err := raw.Del(ctx, "w:"+string(k[:])).Err(); err != nil {
				t.Fatal(err)
			}
		}
		checkLookup(t, s, keys, ids, fmt.Sprintf("step %d, after %s", step, what))
	}
	if err := raw.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	checkLookup(t, s, keys, ids, "after FLUSHDB")
}

// Lookups running while another host learns answer counts the server
// had; once the learns are done, every lookup answers the final counts.
func TestCacheUnderConcurrentLearns(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr})
	other := openStore(t, redisstore.Options{Addr: srv.Addr})
	keys := make([]tokenizer.Key, 200)
	for i := range keys {
		keys[i] = tokenizer.KeyOf(fmt.Sprintf("tok%d", i))
	}
	const learns = 100
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			out := make([]classifier.Counts, len(keys))
			for {
				select {
				case <-done:
					return
				default:
				}
				m, _, err := s.LookupScan(ctx, "", keys, out, nil)
				if err != nil {
					t.Error(err)
					return
				}
				// Every learn counts every token once and the message
				// once: a lookup of one state of the database sees
				// equal counts.
				for i := range out {
					if int64(out[i].Spam) != m.NSpam {
						t.Errorf("token %d has %d spam in a lookup with nspam %d", i, out[i].Spam, m.NSpam)
						return
					}
				}
			}
		})
	}
	for i := range learns {
		if _, err := other.Apply(ctx, []classifier.Op{{MsgID: fmt.Sprintf("m%d", i), Class: classifier.Spam, Tokens: keys, Atime: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	checkLookup(t, s, keys, nil, "after the learns")
}

// The cache does not outlive its connection: with the connection killed
// (the invalidations of a learn meanwhile lost with it), the next lookup
// reconnects and reads the learn.
func TestCacheDroppedWithConnection(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr})
	keys := []tokenizer.Key{tokenizer.KeyOf("a"), tokenizer.KeyOf("b")}
	checkLookup(t, s, keys, nil, "before")
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	clients, err := raw.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.SplitSeq(clients, "\n") {
		var id int64
		if _, err := fmt.Sscanf(line, "id=%d", &id); err == nil && strings.Contains(line, " flags=t ") {
			if err := raw.ClientKillByFilter(ctx, "ID", fmt.Sprint(id)).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("%d tracking connections killed, want 1: %s", killed, clients)
	}
	if err := raw.HSet(ctx, "w:"+string(keys[0][:]), "s", "7").Err(); err != nil {
		t.Fatal(err)
	}
	out := make([]classifier.Counts, len(keys))
	if err := s.Lookup(ctx, "", keys, out); err != nil {
		t.Fatalf("lookup after the connection was killed: %v", err)
	}
	if out[0].Spam != 7 {
		t.Errorf("after the connection was killed: a %+v, want the 7 written meanwhile", out[0])
	}
	if !s.Up() {
		t.Error("a killed idle connection made the store down")
	}
}

// A user not allowed CLIENT TRACKING gets the same answers, every token
// read from the server.
func TestCacheRefusedByACL(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	if err := raw.Do(ctx, "ACL", "SETUSER", "notrack", "on", ">pw", "~*", "+@all", "-client|tracking").Err(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, redisstore.Options{Addr: srv.Addr, Username: "notrack", Password: "pw"})
	keys := []tokenizer.Key{tokenizer.KeyOf("a")}
	checkLookup(t, s, keys, nil, "before a learn")
	if _, err := s.Apply(ctx, []classifier.Op{{MsgID: "m", Class: classifier.Ham, Tokens: keys, Atime: 1}}); err != nil {
		t.Fatal(err)
	}
	checkLookup(t, s, keys, nil, "after a learn")
}

// BenchmarkLookupScanUncached is BenchmarkLookupScan with the token
// cache off: every token read from the server.
func BenchmarkLookupScanUncached(b *testing.B) {
	benchmarkLookupScan(b, false)
}
