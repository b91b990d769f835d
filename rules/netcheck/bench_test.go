package netcheck_test

import (
	"context"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

// BenchmarkScan compares a scan with our default rules alone and with 3
// RBLs and 2 URIBLs on a warm cache (the 10% CPU budget); run
// -bench Scan -benchtime 500x and compare ns/op.
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
			b.ResetTimer()
			for b.Loop() {
				if _, err := eng.Check(context.Background(), msg, rules.CheckOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
