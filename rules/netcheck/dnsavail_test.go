package netcheck_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/netcheck"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

func TestDNSAvailableTest(t *testing.T) {
	good := dnstest.Start(t, append([]string{"probe-a.test. 300 IN A 192.0.2.1", "probe-b.test. 300 IN A 192.0.2.2"}, zones...)...)
	silent := dnstest.Start(t)
	silent.Silent("test.")
	const rule = "header RCVD_IN_TESTBL eval:check_rbl('testbl', 'bl.test.')\ntflags RCVD_IN_TESTBL net\nscore RCVD_IN_TESTBL 0 2.0 0 2.0\nrbl_timeout 2\n"
	tests := []struct {
		name    string
		servers []*dnstest.Server
		avail   string
		want    []string
	}{
		{"answering server", []*dnstest.Server{good}, "test: probe-a.test probe-b.test", []string{"RCVD_IN_TESTBL"}},
		{"silent server first", []*dnstest.Server{silent, good}, "test: probe-a.test probe-b.test probe-a.test probe-b.test", []string{"RCVD_IN_TESTBL"}},
		{"only a silent server", []*dnstest.Server{silent}, "test: probe-a.test probe-b.test", nil},
		{"names without addresses", []*dnstest.Server{good}, "test: nx.test", nil},
		{"yes skips the test", []*dnstest.Server{good}, "yes", []string{"RCVD_IN_TESTBL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := "clear_dns_servers\n"
			var addrs []string
			for _, s := range tt.servers {
				extra += "dns_server " + s.Addr + "\n"
				addrs = append(addrs, s.Addr)
			}
			var now atomic.Int64
			now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			res, err := resolver.New(resolver.Config{Servers: addrs, Timeout: confval.Duration(300 * time.Millisecond)}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			chk := netcheck.New(res, netcheck.Options{Now: func() time.Time { return time.Unix(0, now.Load()) }})
			pol := policy(t, good, extra+rule+"dns_available "+tt.avail+"\ndns_test_interval 10m\n")
			eng := engine(t, pol, chk)
			scan := func() []string {
				r, err := eng.Check(context.Background(), message("198.51.100.7", "a@sender.example", "hi"), rules.CheckOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return netHits(r)
			}
			before := silent.QueriesFor("7.100.51.198.bl.test.")
			if got := scan(); !slices.Equal(got, tt.want) {
				t.Fatalf("hits %v, want %v", got, tt.want)
			}
			if len(tt.servers) > 1 && silent.QueriesFor("7.100.51.198.bl.test.") != before {
				t.Error("the server that failed the test was asked a list query")
			}
			// The verdict is cached: a second scan probes nothing.
			probes := good.QueriesFor("probe-a.test.") + good.QueriesFor("probe-b.test.") + good.QueriesFor("nx.test.")
			if got := scan(); !slices.Equal(got, tt.want) {
				t.Fatalf("second scan hits %v, want %v", got, tt.want)
			}
			again := good.QueriesFor("probe-a.test.") + good.QueriesFor("probe-b.test.") + good.QueriesFor("nx.test.")
			if again != probes {
				t.Errorf("second scan probed again: %d queries, was %d", again, probes)
			}
			// Past dns_test_interval the next scan probes again.
			now.Add(int64(11 * time.Minute))
			scan()
			if tt.avail == "yes" || len(tt.servers) == 1 && tt.servers[0] == silent {
				return
			}
			deadline := time.Now().Add(2 * time.Second)
			for good.QueriesFor("probe-a.test.")+good.QueriesFor("probe-b.test.")+good.QueriesFor("nx.test.") == again {
				if time.Now().After(deadline) {
					t.Fatal("no new probe after dns_test_interval")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
