package tokenizer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// SpamAssassin 4.0 reads address headers with its own relaxed parser
// (parseHeaderAddresses) and, when the Perl module Email::Address::XS is
// installed, asks that module as well: whenever the relaxed parser finds
// no address, or fewer than the header has commas plus one, the module's
// answer is taken if it has more addresses. Debian's spamassassin package
// recommends libmail-dmarc-perl, which depends on libemail-address-xs-perl,
// so a default install has it; this file is what gospamd does in its place.
//
// Email::Address::XS is Dovecot's RFC 5322 address-list parser
// (lib-mail/message-address.c, as of Dovecot 2.3.14) run with
// "non-strict dots as invalid". Below is our own rendering of that
// grammar, kept to the shape of its result that SpamAssassin reads:
//
//   - address-list = address *("," address); after each address only a
//     comma may follow, else the rest of the input is dropped.
//   - address = group / mailbox, group = phrase ":" [mailbox *("," mailbox)] ";".
//     Group names are not addresses; the group's members are.
//   - mailbox = [phrase] "<" [route ":"] local-part ["@" domain] ">" (the
//     phrase becomes the name, the last comment seen inside becomes the
//     comment), else addr-spec = local-part ["@" domain] [comment]; a
//     bare local-part with no domain is read as a name.
//   - CFWS (whitespace and nested comments) may appear between any tokens;
//     quoted strings and quoted pairs are unescaped; a phrase's words are
//     joined by one space.
//
// Each function returns what Dovecot's parser functions return: xsMore
// (more input follows), xsEnd (input consumed), xsInvalid or xsProblem
// (parsed, but with a character or dot problem that marks the address
// invalid). Results depend on these codes in small ways (an unterminated
// quote ends parsing; "a..b" is a local part but an invalid one), which is
// why the codes are kept rather than folded into errors.

const (
	xsProblem = -2
	xsInvalid = -1
	xsEnd     = 0
	xsMore    = 1
)

// xsAtext reports whether c is RFC 5322 atext, with 8-bit bytes allowed
// (UTF-8 addresses).
func xsAtext(c byte) bool {
	if c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// xsOpt is a string that may be absent (a C NULL, a Perl undef).
type xsOpt struct {
	s  string
	ok bool
}

func xsSome(s string) xsOpt { return xsOpt{s: s, ok: true} }

// An xsAddr is one entry of the parser's output list. Group start and end
// markers have no domain.
type xsAddr struct {
	name, mailbox, domain, comment xsOpt
	invalid                        bool
}

// xsParser holds the state of one parse: the input, the position, the
// last comment skipped, the token being built, the address being filled
// and the output.
type xsParser struct {
	s       string
	i       int
	comment []byte
	buf     []byte
	cur     xsAddr
	out     []xsAddr
}

// c returns the byte at the position, or NUL at the end (the C parser
// reads the string's terminator there).
func (p *xsParser) c() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *xsParser) more() int {
	if p.i < len(p.s) {
		return xsMore
	}
	return xsEnd
}

// skipComment skips a (possibly nested) comment at '(' and keeps its
// text, quoted pairs unescaped and line breaks dropped, as the last
// comment.
func (p *xsParser) skipComment() int {
	p.comment = p.comment[:0]
	p.i++
	start, level := p.i, 1
	for ; p.i < len(p.s); p.i++ {
		switch p.s[p.i] {
		case 0:
			return xsInvalid
		case '(':
			level++
		case ')':
			level--
			if level == 0 {
				p.comment = append(p.comment, p.s[start:p.i]...)
				p.i++
				return p.more()
			}
		case '\n':
			seg := p.s[start:p.i]
			p.comment = append(p.comment, strings.TrimSuffix(seg, "\r")...)
			start = p.i + 1
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return xsInvalid
			}
			p.comment = append(p.comment, p.s[start:p.i-1]...)
			start = p.i
		}
	}
	return xsInvalid
}

// skipCFWS skips whitespace and comments.
func (p *xsParser) skipCFWS() int {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
			continue
		case '(':
			if p.skipComment() < 0 {
				return xsInvalid
			}
			continue
		}
		break
	}
	return p.more()
}

// dotAtom reads atoms joined by dots, CFWS allowed around the dots. Two
// dots in a row, or a trailing dot, are a problem; with stopTrailingDot a
// trailing dot is left unread (but kept in the token).
func (p *xsParser) dotAtom(stopTrailingDot bool) int {
	if p.i >= len(p.s) || !xsAtext(p.s[p.i]) {
		return xsInvalid
	}
	problem := func(b bool, ret int) int {
		if b {
			return xsProblem
		}
		return ret
	}
	lastDot, lastIsDot, dotProblem := p.i, false, false
	start := p.i
	p.i++
	for p.i < len(p.s) {
		if xsAtext(p.s[p.i]) {
			p.i++
			continue
		}
		p.buf = append(p.buf, p.s[start:p.i]...)
		if p.i > start {
			lastIsDot = false
		}
		ret := p.skipCFWS()
		if ret <= 0 {
			return problem(dotProblem && ret >= 0, ret)
		}
		if p.s[p.i] != '.' {
			if lastIsDot && stopTrailingDot {
				p.i = lastDot
				return problem(dotProblem, xsMore)
			}
			return problem(lastIsDot || dotProblem, xsMore)
		}
		if lastIsDot {
			dotProblem = true
		}
		lastDot = p.i
		p.i++
		p.buf = append(p.buf, '.')
		lastIsDot = true
		if p.skipCFWS() <= 0 {
			// Dovecot returns the previous skip's result here: more.
			return problem(dotProblem, xsMore)
		}
		start = p.i
	}
	p.buf = append(p.buf, p.s[start:p.i]...)
	return problem(dotProblem, xsEnd)
}

// quoted reads a quoted string at '"', unescaping quoted pairs. A NUL, or
// a CR or LF that is not part of CRLF, is a problem.
func (p *xsParser) quoted() int {
	p.i++
	charProblem := false
	start := p.i
	for ; p.i < len(p.s); p.i++ {
		switch p.s[p.i] {
		case 0:
			charProblem = true
		case '"':
			p.buf = append(p.buf, p.s[start:p.i]...)
			p.i++
			ret := p.skipCFWS()
			if charProblem && ret >= 0 {
				return xsProblem
			}
			return ret
		case '\r':
			if p.i+1 < len(p.s) && p.s[p.i+1] != '\n' {
				charProblem = true
			}
		case '\n':
			if p.i == start || p.s[p.i-1] != '\r' {
				charProblem = true
			}
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return xsInvalid
			}
			p.buf = append(p.buf, p.s[start:p.i-1]...)
			p.buf = append(p.buf, p.s[p.i])
			start = p.i + 1
		}
	}
	return xsInvalid
}

// atomOrDot reads atext and dots (possibly none).
func (p *xsParser) atomOrDot() int {
	start := p.i
	for p.i < len(p.s) && (xsAtext(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	p.buf = append(p.buf, p.s[start:p.i]...)
	if p.i < len(p.s) {
		return p.skipCFWS()
	}
	return xsEnd
}

// phrase reads words (atoms with dots, quoted strings) joined by one space.
func (p *xsParser) phrase() int {
	if p.i >= len(p.s) {
		return xsEnd
	}
	if p.s[p.i] == '.' {
		return xsInvalid
	}
	charProblem := false
	for {
		var ret int
		if p.c() == '"' {
			ret = p.quoted()
		} else {
			ret = p.atomOrDot()
		}
		if ret <= 0 && ret != xsProblem {
			if charProblem && ret == xsEnd {
				return xsProblem
			}
			return ret
		}
		if ret == xsProblem {
			charProblem = true
			if p.i >= len(p.s) {
				return xsProblem
			}
		}
		if c := p.c(); !xsAtext(c) && c != '"' && c != '.' {
			break
		}
		p.buf = append(p.buf, ' ')
	}
	ret := p.skipCFWS()
	if charProblem && ret >= 0 {
		return xsProblem
	}
	return ret
}

// domainLiteral reads "[...]", brackets and backslashes kept.
func (p *xsParser) domainLiteral() int {
	start := p.i
	for p.i++; p.i < len(p.s); p.i++ {
		switch p.s[p.i] {
		case 0, '[':
			return xsInvalid
		case ']':
			p.buf = append(p.buf, p.s[start:p.i+1]...)
			p.i++
			return p.skipCFWS()
		case '\n':
			p.buf = append(p.buf, strings.TrimSuffix(p.s[start:p.i], "\r")...)
			start = p.i + 1
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return xsInvalid
			}
		}
	}
	return xsInvalid
}

// domain reads "@" and a dot-atom or domain literal.
func (p *xsParser) domain() int {
	p.i++
	if p.skipCFWS() <= 0 {
		return xsInvalid
	}
	if p.s[p.i] == '[' {
		return p.domainLiteral()
	}
	return p.dotAtom(false)
}

// localPart reads words (dot-atoms or quoted strings) joined by dots
// into the mailbox.
func (p *xsParser) localPart() int {
	p.buf = p.buf[:0]
	charProblem := false
	ret := xsEnd
	for p.i < len(p.s) {
		if p.s[p.i] == '"' {
			ret = p.quoted()
		} else {
			ret = p.dotAtom(true)
		}
		if ret < 0 && ret != xsProblem {
			return xsInvalid
		}
		if ret == xsProblem {
			charProblem = true
		}
		if p.i >= len(p.s) {
			break
		}
		if ret = p.skipCFWS(); ret <= 0 {
			break
		}
		if p.s[p.i] != '.' {
			break
		}
		p.i++
		if p.i >= len(p.s) {
			charProblem = true
			break
		}
		if ret = p.skipCFWS(); ret <= 0 {
			break
		}
		if p.s[p.i] == '@' {
			charProblem = true
			break
		}
	}
	if charProblem || ret < 0 {
		p.cur.invalid = true
	}
	p.cur.mailbox = xsSome(string(p.buf))
	return ret
}

// parseDomain reads "@" domain into the address.
func (p *xsParser) parseDomain() int {
	p.buf = p.buf[:0]
	ret := p.domain()
	if ret < 0 && ret != xsProblem {
		return xsInvalid
	}
	p.cur.domain = xsSome(string(p.buf))
	return ret
}

// route reads an obsolete source route "@a,@b" (discarded).
func (p *xsParser) route() int {
	dotProblem := false
	for {
		if p.i >= len(p.s) {
			if dotProblem {
				return xsProblem
			}
			return xsEnd
		}
		if p.s[p.i] != '@' {
			break
		}
		p.buf = p.buf[:0]
		ret := p.domain()
		if ret <= 0 && ret != xsProblem {
			return ret
		}
		if ret == xsProblem {
			dotProblem = true
		}
		for p.skipCFWS() > 0 && p.s[p.i] == ',' {
			p.i++
		}
	}
	if dotProblem {
		return xsProblem
	}
	return xsMore
}

// angleAddr reads "<" [route ":"] [local-part ["@" domain]] ">".
func (p *xsParser) angleAddr() int {
	p.i++
	if p.skipCFWS() <= 0 {
		return xsInvalid
	}
	if p.s[p.i] == '@' {
		ret := p.route()
		if ret > 0 && p.c() == ':' {
			p.i++
		} else {
			p.cur.invalid = true
			if p.i >= len(p.s) {
				return xsInvalid
			}
			if ret == xsProblem {
				p.i++
			}
		}
		if p.skipCFWS() <= 0 {
			return xsInvalid
		}
	}
	if p.s[p.i] != '>' {
		ret := p.localPart()
		if ret <= 0 && ret != xsProblem {
			return xsInvalid
		}
		if ret == xsProblem {
			p.cur.invalid = true
		}
		if p.i >= len(p.s) {
			return xsEnd
		}
		if p.s[p.i] == '@' {
			ret := p.parseDomain()
			if ret <= 0 && ret != xsProblem {
				return xsInvalid
			}
			if ret == xsProblem {
				p.cur.invalid = true
			}
			if p.i >= len(p.s) {
				return xsEnd
			}
		}
	}
	if p.s[p.i] != '>' {
		return xsInvalid
	}
	p.i++
	return p.skipCFWS()
}

// nameAddr reads [phrase] angle-addr; it fails (and the caller backs
// up) only when no "<" follows the phrase.
func (p *xsParser) nameAddr() int {
	p.buf = p.buf[:0]
	ret := p.phrase()
	if ret <= 0 && ret != xsProblem || p.c() != '<' {
		return xsInvalid
	}
	if ret == xsProblem {
		p.cur.invalid = true
	}
	if len(p.buf) > 0 {
		p.cur.name = xsSome(string(p.buf))
	}
	p.comment = p.comment[:0]
	if p.angleAddr() < 0 {
		p.cur.invalid = true
	}
	if len(p.comment) > 0 {
		p.cur.comment = xsSome(string(p.comment))
	}
	return p.more()
}

// addrSpec reads local-part ["@" domain].
func (p *xsParser) addrSpec() int {
	p.comment = p.comment[:0]
	ret := p.localPart()
	if ret <= 0 {
		p.cur.invalid = true
	}
	if ret != xsEnd && p.c() == '@' && p.i < len(p.s) {
		ret2 := p.parseDomain()
		if ret2 <= 0 && ret != xsProblem {
			ret = ret2
		}
		if ret2 == xsProblem {
			p.cur.invalid = true
			if p.i >= len(p.s) {
				ret = xsEnd
			}
		}
	}
	if len(p.comment) > 0 {
		p.cur.comment = xsSome(string(p.comment))
	}
	return ret
}

// push appends the address being filled to the output and starts a new one.
func (p *xsParser) push() {
	p.out = append(p.out, p.cur)
	p.cur = xsAddr{}
}

// pushMailbox appends a mailbox, an empty mailbox or domain marking it
// invalid.
func (p *xsParser) pushMailbox() {
	if !p.cur.mailbox.ok {
		p.cur.mailbox = xsSome("")
		p.cur.invalid = true
	}
	if p.cur.domain.s == "" {
		p.cur.domain = xsSome("")
		p.cur.invalid = true
	}
	p.push()
}

// mailbox reads name-addr, else addr-spec.
func (p *xsParser) mailbox() int {
	start := p.i
	ret := p.nameAddr()
	if ret < 0 {
		invalid := p.cur.invalid
		p.cur = xsAddr{invalid: invalid}
		p.i = start
		ret = p.addrSpec()
		if p.cur.invalid && !p.cur.name.ok && p.cur.mailbox.ok && !p.cur.domain.ok {
			p.cur.name, p.cur.mailbox = p.cur.mailbox, xsOpt{}
		}
	}
	if ret < 0 {
		p.cur.invalid = true
	}
	p.pushMailbox()
	return ret
}

// group reads phrase ":" [mailbox *("," mailbox)] ";", pushing a start
// marker (the name as mailbox, no domain), the members and an end marker.
func (p *xsParser) group() int {
	p.buf = p.buf[:0]
	ret := p.phrase()
	if ret <= 0 && ret != xsProblem || p.c() != ':' {
		return xsInvalid
	}
	if ret == xsProblem {
		p.cur.invalid = true
	}
	p.i++
	if ret = p.skipCFWS(); ret <= 0 {
		p.cur.invalid = true
	}
	p.cur.mailbox = xsSome(string(p.buf))
	p.push()
	if ret > 0 && p.s[p.i] != ';' {
		for {
			p.mailbox()
			if p.c() != ',' || p.i >= len(p.s) {
				break
			}
			p.i++
			if p.skipCFWS() <= 0 {
				ret = xsInvalid
				break
			}
		}
	}
	if ret >= 0 {
		if p.c() != ';' || p.i >= len(p.s) {
			ret = xsInvalid
		} else {
			p.i++
			ret = p.skipCFWS()
		}
	}
	if ret < 0 {
		p.cur.invalid = true
	}
	p.push()
	if ret == xsEnd {
		return xsEnd
	}
	return xsMore
}

// parseXSAddressList parses s as Email::Address::XS->parse does and
// returns the mailboxes (group markers left out), in order.
func parseXSAddressList(s string) []xsAddr {
	p := &xsParser{s: s}
	if p.skipCFWS() <= 0 {
		return nil
	}
	for {
		start := p.i
		ret := p.group()
		if ret < 0 {
			p.i = start
			ret = p.mailbox()
		}
		if ret == xsEnd {
			break
		}
		if p.c() != ',' || p.i >= len(p.s) {
			p.out[len(p.out)-1].invalid = true
			break
		}
		p.i++
		if ret := p.skipCFWS(); ret <= 0 {
			if ret < 0 {
				p.pushMailbox() // trailing garbage: an empty, invalid mailbox
			}
			break
		}
	}
	var out []xsAddr
	for _, a := range p.out {
		if a.domain.ok {
			out = append(out, a)
		}
	}
	return out
}

// xsComposeAddress joins user and host as Email::Address::XS's
// compose_address does: the user is quoted when it is not a dot-atom (a
// leading or trailing dot needs quotes too), with backslashes before
// '"', '\', NUL, TAB, LF and CR.
func xsComposeAddress(user, host string) string {
	quoteDot := user == "" || user[0] == '.' || user[len(user)-1] == '.'
	plain := user != ""
	for i := 0; i < len(user) && plain; i++ {
		plain = xsAtext(user[i]) || user[i] == '.' && !quoteDot
	}
	if plain {
		return user + "@" + host
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(user); i++ {
		switch c := user[i]; c {
		case '"', '\\', 0, '\t', '\n', '\r':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(`"@`)
	b.WriteString(host)
	return b.String()
}

// parseHeaderAddressesXS is SpamAssassin's _parse_header_addresses_xs:
// the module's addresses, with a bare quoted "user@host" taken as the
// address (SpamAssassin bug 5201), the comment standing in for a missing
// phrase, and the whole input for a missing phrase and address.
func parseHeaderAddressesXS(s string) []headerAddress {
	s = strings.ReplaceAll(s, `\\`, "")
	var out []headerAddress
	for _, a := range parseXSAddressList(s) {
		phrase := a.name
		var user, host, address xsOpt
		if a.mailbox.s != "" {
			user = a.mailbox
		}
		if a.domain.s != "" {
			host = a.domain
		}
		if user.ok && host.ok {
			address = xsSome(xsComposeAddress(user.s, host.s))
		}
		if !address.ok && !user.ok && !a.comment.ok && phrase.ok && validParsedAddress(phrase.s) {
			// /^([^\s@]+)@([^\s@]+)$/, where $ also matches before a final newline
			bare := strings.TrimSuffix(phrase.s, "\n")
			if u, h, ok := strings.Cut(bare, "@"); ok && u != "" && h != "" &&
				!strings.ContainsFunc(bare, func(r rune) bool { return r < 0x80 && isPerlSpace(byte(r)) }) &&
				strings.IndexByte(h, '@') < 0 && tokFQDNValid(saIDNToASCII(h)) {
				address, phrase = phrase, xsOpt{}
			}
		}
		if !phrase.ok && a.comment.ok {
			phrase = a.comment
		}
		if !phrase.ok && !address.ok {
			phrase = xsSome(s)
		}
		out = append(out, headerAddress{phrase: phrase.s, hasPhrase: phrase.ok, address: address.s, hasAddress: address.ok})
	}
	return out
}

// saIDNA converts a host as SpamAssassin's idn_to_ascii does with
// Net::LibIDN2 (IDNA2008 lookup, UTS #46 non-transitional mapping, NFC
// input, no STD3 rules). A Profile is immutable and safe to share.
var saIDNA = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false), idna.VerifyDNSLength(false))

// saIDNToASCII is SpamAssassin's idn_to_ascii for a host that
// is_fqdn_valid is about to check: ASCII hosts are lower-cased; others,
// when UTF-8 (with the alternative full stops as dots) or Latin-1, are
// converted to their ACE form, read as a C string (up to a NUL) as the
// library does; a failed conversion leaves the host as it was.
func saIDNToASCII(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		c := s[i]
		ascii = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:[]-", c) >= 0
	}
	if ascii {
		return tokLower(s)
	}
	in := s
	switch {
	case utf8.ValidString(s):
		s = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(s)
		in = s
	case isLatin1Host(s):
		b := make([]rune, 0, len(s))
		for i := 0; i < len(s); i++ {
			b = append(b, rune(s[i]))
		}
		in = string(b)
	default:
		return tokLower(s)
	}
	if nul := strings.IndexByte(in, 0); nul >= 0 {
		in = in[:nul]
	}
	a, err := saIDNA.ToASCII(in)
	if err != nil {
		return s
	}
	return a
}

// isLatin1Host reports whether s has only letters, digits, '_', '.', '-'
// and the ISO-8859-1 letters with diacritics.
func isLatin1Host(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' ||
			c >= 0xc0 && c <= 0xd6 || c >= 0xd8 && c <= 0xde || c >= 0xe0 && c <= 0xf6 || c >= 0xf8 && c <= 0xfe
		if !ok {
			return false
		}
	}
	return true
}
