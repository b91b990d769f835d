package storetest_test

import (
	"context"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/classifier/storetest"
	"github.com/gospamd/gospamd/internal/testpeer"
)

// TestBackends runs the store behaviour suite against every backend.
func TestBackends(t *testing.T) {
	backends := []storetest.Backend{
		{Name: "pebble", Atimes: true, Open: func(t testing.TB) classifier.Backend {
			s, err := classifier.Open(t.TempDir(), classifier.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{Name: "redis", Open: openRedis(t)},
	}
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) { storetest.Run(t, b) })
	}
}

// openRedis starts one redis-server for the suite, lazily, and gives each
// test a database of its own (SELECT 0..15, flushed first).
func openRedis(parent *testing.T) func(t testing.TB) classifier.Backend {
	var srv *testpeer.Redis
	next := 0
	return func(t testing.TB) classifier.Backend {
		if srv == nil {
			srv = testpeer.StartRedis(parent)
		}
		db := next % 16
		next++
		s, err := redisstore.Open(context.Background(), redisstore.Options{Addr: srv.Addr, DB: db,
			TokenTTL: redisstore.DefaultTokenTTL, SeenTTL: redisstore.DefaultSeenTTL})
		if err != nil {
			t.Fatal(err)
		}
		flushDB(t, s)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func flushDB(t testing.TB, s *redisstore.Store) {
	t.Helper()
	for _, sc := range []classifier.Scope{""} {
		if err := s.Clear(context.Background(), sc); err != nil {
			t.Fatal(err)
		}
	}
	scopes, err := s.Scopes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scopes {
		if err := s.Clear(context.Background(), sc); err != nil {
			t.Fatal(err)
		}
	}
}
