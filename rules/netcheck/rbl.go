package netcheck

import (
	"context"
	"net/netip"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/tokenizer"
	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// startRBL queues check_rbl('SET', 'zone.', ['SUBTEST']) and
// check_rbl_txt: the set's relay addresses, reversed, under the zone.
// The queries are kept under the set name for check_rbl_sub.
func startRBL(s *netScan, r *cf.Rule) {
	args := r.Eval.Args
	if len(args) < 2 {
		return
	}
	set, zone := args[0], normZone(args[1])
	txt := r.Eval.Func == "check_rbl_txt"
	qtype := dns.TypeA
	if txt {
		qtype = dns.TypeTXT
	}
	var qs []*rblQuery
	for _, ip := range rblIPs(s.relays, set) {
		l := s.lookup(resolver.Question{Name: reverse(ip) + "." + zone, Type: qtype, Zone: zone})
		qs = append(qs, &rblQuery{what: ip.String(), zone: zone, txt: txt, l: l})
	}
	s.mu.Lock()
	s.rblSets[set] = append(s.rblSets[set], qs...)
	s.byRule[r.Name] = qs
	s.mu.Unlock()
}

// evalRBL answers check_rbl and check_rbl_txt: a hit when an answer of
// the rule's queries passes its subtest.
func evalRBL(ctx context.Context, s *netScan, rule string, args []string) (bool, []string) {
	sub, ok := s.subtest(rule, args, 2)
	if !ok {
		return false, nil
	}
	s.mu.Lock()
	qs := s.byRule[rule]
	s.mu.Unlock()
	return s.matchQueries(ctx, qs, sub)
}

// evalRBLSub answers check_rbl_sub('SET', 'SUBTEST') from the answers of
// the set's check_rbl queries.
func evalRBLSub(ctx context.Context, s *netScan, rule string, args []string) (bool, []string) {
	if len(args) < 2 {
		return false, nil
	}
	sub, ok := s.subtest(rule, args, 1)
	if !ok {
		return false, nil
	}
	s.mu.Lock()
	qs := s.rblSets[args[0]]
	s.mu.Unlock()
	return s.matchQueries(ctx, qs, sub)
}

// matchQueries waits for qs and reports those whose answers pass sub
// (each query's own subtest too, for URIDNSBL).
func (s *netScan) matchQueries(ctx context.Context, qs []*rblQuery, sub subtest) (bool, []string) {
	var details []string
	seen := map[string]bool{}
	for _, q := range qs {
		if q.prereq != nil && !s.waitJob(ctx, q.prereq) {
			continue
		}
		if q.l == nil || !s.wait(ctx, q.l) || q.l.ans.Rcode != dns.RcodeSuccess {
			continue
		}
		if !q.matches(sub) {
			continue
		}
		d := q.what + " listed in " + q.zone
		if !seen[d] {
			seen[d] = true
			details = append(details, d)
		}
	}
	return len(details) > 0, details
}

func (q *rblQuery) matches(sub subtest) bool {
	if q.txt {
		for _, t := range q.l.ans.TXTs() {
			if sub.matchText(t) && q.sub.matchText(t) {
				return true
			}
		}
		return false
	}
	for _, ip := range q.l.ans.IPs() {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		if sub.matchIP(a) && q.sub.matchIP(a) {
			return true
		}
	}
	return false
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// startRHS queues the domain blocklist evals:
//
//   - check_rbl_envfrom('zone', ['SUB']): the envelope sender's domain;
//   - check_rbl_from_domain('zone', ['SUB']): the registrable domains of
//     the From addresses;
//   - check_rbl_from_host('zone', ['SUB']): their full host names;
//   - check_rbl_headers('zone', ['SUB', ['Header,Header']]): the domains
//     of the addresses in the named headers (default EnvelopeFrom,
//     Reply-To, Disposition-Notification-To, X-WebmailclientIP,
//     X-Source-IP), addresses in them looked up reversed.
func startRHS(s *netScan, r *cf.Rule) {
	args := r.Eval.Args
	if len(args) < 1 {
		return
	}
	zone := normZone(args[0])
	var names []string
	switch r.Eval.Func {
	case "check_rbl_envfrom":
		if d := domainOf(s.envelopeFrom()); d != "" {
			names = append(names, d)
		}
	case "check_rbl_from_domain", "check_rbl_from_host":
		for _, a := range s.fromAddrs() {
			d := domainOf(a)
			if r.Eval.Func == "check_rbl_from_domain" {
				d = registrable(d)
			}
			if d != "" {
				names = append(names, d)
			}
		}
	case "check_rbl_headers":
		headers := []string{"EnvelopeFrom", "Reply-To", "Disposition-Notification-To", "X-WebmailclientIP", "X-Source-IP"}
		if h := arg(args, 2); h != "" {
			headers = strings.Split(h, ",")
		}
		for _, h := range headers {
			h = strings.TrimSpace(h)
			if strings.EqualFold(h, "EnvelopeFrom") {
				if d := domainOf(s.envelopeFrom()); d != "" {
					names = append(names, d)
				}
				continue
			}
			for _, v := range s.msg.Header.Values(h) {
				if ip, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(v), "[]")); err == nil {
					if publicIP(ip.Unmap()) {
						names = append(names, reverse(ip.Unmap()))
					}
					continue
				}
				for _, a := range tokenizer.HeaderAddresses(v) {
					if d := domainOf(a); d != "" {
						names = append(names, d)
					}
				}
			}
		}
	}
	var qs []*rblQuery
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(n)
		if seen[n] {
			continue
		}
		seen[n] = true
		l := s.lookup(resolver.Question{Name: n + "." + zone, Type: dns.TypeA, Zone: zone})
		qs = append(qs, &rblQuery{what: n, zone: zone, l: l})
	}
	s.mu.Lock()
	s.byRule[r.Name] = qs
	s.mu.Unlock()
}

// evalRHS answers the domain blocklist evals.
func evalRHS(ctx context.Context, s *netScan, rule string, args []string) (bool, []string) {
	sub, ok := s.subtest(rule, args, 1)
	if !ok {
		return false, nil
	}
	s.mu.Lock()
	qs := s.byRule[rule]
	s.mu.Unlock()
	return s.matchQueries(ctx, qs, sub)
}

// startDNSSender queues check_dns_sender(): the A and MX records of the
// envelope sender's domain.
func startDNSSender(s *netScan, r *cf.Rule) {
	d := domainOf(s.envelopeFrom())
	if d == "" {
		return
	}
	a := s.lookup(resolver.Question{Name: d, Type: dns.TypeA, Zone: "sender"})
	mx := s.lookup(resolver.Question{Name: d, Type: dns.TypeMX, Zone: "sender"})
	s.mu.Lock()
	s.byRule[r.Name] = []*rblQuery{{what: d, l: a}, {what: d, l: mx}}
	s.mu.Unlock()
}

// evalDNSSender: the envelope sender's domain has neither an A nor an MX
// record (both answered, neither with records).
func evalDNSSender(ctx context.Context, s *netScan, rule string, _ []string) (bool, []string) {
	s.mu.Lock()
	qs := s.byRule[rule]
	s.mu.Unlock()
	if len(qs) == 0 {
		return false, nil
	}
	for _, q := range qs {
		if !s.wait(ctx, q.l) || len(q.l.ans.Records) > 0 {
			return false, nil
		}
	}
	return true, []string{"no A or MX for " + qs[0].what}
}

// envelopeFrom is the envelope sender as SpamAssassin derives it.
func (s *netScan) envelopeFrom() string {
	return envelopeFrom(s.msg, s.pol)
}

// fromAddrs are the addresses of the From header fields.
func (s *netScan) fromAddrs() []string {
	var out []string
	for _, f := range s.msg.Header {
		if strings.EqualFold(f.Name, "From") {
			out = append(out, tokenizer.HeaderAddresses(f.Raw)...)
		}
	}
	return out
}

// domainOf is the domain of an address, lower case, "" if none.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	d := strings.ToLower(strings.Trim(addr[i+1:], " .>[]"))
	if !validDomain(d) {
		return ""
	}
	return d
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// registrable is d's registrable domain ("bar.co.uk" for
// "foo.bar.co.uk"), or d itself when the public suffix list has none.
func registrable(d string) string {
	if r, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return r
	}
	return d
}
