package netcheck_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

// benchLists are the 3 RBLs and 2 URIBLs.
const benchLists = "rbl_list bl.test pbl.test zen.test\nuribl_list multi.test:8-64 black.test\n"

// benchMessages are 30 corpus messages, 10 from each folder spread over
// it, parsed: real relays and URIs, so the lists are asked what they
// would be asked in use.
func benchMessages(b *testing.B) []*tokenizer.Message {
	var out []*tokenizer.Message
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		files := testpeer.CorpusFiles(b, folder)
		var pick []string
		for i := range 10 {
			pick = append(pick, files[i*len(files)/10])
		}
		for _, raw := range testpeer.ReadAll(b, pick) {
			out = append(out, tokenizer.Parse(raw))
		}
	}
	return out
}

// BenchmarkScan compares scans of corpus messages with our default rules
// alone and with 3 RBLs and 2 URIBLs on a warm cache (the 10% CPU
// budget). Each iteration scans every message both ways, one after the
// other (alternating which first), so that both see the same machine load, and the benchmark
// reports the ratio of their CPU time from this one run (net/local,
// issue 12 asks at most 1.10), as well as each side's cpu-us/msg: the
// process's CPU time (user+system, every goroutine's, the in-process DNS
// server's too), since wall time would hide lookups run in other
// goroutines. queries/op counts what reached the DNS server during the
// measured loop (0 with the cache warm). Run with -bench 'Scan$'
// -benchtime 20x.
func BenchmarkScan(b *testing.B) {
	msgs := benchMessages(b)
	srv := dnstest.Start(b, zones...)
	pol := policy(b, srv, benchLists)
	local := engine(b, pol, nil)
	net := engine(b, pol, checker(b, srv))
	scanAll := func(eng *rules.Engine) time.Duration {
		// Each side starts on a collected heap and pays for its own
		// garbage.
		runtime.GC()
		start := cpuTime(b)
		for _, m := range msgs {
			if _, err := eng.Check(context.Background(), m, rules.CheckOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		return cpuTime(b) - start
	}
	// Warm both: the resolver's cache, the engines' lazily built state.
	scanAll(net)
	scanAll(local)
	queries := srv.Queries()
	if queries == 0 {
		b.Fatal("warming up asked the DNS server nothing: the lists are not in use")
	}
	b.Logf("warm-up: %d queries for %d messages", queries, len(msgs))
	var localCPU, netCPU time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, against any order effect.
		if i%2 == 0 {
			localCPU += scanAll(local)
			netCPU += scanAll(net)
		} else {
			netCPU += scanAll(net)
			localCPU += scanAll(local)
		}
	}
	b.StopTimer()
	n := float64(b.N * len(msgs))
	b.ReportMetric(float64(localCPU.Microseconds())/n, "local-cpu-us/msg")
	b.ReportMetric(float64(netCPU.Microseconds())/n, "net-cpu-us/msg")
	b.ReportMetric(float64(netCPU)/float64(localCPU), "net/local")
	b.ReportMetric(float64(srv.Queries()-queries)/float64(b.N), "queries/op")
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
