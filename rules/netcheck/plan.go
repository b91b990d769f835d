package netcheck

import (
	"runtime"
	"strconv"
	"strings"
	"time"
	"weak"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/miekg/dns"
)

// A plan is what a policy's net rules ask of every scan, worked out once
// per policy: which rules start lookups, their list zones and parsed
// subtests, the URI list settings, the deadline and the resolver. A scan
// then only works out the message's own part (relays, URIs) and starts
// the lookups. A plan is never changed once built and is shared by every
// scan of its policy.
type plan struct {
	timeout time.Duration
	res     *resolver.Resolver
	// off says which kinds of evals are switched off (dns_available no,
	// skip_rbl_checks, skip_uribl_checks).
	off [kindCount]bool
	// starts are the rules whose lookups a scan starts, in policy order.
	starts []*cf.Rule
	// subs are the parsed subtests of the check_rbl family's rules, by
	// rule name; a rule whose subtest does not parse is in badSub.
	subs   map[string]subtest
	badSub map[string]bool
	// uribls are the check_uridnsbl rules' list definitions, by the name
	// of the rule calling it.
	uribls map[string]*uriblRule
	// uriSkip and uriLimit are uridnsbl_skip_domain and
	// uridnsbl_max_domains.
	uriSkip  map[string]bool
	uriLimit int
	// hashbls are the check_hashbl_* rules' parsed arguments, by rule
	// name.
	hashbls map[string]*hashRule
	// hashTags are the check_hashbl_tag rules by the tag they read, for
	// lookups of values the scan's rules capture (capturedTags).
	hashTags map[string][]*cf.Rule
	// hashIgnore are hashbl_ignore's values, lower case: values, hashes,
	// attachment file names and media types HashBL never looks up.
	hashIgnore map[string]bool
	// asks are the askdns rules, by name.
	asks map[string]*askRule
	// dmarc is set when a started rule checks DMARC.
	dmarc bool
	// test is the policy's dns_available test; nil when it is yes or no.
	test *dnsTest
}

// A uriblRule is one urirhsbl/urirhssub/uridnsbl/uridnssub definition,
// ready to query.
type uriblRule struct {
	zone  string
	sub   subtest
	qtype uint16
	tf    cf.Tflags
	rhs   bool // urirhs*: the domain under the zone; else its addresses
}

// planFor returns pol's plan, building it on the first scan of pol.
//
// Plans are kept by a weak pointer to their policy and dropped when the
// policy is collected, so that reloads and per-user policies (which come
// and go with the user cache) do not pile up plans.
func (c *Checker) planFor(pol *cf.Policy) *plan {
	key := weak.Make(pol)
	if p, ok := c.plans.Load(key); ok {
		return p.(*plan)
	}
	p, loaded := c.plans.LoadOrStore(key, c.buildPlan(pol))
	if !loaded {
		runtime.AddCleanup(pol, func(k weak.Pointer[cf.Policy]) { c.plans.Delete(k) }, key)
	}
	return p.(*plan)
}

// buildPlan works out pol's plan; what Start did on every scan before.
func (c *Checker) buildPlan(pol *cf.Policy) *plan {
	set := pol.Settings()
	p := &plan{timeout: c.rblTimeout(pol), res: c.res, subs: map[string]subtest{},
		badSub: map[string]bool{}, uribls: map[string]*uriblRule{}, uriSkip: map[string]bool{},
		uriLimit: defaultMaxURIDomains, hashbls: map[string]*hashRule{}, hashIgnore: map[string]bool{}, asks: map[string]*askRule{}}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(set.DNSAvailable)), "no") {
		p.off = [kindCount]bool{true, true, true}
		return p
	}
	p.test = parseDNSTest(pol, set.DNSAvailable)
	p.off[kindRBL] = set.SkipRBLChecks
	p.off[kindURIBL] = set.SkipURIBLChecks
	if servers := dnsServers(pol); len(servers) > 0 {
		res, err := c.resolverFor(servers)
		if err != nil {
			c.log.Warn("dns_server", "err", err)
		} else {
			p.res = res
		}
	}
	for _, d := range pol.OtherDirectives() {
		switch d.Key {
		case "uridnsbl_skip_domain":
			for _, w := range strings.Fields(d.Value) {
				p.uriSkip[strings.ToLower(w)] = true
			}
		case "hashbl_ignore":
			for _, w := range strings.Fields(d.Value) {
				p.hashIgnore[strings.ToLower(w)] = true
			}
		case "clear_uridnsbl_skip_domain":
			clear(p.uriSkip)
		case "uridnsbl_max_domains":
			if n, err := strconv.Atoi(strings.TrimSpace(d.Value)); err == nil && n > 0 {
				p.uriLimit = n
			}
		}
	}
	// Sets whose answers a check_rbl_sub rule reads start even when
	// their own check_rbl rule is scored 0.
	needSets := map[string]bool{}
	var active []*cf.Rule
	for _, r := range pol.Rules() {
		if r.Kind == cf.KindAskDNS && r.AskDNS != nil && !p.off[kindAuth] && runs(r) {
			a, err := planAskDNS(r)
			if err != nil {
				c.log.Warn("askdns", "rule", r.Name, "err", err)
				continue
			}
			p.asks[r.Name] = a
			p.starts = append(p.starts, r)
			continue
		}
		if r.Eval == nil {
			continue
		}
		def, ok := evals[r.Eval.Func]
		if !ok || p.off[def.kind] {
			continue
		}
		if r.Eval.Func == "check_rbl_sub" && len(r.Eval.Args) > 0 && runs(r) {
			needSets[r.Eval.Args[0]] = true
		}
		if zone := zoneArg(r); zone != "" && isDeadZone(zone) {
			continue
		}
		if i := subArg(r.Eval.Func); i >= 0 {
			sub, err := parseSubtest(arg(r.Eval.Args, i), true)
			if err != nil {
				c.log.Warn("subtest", "rule", r.Name, "err", err)
				p.badSub[r.Name] = true
			}
			p.subs[r.Name] = sub
		}
		active = append(active, r)
	}
	for _, r := range active {
		def := evals[r.Eval.Func]
		if def.start == nil {
			continue
		}
		isSet := r.Eval.Func == "check_rbl" || r.Eval.Func == "check_rbl_txt"
		if !runs(r) && !(isSet && len(r.Eval.Args) > 0 && needSets[r.Eval.Args[0]]) {
			continue
		}
		if strings.HasPrefix(r.Eval.Func, "check_dmarc") {
			p.dmarc = true
		}
		if r.Eval.Func == "check_uridnsbl" {
			u := c.planURIBL(pol, r)
			if u == nil {
				continue
			}
			p.uribls[r.Name] = u
		}
		if strings.HasPrefix(r.Eval.Func, "check_hashbl_") {
			h, err := planHashBL(r)
			if err != nil {
				c.log.Warn("hashbl", "rule", r.Name, "err", err)
				continue
			}
			p.hashbls[r.Name] = h
			if h.tag != "" {
				if p.hashTags == nil {
					p.hashTags = map[string][]*cf.Rule{}
				}
				p.hashTags[h.tag] = append(p.hashTags[h.tag], r)
			}
		}
		p.starts = append(p.starts, r)
	}
	return p
}

// subArg is the index of the subtest argument of an eval of the
// check_rbl family, -1 for the others.
func subArg(fn string) int {
	switch fn {
	case "check_rbl", "check_rbl_txt":
		return 2
	case "check_rbl_sub", "check_rbl_envfrom", "check_rbl_from_domain", "check_rbl_from_host", "check_rbl_headers":
		return 1
	}
	return -1
}

// planURIBL reads the list definition check_uridnsbl('RULE') names; nil
// when there is none usable.
func (c *Checker) planURIBL(pol *cf.Policy, r *cf.Rule) *uriblRule {
	name := r.Name
	if len(r.Eval.Args) > 0 && r.Eval.Args[0] != "" {
		name = r.Eval.Args[0]
	}
	var def *cf.URIBLDef
	for _, d := range pol.URIBLs() {
		if d.Rule == name {
			def = &d
			break
		}
	}
	if def == nil {
		return nil
	}
	zone := normZone(def.Zone)
	if isDeadZone(zone) {
		return nil
	}
	rhs := strings.HasPrefix(def.Directive, "urirhs")
	if !rhs && !strings.HasPrefix(def.Directive, "uridns") {
		return nil // urinsrhsbl and urifullnsrhsbl: not yet
	}
	sub, err := parseSubtest(def.Sub, false)
	if err != nil {
		c.log.Warn("uridnsbl subtest", "rule", name, "err", err)
		return nil
	}
	u := &uriblRule{zone: zone, sub: sub, qtype: dns.TypeA, tf: r.Tflags, rhs: rhs}
	if strings.EqualFold(def.Type, "TXT") {
		u.qtype = dns.TypeTXT
	}
	if d := pol.Rule(name); d != nil {
		u.tf = d.Tflags
	}
	return u
}

// subtest is rule's subtest from the plan; ok is false when it does not
// parse (the rule never hits).
func (s *netScan) subtest(rule string, args []string, i int) (subtest, bool) {
	if s.plan.badSub[rule] {
		return subtest{}, false
	}
	if sub, ok := s.plan.subs[rule]; ok {
		return sub, true
	}
	sub, err := parseSubtest(arg(args, i), true)
	return sub, err == nil
}
