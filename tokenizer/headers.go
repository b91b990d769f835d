package tokenizer

import (
	"regexp"
	"slices"
	"strings"
)

// Header tokens
//
// SpamAssassin tokenizes every header field except a fixed list of noisy
// ones (ignoredHeader) and the bayes_ignore_header names, plus its relay
// pseudo-headers (X-Spam-Relays-Trusted/Untrusted/Internal/External, built
// from the parsed Received headers) and, of all Received fields, only the
// two oldest. Some values are rewritten first to cut down on tokens that
// occur once and never again: message ids, Received lines, Content-Type
// boundaries, addresses. Values of fields with the same (mapped) name are
// joined and tokenized under one "H<name>:" prefix; frequent names are
// abbreviated (headerNameAbbrev), and message-id, address and user-agent
// fields are tokenized a second time under *MI, *Ad and *UA.

// A headerTokenSource is the text tokenized under one header prefix.
type headerTokenSource struct {
	prefix string   // "H*F:"
	values []string // rewritten values, in message order
}

// maxHeaderBytes is SpamAssassin's MAX_HEADER_LENGTH: fields beyond this
// many bytes (counted as get_all_headers does) are not tokenized.
const maxHeaderBytes = 65536

// headerNameAbbrev maps header names (case-sensitive) to the short names
// SpamAssassin stores their tokens under.
var headerNameAbbrev = map[string]string{
	"Message-Id":                "*m",
	"Message-ID":                "*M",
	"Received":                  "*r",
	"User-Agent":                "*u",
	"References":                "*f",
	"In-Reply-To":               "*i",
	"From":                      "*F",
	"Reply-To":                  "*R",
	"Return-Path":               "*p",
	"Return-path":               "*rp",
	"X-Mailer":                  "*x",
	"X-Authentication-Warning":  "*a",
	"Organization":              "*o",
	"Organisation":              "*o",
	"Content-Type":              "*ct",
	"Content-Disposition":       "*cd",
	"Content-Transfer-Encoding": "*ce",
	"x-spam-relays-trusted":     "*RT",
	"x-spam-relays-untrusted":   "*RU",
}

// ignoredHeaderNames are the lower-cased names of fields never tokenized
// (SpamAssassin's IGNORED_HDRS); the name families with variable parts
// are checked in ignoredHeader.
var ignoredHeaderNames = func() map[string]struct{} {
	names := strings.Fields(`sender x-sender delivered-to delivery-date
		envelope-to x-envelope-to x-mime-autoconverted x-converted-to-plain-text
		subject date x-list mailing-list x-mailing-list
		x-unsub x-unsubscribe x-mailman-version x-beenthere x-loop
		mail-followup-to x-egroups-return x-egroups-from x-mdmailing-list
		x-xemacs-list x-sympa-to
		x-mailscanner x-mailscanner-spamcheck
		x-spam x-spam-status x-spam-level x-spam-flag x-spam-report x-spam-hits
		x-spam-score x-spam-checker-version x-antispam x-rbl-warning
		x-mdaemon-deliver-to x-virus-scanned x-mass-check-id x-pyzor
		x-filtered-by x-scanned-by x-scanner x-ap-spam-score x-ap-spam-status
		x-ripe-spam-status x-smtpd spam-apparently-to x-spam-apparently-to
		spam x-perlmx-spam x-bogosity
		content-class thread-index thread-topic x-originalarrivaltime
		status x-status x-flags x-keywords replied forwarded lines content-length
		x-uid x-uidl x-imapbase
		x-vm-bookmark x-vm-pop-retrieved x-vm-imap-retrieved x-vm-labels
		x-vm-last-modified x-vm-summary-format x-vm-vheader x-vm-message-order
		x-gnus-mail-source xref`)
	for _, l := range strings.Fields(`archive help id owner post subscribe
		unsubscribe host manager admin comment name url`) {
		names = append(names, "list-"+l, "x-list-"+l)
	}
	for _, p := range []string{"resent-", "x-resent-", "original-", "x-original-"} {
		names = append(names, p+"from", p+"to", p+"date")
	}
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}()

// presenceOnlyHeaderNames are the lower-cased names of fields whose value
// is replaced by "1": only their presence is a token.
var presenceOnlyHeaderNames = func() map[string]struct{} {
	names := []string{"x-face", "dkim-signature", "domainkey-signature",
		"x-google-dkim-signature", "arc-message-signature", "arc-seal", "autocrypt"}
	for _, p := range []string{"gnupg", "gnu-pg", "pgp", "gpg"} {
		names = append(names, "x-"+p+"-fingerprint", "x-"+p+"-key-fingerprint")
	}
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}()

// tokIsSpace reports whether c matches Perl's \s on a byte string.
func tokIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// ignoredHeader reports whether the field named lname (lower case) is one
// SpamAssassin never tokenizes.
func ignoredHeader(lname string) bool {
	if _, ok := ignoredHeaderNames[lname]; ok {
		return true
	}
	for _, p := range []string{"x-spamcop-", "x-bugzilla-"} {
		if len(lname) > len(p) && strings.HasPrefix(lname, p) {
			return true
		}
	}
	if strings.HasPrefix(lname, "x-dcc-") && strings.HasSuffix(lname, "-metrics") {
		mid := lname[len("x-dcc-") : len(lname)-len("-metrics")]
		if len(lname) >= len("x-dcc--metrics")+2 && len(mid) <= 25 && !strings.ContainsAny(mid, " \t\n\v\f\r") {
			return true
		}
	}
	// X-VM-v\d-Data
	if len(lname) == len("x-vm-v0-data") && strings.HasPrefix(lname, "x-vm-v") &&
		strings.HasSuffix(lname, "-data") && lname[6] >= '0' && lname[6] <= '9' {
		return true
	}
	return false
}

// relayMetadataNames are the relay pseudo-headers, in the (sorted) order
// SpamAssassin adds them; their real counterparts are dropped.
var relayMetadataNames = [4]string{
	"x-spam-relays-external", "x-spam-relays-internal",
	"x-spam-relays-trusted", "x-spam-relays-untrusted",
}

// headerTokenSources returns the header text to tokenize, grouped by
// prefix, in first-seen order.
//
// A message has a few dozen fields: the values (with the space that
// followed the colon put back) and the prefixes are built in one buffer,
// and the groups' value lists carved from one slice, rather than
// allocated field by field.
func headerTokenSources(m *Message, opt TokenOptions) []headerTokenSource {
	var ignoreSet map[string]struct{}
	if len(opt.IgnoreHeaders) > 0 {
		ignoreSet = make(map[string]struct{}, len(opt.IgnoreHeaders))
		for _, n := range opt.IgnoreHeaders {
			ignoreSet[strings.ToLower(n)] = struct{}{}
		}
	}
	fields := visibleHeaderFields(m.Header, opt.Scan)
	pseudo := pseudoHeaders(m, opt.Metadata)
	size := 0
	for _, f := range fields {
		size += 1 + len(f.Value) + 2*(len(f.Name)+2)
	}
	for _, f := range pseudo {
		size += 1 + len(f.Value) + len(f.Name) + 2
	}
	var buf strings.Builder
	buf.Grow(size + 64)
	// spaced returns " "+val, in buf.
	spaced := func(val string) string {
		at := buf.Len()
		buf.WriteByte(' ')
		buf.WriteString(val)
		return buf.String()[at:]
	}
	type entry struct {
		group int
		val   string
	}
	var (
		names   []string // the groups' names, in first-seen order
		entries = make([]entry, 0, len(fields)+len(pseudo)+8)
		index   map[string]int // names' positions, once there are many
	)
	const linearGroups = 32 // names searched in turn up to this many
	add := func(name, val string) {
		p := -1
		if index != nil {
			if i, ok := index[name]; ok {
				p = i
			}
		} else {
			for i, n := range names {
				if n == name {
					p = i
					break
				}
			}
		}
		if p < 0 {
			p = len(names)
			names = append(names, name)
			if index != nil {
				index[name] = p
			} else if len(names) > linearGroups {
				index = make(map[string]int, 2*len(names))
				for i, n := range names {
					index[n] = i
				}
			}
		}
		entries = append(entries, entry{p, val})
	}
	visit := func(name, val string) {
		lname := lowerName(name)
		if _, ok := ignoreSet[lname]; ok {
			return
		}
		val = chewHeaderValue(name, lname, val)
		switch lname {
		case "in-reply-to", "references", "message-id":
			add("*MI", val)
		case "from", "to", "cc":
			add("*Ad", val)
		case "x-mailer", "user-agent":
			add("*UA", val)
		}
		if short, ok := headerNameAbbrev[name]; ok {
			name = short
		}
		add(name, val)
	}

	var received []string
	for _, f := range fields {
		lname := lowerName(f.Name)
		if lname == "received" {
			received = append(received, f.Name, f.Value)
			continue
		}
		if ignoredHeader(lname) {
			continue
		}
		visit(f.Name, spaced(f.Value))
	}
	for _, f := range pseudo {
		visit(f.Name, spaced(f.Value))
	}
	// The oldest Received field, then the one before it.
	for i, k := len(received)-2, 0; i >= 0 && k < 2; i, k = i-2, k+1 {
		visit(received[i], spaced(received[i+1]))
	}

	groups := make([]headerTokenSource, len(names))
	for i, name := range names {
		at := buf.Len()
		buf.WriteByte('H')
		buf.WriteString(name)
		buf.WriteByte(':')
		groups[i].prefix = buf.String()[at:]
	}
	counts := make([]int, len(names))
	for _, e := range entries {
		counts[e.group]++
	}
	values := make([]string, len(entries))
	for i, at := 0, 0; i < len(groups); i++ {
		groups[i].values = values[at : at : at+counts[i]]
		at += counts[i]
	}
	for _, e := range entries {
		groups[e.group].values = append(groups[e.group].values, e.val)
	}
	return groups
}

// pseudoHeaders returns the relay pseudo-headers and extra, sorted by
// name as SpamAssassin's get_all_metadata returns them.
func pseudoHeaders(m *Message, extra []Field) []Field {
	relays := relayMetadata(m)
	fields := make([]Field, 0, len(relays)+len(extra))
	for i, name := range relayMetadataNames {
		fields = append(fields, Field{Name: name, Value: relays[i]})
	}
	if len(extra) == 0 {
		return fields
	}
	fields = append(fields, extra...)
	slices.SortStableFunc(fields, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return fields
}

// visibleHeaderFields returns the fields SpamAssassin's get_all_headers
// would return: all but those deleted while extracting metadata (all
// X-Spam-* when scanning, X-Spam-Relays-Trusted when learning),
// truncated once their size, counted name by name in order of first
// appearance, exceeds maxHeaderBytes.
func visibleHeaderFields(h Header, scan bool) []Field {
	fields := make([]Field, 0, len(h))
	size := 0
	for _, f := range h {
		if deletedBeforeTokenizing(f.Name, scan) {
			continue
		}
		fields = append(fields, f)
		size += len(f.Name) + len(f.Value) + 3
	}
	if size <= maxHeaderBytes {
		return fields
	}
	// Count like get_all_headers: names in order of first appearance,
	// every field of a name before the next name; stop at the limit.
	keep := make([]bool, len(fields))
	done := make(map[string]bool)
	size = 0
outer:
	for i, f := range fields {
		lname := strings.ToLower(f.Name)
		if done[lname] {
			continue
		}
		done[lname] = true
		for j := i; j < len(fields); j++ {
			if !strings.EqualFold(fields[j].Name, f.Name) {
				continue
			}
			size += len(lname) + len(fields[j].Value) + 3
			if size > maxHeaderBytes {
				break outer
			}
			keep[j] = true
		}
	}
	kept := fields[:0]
	for i, f := range fields {
		if keep[i] {
			kept = append(kept, f)
		}
	}
	return kept
}

// deletedBeforeTokenizing reports whether SpamAssassin deletes the field
// named name from the message before it tokenizes the headers. A scan
// calls delete_header("X-Spam-.*") first; sa-learn's first call is
// delete_header("X-Spam-Relays-Trusted"), and since delete_header
// compiles its pattern once per process (/o), every later call deletes
// what the first one did.
func deletedBeforeTokenizing(name string, scan bool) bool {
	const spam, trusted = "x-spam-", "x-spam-relays-trusted"
	if scan {
		return len(name) >= len(spam) && strings.EqualFold(name[:len(spam)], spam) &&
			!strings.ContainsAny(name, "\n")
	}
	return strings.EqualFold(name, trusted)
}

// chewHeaderValue rewrites the value of the field named name (lname in
// lower case) before it is tokenized. val starts with the space that
// followed the colon.
func chewHeaderValue(name, lname, val string) string {
	base := lname
	for _, p := range []string{"x-", "resent-"} {
		if strings.HasPrefix(base, p) {
			base = base[len(p):]
			break
		}
	}
	switch {
	case base == "message-id":
		return chewMessageID(val)
	case base == "return-path" || base == "from" || base == "to" || base == "cc" ||
		base == "reply-to" || base == "errors-to" || base == "mail-followup-to" || base == "sender":
		return chewAddressHeader(val)
	case name == "Received":
		return chewReceived(val)
	case name == "Content-Type":
		return chewContentType(val)
	case name == "MIME-Version":
		return strings.Replace(val, "1.0", "", 1)
	}
	if _, ok := presenceOnlyHeaderNames[lname]; ok {
		return "1"
	}
	for _, n := range relayMetadataNames {
		if name == n {
			return replaceAt(val, relayKeyMatch, " ")
		}
	}
	return val
}

// relayKeyAt matches / [a-z]+=/, the "key=" labels of a relay
// pseudo-header.
func relayKeyAt(s string, i int) int {
	if s[i] != ' ' {
		return -1
	}
	e := rcvdRun(s, i+1, func(c byte) bool { return c >= 'a' && c <= 'z' })
	if e == i+1 || e >= len(s) || s[e] != '=' {
		return -1
	}
	return e + 1
}

// Message-ID rewriting: the formats of Outlook Express, Exim and Sendmail
// ids are cut down to their informative parts.
var (
	msgidOutlookRE  = regexp.MustCompile(`<([0-9a-f]{4})[0-9a-f]{4}[0-9a-f]{4}\$([0-9a-f]{4})[0-9a-f]{4}\$([0-9a-f]{8})@([^\t\n\v\f\r ]+)>`)
	msgidEximRE     = regexp.MustCompile(`<[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]@`)
	msgidSendmailRE = regexp.MustCompile(`<20\d\d[01]\d[0123]\d[012]\d[012345]\d[012345]\d\.[A-F0-9]{10,12}@`)
)

// chewMessageID rewrites a Message-Id value: known id formats are reduced
// and every byte outside [_A-Za-z0-9] becomes a space.
func chewMessageID(val string) string {
	if strings.IndexByte(val, '$') >= 0 {
		val = msgidOutlookRE.ReplaceAllString(val, " OEA${1} OEB${2} OEC${3} ${4} ")
	}
	if strings.Contains(val, "-0") {
		if loc := msgidEximRE.FindStringIndex(val); loc != nil {
			val = val[:loc[0]] + val[loc[1]:]
		}
	}
	if strings.Contains(val, "<20") {
		val = msgidSendmailRE.ReplaceAllString(val, "")
	}
	b := []byte(val)
	for i, c := range b {
		if !tokIsWord(c) {
			b[i] = ' '
		}
	}
	return string(b)
}

// Received rewriting: queue ids, dates and filler words are removed, IPv4
// addresses reduced to their /24 plus an ip* token for the full address.
// SpamAssassin does it with seven regular expressions applied in turn;
// they are matched by hand here (rcvd*At), with the same leftmost,
// non-overlapping, greedy semantics, because this runs on two headers
// of every message.
func chewReceived(val string) string {
	val = replaceAt(val, rcvdSendmailSMTPMatch, " ")
	val = replaceAt(val, rcvdSendmailESMTPMatch, " ")
	val = replaceAt(val, rcvdIDMatch, " ")
	val = replaceAt(val, rcvdEximIDMatch, " ")
	val = replaceAt(val, rcvdDateMatch, "")
	val = rcvdReduceIPv4(val)
	return replaceAt(val, rcvdFillerMatch, " ")
}

// A spanMatcher finds the matches of one pattern in a string: at(s, i)
// returns the end of a match starting at i, or -1, and a match can only
// start at a byte marked in first, so that the search skips the other
// bytes without calling at.
type spanMatcher struct {
	first [256]bool
	at    func(s string, i int) int
}

// newSpanMatcher returns the matcher of at, whose matches start only at
// one of the bytes of first.
func newSpanMatcher(first string, at func(s string, i int) int) *spanMatcher {
	m := &spanMatcher{at: at}
	for i := 0; i < len(first); i++ {
		m.first[first[i]] = true
	}
	return m
}

// perlSpaces are the bytes of Perl's \s (tokIsSpace).
const perlSpaces = " \t\n\v\f\r"

// The matchers of chewReceived and of the relay pseudo-headers.
var (
	rcvdSendmailSMTPMatch  = newSpanMatcher(perlSpaces, rcvdSendmailSMTPAt)
	rcvdSendmailESMTPMatch = newSpanMatcher(perlSpaces, rcvdSendmailESMTPAt)
	rcvdIDMatch            = newSpanMatcher("i", rcvdIDAt)
	rcvdEximIDMatch        = newSpanMatcher("i", rcvdEximIDAt)
	rcvdDateMatch          = newSpanMatcher("MTWFS0123456789"+perlSpaces, rcvdDateAt)
	rcvdFillerMatch        = newSpanMatcher("wfSE", rcvdFillerAt)
	relayKeyMatch          = newSpanMatcher(" ", relayKeyAt)
)

// replaceAt replaces every match of m in s, searched left to right
// without overlap, by repl.
func replaceAt(s string, m *spanMatcher, repl string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !m.first[s[i]] {
			i++
			continue
		}
		end := m.at(s, i)
		if end < 0 {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		b.WriteString(repl)
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func rcvdIsAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func rcvdIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// rcvdRun returns the end of the run of bytes from i that satisfy ok.
func rcvdRun(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

// rcvdWordBoundary reports whether \b holds at i.
func rcvdWordBoundary(s string, i int) bool {
	before := i > 0 && tokIsWord(s[i-1])
	after := i < len(s) && tokIsWord(s[i])
	return before != after
}

// rcvdLit returns the end of lit at i, or -1.
func rcvdLit(s string, i int, lit string) int {
	if i >= 0 && strings.HasPrefix(s[i:], lit) {
		return i + len(lit)
	}
	return -1
}

// rcvdSpace returns i+1 if s[i] is Perl whitespace, else -1.
func rcvdSpace(s string, i int) int {
	if i >= 0 && i < len(s) && tokIsSpace(s[i]) {
		return i + 1
	}
	return -1
}

// rcvdSendmailSMTPAt matches /\swith\sSMTP\sid\sg[\dA-Z]{10,12}\s/.
func rcvdSendmailSMTPAt(s string, i int) int {
	j := rcvdSendmailWith(s, i, "SMTP")
	j = rcvdLit(s, j, "g")
	if j < 0 {
		return -1
	}
	return rcvdQueueID(s, j, func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' })
}

// rcvdSendmailESMTPAt matches /\swith\sESMTP\sid\s[\dA-F]{10,12}\s/.
func rcvdSendmailESMTPAt(s string, i int) int {
	j := rcvdSendmailWith(s, i, "ESMTP")
	if j < 0 {
		return -1
	}
	return rcvdQueueID(s, j, func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' })
}

// rcvdSendmailWith matches \swith\s<proto>\sid\s at i.
func rcvdSendmailWith(s string, i int, proto string) int {
	j := rcvdSpace(s, i)
	j = rcvdLit(s, j, "with")
	j = rcvdSpace(s, j)
	j = rcvdLit(s, j, proto)
	j = rcvdSpace(s, j)
	j = rcvdLit(s, j, "id")
	return rcvdSpace(s, j)
}

// rcvdQueueID matches class{10,12}\s at i.
func rcvdQueueID(s string, i int, class func(byte) bool) int {
	e := rcvdRun(s, i, class)
	if n := e - i; n < 10 || n > 12 {
		return -1
	}
	return rcvdSpace(s, e)
}

// rcvdIDAt matches /\bid\s[a-zA-Z0-9]{7,20}\b/.
func rcvdIDAt(s string, i int) int {
	if !strings.HasPrefix(s[i:], "id") || !rcvdWordBoundary(s, i) {
		return -1
	}
	j := rcvdSpace(s, i+2)
	if j < 0 {
		return -1
	}
	e := rcvdRun(s, j, rcvdIsAlnum)
	if n := e - j; n < 7 || n > 20 || e < len(s) && s[e] == '_' {
		return -1
	}
	return e
}

// rcvdEximIDAt matches /\bid\s[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]/.
func rcvdEximIDAt(s string, i int) int {
	if !strings.HasPrefix(s[i:], "id") || !rcvdWordBoundary(s, i) {
		return -1
	}
	j := rcvdSpace(s, i+2)
	if j < 0 || j+17 > len(s) {
		return -1
	}
	for k := 0; k < 17; k++ {
		c := s[j+k]
		switch {
		case k == 7 || k == 14:
			if c != '-' {
				return -1
			}
		case k == 15:
			if c != '0' {
				return -1
			}
		default:
			if !rcvdIsAlnum(c) {
				return -1
			}
		}
	}
	return j + 17
}

var (
	rcvdWeekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	rcvdMonths   = []string{"Jan", "Feb", "Mar", "May", "Apr", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// rcvdDateAt matches SpamAssassin's RFC 2822 date expression:
//
//	(?:(?:Mon|…|Sun),\s)? [0-3\s]?[0-9]\s (?:Jan|…|Dec)\s (?:19|20)?[0-9]{2}\s
//	[0-2][0-9](?::[0-5][0-9]){1,2}\s
//	(?:\s*\(|\)|\s*[+-][0-9]{4}|\s*(?:UT|[A-Z]{2,3}T))*
func rcvdDateAt(s string, i int) int {
	for _, d := range rcvdWeekdays {
		if j := rcvdLit(s, i, d); j >= 0 {
			j = rcvdLit(s, j, ",")
			j = rcvdSpace(s, j)
			if j >= 0 {
				if e := rcvdDateDay(s, j); e >= 0 {
					return e
				}
			}
			break
		}
	}
	return rcvdDateDay(s, i)
}

// rcvdDateDay matches the date expression from the day of the month on.
func rcvdDateDay(s string, i int) int {
	if i < len(s) && (s[i] >= '0' && s[i] <= '3' || tokIsSpace(s[i])) {
		if e := rcvdDateDigit(s, i+1); e >= 0 {
			return e
		}
	}
	return rcvdDateDigit(s, i)
}

func rcvdDateDigit(s string, i int) int {
	if i >= len(s) || !rcvdIsDigit(s[i]) {
		return -1
	}
	j := rcvdSpace(s, i+1)
	if j < 0 {
		return -1
	}
	k := -1
	for _, m := range rcvdMonths {
		if k = rcvdLit(s, j, m); k >= 0 {
			break
		}
	}
	k = rcvdSpace(s, k)
	if k < 0 {
		return -1
	}
	// (?:19|20)?[0-9]{2}\s
	y := -1
	if c := rcvdLit(s, k, "19"); c >= 0 {
		y = c
	} else if c := rcvdLit(s, k, "20"); c >= 0 {
		y = c
	}
	if y >= 0 {
		if e := rcvdDateYear(s, y); e >= 0 {
			return e
		}
	}
	return rcvdDateYear(s, k)
}

func rcvdDateYear(s string, i int) int {
	if i+2 > len(s) || !rcvdIsDigit(s[i]) || !rcvdIsDigit(s[i+1]) {
		return -1
	}
	j := rcvdSpace(s, i+2)
	if j < 0 || j+2 > len(s) || s[j] < '0' || s[j] > '2' || !rcvdIsDigit(s[j+1]) {
		return -1
	}
	j += 2
	min := func(k int) int {
		if k+3 <= len(s) && s[k] == ':' && s[k+1] >= '0' && s[k+1] <= '5' && rcvdIsDigit(s[k+2]) {
			return k + 3
		}
		return -1
	}
	m1 := min(j)
	if m1 < 0 {
		return -1
	}
	e := -1
	if m2 := min(m1); m2 >= 0 {
		e = rcvdSpace(s, m2)
	}
	if e < 0 {
		e = rcvdSpace(s, m1)
	}
	if e < 0 {
		return -1
	}
	for {
		n := rcvdDateZone(s, e)
		if n < 0 {
			return e
		}
		e = n
	}
}

// rcvdDateZone matches one (?:\s*\(|\)|\s*[+-][0-9]{4}|\s*(?:UT|[A-Z]{2,3}T)).
func rcvdDateZone(s string, i int) int {
	w := rcvdRun(s, i, tokIsSpace)
	if w < len(s) && s[w] == '(' {
		return w + 1
	}
	if i < len(s) && s[i] == ')' {
		return i + 1
	}
	if w+5 <= len(s) && (s[w] == '+' || s[w] == '-') &&
		rcvdIsDigit(s[w+1]) && rcvdIsDigit(s[w+2]) && rcvdIsDigit(s[w+3]) && rcvdIsDigit(s[w+4]) {
		return w + 5
	}
	if strings.HasPrefix(s[w:], "UT") {
		return w + 2
	}
	up := func(k int) bool { return k < len(s) && s[k] >= 'A' && s[k] <= 'Z' }
	if up(w) && up(w+1) && up(w+2) && w+3 < len(s) && s[w+3] == 'T' {
		return w + 4
	}
	if up(w) && up(w+1) && w+2 < len(s) && s[w+2] == 'T' {
		return w + 3
	}
	return -1
}

// rcvdReduceIPv4 replaces each \b(\d{1,3}\.)(\d{1,3}\.)(\d{1,3})(\.\d{1,3})\b
// by "a.b.c ip*a.b.c.d ".
func rcvdReduceIPv4(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if !rcvdIsDigit(s[i]) || i > 0 && tokIsWord(s[i-1]) {
			continue
		}
		j, ok := i, true
		for part := 0; part < 3 && ok; part++ {
			e := rcvdRun(s, j, rcvdIsDigit)
			if n := e - j; n < 1 || n > 3 || e >= len(s) || s[e] != '.' {
				ok = false
				break
			}
			j = e + 1
		}
		if !ok {
			continue
		}
		net := j - 1 // end of a.b.c
		e := rcvdRun(s, j, rcvdIsDigit)
		if n := e - j; n < 1 || n > 3 || e < len(s) && tokIsWord(s[e]) {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(s[i:net])
		b.WriteString(" ip*")
		b.WriteString(s[i:e])
		b.WriteString(" ")
		last = e
		i = e - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// rcvdFillerAt matches /\b(?:with|from|for|SMTP|ESMTP)\b/.
func rcvdFillerAt(s string, i int) int {
	if i > 0 && tokIsWord(s[i-1]) {
		return -1
	}
	for _, w := range []string{"with", "from", "for", "SMTP", "ESMTP"} {
		if strings.HasPrefix(s[i:], w) {
			e := i + len(w)
			if e == len(s) || !tokIsWord(s[e]) {
				return e
			}
		}
	}
	return -1
}

var (
	ctBoundaryRE = regexp.MustCompile(`(?i)boundary=["'](.*?)["']`)
	ctSepRunRE   = regexp.MustCompile(`[-_.=]+`)
	ctStopRE     = regexp.MustCompile(`\b(?:text|charset)\b`)
)

// chewContentType rewrites a Content-Type value: a quoted boundary is
// replaced by its shape (hex digits become H, separator runs stand
// alone), appended to the end, and the words text and charset go.
func chewContentType(val string) string {
	if strings.ContainsAny(val, `"'`) {
		if all := ctBoundaryRE.FindAllStringSubmatchIndex(val, -1); all != nil {
			last := all[len(all)-1]
			boundary := []byte(val[last[2]:last[3]])
			for i, c := range boundary {
				if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
					boundary[i] = 'H'
				}
			}
			val = ctBoundaryRE.ReplaceAllString(val, " ")
			val += ctSepRunRE.ReplaceAllString(string(boundary), " $0 ")
		}
	}
	if strings.Contains(val, "text") || strings.Contains(val, "charset") {
		val = ctStopRE.ReplaceAllString(val, " ")
	}
	return val
}

// chewAddressHeader replaces an address header's value by N*word for each
// word of each display name and U*user, D*domain (and D* of each parent
// domain) for each address.
func chewAddressHeader(val string) string {
	var b strings.Builder
	for _, a := range parseHeaderAddresses(val) {
		if a.hasPhrase {
			for _, w := range splitPerlSpace(a.phrase) {
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
				b.WriteString("N*")
				b.WriteString(w)
			}
		}
		if a.hasAddress {
			at := strings.LastIndexByte(a.address, '@')
			if at < 1 || at == len(a.address)-1 {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("U*")
			b.WriteString(a.address[:at])
			domain := a.address[at+1:]
			b.WriteString(" D*")
			b.WriteString(domain)
			for {
				dot := strings.IndexByte(domain, '.')
				if dot <= 0 || dot == len(domain)-1 {
					break
				}
				domain = domain[dot+1:]
				b.WriteString(" D*")
				b.WriteString(domain)
			}
		}
	}
	return b.String()
}

// splitPerlSpace splits s like Perl's split(/\s+/, s): a leading empty
// field is kept, trailing empty fields are dropped.
func splitPerlSpace(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		if !tokIsSpace(s[i]) {
			i++
			continue
		}
		out = append(out, s[start:i])
		for i < len(s) && tokIsSpace(s[i]) {
			i++
		}
		start = i
	}
	out = append(out, s[start:])
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// A headerAddress is one address of an address header as SpamAssassin's
// Util::parse_header_addresses reads it.
type headerAddress struct {
	phrase     string
	hasPhrase  bool
	address    string // user@host
	hasAddress bool
}

// The address parser's expressions. Perl's possessive quantifiers become
// greedy ones: for these expressions that matches the same text, except
// that a lone phrase's last unquoted run must be checked to be maximal.
const (
	addrWS       = `[\t\n\v\f\r ]`
	addrNonWS    = `[^\t\n\v\f\r ]`
	addrQuoted   = `"(?:[^"\\]|\\[^\n])*"` // the qr// has no /s: . is not \n
	addrMailExpr = `(?:` + addrQuoted + `|[^@\t\n\v\f\r <>()\[\],:;]+)@(?:[^"\t\n\v\f\r <>()\[\],:;]+|\[[\d:.]+\])`
)

var (
	addrGroupRE = regexp.MustCompile(`(?s)^[^"()<>]+:` + addrWS + `*(.*?)` + addrWS + `*(?:;.*)?`)
	addrItemRE  = regexp.MustCompile(`(?is)^` + addrWS + `*(?:` +
		`(?:((?:` + addrQuoted + `|[^",;<]+)+)` + addrWS + `*)?` +
		`<` + addrWS + `*([^>@]*` + addrNonWS + `+|` + addrWS + `*)` + addrWS + `*>` +
		`(?:` + addrWS + `*<` + addrWS + `*(?:(?:` + addrQuoted + `)?` + addrNonWS + `+|` + addrWS + `*)` + addrWS + `*>)*` +
		`|(?:(` + addrMailExpr + `)|((?:` + addrQuoted + `|[^",;<]+)+))` +
		`)` +
		`(?:` + addrWS + `*\(((?:[^()\\]|\\[^\n])*)\))?` +
		addrWS + `*(?:[,;]|\z)`)
	addrMailRE     = regexp.MustCompile(`(?is)^` + addrMailExpr + `\n?$`) // Perl's $ allows a final newline
	addrEnclosedRE = regexp.MustCompile(`(?is)<(` + addrMailExpr + `)>`)
	addrCommentRE  = regexp.MustCompile(`(?s)\((?:[^()\\]|\\.)*\)`)
	addrPhrasePart = regexp.MustCompile(`(?s)"((?:[^"\\]|\\.)*)"|([^"]+)`)
)

// validParsedAddress rejects addresses SpamAssassin considers misparsed.
func validParsedAddress(a string) bool {
	return !strings.HasPrefix(a, `""@`) && strings.Count(a, `"`) != 1
}

// tokTrimAddress cuts a to user@host where host ends at the next @, as
// s/^(([^\@]*)\@([^\@]*)).*/$1/ does: the cut text is what follows up to
// a newline (Perl's . does not match one), and the rest stays.
func tokTrimAddress(a string) string {
	at := strings.IndexByte(a, '@')
	if at < 0 {
		return a
	}
	next := strings.IndexByte(a[at+1:], '@')
	if next < 0 {
		return a
	}
	end := at + 1 + next
	if nl := strings.IndexByte(a[end:], '\n'); nl >= 0 {
		return a[:end] + a[end+nl:]
	}
	return a[:end]
}

// parseHeaderAddresses reads an address header value like SpamAssassin's
// parse_header_addresses with Email::Address::XS installed (as a default
// Debian install has it): the relaxed internal parser's addresses, unless
// it found none or fewer than the commas plus one and the RFC 5322 parser
// (parseHeaderAddressesXS) finds more.
func parseHeaderAddresses(s string) []headerAddress {
	if a, ok := bareHeaderAddress(s); ok {
		return []headerAddress{{address: a, hasAddress: true}}
	}
	if p, a, ok := namedHeaderAddress(s); ok {
		return []headerAddress{{phrase: p, hasPhrase: true, address: a, hasAddress: true}}
	}
	return parseHeaderAddressesFull(s)
}

// parseHeaderAddressesFull is parseHeaderAddresses for any field.
func parseHeaderAddressesFull(s string) []headerAddress {
	if strings.TrimLeft(s, "\t\n\v\f\r ") == "" {
		return nil
	}
	internal := parseHeaderAddressesInternal(s)
	if len(internal) == 0 || len(internal) < strings.Count(s, ",")+1 {
		if xs := parseHeaderAddressesXS(s); len(xs) > len(internal) {
			return xs
		}
	}
	return internal
}

// mayBeAddrGroup reports whether addrGroupRE matches s: whether a ':'
// comes after the first byte and before any of "()<> (what follows the
// colon in the pattern matches anything). Most address fields have none.
func mayBeAddrGroup(s string) bool {
	end := strings.IndexAny(s, `"()<>`)
	if end < 0 {
		end = len(s)
	}
	return end > 1 && strings.IndexByte(s[1:end], ':') >= 0
}

// parseHeaderAddressesInternal reads an address header value like
// SpamAssassin's internal parser (Util::_parse_header_addresses).
func parseHeaderAddressesInternal(s string) []headerAddress {
	s = strings.TrimRight(s, "\t\n\v\f\r ") // s/[\t\n\v\f\r ]+$//
	s = strings.ReplaceAll(s, `\\`, "")
	if !mayBeAddrGroup(s) {
	} else if loc := addrGroupRE.FindStringSubmatchIndex(s); loc != nil {
		s = s[loc[2]:loc[3]] + s[loc[1]:]
	}
	if strings.TrimLeft(s, "\t\n\v\f\r ") == "" {
		return nil
	}
	var out []headerAddress
	for {
		m := addrItemRE.FindStringSubmatchIndex(s)
		if m == nil {
			break
		}
		group := func(i int) (string, bool) {
			if m[2*i] < 0 {
				return "", false
			}
			return s[m[2*i]:m[2*i+1]], true
		}
		phrase, hasPhrase := group(1)
		if !hasPhrase {
			phrase, hasPhrase = group(4)
			// A lone phrase's unquoted runs are possessive in Perl
			// ([^",;<]++): one cannot end before a comment it could
			// have eaten, as RE2's backtracking lets it.
			if e := m[9]; hasPhrase && e < len(s) && s[e-1] != '"' && strings.IndexByte(`",;<`, s[e]) < 0 {
				break
			}
		}
		enclosed, hasEnclosed := group(2)
		address, hasAddress := enclosed, hasEnclosed
		if !hasAddress {
			address, hasAddress = group(3)
		}
		comment, hasComment := group(5)

		if hasEnclosed {
			if strings.IndexByte(address, '(') >= 0 { // the pattern's first byte
				address = addrCommentRE.ReplaceAllString(address, "")
			}
			if strings.IndexByte(address, '@') < 0 || !addrMailRE.MatchString(address) {
				hasAddress = false
			}
		}
		if hasAddress && !validParsedAddress(address) {
			hasAddress = false
		}
		if hasPhrase {
			var np strings.Builder
			for _, pm := range addrPhrasePart.FindAllStringSubmatchIndex(phrase, -1) {
				if pm[2] >= 0 {
					np.WriteString(strings.ReplaceAll(phrase[pm[2]:pm[3]], `\`, ""))
				} else {
					np.WriteString(addrCommentRE.ReplaceAllString(phrase[pm[4]:pm[5]], ""))
				}
			}
			phrase = np.String()
			if !hasAddress && addrMailRE.MatchString(phrase) && validParsedAddress(phrase) &&
				tokFQDNValid(saIDNToASCII(phraseHost(phrase))) {
				address, hasAddress = phrase, true
				phrase, hasPhrase = "", false
			} else if hasAddress && phrase == address || phrase == "" {
				phrase, hasPhrase = "", false
			}
		}
		if !hasPhrase && hasComment {
			phrase, hasPhrase = comment, true
		}
		if hasAddress {
			address = tokTrimAddress(address)
		}
		out = append(out, headerAddress{phrase: phrase, hasPhrase: hasPhrase, address: address, hasAddress: hasAddress})
		s = s[m[1]:]
	}
	if strings.IndexByte(s, '@') >= 0 {
		for _, m := range addrEnclosedRE.FindAllStringSubmatch(s, -1) {
			if !validParsedAddress(m[1]) {
				continue
			}
			out = append(out, headerAddress{address: tokTrimAddress(m[1]), hasAddress: true})
		}
	}
	return out
}

// phraseHost returns what follows the first @ of s, up to the next @.
func phraseHost(s string) string {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return ""
	}
	h := s[at+1:]
	if next := strings.IndexByte(h, '@'); next >= 0 {
		h = h[:next]
	}
	return h
}

// tokFQDNValid is SpamAssassin's is_fqdn_valid for an ASCII-lowered host:
// at least two labels of 1–63 bytes from [a-z0-9_-] (no - at either
// end, no _ in the last two), 253 bytes at most, trailing dots ignored.
func tokFQDNValid(host string) bool {
	host = strings.TrimRight(tokLower(host), ".")
	if len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if len(l) < 1 || len(l) > 63 {
			return false
		}
		l = strings.TrimSuffix(l, "\n") // Perl's $ allows a final newline
		if l == "" {
			return false
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' && j > 0 && j < len(l)-1
			if !ok {
				return false
			}
		}
		if i >= len(labels)-2 && strings.IndexByte(l, '_') >= 0 {
			return false
		}
	}
	return true
}

// tokLower lower-cases the ASCII letters of s (Perl's lc on bytes).
func tokLower(s string) string {
	for i := 0; i < len(s); i++ {
		if tokIsUpper(s[i]) {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if tokIsUpper(b[j]) {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// relayMetadata returns the values of SpamAssassin's relay pseudo-headers
// in relayMetadataNames order (external, internal, trusted, untrusted).
func relayMetadata(m *Message) [4]string {
	r := m.RelayHeaders()
	return [4]string{r.External, r.Internal, r.Trusted, r.Untrusted}
}
