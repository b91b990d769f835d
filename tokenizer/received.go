package tokenizer

import (
	"regexp"
	"strings"

	"github.com/gospamd/gospamd/internal/ascii"
)

// This file reproduces SpamAssassin's Message/Metadata/Received.pm: the
// per-MTA patterns that pull ip, rdns, helo, by, ident, envfrom, id and
// auth out of a Received header, and the default trust inference that
// splits relays into trusted/untrusted and internal/external.

const (
	reIPv4 = `(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)(?:\.(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)){3}`
	// reIPv6 is the IPv6 half of SpamAssassin's IP_ADDRESS (Constants.pm),
	// case-insensitive: IPv4 mapped in IPv6, then pure IPv6 with "::"
	// anywhere, alternatives in its order. RE2 has no look-around: the
	// "(?<![a-f0-9:])" before and "(?![a-f0-9:])" after an address are
	// left to the patterns around it (brackets, parentheses, blanks).
	reIPv6 = `(?i:(?:IPv6:)?(?:` +
		`(?:(?:[a-f0-9]{1,4}:){6}|::(?:[a-f0-9]{1,4}:){0,5}|(?:[a-f0-9]{1,4}:){1,5}:|[a-f0-9]{1,4}::(?:[a-f0-9]{1,4}:){1,4}|` +
		`(?:[a-f0-9]{1,4}:){2}:(?:[a-f0-9]{1,4}:){1,3}|(?:[a-f0-9]{1,4}:){3}:(?:[a-f0-9]{1,4}:){1,2}|(?:[a-f0-9]{1,4}:){4}:[a-f0-9]{1,4}:)` +
		reIPv4 + `|` +
		`(?:[a-f0-9]{1,4}:){7}[a-f0-9]{1,4}|:(?::[a-f0-9]{1,4}){1,7}|(?:[a-f0-9]{1,4}:){1,7}:|[a-f0-9]{1,4}:(?::[a-f0-9]{1,4}){1,6}|` +
		`(?:[a-f0-9]{1,4}:){2}(?::[a-f0-9]{1,4}){1,5}|(?:[a-f0-9]{1,4}:){3}(?::[a-f0-9]{1,4}){1,4}|(?:[a-f0-9]{1,4}:){4}(?::[a-f0-9]{1,4}){1,3}|` +
		`(?:[a-f0-9]{1,4}:){5}(?::[a-f0-9]{1,4}){1,2}|(?:[a-f0-9]{1,4}:){6}:[a-f0-9]{1,4}|::))`
	reIP     = `(?:\b` + reIPv4 + `\b|` + reIPv6 + `)`
	reLocal  = `(?:(?i:localhost(?:\.localdomain)?)|\b127\.0\.0\.1\b|(?:IPv6:)?(?:0{1,4}:){1,7}:?0{0,3}1\b|::1\b)`
	reTokSep = `(?:[^-A-Za-z0-9\.\^+_&:=?!@%*\$\\\/]|$)`
	reTok    = `[-A-Za-z0-9\.\^+_&:=?!@%*\$\\\/]+`
)

// Patterns, in the order Received.pm tries them.
var (
	rcvHeloEq        = rx(`\bhelo=(` + reTok + `)` + reTokSep)
	rcvHeloWord      = rx(`\b(?:HELO|EHLO) (` + reTok + `)` + reTokSep)
	rcvAuthWith      = rx(`(?i) with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$)`)
	rcvGmail         = rx(` by mx\.google\.com with ESMTPS id [a-z0-9]{1,4}sm[0-9]{2,9}[a-z]{3}\.[0-9]{1,3}\.[0-9]{4}\.(?:[0-6][0-9]\.){4}[0-6][0-9]`)
	rcvGmailTLS      = rx(`\(version=([^ ]+) cipher=([^\)]+)\)`)
	rcvAuthColon     = rx(`^from .*?(?:\]\)|\)\]) \(AUTH: (LOGIN|PLAIN|DIGEST-MD5|CRAM-MD5) \S+(?:, .*?)?\) by `)
	rcvSendmailAuth  = rx(`^from .*?(?:\](?: \([^)]*\))?\)|\)\]) .*?\(.*?authenticated.*?\).*? by`)
	rcvGMX           = rx(`from \S* \((?:HELO|EHLO) (\S*)\) \[(IPADDR)\] by (mail\.gmx\.(?:net|com)) \([^\)]+\) with ((?:ESMTP|SMTP))`)
	rcvCritPath      = rx(`\) by .+ \(\d{1,2}\.\d\.\d{3}(?:\.\d{1,3})?\) \(authenticated as .+\) id `)
	rcvPostfixAuth   = rx(`\) \(Authenticated sender: \S+\) by \S+ \(([^\)]+)\) with `)
	rcvCommuniGate   = rx(`CommuniGate Pro (HTTP|SMTP|XIMSS|IMAP)`)
	rcvViaHTTP       = rx(`(?i) \(via (HTTP.?)\)(?: |;|$)`)
	rcvEnvFrom       = rx(`(?i)(?:return-path:? |envelope-(?:sender|from)[ =])(\S+)\b`)
	rcvSquirrel      = rx(`(IPADDR)\b[^.\-\n].{9,79}by (\S+) with HTTP`)
	rcvAOL           = rx(`(IPADDR) by (\S+) \(IPADDR\) with HTTP \(WebMailUI\)`)
	rcvSMTPSVC       = rx(`^(\S*) \(\[(IPADDR)\][^\)]{0,40}\) by (\S+) with Microsoft SMTPSVC`)
	rcvPickup        = rx(`^mail pickup service by (\S+) with Microsoft SMTPSVC$`)
	rcvExchangeWith  = rx(` with (?:Microsoft SMTP Server|mapi id) (?:\([^\)]+\) )?\d+\.\d+\.\d+\.\d+(?:$| )`)
	rcvExchange      = rx(`^(\S+) \(\[?(IPADDR)(?:%[A-Z0-9._~-]*)?\]?\) by (\S+) `)
	rcvXMail         = rx(`^(\S+) \((\[?IPADDR\]?)(?::\d+)\) by (\S+)(?: \(\S+\))? with \[XMail`)
	rcvXMailID       = rx(` id <(\S+)>`)
	rcvXMailFrom     = rx(` from <(\S+)>`)
	rcvEcel1         = rx(`^\(\[(IPADDR):\d+\] helo=(\S+)\) by (\S+) `)
	rcvEcel2         = rx(`^\S+ \(\[(IPADDR):\d+\]\) by (\S+) `)
	rcvEximLocal     = rx(`\bwith local(?:-\S+)? `)
	rcvExim1         = rx(`^\[(IPADDR)\] \((.*?)\) by (\S+) `)
	rcvExim2         = rx(`^(\S+) \(\[(IPADDR)\](.*?)\) by (\S+) `)
	rcvExim3         = rx(`^(\S+) \[(IPADDR)\](:\d+)? by (\S+) `)
	rcvEximRDNS      = rx(`^(\S+) `)
	rcvEximHelo      = rx(` \((\S+)\) `)
	rcvEximIP        = rx(` \[(IPADDR)(?:\.\d+)?\] `)
	rcvEximBy        = rx(`by (\S+) `)
	rcvSubHelo       = rx(`helo=(\S+)`)
	rcvSubIdent      = rx(`ident=(\S*)`)
	rcvPostfix1      = rx(`^(\S+) \((\S+) \[(IPADDR)\]\) by (\S+) `)
	rcvPostfix2      = rx(`^(\S+) \((\S+)\[(IPADDR)\]\) by (\S+) `)
	rcvScalix        = rx(`^(\S+) \( ?(IPADDR)\) by (\S+)`)
	rcvDomino        = rx(`^(\S+) \(\[(IPADDR)\]\) by (\S+) \(Lotus`)
	rcvHTTPIP        = rx(`^(IPADDR) \(\[IPADDR\]\) by (\S+)`)
	rcvQmailWith     = rx(` by \S+ \(qmail-\S+\) with `)
	rcvGeneric1      = rx(`^(\S+) \((\S+) \[(IPADDR)\].*\) by (\S+) \(`)
	rcvGeneric2      = rx(`^(\S+) \((\S+) \[(IPADDR)\]\) by (\S+) with \S+ \(`)
	rcvGeneric3      = rx(`^(\S+) \(\[(IPADDR)\] helo=(\S+)\) by (\S+) with `)
	rcvGeneric4      = rx(`^(\S+) \(<unknown\S*>\[(IPADDR)\]\) by (\S+) `)
	rcvGeneric5      = rx(`^(\S+) \((\S+\.\S+)\[(IPADDR)\]\) by (\S+) `)
	rcvGeneric6      = rx(`^(\S+) \((\S*)\@\[(IPADDR)\].*\) by (\S+) \(`)
	rcvHotmail       = rx(`by (\S+\.hotmail\.msn\.com) `)
	rcvHotmailIP     = rx(`^(IPADDR) `)
	rcvQpsmtpd       = rx(`^(\S+) \((?:HELO|EHLO) (\S*)\) \((IPADDR)\) by (\S+) \(qpsmtpd/\S+\) with (?:ESMTP|SMTP)`)
	rcvLMTP          = rx(`^(\S+) \(LHLO (\S*)\) \((IPADDR)\) by (\S+) with LMTP`)
	rcvHeloBracket   = rx(`^(\S+) \((?:HELO|EHLO) (\S*)\) \[(IPADDR)\] by (\S+) \([^\)]+\) with (?:ESMTP|SMTP)`)
	rcvSmtpd         = rx(`^(\S+) \(\[(IPADDR)\]\) by (\S+) via smtpd \(for \S+\) with SMTP\(`)
	rcvQmail         = rx(`^\S+( \((?:HELO|EHLO) \S*\))? \((\S+\@)?\[?IPADDR\]?\)( \(envelope-sender <\S+>\))? by \S+( \(.+\))* with (.* )?(SMTP|QMQP)(?:$|[^ ]| $| [^i]| i$| i[^d]| id$| id[^ ])`)
	rcvQmailA        = rx(`^(\S+) \((?:HELO|EHLO) ([^ \(\)]*)\) \((\S*)\@\[?(IPADDR)\]?\)( \(envelope-sender <\S+>\))? by (\S+)`)
	rcvQmailB        = rx(`^(\S+) \((?:HELO|EHLO) ([^ \(\)]*)\) \(\[?(IPADDR)\]?\)( \(envelope-sender <\S+>\))? by (\S+)`)
	rcvQmailC        = rx(`^(\S+) \((\S*)\@\[?(IPADDR)\]?\)( \(envelope-sender <\S+>\))? by (\S+)`)
	rcvQmailD        = rx(`^(\S+) \(\[?(IPADDR)\]?\)( \(envelope-sender <\S+>\))? by (\S+)`)
	rcvViaHTTPEnd    = rx(`^\[(IPADDR)\] by (\S+) via HTTP$`)
	rcvSpaceBracket  = rx(`^(\S+) \( \[(IPADDR)\]\).*? by (\S+) `)
	rcvParenHelo     = rx(`^\((\S+) \[(IPADDR)\]\) by (\S+) `)
	rcvBareBracket   = rx(`^\[(IPADDR)\] by (\S+) `)
	rcvParenIP       = rx(`^\(\[?(IPADDR)\]?\) by (\S+) `)
	rcvByBracket     = rx(`^(\S+) \[(IPADDR)\] by (\S+) \[IPADDR\] with `)
	rcvBracketParen  = rx(`^(\S+) \[\((IPADDR)\)\] by (\S+) \(IPADDR\) `)
	rcvSendmail1     = rx(`^(\S+) \(\[(IPADDR)\]\) by (\S+) \(`)
	rcvSendmail2     = rx(`^(\S+) \((\S+) \[(IPADDR)\]\).*? by (\S+)\b`)
	rcvSendmail3     = rx(`^(\S+) \(\[(IPADDR)(?:[.:]\d+)?\]\).*? by (\S+) `)
	rcvSendmail4     = rx(`^(\S+) \((\S+) \[(IPADDR)\]\)(?: \(authenticated bits=\d+\))? by (\S+) \(`)
	rcvPOP           = rx(`with (?:POP3|IMAP)`)
	rcvHeloIdent     = rx(`^(\S+) \((?:HELO|EHLO) ([^\)]*)\) \((\S*@)?\[?(IPADDR)\]?\).* by (\S+) `)
	rcvIdentIP       = rx(`^(\S+) \((\S*@)?\[?(IPADDR)\]?\).* by (\S+) `)
	rcvHTTPFor       = rx(`^\[(IPADDR)\] by (\S+) with http for `)
	rcvSmap1         = rx(`^(\S+)\((IPADDR)\) by (\S+) via smap `)
	rcvSmap2         = rx(`^(\S+)\((IPADDR), (?:HELO|EHLO) (\S*)\) by (\S+) via smap `)
	rcvPost          = rx(`^\[(IPADDR)\] by (\S+) \(Post`)
	rcvArgo          = rx(`^\[(IPADDR)\] by (\S+) \(ArGoSoft`)
	rcvSMTPL         = rx(`^(IPADDR) by (\S+) \((?:SMTPL|InterScan)\b`)
	rcvBSMTP         = rx(`^\S+ by \S+ with BSMTP`)
	rcvWith1         = rx(`^(\S+) \((\S+) \[(IPADDR)\]\) by (\S+) with `)
	rcvWith2         = rx(`^(\S+) \((?:HELO|EHLO) (\S*)\) \((?:(\S+)\@)?(IPADDR).*?\) by (\S+) with `)
	rcvAccount       = rx(`^\[(IPADDR)\] \((?:account \S+ )?(?:HELO|EHLO) (\S*)\) by (\S+) \(`)
	rcvCGVerified    = rx(`^(\S+) \(\[(IPADDR)\] verified\) by (\S+) \(`)
	rcvParenWith     = rx(`^\(\[(IPADDR)\]\) by (\S+) with `)
	rcvNonDigit      = rx(`^([^\d]\S+) \((IPADDR)\) by (\S+) `)
	rcvContentTech   = rx(`^\S+ \(\S+\) by \S+ \(Content Technologies `)
	rcvDoubleBracket = rx(`^(\S+) \(\[(IPADDR)\] \[(\S+)\]\) by (\S+) with `)
	rcvIPByWith      = rx(`^(IPADDR) by (\S+) with `)
	rcvNoSpace       = rx(`^(\S+) \((\S+)\[(IPADDR)\]\) by (\S+) `)
	rcvBracketSuffix = rx(`^\[(IPADDR)\]\S+ \((?:HELO|EHLO) (\S*)\) by (\S+) `)
	rcvIPHelo        = rx(`^(IPADDR) \((?:HELO|EHLO) (\S*)\) by (\S+) `)
	rcvHostBracket   = rx(`^(\S+) \[(IPADDR)\] by (\S+) `)
	rcvHostParen     = rx(`^(\S+)\((IPADDR)\) by (\S+) `)
	rcvMailGate      = rx(`^\[(IPADDR)\] by (\S+) \(MailGate `)
	rcvUnverified    = rx(`^(\S+) \(unverified \[(IPADDR)\]\) by (\S+) `)
	rcvIPParenWith   = rx(`^(IPADDR) \([A-Za-z][^\)]+\) by (\S+) with `)
	rcvBracketSub    = rx(`^\[(IPADDR)\] \(([^\)]+)\) by (\S+) `)
	rcvIdentWith     = rx(`^(\S+) \((?:\S+\@)?(IPADDR)\) by (\S+) with `)
	rcvClaiming      = rx(`^(\S+)\((IPADDR)\)(?:, claiming to be "(\S+)")? via \S+ by (\S+),`)
	rcvYahoo         = rx(`^(\S+) \((\S+)@(IPADDR) with login\) by (\S+\.yahoo\.com) with SMTP`)
	rcvOrigIP        = rx(`^X-Originating-IP: (IPADDR)$`)
	rcvLocalIdent    = rx(`^\S+ \([^\s\@]+\@LOCALHOST\) by \S+ \(`)
	rcvLocalESMTP    = rx(`^\S+ \S+ by \S+ with local-e?smtp `)
	rcvAVG           = rx(`^127\.0\.0\.1 \(AVG SMTP \S+ \[\S+\]\)`)
	rcvUID           = rx(`^\S+\@\S+ by \S+ by uid \S+ `)
	rcvAddrBy        = rx(`^\S+\@\S+ by \S+ `)
	rcvUnknownLocal  = rx(`^Unknown/Local \(`)
	rcvLocal1        = rx(`^LOCALHOST \((?:\S+\@)?LOCALHOST[\)\[]`)
	rcvLocal2        = rx(`^\S+ \((?:\S+\@)?LOCALHOST\) `)
	rcvLocal3        = rx(`^\S+ \(\S+\@\S+ \[LOCALHOST\]\) `)
	rcvAuthBy        = rx(`^\(AUTH: \S+\) by \S+ with `)
	rcvUnixLocal     = rx(`^localhost \(localhost \[\[UNIX: localhost\]\]\) by `)
	rcvAmazon        = rx(`^\S+\.amazon\.com by \S+\.amazon\.com with ESMTP \(peer crosscheck: `)
	rcvGroupWise     = rx(`^[^\.]+ by \S+ with Novell_GroupWise`)
	rcvNoName        = rx(`^no\.name\.available by \S+ via smtpd \(for `)
	rcvQmailScanner  = rx(`^\S+ by \S+ \(.{0,100}\) with qmail-scanner`)
	rcvWithLocal     = rx(`^\S+ by \S+ with local`)
	rcvCyrus         = rx(`^\S+ \(\[unix socket\]\) by \S+ \(Cyrus v[0-9]*?\.[0-9]*?\.[0-9]*?\) with LMTPA`)
	rcvByWithVia     = rx(`^\S+ by \S+ (?:with|via|for|\()`)
	rcvWithBy        = rx(`^\S+ (?:(?:with|via|for) \S+|\(unverified\)) by\b`)
	rcvSG            = rx(`^\S+ \(unknown\) by \S+ \(SG\) with \b`)
	rcvOpenSMTPD     = rx(`^\S+ \(\S+ \[local\]\) by \S+ \(OpenSMTPD\) with \b`)
	rcvLSMTP         = rx(`\(LSMTP for`)
	rcvMailEnable    = rx(`^\(\[LOCALHOST\]\) with MailEnable `)
	rcvFacebook      = rx(`^facebook\.com \([^\)]+\) by facebook\.com with Thrift id \S+$`)
	rcvGmailAPI      = rx(`^\S+ named \S+ by gmailapi\.google\.com with HTTPREST$`)
	rcvIDOnly        = rx(`^\S+ id \S+$`)
	rcvJetsend       = rx(`^\[<.*? \(Jetsend`)
	rcvFirstTok      = rx(`^(\S+)[^-A-Za-z0-9\.]`)
	rcvUpper         = rx(`^(\S+) \((\S+) \[(IPADDR)\]\) BY (\S+) (?:\([^\)]+\) WITH SMTP )?ID <?(\S+?)>?(?: FOR <[^>]+>)?$`)
	rcvNAVGW         = rx(`^(\S*) \[(IPADDR)\]\) by (\S+) \(NAVGW .*?\) with `)
	rcvParenLocal    = rx(`^\S+\@localhost\) by \S+ `)
	rcvJQueue        = rx(`^[^\s\@]+\@[^)]+\) by \S+\(jqueuemail\) id [^\s;]+`)
	rcvAnyBracketIP  = rx(`\[(IPADDR)\]`)
	rcvIPPrivate     = regexp.MustCompile(`^(?:(?:10|127|169\.254|172\.(?:1[6-9]|2[0-9]|3[01])|192\.168|100\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7]))\..*|(?i:fe[89ab][0-9a-f]:.*)|(?i:(?:0{1,4}:){1,6}:?(?:ffff:)?(?:10|127|169\.254|172\.(?:1[6-9]|2[0-9]|3[01])|192\.168)\..*)|(?:0{0,4}:){2,7}0{0,3}1)$`)
	rcvMappedV4      = regexp.MustCompile(`(?i)^0*:0*:(?:0*:)*ffff:(\d+\.\d+\.\d+\.\d+)$`)
)

// originatingIPHeaders is SpamAssassin's originating_ip_headers as its
// stock rule set configures it: headers whose first IP address is
// treated as one more, oldest relay.
var originatingIPHeaders = []string{
	"X-Yahoo-Post-IP", "X-Originating-IP", "X-Apparently-From", "X-SenderIP", "X-AOL-IP",
	"X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
}

// relayParse is the outcome of reading one Received header.
type relayParse int

const (
	relayParsed      relayParse = iota
	relayIgnored                // a handover SpamAssassin skips on purpose (local, fetchmail, ...)
	relayUnparseable            // a format it does not know
)

type rcvState struct {
	ip, helo, rdns, by, id, ident, auth string
	envfrom                             string
	hasEnvFrom                          bool
	popFetch                            bool
	qmailScannerEnvFrom                 *string
	// lookedUp is SpamAssassin's $mta_looked_up_dns: the header's
	// format shows the receiving MTA always records the rDNS it found.
	lookedUp bool
	// noShapes turns the rcvShape pre-checks and the rcvPattern guards
	// off (tests compare).
	noShapes bool
	// v4IP and v4Local say the header cannot hold an IPv6 address or
	// localhost: the IPv4-only forms of the patterns are used (rcvRe).
	// noV4 never sets them (tests compare).
	v4IP, v4Local, noV4 bool
}

// parseReceived reads one unfolded Received header value into a Relay.
func parseReceived(line string) (Relay, relayParse, *rcvState) {
	return parseReceivedWith(line, &rcvState{})
}

// parseReceivedWith is parseReceived filling st.
func parseReceivedWith(line string, st *rcvState) (Relay, relayParse, *rcvState) {
	s := collapseASCIISpace(line)
	s = strings.TrimPrefix(s, " ")
	s = strings.TrimSuffix(s, " ")
	for {
		t := strings.TrimSuffix(s, ";")
		if t == s {
			break
		}
		t = strings.TrimSuffix(t, " ")
		s = t
	}
	res := st.parse(s)
	if res != relayParsed {
		return Relay{Raw: line, Unparseable: res == relayUnparseable, Ignored: res == relayIgnored}, res, st
	}
	return st.relay(line), relayParsed, st
}

// re is r as it applies to the header being parsed.
func (st *rcvState) re(r *rcvRe) *regexp.Regexp {
	if st.v4Form(r) {
		return r.v4()
	}
	return r.all()
}

// v4Form reports whether r's IPv4-only form applies to the header.
func (st *rcvState) v4Form(r *rcvRe) bool {
	return st.v4IP && st.v4Local || st.v4IP && !r.local || st.v4Local && !r.ip
}

func (st *rcvState) sub(r *rcvRe, s string) []string { return st.re(r).FindStringSubmatch(s) }

func (st *rcvState) match(r *rcvRe, s string) bool { return st.re(r).MatchString(s) }

// subIf is sub when ok, else no match.
func (st *rcvState) subIf(ok bool, r *rcvRe, s string) []string {
	if !ok {
		return nil
	}
	return st.sub(r, s)
}

// subHand is subIf with hand, a matcher written for r's IPv4 form (see
// receivedfast.go), in place of the regexp when that form applies.
func (st *rcvState) subHand(ok bool, r *rcvRe, hand func(string) []string, s string) []string {
	if !ok {
		return nil
	}
	if r.same || st.v4Form(r) {
		return hand(s)
	}
	return st.sub(r, s)
}

func (st *rcvState) parse(s string) relayParse {
	if !ascii.HasPrefixFold(s, "from ") && !ascii.HasPrefixFold(s, "(from ") {
		return relayIgnored
	}
	if wordBoundedContains(s, "with local for") {
		return relayIgnored
	}
	if from, ok := fromByOnly(s); ok && !isBracketIP(from) {
		return relayIgnored
	}
	s = stripReceivedDate(s)
	s = strings.Replace(s, ")by ", ") by ", 1)
	if !st.noV4 {
		st.v4IP, st.v4Local = !mayHoldIPv6(s), !mayHoldLocal6(s)
	}

	if id, ok := receivedID(s); ok {
		st.id = id
	}
	if strings.Contains(s, "helo=") {
		if m := st.sub(rcvHeloEq, s); m != nil {
			st.helo = m[1]
		}
	}
	if st.helo == "" && (strings.Contains(s, "HELO ") || strings.Contains(s, "EHLO ")) {
		if m := st.sub(rcvHeloWord, s); m != nil {
			st.helo = m[1]
		}
	}
	if by, ok := receivedBy(s); ok {
		st.by = by
	}
	st.auth = st.detectAuth(s)

	switch {
	case strings.HasPrefix(s, "from "):
		return st.parseFrom(s[5:])
	case strings.HasPrefix(s, "FROM "):
		r := s[5:]
		if m := st.sub(rcvUpper, r); m != nil {
			st.helo, st.rdns, st.ip, st.by, st.id = m[1], m[2], m[3], m[4], m[5]
			st.lookedUp = true
			if st.rdns == "unverified" {
				st.rdns = ""
			}
			return relayParsed
		}
		return st.fallback(r)
	case strings.HasPrefix(s, "(from "):
		r := s[6:]
		if m := st.sub(rcvNAVGW, r); m != nil {
			st.helo, st.ip, st.by = m[1], m[2], m[3]
			return relayParsed
		}
		if st.match(rcvParenLocal, r) || st.match(rcvJQueue, r) {
			return relayIgnored
		}
		return st.fallback(r)
	}
	// "From " in other letter cases passes the first check but none of
	// the prefixes above.
	return st.fallback(s)
}

func wordBoundedContains(s, w string) bool {
	for i := 0; ; {
		k := strings.Index(s[i:], w)
		if k < 0 {
			return false
		}
		k += i
		if (k == 0 || !isWordByte(s[k-1])) && (k+len(w) == len(s) || !isWordByte(s[k+len(w)])) {
			return true
		}
		i = k + 1
	}
}

func (st *rcvState) fallback(s string) relayParse {
	if st.ip == "" && strings.Contains(s, "[") {
		if m := st.sub(rcvAnyBracketIP, s); m != nil {
			st.ip = m[1]
		}
	}
	if st.ip != "" && st.by != "" {
		return relayParsed
	}
	return relayUnparseable
}

func (st *rcvState) detectAuth(s string) string {
	if containsSpaced(s, " by ") && containsFold(s, " with ") {
		if isASCII(s) {
			if a, ok := authWith(s); ok {
				return a
			}
		} else if m := st.sub(rcvAuthWith, s); m != nil {
			return m[1]
		}
	}
	if containsSpaced(s, " by mx.google.com ") && st.match(rcvGmail, s) {
		if m := st.sub(rcvGmailTLS, s); m != nil {
			return "GMail - transport=" + m[1] + " cipher=" + m[2]
		}
	}
	if containsSpaced(s, " (AUTH: ") {
		if m := st.sub(rcvAuthColon, s); m != nil {
			return m[1]
		}
	}
	if strings.Contains(s, "authenticated") && st.match(rcvSendmailAuth, s) {
		return "Sendmail"
	}
	if strings.Contains(s, "mail.gmx.") {
		if m := st.sub(rcvGMX, s); m != nil {
			return "GMX (" + m[4] + " / " + m[3] + ")"
		}
	}
	if containsSpaced(s, " (authenticated as ") && st.match(rcvCritPath, s) {
		return "CriticalPath"
	}
	if strings.Contains(s, "(Authenticated sender: ") {
		if m := st.sub(rcvPostfixAuth, s); m != nil {
			if m[1] == "Postfix" {
				return m[1]
			}
			return "Postfix (" + m[1] + ")"
		}
	}
	if strings.Contains(s, "CommuniGate Pro ") && st.match(rcvCommuniGate, s) && containsSpaced(s, " (account ") {
		return "Communigate"
	}
	if containsSpaced(s, " with Microsoft Exchange Server HTTP-DAV") && wordBoundedContains(s, "with Microsoft Exchange Server HTTP-DAV") {
		return "HTTP-DAV"
	}
	if containsSpaced(s, " by ") && containsFold(s, " (via http") {
		if m := st.sub(rcvViaHTTP, s); m != nil {
			return m[1]
		}
	}
	return ""
}

// containsFold reports whether s contains sub (lower-case ASCII),
// ignoring ASCII case.
// containsSpaced is strings.Contains(s, sub) for a sub that starts with
// a space, searched from its second byte: a Received header has a space
// every few bytes, where the library's search for sub would stop to
// compare each time.
func containsSpaced(s, sub string) bool {
	rest := sub[1:]
	for i := 1; i <= len(s)-len(rest); {
		k := strings.Index(s[i:], rest)
		if k < 0 {
			return false
		}
		if s[i+k-1] == ' ' {
			return true
		}
		i += k + 1
	}
	return false
}

// containsGuard is strings.Contains(s, guard), by containsSpaced for a
// guard that starts with a space.
func containsGuard(s, guard string) bool {
	if guard[0] == ' ' {
		return containsSpaced(s, guard)
	}
	return strings.Contains(s, guard)
}

// containsFold reports whether some len(sub) bytes of s are
// strings.EqualFold to sub, a lower-case ASCII string. Text folding to
// ASCII with as many bytes is ASCII (a non-ASCII character takes more
// bytes than the one it would fold to), so this is an ASCII search
// without case: for a sub starting with a byte that is no letter, at
// each such byte of s (a Received header's spaces, for " with ").
func containsFold(s, sub string) bool {
	n := len(sub)
	c := sub[0]
	if 'a' <= c && c <= 'z' {
		for i := 0; i+n <= len(s); i++ {
			if s[i]|0x20 == c && ascii.HasPrefixFold(s[i:], sub) {
				return true
			}
		}
		return false
	}
	for i := 0; i+n <= len(s); i++ {
		k := strings.IndexByte(s[i:len(s)-n+1], c)
		if k < 0 {
			return false
		}
		i += k
		if ascii.HasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}

// collapseASCIISpace replaces every run of ASCII whitespace with one
// space.
func collapseASCIISpace(s string) string {
	collapsed := true
	for i := 0; i < len(s) && collapsed; i++ {
		if c := s[i]; isPerlSpace(c) {
			collapsed = c == ' ' && (i+1 == len(s) || !isPerlSpace(s[i+1]))
		}
	}
	if collapsed {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if isPerlSpace(s[i]) {
			for i+1 < len(s) && isPerlSpace(s[i+1]) {
				i++
			}
			sb.WriteByte(' ')
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// stripReceivedDate removes the trailing "; date" of a Received header:
// what rcvDate matches in the last receivedDateTail bytes, read from the
// end by hand (the regexp costs more than the rest of the header's
// parse; TestStripReceivedDateAsRegexp compares the two).
func stripReceivedDate(s string) string {
	if i := receivedDateStart(s); i >= 0 {
		return s[:i]
	}
	return s
}

// receivedDateTail is how far from the end the date is looked for.
const receivedDateTail = 120

// receivedDateStart is where rcvDate's leftmost match in the last
// receivedDateTail bytes of s starts, or -1. The pattern is anchored at
// the end: "\S+$" is the last run of non-blanks, preceded by one space
// and, from right to left, the time (\d+:\d+ or \d+:\d+:\d+), the year
// (\d+), the month, the day (\d+), an optional "Wdy, " and at least one
// of [\s;], whose run's first byte (within the tail) starts the match.
func receivedDateStart(s string) int {
	off := max(len(s)-receivedDateTail, 0)
	p := len(s)
	// token returns the start of the run of non-blanks ending at p, which
	// must be preceded by one space; -1 when it is empty or not.
	token := func(p int) int {
		q := p
		for q > off && !isGoSpace(s[q-1]) {
			q--
		}
		if q == p || q <= off || s[q-1] != ' ' {
			return -1
		}
		return q
	}
	q := token(p) // the zone
	if q < 0 {
		return -1
	}
	p = q - 1
	if q = token(p); q < 0 || !isReceivedTime(s[q:p]) {
		return -1
	}
	p = q - 1
	if q = token(p); q < 0 || !allDigits(s[q:p]) {
		return -1
	}
	p = q - 1
	if q = token(p); q < 0 || !isMonth(s[q:p]) {
		return -1
	}
	p = q - 1
	d := p // the day's digits end at p
	for d > off && isDigit(s[d-1]) {
		d--
	}
	if d == p || d <= off {
		return -1
	}
	// With the weekday the match starts further left, so it wins.
	if w := d - 5; w-1 >= off && s[d-1] == ' ' && s[d-2] == ',' && isWeekday(s[w:d-2]) && isDateSep(s[w-1]) {
		return sepRunStart(s, w, off)
	}
	if !isDateSep(s[d-1]) {
		return -1
	}
	return sepRunStart(s, d, off)
}

// sepRunStart is the start of the run of [\s;] bytes that ends at end,
// not before off.
func sepRunStart(s string, end, off int) int {
	for end > off && isDateSep(s[end-1]) {
		end--
	}
	return end
}

// isGoSpace is Go regexp's \s.
func isGoSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isDateSep(c byte) bool { return c == ';' || isGoSpace(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isReceivedTime is \d+:\d+(?::\d+)? exactly.
func isReceivedTime(s string) bool {
	parts := 0
	for s != "" {
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == 0 {
			return false
		}
		parts++
		s = s[i:]
		if s == "" {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return false
		}
		s = s[1:]
	}
	return parts == 2 || parts == 3
}

func isMonth(s string) bool {
	switch s {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec":
		return true
	}
	return false
}

func isWeekday(s string) bool {
	switch s {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// rcvField is the set of rcvState fields one submatch of a rcvPattern
// fills; rfSkip leaves the submatch unused.
type rcvField uint8

const (
	rfHelo rcvField = 1 << iota
	rfRDNS
	rfIP
	rfBy
	rfIdent

	rfSkip rcvField = 0
)

// rcvPattern is one step of parseFrom that only copies submatches: when
// s contains guard (if any) and re matches, submatch i+1 goes to the
// fields named by fields[i] and the header's outcome is result.
type rcvPattern struct {
	guard string // cheap pre-check; "" always tries re
	// shape is what the start of s must look like for re to match
	// (rcvShape bits, all of them), a cheaper pre-check.
	shape    rcvShape
	re       *rcvRe
	fields   []rcvField // nil: re is only tested, nothing is copied
	lookedUp bool       // the format shows the MTA looked up the rDNS
	result   relayParse
}

// Tables of rcvPattern tried by parseFrom, each at its place in the
// order Received.pm tries its patterns (first match wins); the steps
// between them do more than copy submatches.
var (
	rcvFromGeneric = []rcvPattern{
		{shape: shParenTokSpBracket, re: rcvGeneric2, fields: []rcvField{rfHelo, rfRDNS, rfIP, rfBy}, lookedUp: true},
		{shape: shParenBracket, re: rcvGeneric3, fields: []rcvField{rfRDNS, rfIP, rfHelo, rfBy}},
		{guard: " (<unknown", shape: shParen, re: rcvGeneric4, fields: []rcvField{rfHelo, rfIP, rfBy}},
		{shape: shParenTokBracket, re: rcvGeneric5, fields: []rcvField{rfHelo, rfRDNS, rfIP, rfBy}, lookedUp: true},
		{guard: "@[", shape: shParen, re: rcvGeneric6, fields: []rcvField{rfHelo, rfIdent, rfIP, rfBy}, lookedUp: true},
	}
	rcvFromHeloIP = []rcvPattern{
		{guard: " (qpsmtpd/", shape: shParenHelo, re: rcvQpsmtpd, fields: []rcvField{rfRDNS, rfHelo, rfIP, rfBy}},
		{guard: " (LHLO ", shape: shParen, re: rcvLMTP, fields: []rcvField{rfRDNS, rfHelo, rfIP, rfBy}},
		{guard: ") [", shape: shParenHelo, re: rcvHeloBracket, fields: []rcvField{rfRDNS, rfHelo, rfIP, rfBy}},
		{guard: " via smtpd (for ", shape: shParenBracket, re: rcvSmtpd, fields: []rcvField{rfHelo, rfIP, rfBy}},
	}
	rcvFromBracketed = []rcvPattern{
		{guard: " ( [", shape: shParen, re: rcvSpaceBracket, fields: []rcvField{rfSkip, rfIP, rfBy}},
		{shape: shOpenParen, re: rcvParenHelo, fields: []rcvField{rfHelo, rfIP, rfBy}},
		{shape: shOpenBracket, re: rcvBareBracket, fields: []rcvField{rfIP, rfBy}},
		{shape: shOpenParen, re: rcvParenIP, fields: []rcvField{rfIP, rfBy}},
		{guard: "] with ", shape: shBracket, re: rcvByBracket, fields: []rcvField{rfHelo, rfIP, rfBy}, lookedUp: true},
		{guard: " [(", shape: shBracket, re: rcvBracketParen, fields: []rcvField{rfHelo, rfIP, rfBy}},
		{shape: shParenBracket, re: rcvSendmail1, fields: []rcvField{rfHelo, rfIP, rfBy}, lookedUp: true},
	}
	rcvFromSendmail = []rcvPattern{
		{shape: shParenBracket, re: rcvSendmail3, fields: []rcvField{rfHelo, rfIP, rfBy}, lookedUp: true},
		{shape: shParenTokSpBracket, re: rcvSendmail4, fields: []rcvField{rfHelo, rfRDNS, rfIP, rfBy}, lookedUp: true},
	}
	rcvFromMTAs = []rcvPattern{
		{guard: " with http for ", re: rcvHTTPFor, fields: []rcvField{rfIP, rfBy}},
		{guard: " via smap ", re: rcvSmap1, fields: []rcvField{rfRDNS, rfIP, rfBy}, lookedUp: true},
		{re: rcvSmap2, fields: []rcvField{rfRDNS, rfIP, rfHelo, rfBy}, lookedUp: true},
		{guard: " (Post", re: rcvPost, fields: []rcvField{rfIP, rfBy}},
		{guard: " (ArGoSoft", re: rcvArgo, fields: []rcvField{rfIP, rfBy}},
		{re: rcvSMTPL, fields: []rcvField{rfIP, rfBy}},
		{guard: " with BSMTP", re: rcvBSMTP, result: relayIgnored},
		{re: rcvWith1, fields: []rcvField{rfHelo, rfRDNS, rfIP, rfBy}, lookedUp: true},
	}
	rcvFromLate = []rcvPattern{
		{re: rcvAccount, fields: []rcvField{rfIP, rfHelo, rfBy}},
		{guard: " (CommuniGate Pro", re: rcvCGVerified, fields: []rcvField{rfRDNS | rfHelo, rfIP, rfBy}, lookedUp: true},
		{re: rcvParenWith, fields: []rcvField{rfIP, rfBy}},
		{re: rcvNonDigit, fields: []rcvField{rfHelo, rfIP, rfBy}},
		{re: rcvContentTech, result: relayIgnored},
		{re: rcvDoubleBracket, fields: []rcvField{rfHelo, rfIP, rfSkip, rfBy}},
		{re: rcvIPByWith, fields: []rcvField{rfIP, rfBy}},
		{re: rcvNoSpace, fields: []rcvField{rfHelo, rfRDNS, rfIP, rfBy}, lookedUp: true},
		{re: rcvBracketSuffix, fields: []rcvField{rfIP, rfHelo, rfBy}},
		{re: rcvIPHelo, fields: []rcvField{rfIP, rfHelo, rfBy}},
		{re: rcvHostBracket, fields: []rcvField{rfHelo, rfIP, rfBy}},
		{re: rcvHostParen, fields: []rcvField{rfRDNS, rfIP, rfBy}},
		{re: rcvMailGate, fields: []rcvField{rfIP, rfBy}},
		{re: rcvUnverified, fields: []rcvField{rfHelo, rfIP, rfBy}},
		{re: rcvIPParenWith, fields: []rcvField{rfIP, rfBy}},
	}
)

// rcvShape says what the start of a Received header (after "from ")
// looks like, in the terms of the patterns anchored there: each bit is
// a prefix some patterns begin with, so that they are only tried when it
// is there. The header's blanks are single spaces (collapseASCIISpace),
// so "\S+" is the run up to the next space.
type rcvShape uint8

const (
	shParen             rcvShape = 1 << iota // ^\S+ \(
	shParenBracket                           // ^\S+ \(\[
	shParenTokSpBracket                      // ^\S+ \(\S+ \[
	shParenTokBracket                        // ^\S+ \(\S+\[, the "[" inside the token
	shParenHelo                              // ^\S+ \((?:HELO|EHLO)
	shBracket                                // ^\S+ \[
	shOpenParen                              // ^\(
	shOpenBracket                            // ^\[
)

// shapeOf works out s's rcvShape bits.
func shapeOf(s string) rcvShape {
	var sh rcvShape
	if strings.HasPrefix(s, "(") {
		sh |= shOpenParen
	}
	if strings.HasPrefix(s, "[") {
		sh |= shOpenBracket
	}
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 || sp+1 >= len(s) {
		return sh
	}
	switch s[sp+1] {
	case '[':
		sh |= shBracket
	case '(':
		sh |= shParen
		after := s[sp+2:]
		if strings.HasPrefix(after, "[") {
			sh |= shParenBracket
		}
		if strings.HasPrefix(after, "HELO ") || strings.HasPrefix(after, "EHLO ") {
			sh |= shParenHelo
		}
		tok := after
		if k := strings.IndexByte(after, ' '); k >= 0 {
			tok = after[:k]
			if k > 0 && k+1 < len(after) && after[k+1] == '[' {
				sh |= shParenTokSpBracket
			}
		}
		if len(tok) > 1 && strings.IndexByte(tok[1:], '[') >= 0 {
			sh |= shParenTokBracket
		}
	}
	return sh
}

// has reports whether sh has all of want's bits; every shape has them
// when the checks are off (rcvState.noShapes).
func (st *rcvState) has(sh, want rcvShape) bool {
	return st.noShapes || sh&want == want
}

// parseFrom handles a header that started "from "; s is the rest.
func (st *rcvState) parseFrom(s string) relayParse {
	sh := shapeOf(s)
	if containsFold(s, "return-path") || containsFold(s, "envelope-") {
		if m := st.sub(rcvEnvFrom, s); m != nil {
			st.envfrom, st.hasEnvFrom = m[1], true
		}
	}
	if containsSpaced(s, " (SquirrelMail authenticated user ") || containsSpaced(s, " (NaSMail authenticated user ") {
		if m := st.sub(rcvSquirrel, s); m != nil {
			st.ip, st.by = m[1], m[2]
			return relayParsed
		}
	}
	if strings.Contains(s, "aol.com") && strings.Contains(s, "with HTTP (WebMailUI)") {
		if m := st.sub(rcvAOL, s); m != nil {
			st.ip, st.by = m[1], m[2]
			return relayParsed
		}
	}
	switch {
	case containsSpaced(s, " SMTPSVC"):
		if m := st.sub(rcvSMTPSVC, s); m != nil {
			st.helo, st.ip, st.by = m[1], m[2], m[3]
			return relayParsed
		}
		if st.match(rcvPickup, s) {
			return relayIgnored
		}
	case (containsSpaced(s, " with Microsoft SMTP Server") || containsSpaced(s, " with mapi id")) && st.match(rcvExchangeWith, s):
		if m := st.sub(rcvExchange, s); m != nil {
			st.helo, st.ip, st.by, st.id = m[1], m[2], m[3], ""
			return relayParsed
		}
	case strings.Contains(s, "[XMail "):
		if m := st.sub(rcvXMail, s); m != nil {
			st.helo, st.ip, st.by = m[1], m[2], m[3]
			if m := st.sub(rcvXMailID, s); m != nil {
				st.id = m[1]
			}
			if m := st.sub(rcvXMailFrom, s); m != nil {
				st.envfrom, st.hasEnvFrom = m[1], true
			}
			return relayParsed
		}
	case strings.Contains(s, "(ecelerity") && wordBoundedPrefix(s, "(ecelerity"):
		if m := st.sub(rcvEcel1, s); m != nil {
			st.ip, st.helo, st.by = m[1], m[2], m[3]
			return relayParsed
		}
		if m := st.sub(rcvEcel2, s); m != nil {
			st.ip, st.by = m[1], m[2]
			return relayParsed
		}
	case strings.Contains(s, "Exim"):
		if strings.Contains(s, "with local") && st.match(rcvEximLocal, s) {
			return relayIgnored
		}
		if m := st.sub(rcvExim1, s); m != nil {
			st.ip, st.by = m[1], m[3]
			st.eximSub(m[2])
			return relayParsed
		}
		if m := st.sub(rcvExim2, s); m != nil {
			st.rdns, st.ip, st.by = m[1], m[2], m[4]
			st.helo = st.rdns
			st.eximSub(m[3])
			return relayParsed
		}
		if m := st.sub(rcvExim3, s); m != nil {
			st.rdns, st.ip, st.helo, st.by = m[1], m[2], m[1], m[4]
			return relayParsed
		}
		if m := st.sub(rcvEximRDNS, s); m != nil {
			st.rdns = m[1]
		}
		if m := st.sub(rcvEximHelo, s); m != nil {
			st.helo = m[1]
		}
		if m := st.sub(rcvEximIP, s); m != nil {
			st.ip = m[1]
		}
		if m := st.sub(rcvEximBy, s); m != nil {
			st.by = m[1]
			if st.ip != "" {
				return relayParsed
			}
		}
	case containsSpaced(s, " (Postfix) with"):
		if !st.has(sh, shParen) {
			break
		}
		if m := st.subHand(st.has(sh, shParenTokSpBracket), rcvPostfix1, matchPostfix1, s); m != nil {
			st.helo, st.rdns, st.ip, st.by = m[1], m[2], m[3], m[4]
			st.lookedUp = true
			if st.rdns == "unknown" {
				st.rdns = ""
			}
			return relayParsed
		}
		if m := st.subIf(st.has(sh, shParenTokBracket), rcvPostfix2, s); m != nil {
			st.helo, st.rdns, st.ip, st.by = m[1], m[2], m[3], m[4]
			st.lookedUp = true
			if st.rdns == "unknown" {
				st.rdns = ""
			}
			return relayParsed
		}
	case strings.Contains(s, "(Scalix SMTP Relay"):
		if m := st.sub(rcvScalix, s); m != nil {
			st.helo, st.ip, st.by = m[1], m[2], m[3]
			return relayParsed
		}
	case containsSpaced(s, " (Lotus Domino "):
		if m := st.sub(rcvDomino, s); m != nil {
			st.helo, st.ip, st.by = m[1], m[2], m[3]
			return relayParsed
		}
	}
	if wordBoundedContains(s, "with HTTP") {
		if m := st.sub(rcvHTTPIP, s); m != nil {
			st.ip, st.by = m[1], m[2]
			return relayParsed
		}
	}
	if st.has(sh, shParenTokSpBracket) && (!strings.Contains(s, "(qmail-") || !st.match(rcvQmailWith, s)) {
		if m := st.subHand(true, rcvGeneric1, matchGeneric1, s); m != nil {
			st.helo, st.rdns, st.ip, st.by = m[1], m[2], m[3], m[4]
			st.lookedUp = true
			st.stripIdent()
			return relayParsed
		}
	}
	if res, ok := st.tryPatterns(s, sh, rcvFromGeneric); ok {
		return res
	}
	if !strings.Contains(s, ".hotmail.msn.com ") {
	} else if m := st.sub(rcvHotmail, s); m != nil {
		st.by = m[1]
		if m := st.sub(rcvHotmailIP, s); m != nil {
			st.ip = m[1]
		}
		return relayParsed
	}
	if res, ok := st.tryPatterns(s, sh, rcvFromHeloIP); ok {
		return res
	}
	if st.has(sh, shParen) && st.qmailMatch(s) {
		if m := st.sub(rcvQmailA, s); m != nil {
			st.rdns, st.helo, st.ident, st.ip, st.by = m[1], m[2], m[3], m[4], m[6]
		} else if m := st.sub(rcvQmailB, s); m != nil {
			st.rdns, st.helo, st.ip, st.by = m[1], m[2], m[3], m[5]
		} else if m := st.sub(rcvQmailC, s); m != nil {
			st.rdns, st.helo, st.ident, st.ip, st.by = m[1], m[1], m[2], m[3], m[5]
		} else if m := st.sub(rcvQmailD, s); m != nil {
			st.rdns, st.helo, st.ip, st.by = m[1], m[1], m[2], m[4]
		}
		if st.rdns == "unknown" {
			st.rdns = ""
		} else {
			st.lookedUp = true
		}
		return relayParsed
	}
	if strings.HasSuffix(s, " via HTTP") {
		if m := st.sub(rcvViaHTTPEnd, s); m != nil {
			st.ip, st.by = m[1], m[2]
			return relayParsed
		}
	}
	if res, ok := st.tryPatterns(s, sh, rcvFromBracketed); ok {
		return res
	}
	if m := st.subHand(true, rcvSendmail2, matchSendmail2, s); m != nil {
		if m[2] != "softdnserr" {
			st.rdns = m[2]
			st.lookedUp = true
		}
		st.helo, st.ip, st.by = m[1], m[3], m[4]
		return relayParsed
	}
	if res, ok := st.tryPatterns(s, sh, rcvFromSendmail); ok {
		return res
	}
	if (strings.Contains(s, "with POP3") || strings.Contains(s, "with IMAP")) && st.match(rcvPOP, s) {
		st.popFetch = true
		return relayIgnored
	}
	if m := st.sub(rcvHeloIdent, s); m != nil {
		st.rdns, st.helo, st.ident, st.ip, st.by = m[1], m[2], strings.TrimSuffix(m[3], "@"), m[4], m[5]
		st.lookedUp = true
		return relayParsed
	}
	if m := st.sub(rcvIdentIP, s); m != nil {
		st.rdns, st.helo, st.ident, st.ip, st.by = m[1], m[1], strings.TrimSuffix(m[2], "@"), m[3], m[4]
		st.lookedUp = true
		return relayParsed
	}
	if res, ok := st.tryPatterns(s, sh, rcvFromMTAs); ok {
		return res
	}
	if m := st.sub(rcvWith2, s); m != nil {
		st.rdns, st.helo, st.ip, st.by = m[1], m[2], m[4], m[5]
		st.lookedUp = true
		if m[3] != "" {
			st.ident = m[3]
		}
		return relayParsed
	}
	if res, ok := st.tryPatterns(s, sh, rcvFromLate); ok {
		return res
	}
	if m := st.sub(rcvBracketSub, s); m != nil {
		st.ip, st.by = m[1], m[3]
		st.eximSub(m[2])
		return relayParsed
	}
	if m := st.sub(rcvIdentWith, s); m != nil {
		st.rdns, st.ip, st.by = m[1], m[2], m[3]
		return relayParsed
	}
	if m := st.sub(rcvClaiming, s); m != nil {
		st.rdns, st.ip, st.helo, st.by = m[1], m[2], m[3], m[4]
		st.lookedUp = m[1] != "UNKNOWN"
		return relayParsed
	}
	if m := st.sub(rcvYahoo, s); m != nil {
		st.helo, st.ip, st.by = m[1], m[3], m[4]
		return relayParsed
	}
	if m := st.sub(rcvOrigIP, s); m != nil {
		st.ip, st.by = m[1], ""
		return relayParsed
	}
	for _, re := range []*rcvRe{rcvLocalIdent, rcvLocalESMTP, rcvAVG, rcvUID, rcvAddrBy, rcvUnknownLocal,
		rcvLocal1, rcvLocal2, rcvLocal3, rcvAuthBy, rcvUnixLocal, rcvAmazon, rcvGroupWise, rcvNoName} {
		if st.match(re, s) {
			return relayIgnored
		}
	}
	if st.match(rcvQmailScanner, s) {
		var ef string
		if st.hasEnvFrom {
			ef = cleanEnvFrom(st.envfrom)
		}
		st.qmailScannerEnvFrom = &ef
		return relayIgnored
	}
	for _, re := range []*rcvRe{rcvWithLocal, rcvCyrus, rcvByWithVia, rcvWithBy, rcvSG, rcvOpenSMTPD,
		rcvLSMTP, rcvMailEnable, rcvFacebook, rcvGmailAPI, rcvIDOnly, rcvJetsend} {
		if st.match(re, s) {
			return relayIgnored
		}
	}
	if st.helo == "" {
		if m := st.sub(rcvFirstTok, s); m != nil {
			st.helo = m[1]
		}
	}
	return st.fallback(s)
}

func wordBoundedPrefix(s, w string) bool {
	i := strings.Index(s, w)
	return i >= 0 && (i+len(w) == len(s) || !isWordByte(s[i+len(w)]))
}

// qmailMatch is the qmail pattern including its (?! id ) look-ahead.
func (st *rcvState) qmailMatch(s string) bool {
	return (st.noShapes || mayBeQmail(s)) && st.match(rcvQmail, s)
}

// tryPatterns tries ps in order. The first pattern whose guard and
// regexp match fills st from its submatches, and its result is returned
// with ok set; ok is false when none matched.
func (st *rcvState) tryPatterns(s string, sh rcvShape, ps []rcvPattern) (res relayParse, ok bool) {
	for i := range ps {
		p := &ps[i]
		if !st.noShapes && p.guard != "" && !containsGuard(s, p.guard) || !st.has(sh, p.shape) {
			continue
		}
		if len(p.fields) == 0 {
			if !st.match(p.re, s) {
				continue
			}
		} else {
			m := st.sub(p.re, s)
			if m == nil {
				continue
			}
			st.fill(m, p.fields)
		}
		if p.lookedUp {
			st.lookedUp = true
		}
		return p.result, true
	}
	return 0, false
}

// fill stores submatch i+1 of m in the fields named by fields[i].
func (st *rcvState) fill(m []string, fields []rcvField) {
	for i, f := range fields {
		v := m[i+1]
		if f&rfHelo != 0 {
			st.helo = v
		}
		if f&rfRDNS != 0 {
			st.rdns = v
		}
		if f&rfIP != 0 {
			st.ip = v
		}
		if f&rfBy != 0 {
			st.by = v
		}
		if f&rfIdent != 0 {
			st.ident = v
		}
	}
}

func (st *rcvState) eximSub(sub string) {
	if m := st.sub(rcvSubHelo, sub); m != nil {
		st.helo = m[1]
	}
	if m := st.sub(rcvSubIdent, sub); m != nil {
		st.ident = m[1]
	}
}

func (st *rcvState) stripIdent() {
	if strings.HasPrefix(st.rdns, "IDENT:") {
		if at := strings.IndexByte(st.rdns, '@'); at >= 0 {
			st.ident = st.rdns[6:at]
			st.rdns = st.rdns[at+1:]
		}
	}
	if at := strings.IndexByte(st.rdns, '@'); at >= 0 {
		st.ident = st.rdns[:at]
		st.rdns = st.rdns[at+1:]
	}
}

func cleanEnvFrom(e string) string {
	e = strings.TrimLeft(e, " \t\r\n\f\v<")
	e = strings.TrimRight(e, " \t\r\n\f\v>")
	return stripRelayChars(e)
}

// relay finishes a parsed header as the "enough:" block does.
func (st *rcvState) relay(raw string) Relay {
	rdns := strings.TrimRight(st.rdns, ".")
	if strings.EqualFold(rdns, "unknown") || strings.HasPrefix(rdns, "[") {
		rdns = ""
	}
	ip := st.ip
	if len(ip) >= 5 && strings.EqualFold(ip[:5], "ipv6:") {
		ip = ip[5:]
	}
	ip = strings.TrimPrefix(ip, "[")
	ip = strings.TrimSuffix(ip, "]")
	if k := strings.IndexByte(ip, '%'); k >= 0 {
		ip = ip[:k]
	}
	if !strings.Contains(ip, ":") { // the pattern has two
	} else if m := rcvMappedV4.FindStringSubmatch(ip); m != nil {
		ip = m[1]
	}
	by := strings.TrimSuffix(st.by, ";")
	r := Relay{
		IP:    stripRelayChars(ip),
		RDNS:  stripRelayChars(rdns),
		HELO:  stripRelayChars(st.helo),
		By:    stripRelayChars(by),
		Ident: stripRelayChars(st.ident),
		ID:    st.id,
		Auth:  st.auth,
		Raw:   raw,
	}
	if st.hasEnvFrom {
		r.EnvFrom = cleanEnvFrom(st.envfrom)
	}
	r.Private = isPrivateIP(r.IP)
	r.NoReverseDNS = r.RDNS == "" && st.lookedUp
	return r
}

// String renders the relay as SpamAssassin's X-Spam-Relays-* entries do:
// "[ ip=… rdns=… helo=… by=… ident=… envfrom=… intl=0|1 id=… auth=…
// msa=0 ]".
func (r Relay) String() string {
	intl := "0"
	if r.Internal {
		intl = "1"
	}
	return "[ ip=" + r.IP + " rdns=" + r.RDNS + " helo=" + r.HELO + " by=" + r.By +
		" ident=" + r.Ident + " envfrom=" + r.EnvFrom + " intl=" + intl + " id=" + r.ID +
		" auth=" + r.Auth + " msa=0 ]"
}

// parseRelays parses every Received header, newest first, and applies
// SpamAssassin's trust inference for a configuration without
// trusted_networks/internal_networks: relays stay trusted (and internal)
// while they come from private addresses or were authenticated; the
// first other relay and everything after it is untrusted and external.
// A POP/IMAP fetch marker seen while still trusted restarts the count.
func parseRelays(h Header) []Relay {
	var lines []string
	for _, f := range h {
		if strings.EqualFold(f.Name, "Received") {
			lines = append(lines, f.Value)
		}
	}
	// Client addresses recorded by webmail systems are added as a last,
	// oldest hop.
	for _, name := range originatingIPHeaders {
		if v := h.last(name); v != "" {
			if ip := firstIP(v); ip != "" {
				lines = append(lines, "from X-Originating-IP: "+ip)
			}
		}
	}
	var relays []Relay
	inTrusted := true
	allowFetchMarkers := true
	var qmsEnvFrom *string
	for _, line := range lines {
		pending := qmsEnvFrom
		qmsEnvFrom = nil
		r, res, st := parseReceived(line)
		if st.qmailScannerEnvFrom != nil {
			qmsEnvFrom = st.qmailScannerEnvFrom
		}
		if st.popFetch && allowFetchMarkers {
			for i := range relays {
				if relays[i].Trusted {
					relays[i].Trusted = false
					relays[i].fetchReset = true
				}
			}
		}
		if res != relayParsed {
			relays = append(relays, r)
			continue
		}
		if pending != nil {
			r.EnvFrom = *pending
		}
		if inTrusted && !r.Private && r.Auth == "" {
			inTrusted = false
		}
		r.Trusted = inTrusted
		r.Internal = inTrusted
		allowFetchMarkers = inTrusted
		relays = append(relays, r)
	}
	return relays
}

// RelayHeaders are SpamAssassin's X-Spam-Relays-* metadata strings,
// each a space-separated list of Relay.String() entries, newest first.
type RelayHeaders struct {
	Trusted, Untrusted, Internal, External string
}

// RelayHeaders returns the X-Spam-Relays-Trusted/-Untrusted/-Internal/
// -External values SpamAssassin 4.0 computes with no trusted_networks or
// internal_networks configured (see parseRelays for the inference). The
// Bayes tokenizer uses them as pseudo-headers.
func (m *Message) RelayHeaders() RelayHeaders {
	var t, u, in, ex []string
	for _, r := range m.Relays {
		if r.Unparseable || r.Ignored {
			continue
		}
		s := r.String()
		switch {
		case r.Trusted:
			t = append(t, s)
		case r.fetchReset:
			// Dropped from the trusted list by a fetch marker and not
			// re-added anywhere, as SpamAssassin does.
		default:
			u = append(u, s)
		}
		switch {
		case r.Internal && !r.fetchReset:
			in = append(in, s)
		case r.fetchReset:
		default:
			ex = append(ex, s)
		}
	}
	return RelayHeaders{
		Trusted:   strings.Join(t, " "),
		Untrusted: strings.Join(u, " "),
		Internal:  strings.Join(in, " "),
		External:  strings.Join(ex, " "),
	}
}
