package netcheck

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/miekg/dns"
)

// defaultMaxURIDomains is uridnsbl_max_domains' default.
const defaultMaxURIDomains = 20

// hostOf is the host of a URI, scheme://[user@]host[:port]/…, with an
// IPv6 literal's brackets.
func hostOf(u string) (string, bool) {
	i := strings.Index(u, "://")
	if i <= 0 || !validScheme(u[:i]) {
		return "", false
	}
	rest := u[i+3:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", false
		}
		return rest[:end+1], true
	}
	if end := strings.IndexAny(rest, ": \t\r\n"); end >= 0 {
		rest = rest[:end]
	}
	return rest, rest != ""
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '.' || s[i] == '-'):
		default:
			return false
		}
	}
	return true
}

// uriTarget is one thing a URI blocklist is asked about.
type uriTarget struct {
	domain string     // registrable domain, or the full host (notrim)
	host   string     // the full host name
	ip     netip.Addr // an IP-literal URI's address
}

// uriTargets are the distinct hosts of the message's URIs, at most
// uridnsbl_max_domains, without the uridnsbl_skip_domain domains; worked
// out once per scan for each of noTrim's values (Start's goroutine only).
func (s *netScan) uriTargets(noTrim bool) []uriTarget {
	i := 0
	if noTrim {
		i = 1
	}
	if !s.uriTargetsOK[i] {
		s.uriTargetsOf[i], s.uriTargetsOK[i] = s.findURITargets(noTrim), true
	}
	return s.uriTargetsOf[i]
}

func (s *netScan) findURITargets(noTrim bool) []uriTarget {
	skip, limit := s.plan.uriSkip, s.plan.uriLimit
	var out []uriTarget
	seen := map[string]bool{}
	for _, u := range s.msg.URIs {
		h, ok := hostOf(u)
		if !ok {
			continue
		}
		host := strings.ToLower(strings.TrimSuffix(h, "."))
		t := uriTarget{host: host}
		if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			if !publicIP(ip.Unmap()) {
				continue
			}
			t.ip = ip.Unmap()
			t.domain = ip.Unmap().String()
		} else {
			if !validDomain(host) {
				continue
			}
			t.domain = registrable(host)
			if noTrim {
				t.domain = host
			}
			if skip[t.domain] || skip[host] {
				continue
			}
		}
		if seen[t.domain] {
			continue
		}
		seen[t.domain] = true
		out = append(out, t)
		if len(out) >= limit {
			break
		}
	}
	return out
}

// startURIBL queues check_uridnsbl('RULE'): the rule's urirhsbl,
// urirhssub, uridnsbl or uridnssub definition decides what is asked.
//
//   - urirhsbl/urirhssub: each URI's registrable domain (the full host
//     with tflags notrim) under the zone; an IP-literal URI reversed.
//   - uridnsbl/uridnssub: the addresses of the domain's name servers
//     (tflags ns, the default) and/or of the host itself (tflags a),
//     reversed under the zone; an IP-literal URI's own address.
//
// tflags domains_only skips IP-literal URIs, ips_only the named ones.
func startURIBL(s *netScan, r *cf.Rule) {
	u := s.plan.uribls[r.Name]
	if u == nil {
		return
	}
	zone, sub, qtype, tf, rhs := u.zone, u.sub, u.qtype, u.tf, u.rhs
	var qs []*rblQuery
	for _, t := range s.uriTargets(tf.NoTrim) {
		if t.ip.IsValid() {
			if tf.DomainsOnly {
				continue
			}
			l := s.lookup(resolver.Question{Name: reverse(t.ip) + "." + zone, Type: qtype, Zone: zone})
			qs = append(qs, &rblQuery{what: t.ip.String(), zone: zone, txt: qtype == dns.TypeTXT, sub: sub, l: l})
			continue
		}
		if tf.IPsOnly {
			continue
		}
		if rhs {
			l := s.lookup(resolver.Question{Name: t.domain + "." + zone, Type: qtype, Zone: zone})
			qs = append(qs, &rblQuery{what: t.domain, zone: zone, txt: qtype == dns.TypeTXT, sub: sub, l: l})
			continue
		}
		// uridnsbl: the name servers' (or the host's) addresses, found
		// first, then looked up in the zone. The query is filled in
		// by the job.
		q := &rblQuery{what: t.domain, zone: zone, txt: qtype == dns.TypeTXT, sub: sub}
		useA, useNS := tf.A, tf.NS || !tf.A
		target := t
		q.prereq = s.startJob("uridnsbl "+zone+" "+t.domain+" "+strconv.FormatBool(useA)+strconv.FormatBool(useNS), func() any {
			ips := s.hostIPs(target, useA, useNS)
			var ls []*lookup
			for _, ip := range ips {
				ls = append(ls, s.lookup(resolver.Question{Name: reverse(ip) + "." + zone, Type: qtype, Zone: zone}))
			}
			return ls
		})
		qs = append(qs, q)
	}
	s.mu.Lock()
	s.byRule[r.Name] = qs
	s.mu.Unlock()
}

// hostIPs are the IPv4 addresses of t's name servers and/or host.
func (s *netScan) hostIPs(t uriTarget, useA, useNS bool) []netip.Addr {
	var hosts []string
	if useNS {
		l := s.lookup(resolver.Question{Name: t.domain, Type: dns.TypeNS, Zone: "uridnsbl-ns"})
		if s.wait(s.ctx, l) {
			for _, rr := range l.ans.Records {
				if ns, ok := rr.(*dns.NS); ok {
					hosts = append(hosts, ns.Ns)
				}
			}
		}
	}
	if useA {
		hosts = append(hosts, t.host)
	}
	var out []netip.Addr
	for _, h := range hosts {
		l := s.lookup(resolver.Question{Name: h, Type: dns.TypeA, Zone: "uridnsbl-a"})
		if !s.wait(s.ctx, l) {
			continue
		}
		for _, ip := range l.ans.IPs() {
			if a, ok := netip.AddrFromSlice(ip); ok && publicIP(a.Unmap()) {
				out = append(out, a.Unmap())
			}
		}
	}
	return out
}

// evalURIBL answers check_uridnsbl.
func evalURIBL(ctx context.Context, s *netScan, rule string, _ []string) (bool, []string) {
	s.mu.Lock()
	qs := s.byRule[rule]
	s.mu.Unlock()
	var flat []*rblQuery
	for _, q := range qs {
		if q.prereq == nil {
			flat = append(flat, q)
			continue
		}
		if !s.waitJob(ctx, q.prereq) {
			continue
		}
		ls, _ := q.prereq.out.([]*lookup)
		for _, l := range ls {
			flat = append(flat, &rblQuery{what: q.what, zone: q.zone, txt: q.txt, sub: q.sub, l: l})
		}
	}
	hit, details := s.matchQueries(ctx, flat, subtest{kind: subAny})
	if !hit {
		return false, nil
	}
	var doms []string
	for _, d := range details {
		w, _, _ := strings.Cut(d, " ")
		doms = append(doms, w)
	}
	return true, []string{"URIs: " + strings.Join(doms, ", ")}
}
