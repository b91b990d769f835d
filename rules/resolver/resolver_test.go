package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/miekg/dns"
)

type countingMetrics struct {
	mu       sync.Mutex
	outcomes map[string]int
	hits     int
}

func (m *countingMetrics) Query(zone string, o resolver.Outcome, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outcomes[zone+"/"+string(o)]++
}

func (m *countingMetrics) CacheHit(string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hits++
}

func newResolver(t *testing.T, srv *dnstest.Server, m resolver.Metrics) *resolver.Resolver {
	t.Helper()
	r, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: confval.Duration(300 * time.Millisecond)}, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLookup(t *testing.T) {
	var long []string
	for i := range 40 {
		long = append(long, fmt.Sprintf("big.example. 300 IN TXT \"v=spf1 ip4:192.0.2.%d -all %s\"", i, strings.Repeat("x", 20)))
	}
	srv := dnstest.Start(t, append(long,
		"2.0.0.127.bl.example. 300 IN A 127.0.0.2",
		"2.0.0.127.bl.example. 300 IN TXT \"listed\"",
	)...)
	srv.Silent("dead.example.")
	srv.ServFail("broken.example.")
	m := &countingMetrics{outcomes: map[string]int{}}
	r := newResolver(t, srv, m)
	ctx := context.Background()

	tests := []struct {
		name    string
		q       resolver.Question
		rcode   int
		records int
		err     error
	}{
		{"listed A", resolver.Question{Name: "2.0.0.127.bl.example", Type: dns.TypeA, Zone: "bl"}, dns.RcodeSuccess, 1, nil},
		{"listed TXT", resolver.Question{Name: "2.0.0.127.bl.example.", Type: dns.TypeTXT, Zone: "bl"}, dns.RcodeSuccess, 1, nil},
		{"not listed", resolver.Question{Name: "3.0.0.127.bl.example.", Type: dns.TypeA, Zone: "bl"}, dns.RcodeNameError, 0, nil},
		{"no data", resolver.Question{Name: "2.0.0.127.bl.example.", Type: dns.TypeMX, Zone: "bl"}, dns.RcodeSuccess, 0, nil},
		{"truncated over UDP, whole over TCP", resolver.Question{Name: "big.example.", Type: dns.TypeTXT}, dns.RcodeSuccess, 40, nil},
		{"never answers", resolver.Question{Name: "1.dead.example.", Type: dns.TypeA, Zone: "dead"}, 0, 0, resolver.ErrTimeout},
		{"servfail", resolver.Question{Name: "1.broken.example.", Type: dns.TypeA, Zone: "broken"}, 0, 0, resolver.ErrServFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ans, err := r.Lookup(ctx, tc.q)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ans.Rcode != tc.rcode || len(ans.Records) != tc.records {
				t.Errorf("rcode %d with %d records, want %d with %d", ans.Rcode, len(ans.Records), tc.rcode, tc.records)
			}
			again, err := r.Lookup(ctx, tc.q)
			if err != nil || !again.Cached || again.Rcode != ans.Rcode || len(again.Records) != len(ans.Records) {
				t.Errorf("second lookup not the cached answer: %+v, %v", again, err)
			}
		})
	}
	if got := m.outcomes["dead/timeout"]; got != 1 {
		t.Errorf("timeouts counted for the dead zone: %d (%v)", got, m.outcomes)
	}
	if got := m.outcomes["broken/servfail"]; got != 1 {
		t.Errorf("SERVFAIL counted: %d (%v)", got, m.outcomes)
	}
	if m.hits != 5 {
		t.Errorf("cache hits %d, want 5", m.hits)
	}
}

// LookupA gives the A records as addresses; no such name and no data
// are no addresses without an error.
func TestLookupA(t *testing.T) {
	srv := dnstest.Start(t,
		"2.0.0.127.bl.example. 300 IN A 127.0.0.2",
		"2.0.0.127.bl.example. 300 IN A 127.0.0.4",
		"txt.bl.example. 300 IN TXT \"only text\"",
	)
	srv.Silent("dead.example.")
	srv.ServFail("broken.example.")
	m := &countingMetrics{outcomes: map[string]int{}}
	r := newResolver(t, srv, m)
	tests := []struct {
		name string
		want string
		err  error
	}{
		{"2.0.0.127.bl.example", "[127.0.0.2 127.0.0.4]", nil},
		{"3.0.0.127.bl.example", "[]", nil},
		{"txt.bl.example", "[]", nil},
		{"1.dead.example", "[]", resolver.ErrTimeout},
		{"1.broken.example", "[]", resolver.ErrServFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.LookupA(context.Background(), tc.name, "bl")
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
	if m.outcomes["bl/answer"] != 2 || m.outcomes["bl/nxdomain"] != 1 {
		t.Errorf("outcomes not labelled with the zone: %v", m.outcomes)
	}
}

// Many scans asking the same name at once wait on one query, and a
// caller's deadline ends its wait without an answer.
func TestInflightAndDeadline(t *testing.T) {
	srv := dnstest.Start(t, "2.0.0.127.bl.example. 300 IN A 127.0.0.2")
	srv.Silent("dead.example.")
	r := newResolver(t, srv, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := r.Lookup(context.Background(), resolver.Question{Name: "2.0.0.127.bl.example.", Type: dns.TypeA}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.QueriesFor("2.0.0.127.bl.example."); n != 1 {
		t.Errorf("50 concurrent lookups sent %d queries, want 1", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Lookup(ctx, resolver.Question{Name: "x.dead.example.", Type: dns.TypeA})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the deadline", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("lookup past a 100ms deadline took %s", d)
	}
}

func TestServerAddrs(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bad  bool
	}{
		{"127.0.0.1", "127.0.0.1:53", false},
		{"127.0.0.1:5353", "127.0.0.1:5353", false},
		{"[::1]:53", "[::1]:53", false},
		{"::1", "[::1]:53", false},
		{"dns.example:53", "", true},
	}
	for _, tc := range tests {
		got, err := resolver.ServerAddrs([]string{tc.in})
		if tc.bad {
			if err == nil {
				t.Errorf("%q accepted", tc.in)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
}
