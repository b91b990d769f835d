package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

// lookupBenchTokens is a scan's token count in the benchmarks: about
// what a message of the shared corpus has.
const lookupBenchTokens = 600

// BenchmarkLookupScan is one scan's read (counters, seen entry, 600
// tokens, half of them known) on a local redis-server, with the
// server's CPU time per lookup beside the client's time. The tokens are
// the same every time: after the first, all are in the token cache.
func BenchmarkLookupScan(b *testing.B) {
	benchmarkLookupScan(b, true)
}

func benchmarkLookupScan(b *testing.B, cached bool) {
	srv := testpeer.StartRedis(b)
	ctx := context.Background()
	s, err := redisstore.Open(ctx, redisstore.Options{Addr: srv.Addr, TokenTTL: redisstore.DefaultTokenTTL})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if !cached {
		s.NoCache()
	}
	keys := make([]tokenizer.Key, lookupBenchTokens)
	for i := range keys {
		keys[i] = tokenizer.KeyOf(fmt.Sprintf("token%d", i))
	}
	op := classifier.Op{MsgID: "m", Class: classifier.Spam, Tokens: keys[:lookupBenchTokens/2], Atime: 1}
	if _, err := s.Apply(ctx, []classifier.Op{op}); err != nil {
		b.Fatal(err)
	}
	out := make([]classifier.Counts, len(keys))
	ids := []string{"id1@sa_generated", "id2@example.com"}
	cpu0 := srv.CPU()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.LookupScan(ctx, "", keys, out, ids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((srv.CPU()-cpu0)*1e6/float64(b.N), "server-µs/op")
}
