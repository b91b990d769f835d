package netcheck

import (
	"context"
	"strings"
	"time"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
)

// defaultDNSTestInterval is SpamAssassin's dns_test_interval default.
const defaultDNSTestInterval = 600 * time.Second

// probeBudget bounds one dns_available test probe as a whole.
const probeBudget = 30 * time.Second

// A dnsTest is a policy's "dns_available test[: domains…]".
type dnsTest struct {
	domains  []string
	interval time.Duration
}

// parseDNSTest reads set's dns_available; nil unless it is "test".
func parseDNSTest(pol *cf.Policy, v string) *dnsTest {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(strings.ToLower(v), "test") {
		return nil
	}
	t := &dnsTest{interval: defaultDNSTestInterval}
	if _, list, ok := strings.Cut(v, ":"); ok {
		t.domains = strings.Fields(list)
	}
	if len(t.domains) == 0 {
		t.domains = resolver.ProbeDomains()
	}
	if ds := pol.Directives("dns_test_interval"); len(ds) > 0 {
		if d, err := cf.ParseDuration(ds[len(ds)-1].Value); err == nil && d > 0 {
			t.interval = d
		}
	}
	return t
}

// An availState is the verdict of the dns_available test for one set
// of servers and names, shared by every scan of every policy asking it.
type availState struct {
	known bool
	good  []string // the servers that answered; none: DNS is not available
	at    time.Time
	// running is closed when the probe under way ends; nil when none is.
	running chan struct{}
}

// dnsAvailable returns the servers of res that work, by SpamAssassin's
// dns_available test, probing them at most once per interval. The first
// scans wait for the first probe (until their deadline: a scan that gives
// up waiting runs without network tests); later probes run behind the
// cached verdict, so no scan waits on them.
func (c *Checker) dnsAvailable(ctx context.Context, res *resolver.Resolver, t *dnsTest) []string {
	key := strings.Join(res.Servers(), " ") + "|" + strings.Join(t.domains, " ")
	c.mu.Lock()
	st := c.avail[key]
	if st == nil {
		st = &availState{}
		c.avail[key] = st
	}
	if st.running == nil && (!st.known || c.now().Sub(st.at) >= t.interval) {
		st.running = make(chan struct{})
		go c.probe(res, t, st)
	}
	if st.known {
		good := st.good
		c.mu.Unlock()
		return good
	}
	running := st.running
	c.mu.Unlock()
	select {
	case <-running:
	case <-ctx.Done():
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return st.good
}

// probe runs one dns_available test and records its verdict in st.
func (c *Checker) probe(res *resolver.Resolver, t *dnsTest, st *availState) {
	ctx, cancel := context.WithTimeout(context.Background(), probeBudget)
	defer cancel()
	good := res.Probe(ctx, t.domains)
	if len(good) == 0 {
		c.log.Warn("dns_available test: no name server answered; network tests are off", "servers", res.Servers())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st.known, st.good, st.at = true, good, c.now()
	close(st.running)
	st.running = nil
}
