// Package resolver is the DNS client of gospamd's network tests: one
// Resolver shared by every scan, on github.com/miekg/dns.
//
// # What it does
//
// A lookup asks the configured name servers (from the daemon config's
// [dns] servers, SpamAssassin's dns_server, else /etc/resolv.conf) in
// order, over UDP, and again over TCP when the answer comes back
// truncated. Each attempt is bounded by Config.Timeout; the caller's
// context bounds the whole lookup (a scan's rbl_timeout deadline).
//
// Answers are cached for their TTL (clamped between Config.MinTTL and
// Config.MaxTTL), and "no such name" / "no data" answers for the SOA's
// negative TTL (RFC 2308), so that a warm cache costs a map lookup.
// Timeouts and SERVFAIL are not cached. Two scans asking the same
// question at once wait on one query (in-flight de-duplication); a
// caller that gives up does not cancel the query for the others.
//
// A DNS blocklist answers "listed" with an address and "not listed" with
// NXDOMAIN, so an Answer with Rcode NXDOMAIN is a normal result, not an
// error: errors are for lookups that got no usable answer (timeouts,
// SERVFAIL, refused, network errors).
//
// # What it does not do
//
// It knows nothing of blocklists, SPF or the message: see
// rules/netcheck. It does no DNSSEC validation and no recursion of its
// own: the servers must be recursive resolvers.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/miekg/dns"
)

// Config configures a Resolver; it is the daemon config's [dns] section.
// Zero fields take the defaults.
type Config struct {
	// Servers are the name servers to ask, "ip", "ip:port" or
	// "[ipv6]:port", in order. Empty: the nameserver lines of
	// /etc/resolv.conf (127.0.0.1 when it has none). The policy's
	// dns_server lines, when given, replace this list.
	Servers []string `toml:"servers"`
	// Timeout bounds one attempt at one server (default 2s).
	Timeout confval.Duration `toml:"timeout"`
	// RBLTimeout is the default deadline of a scan's network tests, for
	// a policy without rbl_timeout (default 15s as SpamAssassin's; a
	// policy's rbl_timeout overrides it).
	RBLTimeout confval.Duration `toml:"rbl_timeout"`
	// CacheSize bounds the cached answers (default 100000).
	CacheSize int `toml:"cache_size"`
	// MinTTL and MaxTTL clamp how long an answer is cached (default 0
	// and 1h); NegativeTTL is used for negative answers without an SOA
	// (default 5m).
	MinTTL      confval.Duration `toml:"min_ttl"`
	MaxTTL      confval.Duration `toml:"max_ttl"`
	NegativeTTL confval.Duration `toml:"negative_ttl"`
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = confval.Duration(2 * time.Second)
	}
	if c.RBLTimeout <= 0 {
		c.RBLTimeout = confval.Duration(15 * time.Second)
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 100000
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = confval.Duration(time.Hour)
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = confval.Duration(5 * time.Minute)
	}
	return c
}

// Metrics receives the resolver's observations, labelled by the zone the
// caller named (a blocklist zone, "spf", "dkim"…). The daemon wires a
// Prometheus implementation; nil uses none.
type Metrics interface {
	// Query counts a query sent (not answered from the cache) and its
	// outcome (Outcome* constants).
	Query(zone string, outcome Outcome, elapsed time.Duration)
	// CacheHit counts a lookup answered from the cache.
	CacheHit(zone string)
}

// An Outcome is how a query sent to the servers ended.
type Outcome string

// Outcomes of a query.
const (
	OutcomeAnswer   Outcome = "answer"   // NOERROR (records or none)
	OutcomeNXDomain Outcome = "nxdomain" // no such name
	OutcomeServFail Outcome = "servfail" // every server said SERVFAIL
	OutcomeTimeout  Outcome = "timeout"  // no server answered in time
	OutcomeError    Outcome = "error"    // refused, network error, bad answer
)

type nopMetrics struct{}

func (nopMetrics) Query(string, Outcome, time.Duration) {}
func (nopMetrics) CacheHit(string)                      {}

// Errors of Lookup; test them with errors.Is.
var (
	ErrTimeout  = errors.New("dns timeout")
	ErrServFail = errors.New("dns server failure")
)

// A Question is one lookup.
type Question struct {
	Name string // domain name; a trailing dot is optional
	Type uint16 // dns.TypeA, dns.TypeTXT…
	// Zone labels metrics (the list zone, "spf"…); "" is "other".
	Zone string
}

// An Answer is a server's answer to a Question.
type Answer struct {
	// Rcode is dns.RcodeSuccess or dns.RcodeNameError (NXDOMAIN).
	Rcode int
	// Records are the answer section's records of the question's type
	// (CNAME chains followed by the server are skipped).
	Records []dns.RR
	// Cached is set when the answer came from the cache.
	Cached bool
}

// IPs returns the addresses of the A and AAAA records.
func (a Answer) IPs() []net.IP {
	var out []net.IP
	for _, rr := range a.Records {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A)
		case *dns.AAAA:
			out = append(out, r.AAAA)
		}
	}
	return out
}

// TXTs returns the TXT records, each one's strings joined.
func (a Answer) TXTs() []string {
	var out []string
	for _, rr := range a.Records {
		if r, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(r.Txt, ""))
		}
	}
	return out
}

// A Resolver answers Questions. It is safe for concurrent use and meant
// to be shared by every scan of the process.
type Resolver struct {
	cfg     Config
	servers []string
	log     *slog.Logger
	metrics Metrics
	now     func() time.Time

	mu       sync.Mutex
	cache    map[cacheKey]cacheEntry
	inflight map[cacheKey]*call
}

type cacheKey struct {
	name  string
	qtype uint16
}

type cacheEntry struct {
	ans     Answer
	expires time.Time
}

// call is one query in flight; done is closed once ans/err are set.
type call struct {
	done chan struct{}
	ans  Answer
	err  error
}

// New returns a Resolver. log and metrics may be nil.
func New(cfg Config, log *slog.Logger, metrics Metrics) (*Resolver, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		metrics = nopMetrics{}
	}
	servers, err := ServerAddrs(cfg.Servers)
	if err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		servers = systemServers("/etc/resolv.conf")
	}
	return &Resolver{cfg: cfg, servers: servers, log: log, metrics: metrics, now: time.Now,
		cache: map[cacheKey]cacheEntry{}, inflight: map[cacheKey]*call{}}, nil
}

// Config is the resolver's configuration with defaults applied.
func (r *Resolver) Config() Config { return r.cfg }

// Servers are the name servers asked, "host:port".
func (r *Resolver) Servers() []string { return r.servers }

// WithServers returns a resolver asking other servers (a policy's
// dns_server lines) that shares r's cache and in-flight queries only when
// the servers are the same; otherwise it has a cache of its own.
func (r *Resolver) WithServers(servers []string) (*Resolver, error) {
	addrs, err := ServerAddrs(servers)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 || equalStrings(addrs, r.servers) {
		return r, nil
	}
	return &Resolver{cfg: r.cfg, servers: addrs, log: r.log, metrics: r.metrics, now: r.now,
		cache: map[cacheKey]cacheEntry{}, inflight: map[cacheKey]*call{}}, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ServerAddrs normalises server addresses as dns_server writes them
// ("127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1") to host:port.
func ServerAddrs(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			host, port = strings.Trim(s, "[]"), "53"
		}
		if net.ParseIP(host) == nil {
			return nil, fmt.Errorf("dns server %q: not an IP address", s)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

func systemServers(path string) []string {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil || len(cc.Servers) == 0 {
		return []string{"127.0.0.1:53"}
	}
	out := make([]string, 0, len(cc.Servers))
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	return out
}

// Lookup answers q, from the cache when it can. It returns when the
// answer is there or ctx is done, whichever comes first; a query given
// up on keeps running (bounded by the servers' timeouts) for the others
// waiting on it and for the cache.
func (r *Resolver) Lookup(ctx context.Context, q Question) (Answer, error) {
	key := cacheKey{name: dns.CanonicalName(q.Name), qtype: q.Type}
	zone := zoneLabel(q)
	r.mu.Lock()
	if ans, ok := r.cachedLocked(key); ok {
		r.mu.Unlock()
		r.metrics.CacheHit(zone)
		return ans, nil
	}
	c, ok := r.inflight[key]
	if !ok {
		c = &call{done: make(chan struct{})}
		r.inflight[key] = c
		// The query belongs to every caller waiting on it, so it runs
		// on a context of its own, bounded by the servers' timeouts;
		// the values of the first caller's context (trace ids) are kept.
		qctx := context.WithoutCancel(ctx)
		go r.run(qctx, key, zone, c)
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return c.ans, c.err
	case <-ctx.Done():
		return Answer{}, fmt.Errorf("look up %s: %w", q.Name, ctx.Err())
	}
}

// LookupA returns the IPv4 addresses of name (its A records, from the
// cache when it can), for callers that need nothing else of the answer
// such as the SMTP front end's connect-time blocklist checks. A name
// that does not exist, or has no A records, gives no addresses and no
// error; an error means no usable answer came (ErrTimeout, ErrServFail,
// ctx done). zone labels the metrics, as Question.Zone.
func (r *Resolver) LookupA(ctx context.Context, name, zone string) ([]netip.Addr, error) {
	ans, err := r.Lookup(ctx, Question{Name: name, Type: dns.TypeA, Zone: zone})
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ip := range ans.IPs() {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap())
		}
	}
	return out, nil
}

// Cached answers q from the cache alone: ok is false when the cache
// has no live answer, and nothing is sent. A scan uses it to answer
// what is cached without starting a goroutine for a Lookup.
func (r *Resolver) Cached(q Question) (ans Answer, ok bool) {
	key := cacheKey{name: dns.CanonicalName(q.Name), qtype: q.Type}
	r.mu.Lock()
	ans, ok = r.cachedLocked(key)
	r.mu.Unlock()
	if ok {
		r.metrics.CacheHit(zoneLabel(q))
	}
	return ans, ok
}

// cachedLocked is the live cached answer of key; r.mu is held.
func (r *Resolver) cachedLocked(key cacheKey) (Answer, bool) {
	e, ok := r.cache[key]
	if !ok {
		return Answer{}, false
	}
	if !r.now().Before(e.expires) {
		delete(r.cache, key)
		return Answer{}, false
	}
	ans := e.ans
	ans.Cached = true
	return ans, true
}

func zoneLabel(q Question) string {
	if q.Zone == "" {
		return "other"
	}
	return q.Zone
}

// run sends the query of c and publishes its answer.
func (r *Resolver) run(ctx context.Context, key cacheKey, zone string, c *call) {
	defer func() {
		if p := recover(); p != nil {
			c.err = fmt.Errorf("look up %s: panic: %v", key.name, p)
			r.log.Error("dns lookup panicked", "name", key.name, "panic", p)
		}
		r.mu.Lock()
		delete(r.inflight, key)
		r.mu.Unlock()
		close(c.done)
	}()
	start := r.now()
	msg, err := r.exchange(ctx, key)
	outcome := outcomeOf(msg, err)
	r.metrics.Query(zone, outcome, r.now().Sub(start))
	if err != nil {
		c.err = fmt.Errorf("look up %s %s: %w", key.name, dns.TypeToString[key.qtype], err)
		return
	}
	ans := Answer{Rcode: msg.Rcode}
	for _, rr := range msg.Answer {
		if rr.Header().Rrtype == key.qtype || key.qtype == dns.TypeANY {
			ans.Records = append(ans.Records, rr)
		}
	}
	c.ans = ans
	r.store(key, ans, r.ttl(msg, ans))
}

func outcomeOf(msg *dns.Msg, err error) Outcome {
	switch {
	case errors.Is(err, ErrTimeout):
		return OutcomeTimeout
	case errors.Is(err, ErrServFail):
		return OutcomeServFail
	case err != nil:
		return OutcomeError
	case msg.Rcode == dns.RcodeNameError:
		return OutcomeNXDomain
	}
	return OutcomeAnswer
}

// ttl is how long an answer may be cached: the smallest TTL of its
// records, or for a negative answer the SOA's (RFC 2308 §5).
func (r *Resolver) ttl(msg *dns.Msg, ans Answer) time.Duration {
	var ttl time.Duration
	if len(ans.Records) > 0 {
		min := ans.Records[0].Header().Ttl
		for _, rr := range ans.Records[1:] {
			if t := rr.Header().Ttl; t < min {
				min = t
			}
		}
		ttl = time.Duration(min) * time.Second
	} else {
		ttl = r.cfg.NegativeTTL.Std()
		for _, rr := range msg.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				t := min(soa.Hdr.Ttl, soa.Minttl)
				ttl = time.Duration(t) * time.Second
			}
		}
	}
	return max(r.cfg.MinTTL.Std(), min(ttl, r.cfg.MaxTTL.Std()))
}

func (r *Resolver) store(key cacheKey, ans Answer, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= r.cfg.CacheSize {
		// Drop what has expired; if that is not enough, an arbitrary
		// tenth (map order) makes room.
		for k, e := range r.cache {
			if !now.Before(e.expires) {
				delete(r.cache, k)
			}
		}
		n := len(r.cache) / 10
		for k := range r.cache {
			if len(r.cache) < r.cfg.CacheSize && n <= 0 {
				break
			}
			delete(r.cache, k)
			n--
		}
	}
	r.cache[key] = cacheEntry{ans: ans, expires: now.Add(ttl)}
}

// exchange asks the servers in turn until one answers with NOERROR or
// NXDOMAIN. A truncated UDP answer is asked again over TCP.
func (r *Resolver) exchange(ctx context.Context, key cacheKey) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(key.name, key.qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, false)
	var last error = ErrTimeout
	for _, server := range r.servers {
		resp, err := r.ask(ctx, m, server, "udp")
		if err == nil && resp.Truncated {
			resp, err = r.ask(ctx, m, server, "tcp")
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
				last = fmt.Errorf("%s: %w", server, ErrTimeout)
			} else {
				last = fmt.Errorf("%s: %w", server, err)
			}
			continue
		}
		switch resp.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
			return resp, nil
		case dns.RcodeServerFailure:
			last = fmt.Errorf("%s: %w", server, ErrServFail)
		default:
			last = fmt.Errorf("%s: rcode %s", server, dns.RcodeToString[resp.Rcode])
		}
	}
	return nil, last
}

func (r *Resolver) ask(ctx context.Context, m *dns.Msg, server, network string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout.Std())
	defer cancel()
	c := &dns.Client{Net: network, Timeout: r.cfg.Timeout.Std()}
	resp, _, err := c.ExchangeContext(ctx, m, server)
	if err != nil {
		return nil, err
	}
	if resp.Id != m.Id {
		return nil, errors.New("answer id mismatch")
	}
	return resp, nil
}
