package eval

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/gospamd/gospamd/rules/cf"
)

func addLists(m map[string]Func) {
	fromList := func(list string) Func {
		return func(c *Context, _ []string) (bool, error) { return c.anyAddrListed(c.allFromAddrs(), list), nil }
	}
	toList := func(list string) Func {
		return func(c *Context, _ []string) (bool, error) { return c.anyAddrListed(c.allToAddrs(), list), nil }
	}
	for _, a := range []struct {
		names []string
		f     Func
	}{
		{[]string{"check_from_in_welcomelist", "check_from_in_whitelist"}, checkFromInWelcomelist},
		{[]string{"check_from_in_default_welcomelist", "check_from_in_default_whitelist"}, checkFromInDefaultWelcomelist},
		{[]string{"check_forged_in_welcomelist", "check_forged_in_whitelist"}, checkForgedInWelcomelist},
		{[]string{"check_forged_in_default_welcomelist", "check_forged_in_default_whitelist"}, checkForgedInDefaultWelcomelist},
		{[]string{"check_from_in_blocklist", "check_from_in_blacklist"}, fromList(cf.ListBlocklistFrom)},
		{[]string{"check_to_in_welcomelist", "check_to_in_whitelist"}, toList(cf.ListWelcomelistTo)},
		{[]string{"check_to_in_blocklist", "check_to_in_blacklist"}, toList(cf.ListBlocklistTo)},
		{[]string{"check_to_in_more_spam"}, toList(cf.ListMoreSpamTo)},
		{[]string{"check_to_in_all_spam"}, toList(cf.ListAllSpamTo)},
		{[]string{"check_from_in_list"}, checkFromInList},
		{[]string{"check_to_in_list"}, checkToInList},
		{[]string{"check_replyto_in_list"}, checkReplytoInList},
		{[]string{"check_mailfrom_matches_rcvd"}, checkMailfromMatchesRcvd},
		{[]string{"check_subject_in_blocklist", "check_subject_in_blacklist"}, subjectList(cf.ListBlocklistSubject)},
		{[]string{"check_subject_in_welcomelist", "check_subject_in_whitelist"}, subjectList(cf.ListWelcomelistSubject)},
		{[]string{"check_uri_host_listed"}, checkURIHostListed},
		{[]string{"check_uri_host_in_blocklist", "check_uri_host_in_blacklist"}, uriHostList("BLOCK")},
		{[]string{"check_uri_host_in_welcomelist", "check_uri_host_in_whitelist"}, uriHostList("WELCOME")},
	} {
		for _, n := range a.names {
			m[n] = a.f
		}
	}
}

// globMatch reports whether addr matches the list glob g.
func globMatch(g, addr string) bool {
	addr = strings.ToLower(addr)
	if g == addr {
		return true
	}
	if !strings.ContainsAny(g, "*?") {
		return false
	}
	return wildcardMatch(strings.ToLower(g), addr)
}

// wildcardMatch matches s against pattern p, where '*' stands for any run
// of characters and '?' for one (a list entry's glob, case already
// folded); both are read as runes, an invalid byte as one U+FFFD. It
// backtracks only to the last '*', so it is linear in practice, and
// allocates nothing.
func wildcardMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		sr, sn := utf8.DecodeRuneInString(s[si:])
		pr, pn := rune(-1), 0
		if pi < len(p) {
			pr, pn = utf8.DecodeRuneInString(p[pi:])
		}
		switch {
		case pn > 0 && (pr == '?' || pr == sr):
			pi += pn
			si += sn
		case pr == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			_, mn := utf8.DecodeRuneInString(s[mark:])
			mark += mn
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func (c *Context) list(name string) []cf.AddrEntry {
	if c.Policy == nil {
		return nil
	}
	return c.Policy.AddrList(name)
}

// inList reports whether addr matches an entry of entries.
func inList(entries []cf.AddrEntry, addr string) bool {
	for _, e := range entries {
		if globMatch(e.Addr, addr) {
			return true
		}
	}
	return false
}

func (c *Context) anyAddrListed(addrs []string, list string) bool {
	entries := c.list(list)
	for _, a := range addrs {
		if inList(entries, a) {
			return true
		}
	}
	return false
}

var dotRun = lazyRegexp(`\.{2,}`)

// allFromAddrs is all_from_addrs: the first Resent-From address if there
// is one, else the addresses of From, Envelope-Sender, Resent-Sender,
// X-Envelope-From and the envelope sender, without duplicates.
func (c *Context) allFromAddrs() []string {
	return cached(c, "allfrom", func() []string {
		if a := c.firstFieldAddr("Resent-From"); a != "" {
			return []string{a}
		}
		var out []string
		seen := map[string]bool{}
		for _, h := range []string{"From", "Envelope-Sender", "Resent-Sender", "X-Envelope-From", "EnvelopeFrom"} {
			for _, a := range c.addrs(h) {
				if a == "" {
					continue
				}
				if strings.Contains(a, "..") {
					a = dotRun().ReplaceAllString(a, ".")
				}
				if !seen[a] {
					seen[a] = true
					out = append(out, a)
				}
			}
		}
		return out
	})
}

var rcvdFor = lazyRegexp(` for <?(\S+@(\S+?))>?;`)
var fqdn = lazyRegexp(`(?i)^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)

// allToAddrs is all_to_addrs: Resent-To/Resent-Cc if present, else the
// "for <addr>" of the top three Received headers and the addresses of
// every recipient header.
func (c *Context) allToAddrs() []string {
	return cached(c, "allto", func() []string {
		var addrs []string
		for _, h := range []string{"Resent-To", "Resent-Cc"} {
			if a := c.firstFieldAddr(h); a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			rcvd := c.values("Received")
			for i := 0; i < len(rcvd) && i < 3; i++ {
				if m := rcvdFor().FindStringSubmatch(rcvd[i]); m != nil && fqdn().MatchString(m[2]) {
					addrs = append(addrs, m[1])
				}
			}
			for _, h := range []string{"To", "Apparently-To", "Delivered-To", "Envelope-Recipients", "Apparently-Resent-To",
				"X-Envelope-To", "Envelope-To", "X-Delivered-To", "X-Original-To", "X-Rcpt-To", "X-Real-To", "Cc"} {
				addrs = append(addrs, c.addrs(h)...)
			}
		}
		var out []string
		seen := map[string]bool{}
		for _, a := range addrs {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
		return out
	})
}

// rcvdListResult is _check_welcomelist_rcvd: 1 listed and relayed as
// required, -1 listed but not relayed so (possible forgery), 0 not listed.
func (c *Context) rcvdListed(list, addr string) int {
	entries := c.list(list)
	if len(entries) == 0 {
		return 0
	}
	t, u, _ := c.relayLists()
	if len(t)+len(u) == 0 {
		return 0
	}
	relays := t
	if len(u) > 0 {
		relays = u[:1]
	}
	addr = strings.ToLower(addr)
	forged := 0
	for _, e := range entries {
		if !globMatch(e.Addr, addr) {
			continue
		}
		for _, r := range relays {
			if relayMatches(e.Relay, r.IP, strings.ToLower(r.RDNS)) {
				return 1
			}
		}
		forged = -1
	}
	if forged != 0 && inList(c.list(cf.ListWelcomelistAllowsRelay), addr) {
		forged = 0
	}
	return forged
}

var bracketIP = lazyRegexp(`^\[(.*)\](/\d{1,3})?$`)
var dottedOnly = lazyRegexp(`^[\d.]+$`)
var fullQuad = lazyRegexp(`^\d+\.\d+\.\d+\.\d+$`)

// relayMatches tests a *_from_rcvd relay field against a relay: "[ip]",
// "[a.b.c]" (classful), "[ip/len]" or an rDNS suffix.
func relayMatches(spec, ip, rdns string) bool {
	if m := bracketIP().FindStringSubmatch(spec); m != nil {
		wl := m[1] + m[2]
		switch {
		case ip == "":
			return false
		case fullQuad().MatchString(wl):
			return wl == ip
		case dottedOnly().MatchString(wl):
			return strings.HasPrefix(ip, strings.TrimRight(wl, ".")+".")
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return false
		}
		if p, err := netip.ParsePrefix(wl); err == nil {
			return p.Contains(a)
		}
		if w, err := netip.ParseAddr(wl); err == nil {
			return w == a
		}
		return false
	}
	return rdns == spec || strings.HasSuffix(rdns, "."+spec)
}

// welcomeState is _check_from_in_welcomelist (or the default list):
// 1 listed, -1 listed only with a relay that did not match, 0 not listed.
func (c *Context) welcomeState(def bool) int {
	key := "wl"
	if def {
		key = "defwl"
	}
	return cached(c, key, func() int {
		list := cf.ListWelcomelistFromRcvd
		if def {
			list = cf.ListDefWelcomelistFromRcvd
		}
		if len(c.list(list)) == 0 && (def || len(c.list(cf.ListWelcomelistFrom)) == 0) {
			return 0 // nothing listed: no sender needs working out
		}
		found := 0
		for _, a := range c.allFromAddrs() {
			if !def && inList(c.list(cf.ListWelcomelistFrom), a) {
				return 1
			}
			switch c.rcvdListed(list, a) {
			case 1:
				return 1
			case -1:
				found = -1
			}
		}
		return found
	})
}

// checkFromInWelcomelist (check_from_in_welcomelist()): a sender address
// is on welcomelist_from, or on welcomelist_from_rcvd and relayed as
// listed.
func checkFromInWelcomelist(c *Context, _ []string) (bool, error) {
	return c.welcomeState(false) > 0, nil
}

// checkFromInDefaultWelcomelist (check_from_in_default_welcomelist()): a
// sender is on def_welcomelist_from_rcvd and relayed as listed.
func checkFromInDefaultWelcomelist(c *Context, _ []string) (bool, error) {
	return c.welcomeState(true) > 0, nil
}

// checkForgedInWelcomelist (check_forged_in_welcomelist()): a sender is on
// welcomelist_from_rcvd but came through another relay.
func checkForgedInWelcomelist(c *Context, _ []string) (bool, error) {
	return c.welcomeState(false) < 0 && c.welcomeState(true) == 0, nil
}

// checkForgedInDefaultWelcomelist (check_forged_in_default_welcomelist()):
// the same for def_welcomelist_from_rcvd.
func checkForgedInDefaultWelcomelist(c *Context, _ []string) (bool, error) {
	return c.welcomeState(true) < 0 && c.welcomeState(false) == 0, nil
}

func (c *Context) enlisted(name string) ([]cf.AddrEntry, bool) {
	if c.Policy == nil {
		return nil, false
	}
	e := c.Policy.Enlisted(name)
	return e, e != nil
}

// checkFromInList (check_from_in_list(LIST)): a sender address is on the
// enlist_addrlist list LIST.
func checkFromInList(c *Context, args []string) (bool, error) {
	if err := needArgs("check_from_in_list", args, 1); err != nil {
		return false, err
	}
	entries, _ := c.enlisted(args[0])
	for _, a := range c.allFromAddrs() {
		if inList(entries, a) {
			return true, nil
		}
	}
	return false, nil
}

// checkToInList (check_to_in_list(LIST)): a recipient is on LIST.
func checkToInList(c *Context, args []string) (bool, error) {
	if err := needArgs("check_to_in_list", args, 1); err != nil {
		return false, err
	}
	entries, _ := c.enlisted(args[0])
	for _, a := range c.allToAddrs() {
		if inList(entries, a) {
			return true, nil
		}
	}
	return false, nil
}

// checkReplytoInList (check_replyto_in_list(LIST)): the Reply-To address
// is on LIST.
func checkReplytoInList(c *Context, args []string) (bool, error) {
	if err := needArgs("check_replyto_in_list", args, 1); err != nil {
		return false, err
	}
	rt := c.addr("Reply-To")
	if rt == "" {
		return false, nil
	}
	entries, _ := c.enlisted(args[0])
	return inList(entries, rt), nil
}

// checkMailfromMatchesRcvd (check_mailfrom_matches_rcvd()): the envelope
// sender's domain is the registrable domain of the relay that handed the
// message over.
func checkMailfromMatchesRcvd(c *Context, _ []string) (bool, error) {
	sender := c.envelopeFrom()
	at := strings.LastIndexByte(sender, '@')
	if at < 0 || !strings.Contains(sender[at+1:], ".") {
		return false, nil
	}
	dom := trimDomain(strings.ToLower(sender[at+1:]))
	t, u, _ := c.relayLists()
	relays := t
	if len(u) > 0 {
		relays = u[:1]
	}
	for _, r := range relays {
		if r.RDNS != "" && trimDomain(strings.ToLower(r.RDNS)) == dom {
			return true, nil
		}
	}
	return false, nil
}

// subjectList is check_subject_in_{block,welcome}list: the Subject
// matches a glob of the list.
func subjectList(list string) Func {
	return func(c *Context, _ []string) (bool, error) {
		s := strings.ToLower(strings.TrimSuffix(c.get("Subject"), "\n"))
		return inList(c.list(list), s), nil
	}
}

// checkURIHostListed (check_uri_host_listed(LIST)): a URI's host or one
// of its parent domains is on the enlist_uri_host list LIST (and not
// excluded with "!").
func checkURIHostListed(c *Context, args []string) (bool, error) {
	if err := needArgs("check_uri_host_listed", args, 1); err != nil {
		return false, err
	}
	return uriHostList(args[0])(c, nil)
}

func uriHostList(name string) Func {
	return func(c *Context, _ []string) (bool, error) {
		if c.Policy == nil {
			return false, nil
		}
		entries := c.Policy.URIHostList(name)
		if len(entries) == 0 {
			return false, nil
		}
		listed := map[string]bool{}
		for _, e := range entries {
			listed[e.Host] = e.Listed
		}
		for _, u := range c.Msg.URIs {
			if strings.HasPrefix(strings.ToLower(u), "mailto:") {
				continue
			}
			h := uriHost(u)
			if !isIPAddr(h) && !domainValid(h) {
				continue // SpamAssassin lists hosts only for valid domains
			}
			for h != "" {
				if l, ok := listed[h]; ok {
					if l {
						return true, nil
					}
					break
				}
				i := strings.IndexByte(h, '.')
				if i < 0 {
					break
				}
				h = h[i+1:]
			}
		}
		return false, nil
	}
}
