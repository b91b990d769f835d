package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

type countingMetrics struct {
	classifier.NopMetrics
	mu          sync.Mutex
	unavailable map[string]int
}

func (m *countingMetrics) ObserveUnavailable(op string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unavailable[op]++
}

// With the server down, calls fail fast with ErrUnavailable (a lookup
// well within a scan's deadline), learns fail with a clear error, and the
// store reconnects by itself once the server is back; no acknowledged
// learn is lost over the restart (appendfsync always).
func TestServerDownAndBack(t *testing.T) {
	srv := testpeer.StartRedis(t)
	metrics := &countingMetrics{unavailable: map[string]int{}}
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr, Metrics: metrics, DialTimeout: 200 * time.Millisecond})
	op := classifier.Op{MsgID: "m1", Class: classifier.Spam, Tokens: []tokenizer.Key{tokenizer.KeyOf("a1")}, Atime: 1}
	if _, err := s.Apply(ctx, []classifier.Op{op}); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	keys := []tokenizer.Key{tokenizer.KeyOf("a1")}
	out := make([]classifier.Counts, 1)
	for i := range 20 {
		start := time.Now()
		_, err := s.LookupMagic(ctx, "", keys, out)
		if !errors.Is(err, classifier.ErrUnavailable) {
			t.Fatalf("lookup %d with the server down: %v, want ErrUnavailable", i, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("lookup %d took %v with the server down", i, took)
		}
	}
	op2 := op
	op2.MsgID = "m2"
	if _, err := s.Apply(ctx, []classifier.Op{op2}); !errors.Is(err, classifier.ErrUnavailable) {
		t.Fatalf("learn with the server down: %v, want ErrUnavailable", err)
	}
	if s.Up() {
		t.Error("Up() with the server down")
	}
	metrics.mu.Lock()
	if metrics.unavailable["lookup"] != 20 || metrics.unavailable["learn"] != 1 {
		t.Errorf("unavailable counts %v, want 20 lookups and 1 learn", metrics.unavailable)
	}
	metrics.mu.Unlock()

	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := s.LookupMagic(ctx, "", keys, out)
		if err == nil {
			if m.NSpam != 1 || out[0].Spam != 1 {
				t.Errorf("after the restart: nspam %d, a1 %+v; want the acknowledged learn", m.NSpam, out[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect within 10 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, err := s.Apply(ctx, []classifier.Op{op2}); err != nil || res[0] != classifier.Learned {
		t.Fatalf("learn after the restart: %v, %v", res, err)
	}
}

// A batch far larger than one pipeline (a corpus learn's) is learned
// whole, each op once, on a server that fsyncs every write.
func TestApplyLargeBatch(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr})
	tests := []struct {
		name              string
		ops, tokens       int
		class             classifier.Class
		wantSpam, wantHam int64
	}{
		{"many small messages", 400, 60, classifier.Spam, 400, 0},
		{"a few large messages", 12, 5000, classifier.Ham, 400, 12},
	}
	for _, tt := range tests {
		ops := make([]classifier.Op, tt.ops)
		for i := range ops {
			keys := make([]tokenizer.Key, tt.tokens)
			for j := range keys {
				keys[j] = tokenizer.KeyOf(fmt.Sprintf("shared-%d", j))
			}
			ops[i] = classifier.Op{MsgID: fmt.Sprintf("%s-%d", tt.name, i), Class: tt.class, Tokens: keys, Atime: 1}
		}
		res, err := s.Apply(ctx, ops)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for i, r := range res {
			if r != classifier.Learned {
				t.Fatalf("%s: op %d: %v, want Learned", tt.name, i, r)
			}
		}
		m, err := s.Magic(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		out := make([]classifier.Counts, 1)
		if err := s.Lookup(ctx, "", []tokenizer.Key{tokenizer.KeyOf("shared-0")}, out); err != nil {
			t.Fatal(err)
		}
		if m.NSpam != tt.wantSpam || m.NHam != tt.wantHam || int64(out[0].Spam) != tt.wantSpam || int64(out[0].Ham) != tt.wantHam {
			t.Errorf("%s: nspam %d nham %d, shared-0 %+v; want %d and %d each", tt.name, m.NSpam, m.NHam, out[0], tt.wantSpam, tt.wantHam)
		}
	}
}
