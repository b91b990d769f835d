package netcheck

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gospamd/gospamd/internal/workslot"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/tokenizer"
	"golang.org/x/sync/errgroup"
)

// A Checker runs the network tests of every scan (rules.NetChecker). It
// holds no per-scan state and is safe for concurrent use.
type Checker struct {
	res *resolver.Resolver
	log *slog.Logger
	now func() time.Time

	// byServers are resolvers for policies that name dns_server lines,
	// by their server list, so that each keeps its cache across scans.
	mu        sync.Mutex
	byServers map[string]*resolver.Resolver
	// avail are the dns_available test verdicts (dnsavail.go), by
	// servers and names asked.
	avail map[string]*availState
	// plans are the policies' plans (plan.go), by weak.Pointer[cf.Policy].
	plans sync.Map
	// answered is a closed channel, the done of every lookup answered
	// from the cache.
	answered chan struct{}
}

// Options are a Checker's dependencies.
type Options struct {
	Logger *slog.Logger
	// Now is the clock of SPF and DKIM checks (default time.Now).
	Now func() time.Time
}

// New returns a Checker asking res.
func New(res *resolver.Resolver, opt Options) *Checker {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	c := &Checker{res: res, log: opt.Logger, now: opt.Now, byServers: map[string]*resolver.Resolver{}, avail: map[string]*availState{},
		answered: make(chan struct{})}
	close(c.answered)
	return c
}

// An evalDef is one eval function: start queues the lookups a rule
// calling it needs (nil: none of its own); eval answers the rule.
type evalDef struct {
	kind  evalKind
	start func(s *netScan, r *cf.Rule)
	eval  func(ctx context.Context, s *netScan, rule string, args []string) (bool, []string)
}

// evalKind says which setting switches an eval off.
type evalKind uint8

const (
	kindRBL   evalKind = iota // skip_rbl_checks
	kindURIBL                 // skip_uribl_checks
	kindAuth                  // SPF, DKIM, DMARC: only dns_available
	kindCount
)

// evals are the eval functions this package answers; never changed
// once built.
var evals = buildEvals()

func buildEvals() map[string]evalDef {
	m := map[string]evalDef{
		"check_rbl":                {kindRBL, startRBL, evalRBL},
		"check_rbl_txt":            {kindRBL, startRBL, evalRBL},
		"check_rbl_sub":            {kindRBL, nil, evalRBLSub},
		"check_rbl_envfrom":        {kindRBL, startRHS, evalRHS},
		"check_rbl_from_domain":    {kindRBL, startRHS, evalRHS},
		"check_rbl_from_host":      {kindRBL, startRHS, evalRHS},
		"check_rbl_headers":        {kindRBL, startRHS, evalRHS},
		"check_dns_sender":         {kindRBL, startDNSSender, evalDNSSender},
		"check_uridnsbl":           {kindURIBL, startURIBL, evalURIBL},
		"check_hashbl_bodyre":      {kindRBL, startHashBL, evalHashBL},
		"check_hashbl_uris":        {kindRBL, startHashBL, evalHashBL},
		"check_hashbl_emails":      {kindRBL, startHashBL, evalHashBL},
		"check_hashbl_tag":         {kindRBL, startHashBL, evalHashBL},
		"check_hashbl_attachments": {kindRBL, startHashBL, evalHashBL},
	}
	m[rules.AskDNSEval] = evalDef{kindAuth, nil, evalAskDNS}
	addSPF(m)
	addAuth(m)
	return m
}

// Handles reports whether name is one of the eval functions answered
// here.
func (c *Checker) Handles(name string) bool {
	_, ok := evals[name]
	return ok
}

// Plugins are the SpamAssassin plugins whose rules the Checker answers
// (rules.NetPlugins): their ifplugin blocks are read when it is on.
func (c *Checker) Plugins() []string {
	return []string{"DNSEval", "URIDNSBL", "SPF", "DKIM", "DMARC", "HashBL", "AskDNS"}
}

// EvalNames are the eval functions answered here, for lint.
func EvalNames() []string {
	out := make([]string, 0, len(evals))
	for n := range evals {
		out = append(out, n)
	}
	return out
}

// A netScan is one scan's lookups.
type netScan struct {
	c   *Checker
	res *resolver.Resolver
	// ctx carries the scan's one deadline for every lookup.
	ctx    context.Context
	cancel context.CancelFunc
	msg    *tokenizer.Message
	pol    *cf.Policy
	plan   *plan
	set    cf.Settings
	relays []relay
	g      errgroup.Group
	off    [kindCount]bool
	// uriTargets are the message's URI hosts, trimmed ([0]) and not
	// ([1]), worked out by Start's goroutine on first use.
	uriTargetsOf [2][]uriTarget
	uriTargetsOK [2]bool

	mu      sync.Mutex
	lookups map[lookupKey]*lookup
	// rblSets are the queries of each check_rbl set name.
	rblSets map[string][]*rblQuery
	// byRule are the queries a rule started (RHSBL, URIBL).
	byRule map[string][]*rblQuery
	// jobs are chained lookups (URIDNSBL NS lookups, SPF) by key.
	jobs map[string]*job
	// captured are the capture tags' values the engine handed over
	// (SetCaptured), by tag.
	captured map[string][]string
}

// A lookup is one question in flight or answered.
type lookup struct {
	q    resolver.Question
	done chan struct{}
	ans  resolver.Answer
	err  error
}

type lookupKey struct {
	name  string
	qtype uint16
}

// An rblQuery is one blocklist question and what it stands for.
type rblQuery struct {
	what   string // the address or domain looked up, for the report
	zone   string
	txt    bool
	sub    subtest
	l      *lookup
	prereq *job // a chained lookup that must finish first (URIDNSBL NS)
}

// A job is a chain of lookups run in one goroutine; done is closed when
// it ends.
type job struct {
	done chan struct{}
	// out is what the job found (its type is the job's business).
	out any
}

// Start begins the lookups the net rules of pol call for in m. It does
// not block, but for the first scans of a policy with "dns_available
// test", which wait for the first probe (dnsavail.go). What depends on pol alone is worked out on its first scan
// (planFor); a lookup the resolver has cached is answered at once,
// without a goroutine.
func (c *Checker) Start(ctx context.Context, m *tokenizer.Message, pol *cf.Policy) rules.NetScan {
	p := c.planFor(pol)
	s := &netScan{c: c, res: p.res, msg: m, pol: pol, plan: p, set: pol.Settings(), off: p.off,
		lookups: map[lookupKey]*lookup{}, rblSets: map[string][]*rblQuery{},
		byRule: map[string][]*rblQuery{}, jobs: map[string]*job{}}
	s.ctx, s.cancel = context.WithTimeout(ctx, p.timeout)
	if len(p.starts) == 0 {
		return s
	}
	if p.test != nil && !s.useWorkingServers() {
		s.off = [kindCount]bool{true, true, true}
		return s
	}
	s.relays = relays(m, s.set)
	// DMARC needs the SPF result, and the DKIM/DMARC job decides whether
	// to check DMARC by whether the SPF job exists: start it first, or a
	// DKIM rule earlier in the policy would start that job without it.
	if p.dmarc {
		startSPF(s, nil)
	}
	for _, r := range p.starts {
		if r.Kind == cf.KindAskDNS {
			startAskDNS(s, r)
			continue
		}
		evals[r.Eval.Func].start(s, r)
	}
	return s
}

// useWorkingServers applies the dns_available test: the scan asks only
// the servers that answered it; false when none did.
func (s *netScan) useWorkingServers() bool {
	good := s.c.dnsAvailable(s.ctx, s.res, s.plan.test)
	if len(good) == 0 {
		return false
	}
	if len(good) == len(s.res.Servers()) {
		return true
	}
	res, err := s.c.resolverFor(good)
	if err != nil {
		s.c.log.Warn("dns_available", "err", err)
		return true
	}
	s.res = res
	return true
}

// runs reports whether the engine may run r with network tests on: a
// sub-rule runs for the metas that use it, a rule scored 0 in both
// network score sets never does.
func runs(r *cf.Rule) bool {
	return r.IsSubRule() || r.Scores[1] != 0 || r.Scores[3] != 0
}

// zoneArg is the list zone an eval call names, "" if none.
func zoneArg(r *cf.Rule) string {
	args := r.Eval.Args
	switch r.Eval.Func {
	case "check_rbl", "check_rbl_txt":
		if len(args) > 1 {
			return normZone(args[1])
		}
	case "check_rbl_envfrom", "check_rbl_from_domain", "check_rbl_from_host", "check_rbl_headers":
		if len(args) > 0 {
			return normZone(args[0])
		}
	}
	return ""
}

func normZone(z string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(z), ".")) }

// Eval answers a net rule (rules.NetScan).
func (s *netScan) Eval(ctx context.Context, rule string, call *cf.EvalCall) (bool, []string) {
	def, ok := evals[call.Func]
	if !ok || s.off[def.kind] {
		return false, nil
	}
	return def.eval(ctx, s, rule, call.Args)
}

// lookup starts q once per scan (several rules may ask the same).
func (s *netScan) lookup(q resolver.Question) *lookup {
	key := lookupKey{strings.ToLower(strings.TrimSuffix(q.Name, ".")), q.Type}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.lookups[key]; ok {
		return l
	}
	if ans, ok := s.res.Cached(q); ok {
		l := &lookup{q: q, done: s.c.answered, ans: ans}
		s.lookups[key] = l
		return l
	}
	l := &lookup{q: q, done: make(chan struct{})}
	s.lookups[key] = l
	s.goSafe("lookup "+q.Name, func() {
		defer close(l.done)
		l.ans, l.err = s.res.Lookup(s.ctx, q)
	})
	return l
}

// goSafe runs f in the scan's group; a panic in it is logged, not
// spread.
func (s *netScan) goSafe(what string, f func()) {
	s.g.Go(func() error {
		defer func() {
			if p := recover(); p != nil {
				s.c.log.Error("network test panicked", "what", what, "panic", p)
			}
		}()
		f()
		return nil
	})
}

// startJob runs f once per key as a chained lookup.
func (s *netScan) startJob(key string, f func() any) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[key]; ok {
		return j
	}
	j := &job{done: make(chan struct{})}
	s.jobs[key] = j
	s.goSafe(key, func() {
		defer close(j.done)
		j.out = f()
	})
	return j
}

// waitJob waits for j until the scan's deadline; false if it did not end.
func (s *netScan) waitJob(ctx context.Context, j *job) bool {
	select {
	case <-j.done:
		return true
	default:
	}
	ok := false
	s.blocking(ctx, func() {
		select {
		case <-j.done:
			ok = true
		case <-s.ctx.Done():
		case <-ctx.Done():
		}
	})
	return ok
}

// blocking runs wait, a wait for DNS answers. Called from the rule's
// evaluation (ctx is the engine's, not the scan's own s.ctx), it gives
// the server's scan slot back meanwhile (workslot): a scan waiting on a
// list server uses no CPU. Waits inside lookup goroutines keep it.
func (s *netScan) blocking(ctx context.Context, wait func()) {
	if ctx == s.ctx {
		wait()
		return
	}
	workslot.Wait(ctx, wait)
}

// wait waits for l until the scan's deadline; false without an answer.
//
// An answer that came before the deadline counts even when the deadline
// has passed since (select would pick at random between the two).
func (s *netScan) wait(ctx context.Context, l *lookup) bool {
	select {
	case <-l.done:
		return l.err == nil
	default:
	}
	ok := false
	s.blocking(ctx, func() {
		select {
		case <-l.done:
			ok = l.err == nil
		case <-s.ctx.Done():
		case <-ctx.Done():
		}
	})
	return ok
}

// rblTimeout is the scan's deadline for network tests: the policy's
// rbl_timeout (seconds, or a duration with a unit), else the resolver's.
func (c *Checker) rblTimeout(pol *cf.Policy) time.Duration {
	d := c.res.Config().RBLTimeout.Std()
	ds := pol.Directives("rbl_timeout")
	if len(ds) == 0 {
		return d
	}
	v, _, _ := strings.Cut(strings.TrimSpace(ds[len(ds)-1].Value), " ")
	if t, err := time.ParseDuration(v); err == nil && t > 0 {
		return t
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
		return time.Duration(f * float64(time.Second))
	}
	return d
}

// dnsServers are the policy's dns_server lines; clear_dns_servers drops
// the ones before it.
func dnsServers(pol *cf.Policy) []string {
	var out []string
	for _, d := range pol.OtherDirectives() {
		switch d.Key {
		case "dns_server":
			out = append(out, strings.TrimSpace(d.Value))
		case "clear_dns_servers":
			out = nil
		}
	}
	return out
}

func (c *Checker) resolverFor(servers []string) (*resolver.Resolver, error) {
	key := strings.Join(servers, " ")
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.byServers[key]; ok {
		return r, nil
	}
	r, err := c.res.WithServers(servers)
	if err != nil {
		return nil, fmt.Errorf("dns servers %s: %w", key, err)
	}
	c.byServers[key] = r
	return r, nil
}

// isDeadZone: the built-in dead list zones are skipped.
func isDeadZone(zone string) bool { return cf.IsDeadZone(zone) }
