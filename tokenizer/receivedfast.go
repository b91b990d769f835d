package tokenizer

import (
	"regexp"
	"strings"
	"sync"

	"github.com/gospamd/gospamd/internal/ascii"
)

// This file holds what makes reading Received headers cheap while
// matching exactly what Received.pm's patterns match: the IPv4-only forms
// of the patterns (rcvRe) and hand-written matchers for the checks run on
// every header (TestReceivedHandMatchersAsRegexps and
// TestReceivedIPv4FormsChangeNothing compare them with the regexps).

// reIPv4Only and reLocalV4 are reIP and reLocal without their IPv6
// alternatives.
const (
	reIPv4Only = `(?:\b` + reIPv4 + `\b)`
	reLocalV4  = `(?:(?i:localhost(?:\.localdomain)?)|\b127\.0\.0\.1\b)`
)

// rcvRe is a Received pattern compiled twice: as written, and with the
// IP address and localhost it names (IPADDR, LOCALHOST) cut to their
// IPv4 forms. The IPv6 half of SpamAssassin's address pattern makes a
// regexp several times larger and slower; for a header that cannot hold
// an IPv6 address (mayHoldIPv6, mayHoldLocal6) the two match the same.
//
// The IPv4 form is compiled when the package is initialised (a typo in a
// pattern fails at once); the full form, which differs only by the
// address patterns, the first time a header needs it: compiling every
// one took most of the CPU time of starting gospamd.
type rcvRe struct {
	// v4 and all compile the pattern's forms on first use: a process
	// that never meets a header needing one never compiles it.
	v4        func() *regexp.Regexp
	all       func() *regexp.Regexp
	ip, local bool // the pattern names IPADDR, LOCALHOST
	same      bool // the two forms are one pattern
}

// The two forms of a Received pattern: IPADDR and LOCALHOST spelled out
// in full, and in their IPv4-only forms.
var (
	rcvAllForm = strings.NewReplacer("IPADDR", reIP, "LOCALHOST", reLocal)
	rcvV4Form  = strings.NewReplacer("IPADDR", reIPv4Only, "LOCALHOST", reLocalV4)
)

func rx(s string) *rcvRe {
	all, v4 := rcvAllForm.Replace(s), rcvV4Form.Replace(s)
	r := &rcvRe{ip: strings.Contains(s, "IPADDR"), local: strings.Contains(s, "LOCALHOST"), same: v4 == all}
	r.v4 = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(v4) })
	if r.same {
		r.all = r.v4
	} else {
		r.all = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(all) })
	}
	return r
}

// mayHoldIPv6 reports whether reIPv6 could match somewhere in s. Each of
// its alternatives holds "::" but two: eight groups of hex digits with
// colons between them, and six such groups each followed by a colon
// before an IPv4 address. Both hold six groups of one to four hex digits
// each followed by a colon, one after the other (the "IPv6:" prefix is
// optional and needs none of it).
func mayHoldIPv6(s string) bool {
	if strings.Contains(s, "::") {
		return true
	}
	chain := 0 // groups ending at the last colon
	prev := -1 // the last colon
	for i := strings.IndexByte(s, ':'); i >= 0; {
		run := 0
		for run < i && isHexDigit(s[i-run-1]) {
			run++
		}
		switch {
		case run == 0:
			chain = 0
		case chain > 0 && i-run-1 == prev && run <= 4:
			chain++
		default:
			chain = 1
		}
		if chain >= 6 {
			return true
		}
		prev = i
		k := strings.IndexByte(s[i+1:], ':')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

// mayHoldLocal6 reports whether reLocal's IPv6 forms could match somewhere
// in s: "::1", or zero groups each followed by a colon, then an optional
// colon and "1" after at most three zeros, so "::", "0:0" or "0:1".
func mayHoldLocal6(s string) bool {
	// strings.Contains(s, "::") || strings.Contains(s, "0:0") ||
	// strings.Contains(s, "0:1"), in one pass over the colons: a
	// Received header is full of zeros (dates, times, addresses).
	for i := strings.IndexByte(s, ':'); i >= 0 && i+1 < len(s); {
		if next := s[i+1]; next == ':' || i > 0 && s[i-1] == '0' && (next == '0' || next == '1') {
			return true
		}
		k := strings.IndexByte(s[i+1:], ':')
		if k < 0 {
			return false
		}
		i += 1 + k
	}
	return false
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// rcvAnyIP finds an address in an originating-IP header; compiled when
// first needed, as the full forms of the rcvRe patterns are.
var rcvAnyIP = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(reIP) })

// rcvAnyIPv4 is rcvAnyIP for a header that cannot hold an IPv6 address.
var rcvAnyIPv4 = regexp.MustCompile(reIPv4Only)

// firstIP is the first address rcvAnyIP finds in v, or "".
func firstIP(v string) string {
	if !mayHoldIPv6(v) {
		return rcvAnyIPv4.FindString(v)
	}
	return rcvAnyIP().FindString(v)
}

// fromByOnly matches (?i)^from (\S+) by [^\s;]+ ?; (a header with
// nothing between the hosts but " by ", which Received.pm ignores unless
// the first is an address literal) and returns the first submatch.
func fromByOnly(s string) (string, bool) {
	if !ascii.HasPrefixFold(s, "from ") {
		return "", false
	}
	i := len("from ")
	j := i
	for j < len(s) && !isGoSpace(s[j]) {
		j++
	}
	if j == i || !ascii.HasPrefixFold(s[j:], " by ") {
		return "", false
	}
	k := j + len(" by ")
	e := k
	for e < len(s) && !isGoSpace(s[e]) && s[e] != ';' {
		e++
	}
	if e == k {
		return "", false
	}
	if e < len(s) && s[e] == ' ' {
		e++
	}
	if e < len(s) && s[e] == ';' {
		return s[i:j], true
	}
	return "", false
}

// receivedID matches " id <?([^\s<>;]{3,})" and returns the submatch.
func receivedID(s string) (string, bool) {
	for i := 0; ; i++ {
		k := strings.Index(s[i:], " id ")
		if k < 0 {
			return "", false
		}
		i += k
		j := i + len(" id ")
		if j < len(s) && s[j] == '<' {
			j++
		}
		e := j
		for e < len(s) && !isGoSpace(s[e]) && s[e] != '<' && s[e] != '>' && s[e] != ';' {
			e++
		}
		if e-j >= 3 {
			return s[j:e], true
		}
	}
}

// receivedBy matches " by (\S+)(?:[^-A-Za-z0-9;.]|$)" and returns the
// submatch: the whole run of non-blanks after the first " by " that has
// one (a blank or the end follows it, and neither is in the class).
func receivedBy(s string) (string, bool) {
	for i := 0; ; i++ {
		k := strings.Index(s[i:], " by ")
		if k < 0 {
			return "", false
		}
		i += k
		j := i + len(" by ")
		e := j
		for e < len(s) && !isGoSpace(s[e]) {
			e++
		}
		if e > j {
			return s[j:e], true
		}
	}
}

// authWith matches rcvAuthWith, (?i) with ((?:ES|L|UTF8S|UTF8L)MTPS?A|
// ASMTP|HTTP[SU]?)(?: |;|$), in an ASCII string (elsewhere (?i) also
// lets "ſ" stand for "s") and returns the submatch. At each " with " the
// alternatives are tried in the pattern's order, optional letters first
// taken and then left out, as the regexp does.
func authWith(s string) (string, bool) {
	ends := func(e int) bool { return e == len(s) || s[e] == ' ' || s[e] == ';' }
	at := func(i int, p string) bool { return ascii.HasPrefixFold(s[i:], p) }
	for i := 0; i < len(s); i++ {
		if !at(i, " with ") {
			continue
		}
		j := i + len(" with ")
		for _, p := range []string{"es", "l", "utf8s", "utf8l"} {
			if k := j + len(p); at(j, p) && at(k, "mtp") {
				k += len("mtp")
				if at(k, "sa") && ends(k+2) {
					return s[j : k+2], true
				}
				if at(k, "a") && ends(k+1) {
					return s[j : k+1], true
				}
			}
		}
		if at(j, "asmtp") && ends(j+5) {
			return s[j : j+5], true
		}
		if k := j + 4; at(j, "http") {
			if (at(k, "s") || at(k, "u")) && ends(k+1) {
				return s[j : k+1], true
			}
			if ends(k) {
				return s[j:k], true
			}
		}
	}
	return "", false
}

// isBracketIP matches ^\[[\d.]+\]$.
func isBracketIP(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// stripRelayChars replaces every byte of [\s\x00#\[\]()<>|] in s by "!",
// as Received.pm cleans the fields of a relay.
func stripRelayChars(s string) string {
	i := 0
	for i < len(s) && !isRelayStripChar(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if isRelayStripChar(b[i]) {
			b[i] = '!'
		}
	}
	return string(b)
}

func isRelayStripChar(c byte) bool {
	switch c {
	case '\t', '\n', '\f', '\r', ' ', 0, '#', '[', ']', '(', ')', '<', '>', '|':
		return true
	}
	return false
}

// isReSpace is Go's \s: the bytes \S does not match.
func isReSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// nonSpaceEnd is the end of the run of \S bytes starting at i.
func nonSpaceEnd(s string, i int) int {
	for i < len(s) && !isReSpace(s[i]) {
		i++
	}
	return i
}

// isIPv4Literal reports whether s is all of reIPv4: four dot-separated
// decimal numbers 0-255, without leading zeros.
func isIPv4Literal(s string) bool {
	for part := 0; part < 4; part++ {
		n := 0
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		switch {
		case n == 0 || n > 3 || n > 1 && s[0] == '0':
			return false
		case n == 3 && (s[0] > '2' || s[0] == '2' && (s[1] > '5' || s[1] == '5' && s[2] > '5')):
			return false
		}
		s = s[n:]
		if part < 3 {
			if s == "" || s[0] != '.' {
				return false
			}
			s = s[1:]
		}
	}
	return s == ""
}

// heloRDNSIPv4 matches ^(\S+) \((\S+) \[(IPADDR)\] with IPADDR's IPv4
// form, the start of rcvGeneric1, rcvPostfix1 and others: each \S+ can
// only be the whole run of non-blanks (a blank must follow it), and the
// address is all that lies between the bracket and the next "]". It
// returns the three submatches and the offset after the "]".
func heloRDNSIPv4(s string) (helo, rdns, ip string, end int, ok bool) {
	a := nonSpaceEnd(s, 0)
	if a == 0 || !strings.HasPrefix(s[a:], " (") {
		return "", "", "", 0, false
	}
	b := nonSpaceEnd(s, a+2)
	if b == a+2 || !strings.HasPrefix(s[b:], " [") {
		return "", "", "", 0, false
	}
	e := strings.IndexByte(s[b+2:], ']')
	if e < 0 || !isIPv4Literal(s[b+2:b+2+e]) {
		return "", "", "", 0, false
	}
	e += b + 2
	return s[:a], s[a+2 : b], s[b+2 : e], e + 1, true
}

// matchGeneric1 is rcvGeneric1's IPv4 form, ^(\S+) \((\S+) \[(IPADDR)\].*\)
// by (\S+) \(, as FindStringSubmatch gives it: the greedy ".*" (no
// newline) settles on the last ") by " whose following run of
// non-blanks is followed by " (".
func matchGeneric1(s string) []string {
	helo, rdns, ip, i, ok := heloRDNSIPv4(s)
	if !ok {
		return nil
	}
	lim := len(s)
	if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
		lim = i + nl // ".*" stops here; ") by " may start no later
	}
	for p := strings.LastIndex(s[i:min(len(s), lim+len(") by "))], ") by "); p >= 0; p = strings.LastIndex(s[i:i+p], ") by ") {
		j := i + p + len(") by ")
		q := nonSpaceEnd(s, j)
		if q > j && strings.HasPrefix(s[q:], " (") {
			return []string{s[:q+2], helo, rdns, ip, s[j:q]}
		}
	}
	return nil
}

// matchPostfix1 is rcvPostfix1's IPv4 form, ^(\S+) \((\S+) \[(IPADDR)\]\)
// by (\S+) , as FindStringSubmatch gives it.
func matchPostfix1(s string) []string {
	helo, rdns, ip, i, ok := heloRDNSIPv4(s)
	if !ok || !strings.HasPrefix(s[i:], ") by ") {
		return nil
	}
	j := i + len(") by ")
	q := nonSpaceEnd(s, j)
	if q == j || q == len(s) || s[q] != ' ' {
		return nil
	}
	return []string{s[:q+1], helo, rdns, ip, s[j:q]}
}

// isPrivateIP is rcvIPPrivate.MatchString(ip). Every alternative of the
// pattern but the IPv4 one holds a ':'; for an address without one the
// IPv4 alternative is read by hand: a private or loopback network's
// leading numbers, a '.', and no line break to the end.
func isPrivateIP(ip string) bool {
	if strings.IndexByte(ip, ':') >= 0 {
		return rcvIPPrivate.MatchString(ip)
	}
	if strings.IndexByte(ip, '\n') >= 0 {
		return false
	}
	first, rest, ok := strings.Cut(ip, ".")
	if !ok {
		return false
	}
	second, _, ok := strings.Cut(rest, ".")
	switch first {
	case "10", "127":
		return true
	case "169":
		return ok && second == "254"
	case "192":
		return ok && second == "168"
	case "172":
		return ok && len(second) == 2 && (second[0] == '1' && second[1] >= '6' && second[1] <= '9' ||
			second[0] == '2' && isDigit(second[1]) || second[0] == '3' && (second[1] == '0' || second[1] == '1'))
	case "100":
		switch {
		case !ok:
			return false
		case len(second) == 2:
			return second[0] == '6' && second[1] >= '4' && second[1] <= '9' || second[0] >= '7' && second[0] <= '9' && isDigit(second[1])
		case len(second) == 3:
			return second[0] == '1' && (second[1] == '0' || second[1] == '1') && isDigit(second[2]) ||
				second[0] == '1' && second[1] == '2' && second[2] >= '0' && second[2] <= '7'
		}
	}
	return false
}

// matchSendmail2 is rcvSendmail2's IPv4 form, ^(\S+) \((\S+)
// \[(IPADDR)\]\).*? by (\S+)\b, as FindStringSubmatch gives it: the lazy
// ".*?" (no newline) settles on the first " by " after which a run of
// non-blanks holds a word boundary, and the greedy \S+ on the last such
// boundary of the run.
func matchSendmail2(s string) []string {
	helo, rdns, ip, i, ok := heloRDNSIPv4(s)
	if !ok || i >= len(s) || s[i] != ')' {
		return nil
	}
	i++
	lim := len(s)
	if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
		lim = i + nl // ".*?" stops here; " by " may start no later
	}
	for p := i; p <= lim; p++ {
		k := strings.Index(s[p:min(len(s), lim+len(" by "))], " by ")
		if k < 0 {
			return nil
		}
		p += k
		j := p + len(" by ")
		for e := nonSpaceEnd(s, j); e > j; e-- {
			if isWordAt(s, e-1) != isWordAt(s, e) {
				return []string{s[:e], helo, rdns, ip, s[j:e]}
			}
		}
	}
	return nil
}

// mayBeQmail reports whether rcvQmail can match s, from how the pattern
// starts: ^\S+( \((?:HELO|EHLO) \S*\))? \((\S+\@)?\[?IPADDR\]?\), so the
// first run of non-blanks is followed by " (" and then either a run of
// non-blanks holding the ')' that closes the address, or "HELO " or
// "EHLO ", a run of non-blanks ending in ')', " (" and such a run. Most
// headers, "host (name [address]) by ...", fail at once: the run after
// the first " (" holds no ')'.
func mayBeQmail(s string) bool {
	a := nonSpaceEnd(s, 0)
	if a == 0 || !strings.HasPrefix(s[a:], " (") {
		return false
	}
	p := a + 2
	closes := func(p int) bool { return strings.IndexByte(s[p:nonSpaceEnd(s, p)], ')') >= 0 }
	if closes(p) {
		return true
	}
	if strings.HasPrefix(s[p:], "HELO ") || strings.HasPrefix(s[p:], "EHLO ") {
		q := nonSpaceEnd(s, p+5)
		return q > p+5 && s[q-1] == ')' && strings.HasPrefix(s[q:], " (") && closes(q+2)
	}
	return false
}
