package redisstore_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

// A scan's lookup (the pipeline of plain commands) answers what the Lua
// script it replaced answered, for the global scope and a user's, with
// and without seen ids, on a database with learned messages and some
// odd values written by hand.
func TestLookupMatchesScript(t *testing.T) { bothPaths(t, testLookupMatchesScript) }

func testLookupMatchesScript(t *testing.T, cached bool) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr, TokenTTL: redisstore.DefaultTokenTTL})
	if !cached {
		s.NoCache()
	}
	keys := make([]tokenizer.Key, 700)
	for i := range keys {
		keys[i] = tokenizer.KeyOf(fmt.Sprintf("tok%d", i))
	}
	var ops []classifier.Op
	for i := range 20 {
		class, sc := classifier.Spam, classifier.Scope("")
		if i%3 == 0 {
			class = classifier.Ham
		}
		if i%4 == 0 {
			sc = "alice"
		}
		ops = append(ops, classifier.Op{Scope: sc, MsgID: fmt.Sprintf("m%d@sa_generated", i), Class: class,
			Tokens: keys[i*20 : i*20+300], Atime: 1})
	}
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	for k, v := range map[string]string{"w:" + string(keys[600][:]): "-3", "w:" + string(keys[601][:]): "x"} {
		if err := raw.HSet(ctx, k, "s", v, "h", "2").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.HSet(ctx, "w:"+string(keys[602][:]), "s", "99999999999").Err(); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []classifier.Scope{"", "alice", "nobody"} {
		for _, ids := range [][]string{nil, {"m1@sa_generated"}, {"x@sa_generated", "m4@sa_generated"}, {"x", "y"}} {
			got := make([]classifier.Counts, len(keys))
			want := make([]classifier.Counts, len(keys))
			gm, gseen, err := s.LookupScan(ctx, sc, keys, got, ids)
			if err != nil {
				t.Fatal(err)
			}
			wm, wseen, err := s.LookupScanLua(ctx, sc, keys, want, ids)
			if err != nil {
				t.Fatal(err)
			}
			if gm != wm || gseen != wseen {
				t.Errorf("scope %q ids %q: magic %+v seen %q, script says %+v %q", sc, ids, gm, gseen, wm, wseen)
			}
			for i := range keys {
				if got[i] != want[i] {
					t.Errorf("scope %q ids %q token %d: %+v, script says %+v", sc, ids, i, got[i], want[i])
				}
			}
		}
	}
}

// A server restart between two scans costs the second one nothing: the
// stale idle connection is replaced at once, and no outage is seen.
func TestLookupAfterRestart(t *testing.T) { bothPaths(t, testLookupAfterRestart) }

func testLookupAfterRestart(t *testing.T, cached bool) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr})
	if !cached {
		s.NoCache()
	}
	keys := []tokenizer.Key{tokenizer.KeyOf("a")}
	if _, err := s.Apply(ctx, []classifier.Op{{MsgID: "m", Class: classifier.Spam, Tokens: keys, Atime: 1}}); err != nil {
		t.Fatal(err)
	}
	out := make([]classifier.Counts, 1)
	for round := range 3 {
		m, err := s.LookupMagic(ctx, "", keys, out)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if m.NSpam != 1 || out[0].Spam != 1 {
			t.Fatalf("round %d: nspam %d, a %+v", round, m.NSpam, out[0])
		}
		if !s.Up() {
			t.Fatalf("round %d: Up() false after a lookup that worked", round)
		}
		srv.Stop()
		srv.Start()
	}
}

// An error reply (a token key holding a string, not a hash) fails that
// scan's lookup with the server's message, not as an outage, and the
// next lookup on the same connections works.
func TestLookupErrorReply(t *testing.T) { bothPaths(t, testLookupErrorReply) }

func testLookupErrorReply(t *testing.T, cached bool) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr, PoolSize: 1})
	if !cached {
		s.NoCache()
	}
	good, bad := tokenizer.KeyOf("good"), tokenizer.KeyOf("bad")
	if _, err := s.Apply(ctx, []classifier.Op{{MsgID: "m", Class: classifier.Ham, Tokens: []tokenizer.Key{good}, Atime: 1}}); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	if err := raw.Set(ctx, "w:"+string(bad[:]), "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	out := make([]classifier.Counts, 2)
	_, err := s.LookupMagic(ctx, "", []tokenizer.Key{good, bad}, out)
	if err == nil || !strings.Contains(err.Error(), "WRONGTYPE") || errors.Is(err, classifier.ErrUnavailable) {
		t.Fatalf("lookup of a string key: %v, want the WRONGTYPE error, not ErrUnavailable", err)
	}
	if !s.Up() {
		t.Error("an error reply made the store down")
	}
	for range 3 {
		m, err := s.LookupMagic(ctx, "", []tokenizer.Key{good}, out)
		if err != nil || m.NHam != 1 || out[0].Ham != 1 {
			t.Fatalf("next lookup: nham %d, good %+v, %v", m.NHam, out[0], err)
		}
	}
}

// The lookup connections authenticate and select the database as the
// options say (a Redis 6 ACL user, or the default user's password), over
// TLS when asked; a wrong password is an error, not an outage.
func TestLookupAuthSelectTLS(t *testing.T) { bothPaths(t, testLookupAuthSelectTLS) }

func testLookupAuthSelectTLS(t *testing.T, cached bool) {
	srv, tlsAddr, roots := testpeer.StartRedisTLS(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	for _, cmd := range [][]any{
		{"ACL", "SETUSER", "gospamd", "on", ">userpw", "~*", "+@all"},
		{"CONFIG", "SET", "requirepass", "defaultpw"},
	} {
		if err := admin.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	tlsConfig := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	keys := []tokenizer.Key{tokenizer.KeyOf("a")}
	for i, opt := range []redisstore.Options{
		{Addr: srv.Addr, Password: "defaultpw", DB: 3},
		{Addr: srv.Addr, Username: "gospamd", Password: "userpw", DB: 5},
		{Addr: tlsAddr, TLSConfig: tlsConfig, Username: "gospamd", Password: "userpw", DB: 7},
	} {
		s, err := redisstore.Open(ctx, opt)
		if err != nil {
			t.Fatalf("options %d: %v", i, err)
		}
		defer s.Close()
		if !cached {
			s.NoCache()
		}
		if !cached {
			s.NoCache()
		}
		if _, err := s.Apply(ctx, []classifier.Op{{MsgID: "m", Class: classifier.Spam, Tokens: keys, Atime: 1}}); err != nil {
			t.Fatal(err)
		}
		out := make([]classifier.Counts, 1)
		m, seen, err := s.LookupScan(ctx, "", keys, out, []string{"m"})
		if err != nil || m.NSpam != 1 || out[0].Spam != 1 || seen != classifier.Spam {
			t.Errorf("options %d: nspam %d, a %+v, seen %q, %v; want the learn of database %d", i, m.NSpam, out[0], seen, err, opt.DB)
		}
	}
	for db := range 8 {
		want := int64(0)
		if db == 3 || db == 5 || db == 7 {
			want = 1
		}
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: "defaultpw", DB: db})
		n, _ := c.Get(ctx, "v:NSPAM").Int64()
		c.Close()
		if n != want {
			t.Errorf("database %d has nspam %d, want %d", db, n, want)
		}
	}

	s := redisstore.OpenLazy(redisstore.Options{Addr: srv.Addr, Username: "gospamd", Password: "wrong"})
	defer s.Close()
	if !cached {
		s.NoCache()
	}
	_, err := s.LookupMagic(ctx, "", keys, make([]classifier.Counts, 1))
	if err == nil || errors.Is(err, classifier.ErrUnavailable) {
		t.Errorf("lookup with a wrong password: %v, want an error other than ErrUnavailable", err)
	}
}

// A scan given up by its caller (deadline or cancellation) returns at
// once with the caller's error, not as an outage, even while the server
// does not answer; once it answers again the next lookup works.
func TestLookupCancelled(t *testing.T) { bothPaths(t, testLookupCancelled) }

func testLookupCancelled(t *testing.T, cached bool) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr})
	if !cached {
		s.NoCache()
	}
	keys := []tokenizer.Key{tokenizer.KeyOf("a")}
	out := make([]classifier.Counts, 1)
	if _, err := s.LookupMagic(ctx, "", keys, out); err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancellation", func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			time.AfterFunc(100*time.Millisecond, cancel)
			return c, cancel
		}, context.Canceled},
	} {
		c, cancel := tt.ctx()
		start := time.Now()
		_, err := s.LookupMagic(c, "", keys, out)
		cancel()
		if !errors.Is(err, tt.want) || errors.Is(err, classifier.ErrUnavailable) {
			t.Errorf("%s: %v, want %v and not ErrUnavailable", tt.name, err, tt.want)
		}
		if took := time.Since(start); took > 700*time.Millisecond {
			t.Errorf("%s: the lookup took %v", tt.name, took)
		}
	}
	if !s.Up() {
		t.Error("a cancelled scan made the store down")
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := s.LookupMagic(ctx, "", keys, out); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}

// bothPaths runs test with the token cache and without it (every token
// read through the lookup pool).
func bothPaths(t *testing.T, test func(t *testing.T, cached bool)) {
	t.Run("cached", func(t *testing.T) { test(t, true) })
	t.Run("uncached", func(t *testing.T) { test(t, false) })
}

// openStore opens a store with opt, closed when the test ends (before
// the server it uses stops).
func openStore(t testing.TB, opt redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
