package netcheck_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

// BenchmarkScan compares a scan with our default rules alone and with 3
// RBLs and 2 URIBLs on a warm cache (the 10% CPU budget); run
// -bench Scan -benchtime 2000x and compare cpu-ns/op, the process's CPU
// time (user+system, every goroutine's) per scan: ns/op is wall time,
// which lookups run in other goroutines would hide from.
func BenchmarkScan(b *testing.B) {
	srv := dnstest.Start(b, zones...)
	lists := "rbl_list bl.test pbl.test zen.test\nuribl_list multi.test:8-64 black.test\n"
	msg := message("198.51.100.7", "a@sender.example", "see http://evil-site.com/ and https://a.b.phish.co.uk/ now")
	for _, tc := range []struct {
		name string
		net  bool
	}{{"local", false}, {"net-warm", true}} {
		b.Run(tc.name, func(b *testing.B) {
			pol := policy(b, srv, lists)
			var nc rules.NetChecker
			if tc.net {
				nc = checker(b, srv)
			}
			eng := engine(b, pol, nc)
			if _, err := eng.Check(context.Background(), msg, rules.CheckOptions{}); err != nil {
				b.Fatal(err) // warms the cache
			}
			start := cpuTime(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := eng.Check(context.Background(), msg, rules.CheckOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
