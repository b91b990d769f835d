package netcheck

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/miekg/dns"
)

// AskDNS (SpamAssassin's Plugin::AskDNS): "askdns NAME QUERY TYPE
// SUBTEST" asks QUERY, its _TAG_ placeholders filled from the message
// (one query per combination of a tag's values; none when a tag has no
// value), and hits when an answer record of TYPE matches SUBTEST.

// askTag finds the tags of a query template.
var askTag = regexp.MustCompile(`_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_`)

// An askRule is one askdns rule, ready to query.
type askRule struct {
	tmpl  string
	tags  []string
	qtype uint16
	types map[string]bool // answer types tested; "ANY" any
	sub   askSub
}

// askSub is an askdns subtest (parse_and_canonicalize_subtest).
type askSub struct {
	kind   askKind
	re     *regexp.Regexp
	exact  string
	n1, n2 uint32
	rcodes map[int]bool
}

type askKind uint8

const (
	askAny    askKind = iota // none: any record of the type
	askRegex                 // /re/flags
	askExact                 // "string", or a word compared as written
	askMask                  // n: (answer & n) != 0 within 127/8
	askRange                 // n1-n2
	askMasked                // n1/n2: (answer & n2) == (n1 & n2)
	askRcode                 // [NXDOMAIN, NOERROR]
)

var askRcodeNames = map[string]int{"NOERROR": dns.RcodeSuccess, "FORMERR": dns.RcodeFormatError,
	"SERVFAIL": dns.RcodeServerFailure, "NXDOMAIN": dns.RcodeNameError, "NOTIMP": dns.RcodeNotImplemented,
	"REFUSED": dns.RcodeRefused}

func parseAskSub(s string) (askSub, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return askSub{kind: askAny}, nil
	case strings.HasPrefix(s, "/"):
		end := strings.LastIndexByte(s, '/')
		if end == 0 {
			return askSub{}, fmt.Errorf("subtest %q: unterminated regex", s)
		}
		expr, flags := s[1:end], s[end+1:]
		if flags != "" {
			if strings.Trim(flags, "imsx") != "" {
				return askSub{}, fmt.Errorf("subtest %q: flags", s)
			}
			expr = "(?" + strings.ReplaceAll(flags, "x", "") + ")" + expr
			expr = strings.Replace(expr, "(?)", "", 1)
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return askSub{}, fmt.Errorf("subtest %q: %w", s, err)
		}
		return askSub{kind: askRegex, re: re}, nil
	case len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0]:
		return askSub{kind: askExact, exact: s[1 : len(s)-1]}, nil
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		rc := map[int]bool{}
		for _, w := range strings.Split(s[1:len(s)-1], ",") {
			w = strings.ToUpper(strings.TrimSpace(w))
			if n, ok := askRcodeNames[w]; ok {
				rc[n] = true
			} else if n, err := strconv.Atoi(w); err == nil {
				rc[n] = true
			} else {
				return askSub{}, fmt.Errorf("subtest %q: rcode %q", s, w)
			}
		}
		return askSub{kind: askRcode, rcodes: rc}, nil
	}
	n1s, n2s, delim := s, "", ""
	if i := strings.IndexAny(s, "/-"); i >= 0 {
		n1s, n2s, delim = s[:i], s[i+1:], s[i:i+1]
	}
	n1, quad1, ok1 := askNum(n1s)
	if !ok1 {
		return askSub{}, fmt.Errorf("invalid subtest %q", s)
	}
	if delim == "" {
		if quad1 {
			return askSub{kind: askRange, n1: n1, n2: n1}, nil
		}
		return askSub{kind: askMask, n1: n1}, nil
	}
	n2, _, ok2 := askNum(n2s)
	if !ok2 {
		return askSub{}, fmt.Errorf("invalid subtest %q", s)
	}
	if delim == "-" {
		return askSub{kind: askRange, n1: n1, n2: n2}, nil
	}
	return askSub{kind: askMasked, n1: n1, n2: n2}, nil
}

// askNum reads a decimal, 0x hex or dotted-quad number; quad tells
// which.
func askNum(s string) (n uint32, quad, ok bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() && strings.Count(s, ".") == 3 {
		b := a.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true, true
	}
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		return uint32(v), false, err == nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), false, err == nil
}

// planAskDNS parses an askdns rule.
func planAskDNS(r *cf.Rule) (*askRule, error) {
	q := r.AskDNS
	a := &askRule{tmpl: strings.TrimSuffix(q.Query, "."), types: map[string]bool{}}
	for _, m := range askTag.FindAllStringSubmatch(a.tmpl, -1) {
		a.tags = append(a.tags, m[1])
	}
	for _, t := range q.Types {
		a.types[t] = true
	}
	a.qtype = dns.TypeANY
	if len(q.Types) == 1 && q.Types[0] != "ANY" {
		a.qtype = dns.StringToType[q.Types[0]]
	}
	sub, err := parseAskSub(q.Subtest)
	if err != nil {
		return nil, err
	}
	a.sub = sub
	return a, nil
}

// askTagValues are a tag's values for the scan, lower case; nil when
// the tag has none (or is not known).
func (s *netScan) askTagValues(tag string) []string {
	var out []string
	add := func(v string) {
		v = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(v), "."))
		if v != "" && !containsFold(out, v) {
			out = append(out, v)
		}
	}
	lastExternal := func() *relay {
		for i := range s.relays {
			if !s.relays[i].internal {
				return &s.relays[i]
			}
		}
		return nil
	}
	switch tag {
	case "SENDERDOMAIN":
		add(domainOf(s.envelopeFrom()))
	case "AUTHORDOMAIN":
		for _, a := range s.fromAddrs() {
			add(domainOf(a))
		}
	case "DKIMDOMAIN":
		startAuth(s, &cf.Rule{Eval: &cf.EvalCall{Func: "check_dkim_valid"}})
		if a := s.authResult(s.ctx); a != nil {
			for _, v := range a.verifs {
				if v.Err == nil {
					add(v.Domain)
				}
			}
		}
	case "LASTEXTERNALIP":
		if r := lastExternal(); r != nil {
			add(r.ip.String())
		}
	case "LASTEXTERNALRDNS":
		if r := lastExternal(); r != nil {
			add(r.rdns)
		}
	case "LASTEXTERNALHELO":
		if r := lastExternal(); r != nil {
			add(strings.Trim(r.helo, "[]"))
		}
	}
	return out
}

// askNames are the queries of a for the scan: every combination of its
// tags' values.
func (s *netScan) askNames(a *askRule) []string {
	names := []string{a.tmpl}
	for _, tag := range a.tags {
		vals := s.askTagValues(tag)
		if len(vals) == 0 {
			return nil
		}
		var next []string
		for _, n := range names {
			for _, v := range vals {
				next = append(next, strings.ReplaceAll(n, "_"+tag+"_", v))
			}
		}
		names = next
	}
	return names
}

func startAskDNS(s *netScan, r *cf.Rule) {
	a := s.plan.asks[r.Name]
	if a == nil {
		return
	}
	s.startJob("askdns "+r.Name, func() any {
		var ls []*lookup
		for _, n := range s.askNames(a) {
			if _, ok := dns.IsDomainName(n); !ok {
				continue
			}
			ls = append(ls, s.lookup(resolver.Question{Name: n, Type: a.qtype, Zone: n}))
		}
		return ls
	})
}

func evalAskDNS(ctx context.Context, s *netScan, rule string, _ []string) (bool, []string) {
	a := s.plan.asks[rule]
	s.mu.Lock()
	j := s.jobs["askdns "+rule]
	s.mu.Unlock()
	if a == nil || j == nil || !s.waitJob(ctx, j) {
		return false, nil
	}
	ls, _ := j.out.([]*lookup)
	var details []string
	for _, l := range ls {
		if !s.wait(ctx, l) {
			continue
		}
		if a.matches(l.ans) {
			details = append(details, strings.TrimSuffix(l.q.Name, ".")+" listed")
		}
	}
	return len(details) > 0, details
}

// matches tests an answer as AskDNS's process_response_packet does.
func (a *askRule) matches(ans resolver.Answer) bool {
	if a.sub.kind == askRcode {
		return a.sub.rcodes[ans.Rcode]
	}
	if ans.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, rr := range ans.Records {
		t := dns.TypeToString[rr.Header().Rrtype]
		if !a.types["ANY"] && !a.types[t] {
			continue
		}
		var data string
		var num uint32
		isNum := false
		switch v := rr.(type) {
		case *dns.A:
			data = v.A.String()
			if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
				b := ip.As4()
				num, isNum = uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]), true
			}
		case *dns.TXT:
			data = strings.Join(v.Txt, "")
		case *dns.SPF:
			data = strings.Join(v.Txt, "")
		default:
			data = strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		if a.sub.match(data, num, isNum) {
			return true
		}
	}
	return false
}

func (t askSub) match(data string, num uint32, isNum bool) bool {
	switch t.kind {
	case askAny:
		return true
	case askRegex:
		return t.re.MatchString(data)
	case askExact:
		return data == t.exact
	}
	if !isNum {
		return false
	}
	switch t.kind {
	case askMask:
		return num&t.n1 != 0 && num&0xff000000 == 0x7f000000
	case askRange:
		return t.n1 <= num && num <= t.n2
	case askMasked:
		return num&t.n2 == t.n1&t.n2
	}
	return false
}
