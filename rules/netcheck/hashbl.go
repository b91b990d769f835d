package netcheck

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/tokenizer"
	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// HashBL (SpamAssassin's Plugin::HashBL): values taken from the message
// (body regex matches, URIs), hashed as the rule's options say (sha1,
// md5, sha256 in lower-case base32, raw: none) and looked up as
// HASH.LIST; a hit is an answer matching the subtest regex, by default
// any 127/8 address.

// A hashRule is one check_hashbl_* rule, ready to query.
type hashRule struct {
	zone  string
	qtype uint16
	opts  hashOpts
	re    *regexp2.Regexp // check_hashbl_bodyre's body regex
	// headers are check_hashbl_emails' HEADERS.
	headers string
	// tag is check_hashbl_tag's TAGNAME, without underscores.
	tag string
	sub subtest
}

// hashOpts are a rule's OPTS ("sha1/max=10/shuffle").
type hashOpts struct {
	hash     string // "sha1", "md5", "sha256" or "" (raw)
	max      int
	shuffle  bool
	keepCase bool
	num      bool
	// minSize and maxSize are check_hashbl_attachments' part size
	// limits in bytes (0: none).
	minSize, maxSize int
	// set are all the options given, by name.
	set map[string]bool
}

// parseHashOpts reads OPTS as _parse_opts does; def is the eval's
// default.
func parseHashOpts(s, def string) hashOpts {
	if strings.TrimSpace(s) == "" {
		s = def
	}
	o := hashOpts{max: 10, set: map[string]bool{}}
	set := map[string]string{}
	for _, w := range strings.Split(strings.ToLower(s), "/") {
		k, v, _ := strings.Cut(strings.TrimSpace(w), "=")
		set[k] = v
		o.set[k] = true
	}
	// _hash's order: sha256, then sha1, then md5.
	for _, h := range []string{"sha256", "sha1", "md5"} {
		if _, ok := set[h]; ok {
			o.hash = h
			break
		}
	}
	if n, err := strconv.Atoi(set["max"]); err == nil && n > 0 {
		o.max = n
	}
	o.minSize, _ = strconv.Atoi(set["minsize"])
	o.maxSize, _ = strconv.Atoi(set["maxsize"])
	_, o.shuffle = set["shuffle"]
	_, o.keepCase = set["case"]
	_, o.num = set["num"]
	return o
}

// hashValue is _hash.
func hashValue(o hashOpts, v string) string {
	switch o.hash {
	case "sha256":
		sum := sha256.Sum256([]byte(v))
		return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
	case "sha1":
		sum := sha1.Sum([]byte(v))
		return hex.EncodeToString(sum[:])
	case "md5":
		sum := md5.Sum([]byte(v))
		return hex.EncodeToString(sum[:])
	}
	return v
}

// planHashBL parses r's arguments: check_hashbl_bodyre(LIST, OPTS, RE
// [, SUBTEST]), check_hashbl_uris(LIST, OPTS [, SUBTEST]),
// check_hashbl_emails(LIST [, OPTS, HEADERS, SUBTEST]),
// check_hashbl_tag(LIST, OPTS, TAGNAME [, SUBTEST]),
// check_hashbl_attachments(LIST [, OPTS, SUBTEST]). nil when they do
// not parse (the rule never hits).
func planHashBL(r *cf.Rule) (*hashRule, error) {
	args := r.Eval.Args
	list := strings.TrimSpace(arg(args, 0))
	if list == "" {
		return nil, errString("blocklist argument missing")
	}
	h := &hashRule{qtype: dns.TypeA}
	if z, t, ok := strings.Cut(list, "/"); ok {
		switch strings.ToUpper(t) {
		case "A":
			list = z
		case "TXT":
			list, h.qtype = z, dns.TypeTXT
		}
	}
	h.zone = normZone(list)
	subAt := 2
	if r.Eval.Func == "check_hashbl_bodyre" {
		h.opts = parseHashOpts(arg(args, 1), "sha1/max=10/shuffle")
		expr := arg(args, 2)
		if expr == "" {
			return nil, errString("missing body regex")
		}
		re, err := regexp2.Compile(expr, regexp2.Singleline)
		if err != nil {
			return nil, errString("invalid body regex: " + err.Error())
		}
		re.MatchTimeout = time.Second
		h.re = re
		subAt = 3
	} else if r.Eval.Func == "check_hashbl_tag" {
		h.opts = parseHashOpts(arg(args, 1), "sha1/max=10/shuffle")
		if h.opts.set["trim"] {
			h.opts.set["fqdn"], h.opts.set["tld"] = true, true
		}
		tag := strings.TrimSpace(arg(args, 2))
		if len(tag) > 2 && tag[0] == '_' && tag[len(tag)-1] == '_' {
			tag = tag[1 : len(tag)-1]
		}
		if tag == "" {
			return nil, errString("tag argument missing")
		}
		h.tag = strings.ToUpper(tag)
		subAt = 3
	} else if r.Eval.Func == "check_hashbl_emails" {
		h.opts = parseHashOpts(arg(args, 1), "sha1/notag/noquote/max=10/shuffle")
		h.headers = arg(args, 2)
		subAt = 3
	} else {
		h.opts = parseHashOpts(arg(args, 1), "sha1/max=10/shuffle")
		if h.opts.hash == "" {
			return nil, errString("raw option invalid")
		}
	}
	h.sub = subtest{kind: subAny}
	if s := arg(args, subAt); s != "" {
		sub, err := regexSubtest(s)
		if err != nil {
			return nil, err
		}
		h.sub = sub
	}
	return h, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// hashValues are the values rule h looks up in the message, unique, in
// the order found, shuffled and cut to max as the options say.
func (s *netScan) hashValues(r *cf.Rule, h *hashRule) []string {
	var vals []string
	seen := map[string]bool{}
	add := func(v string) {
		if !h.opts.keepCase {
			v = strings.ToLower(v)
		}
		if h.opts.num {
			v = strings.Map(func(c rune) rune {
				if c >= '0' && c <= '9' {
					return c
				}
				return -1
			}, v)
		}
		if v == "" || seen[v] {
			return
		}
		seen[v] = true
		vals = append(vals, v)
	}
	switch r.Eval.Func {
	case "check_hashbl_bodyre":
		var texts []string
		switch r.Kind {
		case cf.KindFull:
			texts = []string{s.msg.RawHeader + string(s.msg.Body)}
		case cf.KindRawbody:
			texts = s.msg.DecodedBody(tokenizer.RawbodyPartScanSize)
		default:
			texts = s.msg.Rendered
		}
		for _, t := range texts {
			m, err := h.re.FindStringMatch(t)
			for err == nil && m != nil {
				if g := m.GroupByNumber(1); g != nil && len(g.Captures) > 0 {
					add(g.String())
				}
				m, err = h.re.FindNextMatch(m)
			}
		}
	case "check_hashbl_emails":
		for _, e := range s.hashEmails(h.headers, h.opts.set) {
			add(e)
		}
	case "check_hashbl_tag":
		for _, v := range s.hashTagValues(h.tag) {
			if v, ok := s.tagQueryValue(h.opts, v); ok {
				add(v)
			}
		}
	case "check_hashbl_attachments":
		// The parts' hashes are the values; add does not change them.
		for _, p := range s.msg.Parts {
			if !p.Leaf || len(p.Decoded) == 0 {
				continue
			}
			name := p.Filename
			if name == "" {
				name = p.Params["name"]
			}
			if s.plan.hashIgnore[p.ContentType] || s.plan.hashIgnore[strings.ToLower(name)] {
				continue
			}
			if h.opts.minSize > 0 && len(p.Decoded) < h.opts.minSize || h.opts.maxSize > 0 && len(p.Decoded) > h.opts.maxSize {
				continue
			}
			add(hashValue(h.opts, string(p.Decoded)))
		}
	case "check_hashbl_uris":
		for _, u := range s.msg.URIs {
			if strings.HasPrefix(strings.ToLower(u), "mailto:") {
				continue
			}
			if host := uriHost(u); host == "" || s.plan.uriSkip[host] {
				continue
			}
			add(u)
		}
	}
	if h.opts.shuffle {
		rand.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	}
	if len(vals) > h.opts.max {
		vals = vals[:h.opts.max]
	}
	return vals
}

// uriHost is the lower-cased host of an absolute URI, "" without one.
func uriHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

func startHashBL(s *netScan, r *cf.Rule) {
	h := s.plan.hashbls[r.Name]
	if h == nil {
		return
	}
	var qs []*rblQuery
	hashed := r.Eval.Func == "check_hashbl_attachments"
	for _, v := range s.hashValues(r, h) {
		hash := v
		if !hashed {
			if s.plan.hashIgnore[strings.ToLower(v)] {
				continue
			}
			hash = hashValue(h.opts, v)
		}
		if s.plan.hashIgnore[strings.ToLower(hash)] {
			continue
		}
		name := hash + "." + h.zone
		l := s.lookup(resolver.Question{Name: name, Type: h.qtype, Zone: h.zone})
		what := strings.ReplaceAll(v, "@", "[at]")
		qs = append(qs, &rblQuery{what: what, zone: h.zone, txt: h.qtype == dns.TypeTXT, sub: h.sub, l: l})
	}
	s.mu.Lock()
	s.byRule[r.Name] = qs
	s.mu.Unlock()
}

// hashTagValues are check_hashbl_tag's values of tag: what the scan's
// rules captured for it, else the tag as AskDNS knows it.
func (s *netScan) hashTagValues(tag string) []string {
	s.mu.Lock()
	vals := s.captured[tag]
	s.mu.Unlock()
	if len(vals) > 0 {
		return vals
	}
	return s.askTagValues(tag)
}

// CaptureTags are the tags the policy's check_hashbl_tag rules read
// (rules.NetTagScan).
func (s *netScan) CaptureTags() []string {
	if s.off[kindRBL] {
		return nil
	}
	return slices.Sorted(maps.Keys(s.plan.hashTags))
}

// SetCaptured starts the lookups of the check_hashbl_tag rules reading
// tag with the values the scan's rules captured for it
// (rules.NetTagScan); evalHashBL collects them with the other answers.
func (s *netScan) SetCaptured(tag string, values []string) {
	if s.off[kindRBL] || len(values) == 0 {
		return
	}
	s.mu.Lock()
	if s.captured == nil {
		s.captured = map[string][]string{}
	}
	s.captured[tag] = slices.Clone(values)
	s.mu.Unlock()
	for _, r := range s.plan.hashTags[tag] {
		startHashBL(s, r)
	}
}

func evalHashBL(ctx context.Context, s *netScan, rule string, _ []string) (bool, []string) {
	s.mu.Lock()
	qs := s.byRule[rule]
	s.mu.Unlock()
	return s.matchQueries(ctx, qs, subtest{kind: subAny})
}

// hashEmailRe is HashBL's default hashbl_email_regex; the valid-TLD
// test of its _TLDS_ is made on each match (publicsuffix).
var hashEmailRe = regexp2.MustCompile(`(?i)(?=.{0,64}@)(?<![a-z0-9!#$%&'*+/=?^_`+"`"+`{|}~-])([a-z0-9!#$%&'*+/=?^_`+"`"+`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`+"`"+`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\.){1,4}[a-z][a-z0-9-]{1,62})`, regexp2.None)

// hashWelcomeRe is the default hashbl_email_welcomelist.
var hashWelcomeRe = regexp2.MustCompile(`(?i)^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master|undisclosed.*|request-[a-f0-9]{16}|bounced?-|[a-f0-9]{8}(?:\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)@`, regexp2.None)

// findEmails are the addresses hashEmailRe finds in text, in order.
func findEmails(text string) []string {
	var out []string
	m, err := hashEmailRe.FindStringMatch(text)
	for err == nil && m != nil {
		e := m.GroupByNumber(1).String()
		if _, icann := publicsuffix.PublicSuffix(strings.ToLower(e[strings.LastIndexByte(e, '@')+1:])); icann {
			out = append(out, e)
		}
		m, err = hashEmailRe.FindNextMatch(m)
	}
	return out
}

// hashEmails are check_hashbl_emails' addresses (_get_emails and the
// filtering of check_hashbl_emails) from HEADERS ("ALLFROM/Reply-To/
// body" by default; ALL, ALLFROM, EnvelopeFrom, body or a header name).
func (s *netScan) hashEmails(headers string, raw map[string]bool) []string {
	if strings.TrimSpace(headers) == "" {
		headers = "ALLFROM/Reply-To/body"
	}
	welcome := map[string]bool{}
	for _, h := range []string{"X-Original-To", "Apparently-To", "Delivered-To", "Envelope-To"} {
		for _, v := range s.msg.Header.Values(h) {
			for _, a := range tokenizer.HeaderAddresses(v) {
				welcome[strings.ToLower(a)] = true
			}
		}
	}
	var out []string
	for _, h := range strings.Split(headers, "/") {
		h = strings.TrimSpace(h)
		var found []string
		switch h {
		case "ALLFROM":
			found = s.fromAddrs()
		case "EnvelopeFrom":
			found = []string{s.envelopeFrom()}
		case "ALL":
			found = findEmails(s.msg.RawHeader)
		case "body":
			for _, u := range s.msg.MailtoLinks {
				found = append(found, findEmails(strings.TrimPrefix(strings.TrimPrefix(u, "mailto:"), "MAILTO:"))...)
			}
			found = append(found, findEmails(strings.Join(s.msg.Rendered, ""))...)
		default:
			found = findEmails(strings.Join(s.msg.Header.Values(h), "\n"))
		}
		for _, e := range found {
			user, dom, ok := strings.Cut(e, "@")
			if !ok || dom == "" {
				continue
			}
			if welcome[strings.ToLower(e)] {
				continue
			}
			if ok, _ := hashWelcomeRe.MatchString(e); ok {
				continue
			}
			ld := strings.ToLower(dom)
			if s.plan.uriSkip[ld] {
				continue
			}
			if s.plan.uriSkip[registrable(ld)] {
				continue
			}
			if raw["nodot"] {
				user = strings.ReplaceAll(user, ".", "")
			}
			if raw["notag"] {
				user, _, _ = strings.Cut(user, "+")
			}
			q := user + "@" + dom
			switch {
			case raw["domain"]:
				q = registrable(ld)
			case raw["host"]:
				q = dom
			case raw["user"]:
				q = user
			}
			out = append(out, q)
		}
	}
	return out
}

// tagQueryValue filters and rewrites a check_hashbl_tag value as its
// options say (_check_hashbl_tag): ip, ipv4, ipv6 keep only addresses
// of that kind, revip reverses an address, fqdn and tld keep only valid
// host names, trim cuts a host name to its registrable domain; a host
// name in uridnsbl_skip_domain (or under one) is dropped.
func (s *netScan) tagQueryValue(o hashOpts, v string) (string, bool) {
	ip, err := netip.ParseAddr(v)
	isIP := err == nil
	switch {
	case o.set["ip"] && !isIP,
		o.set["ipv4"] && !(isIP && ip.Unmap().Is4()),
		o.set["ipv6"] && !(isIP && !ip.Unmap().Is4()):
		return "", false
	}
	if isIP {
		if o.set["revip"] {
			v = reverse(ip.Unmap())
		}
		return v, true
	}
	valid := fqdnValid(v)
	if o.set["fqdn"] && !valid {
		return "", false
	}
	var dom string
	if valid {
		dom = registrable(strings.ToLower(v))
		if s.plan.uriSkip[strings.ToLower(v)] || s.plan.uriSkip[dom] {
			return "", false
		}
	}
	if o.set["tld"] {
		if _, icann := publicsuffix.PublicSuffix(strings.ToLower(v)); !icann {
			return "", false
		}
	}
	if o.set["trim"] && dom != "" {
		v = dom
	}
	return v, true
}

// fqdnValid is SpamAssassin's is_fqdn_valid: at least two labels of
// letters, digits, hyphens and underscores, none starting or ending with
// a hyphen, each at most 63 and all at most 253 characters.
func fqdnValid(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
