package eval

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gospamd/gospamd/tokenizer"
)

func addHeader(m map[string]Func) {
	m["check_for_shifted_date"] = checkForShiftedDate
	m["received_within_months"] = receivedWithinMonths
	m["check_header_count_range"] = checkHeaderCountRange
	m["check_illegal_chars"] = checkIllegalChars
	m["check_for_missing_to_header"] = checkForMissingToHeader
	m["check_for_to_in_subject"] = checkForToInSubject
	m["check_outlook_message_id"] = checkOutlookMessageID
	m["check_messageid_not_usable"] = checkMessageIDNotUsable
	m["check_ratware_name_id"] = checkRatwareNameID
	m["check_ratware_envelope_from"] = checkRatwareEnvelopeFrom
	m["gated_through_received_hdr_remover"] = gatedThroughReceivedHdrRemover
	m["check_for_unique_subject_id"] = func(*Context, []string) (bool, error) { return false, nil }
	m["check_equal_from_domains"] = checkEqualFromDomains
	m["check_for_faraway_charset_in_headers"] = checkForFarawayCharsetInHeaders
	m["subject_is_all_caps"] = subjectIsAllCaps
	m["check_unresolved_template"] = checkUnresolvedTemplate
	m["sorted_recipients"] = sortedRecipients
	m["similar_recipients"] = similarRecipients
	m["check_for_matching_env_and_hdr_from"] = checkForMatchingEnvAndHdrFrom
	m["check_for_fake_aol_relay_in_rcvd"] = checkForFakeAOLRelayInRcvd
	m["check_for_forged_hotmail_received_headers"] = func(c *Context, _ []string) (bool, error) { return c.hotmail().forged, nil }
	m["check_for_no_hotmail_received_headers"] = func(c *Context, _ []string) (bool, error) { return c.hotmail().missing, nil }
	m["check_for_msn_groups_headers"] = func(c *Context, _ []string) (bool, error) { return c.msnGroups(), nil }
	m["check_for_forged_eudoramail_received_headers"] = checkForgedEudoramail
	m["check_for_forged_yahoo_received_headers"] = checkForgedYahoo
	m["check_for_forged_juno_received_headers"] = checkForgedJuno
	m["check_for_forged_gmail_received_headers"] = checkForgedGmail
	m["check_for_forged_gw05_received_headers"] = checkForgedGW05
}

// ipAddress approximates SpamAssassin's IP_ADDRESS pattern (IPv4 dotted
// quad or an IPv6 literal).
const ipAddress = `(?:(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)\.(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)\.(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)\.(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)|(?:IPv6:)?[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})`

var (
	reIPAddress   = lazyRegexp(ipAddress)
	rcvdFromLocal = lazyRegexp(`\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b)`)
	rcvdQmailUID  = lazyRegexp(`qmail \d+ invoked by uid \d+`)
	rcvdFetchmail = lazyRegexp(`\bby localhost with \w+ \(fetchmail-[\d.]+`)
	spaceRun      = lazyRegexp(`\s+`)
)

// mayBeLocal reports whether rcvdFromLocal can match s: its every match
// holds "from " and "localhost" or "127.0.0.1" (a test before the regexp,
// which most Received fields fail).
func mayBeLocal(s string) bool {
	return strings.Contains(s, "from ") && (strings.Contains(s, "localhost") || strings.Contains(s, "127.0.0.1"))
}

// dateHeaderTime is the first parseable Resent-Date, else Date.
func (c *Context) dateHeaderTime() (time.Time, bool) {
	for _, h := range []string{"Resent-Date", "Date"} {
		for _, v := range c.values(h) {
			if v == "" {
				continue
			}
			if t, ok := tokenizer.ParseDate(v); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

type rcvdTimes struct {
	times     []time.Time // of the Received headers, newest first, local hand-offs removed
	fetchmail *time.Time
}

// receivedTimes is _get_received_header_times.
func (c *Context) receivedTimes() rcvdTimes {
	return cached(c, "rcvdtimes", func() rcvdTimes {
		var out rcvdTimes
		var rcvd []string
		for _, v := range c.values("Received") {
			if strings.TrimSpace(v) != "" {
				rcvd = append(rcvd, v)
			}
		}
		if len(rcvd) == 0 {
			return out
		}
		var local []string
		if mayBeLocal(rcvd[0]) && rcvdFromLocal().MatchString(rcvd[0]) ||
			strings.Contains(rcvd[0], " invoked by uid ") && rcvdQmailUID().MatchString(rcvd[0]) {
			local = append(local, rcvd[0])
			rcvd = rcvd[1:]
		}
		if len(rcvd) > 0 && strings.Contains(rcvd[0], "(fetchmail-") && rcvdFetchmail().MatchString(rcvd[0]) {
			local = append(local, rcvd[0])
			rcvd = rcvd[1:]
		} else if len(local) > 0 {
			rcvd = append([]string{local[0]}, rcvd...)
			local = local[1:]
		}
		var fm []time.Time
		for _, r := range local {
			if m := findReceivedDate(r); m != "" {
				if t, ok := tokenizer.ParseDate(m); ok && !t.After(c.now()) {
					fm = append(fm, t)
				}
			}
		}
		if len(fm) > 0 {
			best := fm[0]
			for _, t := range fm[1:] {
				if t.After(best) {
					best = t
				}
			}
			out.fetchmail = &best
		}
		for _, r := range rcvd {
			if m := findReceivedDate(r); m != "" {
				if t, ok := tokenizer.ParseDate(m); ok {
					out.times = append(out.times, t)
				}
			}
		}
		return out
	})
}

func (c *Context) now() time.Time {
	if c.Now.IsZero() {
		return time.Now()
	}
	return c.Now
}

// dateDiff is _check_date_diff: Date minus the closest Received time, in
// seconds; 0 when either is missing.
func (c *Context) dateDiff() float64 {
	return cached(c, "datediff", func() float64 {
		d, ok := c.dateHeaderTime()
		if !ok {
			return 0
		}
		times := c.receivedTimes().times
		if len(times) == 0 {
			return 0
		}
		diffs := make([]float64, len(times))
		for i, t := range times {
			diffs[i] = float64(d.Unix() - t.Unix())
		}
		if len(diffs) > 1 && diffs[len(diffs)-1] == 0 {
			diffs = diffs[:len(diffs)-1]
		}
		slices.SortStableFunc(diffs, func(a, b float64) int {
			switch {
			case math.Abs(a) < math.Abs(b):
				return -1
			case math.Abs(a) > math.Abs(b):
				return 1
			}
			return 0
		})
		return diffs[0]
	})
}

// checkForShiftedDate (check_for_shifted_date(MIN, MAX)): the Date header
// is between MIN and MAX hours ahead of the nearest Received date
// ("undef" = open).
func checkForShiftedDate(c *Context, args []string) (bool, error) {
	if err := needArgs("check_for_shifted_date", args, 2); err != nil {
		return false, err
	}
	d := c.dateDiff()
	return (args[0] == "undef" || d >= 3600*perlNum(args[0])) &&
		(args[1] == "undef" || d < 3600*perlNum(args[1])), nil
}

// receivedWithinMonths (received_within_months(MIN, MAX)): the message was
// received between MIN and MAX months before now.
func receivedWithinMonths(c *Context, args []string) (bool, error) {
	var poss []float64
	d, haveDate := c.dateHeaderTime()
	if haveDate {
		poss = append(poss, float64(d.Unix()))
	}
	rt := c.receivedTimes()
	if len(rt.times) > 0 {
		poss = append(poss, float64(rt.times[0].Unix()))
	}
	if rt.fetchmail != nil {
		poss = append(poss, float64(rt.fetchmail.Unix()))
	}
	if haveDate && len(rt.times) > 0 {
		poss = append(poss, float64(d.Unix())-c.dateDiff())
	}
	recv := 0.0
	if len(poss) > 0 {
		slices.Sort(poss)
		slices.Reverse(poss)
		recv = poss[(len(poss)-1)/2]
	}
	diff := float64(c.now().Unix()) - recv
	lo, hi := arg(args, 0), arg(args, 1)
	return (lo == "" || lo == "undef" || diff >= 31556952*(perlNum(lo)/12)) &&
		(hi == "" || hi == "undef" || diff < 31556952*(perlNum(hi)/12)), nil
}

// checkHeaderCountRange (check_header_count_range(NAME, MIN, MAX)): the
// number of distinct values of header NAME is in [MIN, MAX].
func checkHeaderCountRange(c *Context, args []string) (bool, error) {
	if err := needArgs("check_header_count_range", args, 3); err != nil {
		return false, err
	}
	seen := map[string]bool{}
	for _, v := range c.values(args[0]) {
		seen[v] = true
	}
	n := float64(len(seen))
	return n >= perlNum(args[1]) && n <= perlNum(args[2]), nil
}

// allRaw is "ALL:raw": every header field as written, one after another.
func (c *Context) allRaw() string {
	var b strings.Builder
	for _, f := range c.Msg.Header {
		b.WriteString(f.Name)
		b.WriteString(":")
		b.WriteString(f.Raw)
		b.WriteString("\n")
	}
	return b.String()
}

// checkIllegalChars (check_illegal_chars(HEADER, RATIO, COUNT)): the raw
// header (or ALL) has at least COUNT control or 8-bit bytes making up at
// least RATIO of it; valid UTF-8 without control characters is fine.
func checkIllegalChars(c *Context, args []string) (bool, error) {
	if err := needArgs("check_illegal_chars", args, 3); err != nil {
		return false, err
	}
	name := strings.TrimSuffix(args[0], ":raw")
	var s string
	if name == "ALL" {
		s = c.allRaw()
	} else {
		s = c.getRaw(name)
	}
	if strings.TrimSpace(s) == "" {
		return false, nil
	}
	isCtl := func(b byte) bool { return b <= 0x08 || b == 0x0b || b == 0x0c || b >= 0x0e && b <= 0x1f }
	if !isASCIIString(s) && utf8.ValidString(s) {
		ctl := false
		for i := 0; i < len(s); i++ {
			if isCtl(s[i]) {
				ctl = true
				break
			}
		}
		if !ctl {
			return false, nil
		}
	}
	illegal, exempt := 0, 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		if isCtl(b) || b >= 0x7f {
			illegal++
		}
		if b == 0xa2 || b == 0xa3 || b == 0xae {
			exempt++
		}
	}
	if illegal > 0 && strings.EqualFold(name, "subject") && exempt == 1 {
		illegal--
	}
	return float64(illegal)/float64(len(s)) >= perlNum(args[1]) && float64(illegal) >= perlNum(args[2]), nil
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// checkForMissingToHeader (check_for_missing_to_header()): neither To nor
// Apparently-To has a value.
func checkForMissingToHeader(c *Context, _ []string) (bool, error) {
	return c.get("To") == "" && c.get("Apparently-To") == "", nil
}

var outlookMsgID = lazyRegexp(`^<[0-9a-f]{4}([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}@`)

// checkOutlookMessageID (check_outlook_message_id()): an Outlook-style
// Message-ID whose embedded time matches neither the Date nor a Received
// date.
func checkOutlookMessageID(c *Context, _ []string) (bool, error) {
	m := outlookMsgID().FindStringSubmatch(c.get("MESSAGEID"))
	if m == nil {
		return false, nil
	}
	token, _ := strconv.ParseInt(m[1], 16, 64)
	const x, y, fudge = 0.0023283064365387, 27111902.8329849, 250
	expect := func(s string) float64 {
		t := 0.0
		if d, ok := tokenizer.ParseDate(s); ok {
			t = float64(d.Unix())
		}
		return math.Trunc(t*x + y)
	}
	if math.Abs(float64(token)-expect(c.get("Date"))) < fudge {
		return false, nil
	}
	return math.Abs(float64(token)-expect(c.get("Received"))) >= fudge, nil
}

var listUnsubLeave = lazyRegexp(`(?i)<mailto:(?:leave-\S+|\S+-unsubscribe)@\S+>\n?$`)

// checkMessageIDNotUsable (check_messageid_not_usable()): the Message-ID
// was probably rewritten by a list or gateway.
func checkMessageIDNotUsable(c *Context, _ []string) (bool, error) {
	if listUnsubLeave().MatchString(c.get("List-Unsubscribe")) {
		return true, nil
	}
	if ok, _ := gatedThroughReceivedHdrRemover(c, nil); ok {
		return true, nil
	}
	r := c.get("Received")
	return strings.Contains(r, "/CWT/DCE)") || strings.Contains(r, "iPlanet Messaging Server"), nil
}

var ratwareMID = lazyRegexp(`<[A-Z]{28}\.([^>]+?)>`)

// checkRatwareNameID (check_ratware_name_id()): a ratware Message-ID
// (28 capitals) whose right part is the From address.
func checkRatwareNameID(c *Context, _ []string) (bool, error) {
	m := ratwareMID().FindStringSubmatch(c.get("MESSAGEID"))
	if m == nil {
		return false, nil
	}
	re, err := regexp.Compile(`"[^"]+"\s*<` + regexp.QuoteMeta(m[1]) + `>`)
	if err != nil {
		return false, nil
	}
	return re.MatchString(c.get("From")), nil
}

var srsAddr = lazyRegexp(`(?i)^SRS\d[=+-]`)

// checkRatwareEnvelopeFrom (check_ratware_envelope_from()): the envelope
// sender is built from the recipient's domain and user name.
func checkRatwareEnvelopeFrom(c *Context, _ []string) (bool, error) {
	to, from := c.addr("To"), c.envelopeFrom()
	if to == "" || from == "" || srsAddr().MatchString(from) {
		return false, nil
	}
	at := strings.IndexByte(to, '@')
	if at <= 0 || at == len(to)-1 {
		return false, nil
	}
	user, dom := to[:at], trimDomain(to[at+1:])
	if !domainValid(dom) {
		return false, nil
	}
	re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(dom) + `.` + regexp.QuoteMeta(user) + `@`)
	if err != nil {
		return false, nil
	}
	return re.MatchString(from), nil
}

var (
	ezmlmMailingList = lazyRegexp(`(?m)^contact \S+@\S+; run by ezmlm$`)
	ezmlmDeliveredTo = lazyRegexp(`(?m)^mailing list \S+@\S+`)
	ezmlmQmail       = lazyRegexp(`qmail \d+ invoked (?:from network|by .{3,20})\); \d+ ... \d+`)
	msnGroupsRcvd    = lazyRegexp(`from groups\.msn\.com \(\S+\.msn\.com `)
)

// gatedThroughReceivedHdrRemover (gated_through_received_hdr_remover()):
// the message has no Received headers, or came through a gateway (ezmlm,
// MSN groups) known to drop them.
func gatedThroughReceivedHdrRemover(c *Context, _ []string) (bool, error) {
	if c.has("Mailing-List") && ezmlmMailingList().MatchString(c.get("Mailing-List")) {
		if ezmlmDeliveredTo().MatchString(c.get("Delivered-To")) && ezmlmQmail().MatchString(c.get("Received")) {
			return true, nil
		}
	}
	if !c.has("Received") {
		return true, nil
	}
	return msnGroupsRcvd().MatchString(c.get("Received")), nil
}

// checkEqualFromDomains (check_equal_from_domains()): the From and
// envelope sender domains (last two labels) differ.
func checkEqualFromDomains(c *Context, _ []string) (bool, error) {
	last2 := func(a string) string {
		i := strings.LastIndexByte(a, '@')
		if i < 0 {
			return ""
		}
		d := a[i+1:]
		labels := strings.Split(d, ".")
		if len(labels) > 2 && labels[0] != "" {
			// s/^.+\.([^.]+\.[^.]+)$/$1/ needs something before the last two labels
			d = labels[len(labels)-2] + "." + labels[len(labels)-1]
		}
		return d
	}
	fd := last2(c.addr("From"))
	if fd == "" {
		return false, nil
	}
	ed := last2(c.envelopeFrom())
	if ed == "" {
		return false, nil
	}
	return !strings.EqualFold(fd, ed), nil
}

var encodedWordCharset = lazyRegexp(`=\?(.+?)\?.\?.*?\?=`)

// checkForFarawayCharsetInHeaders (check_for_faraway_charset_in_headers()):
// From or Subject has an encoded-word in a charset outside ok_locales.
func checkForFarawayCharsetInHeaders(c *Context, _ []string) (bool, error) {
	locales := c.okLocales()
	if locales == nil {
		return false, nil
	}
	for _, h := range []string{"From", "Subject"} {
		for _, v := range c.rawValues(h) {
			for _, m := range encodedWordCharset().FindAllStringSubmatch(v, -1) {
				if !charsetOKForLocales(m[1], locales) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

var (
	replyPrefix  = lazyRegexp(`(?i)^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):\s*)+`)
	fpCapsEncode = lazyRegexp(`(?i)=\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*\?`)
)

// subjectIsAllCaps (subject_is_all_caps()): a multi-word Subject of ten
// or more characters whose letters are all capitals.
func subjectIsAllCaps(c *Context, _ []string) (bool, error) {
	s := strings.TrimSpace(c.get("Subject"))
	s = replyPrefix().ReplaceAllString(s, "")
	if !strings.ContainsAny(s, " \t\n\r\f\v") || utf8.RuneCountInString(s) < 10 {
		return false, nil
	}
	letters := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, s)
	if fpCapsEncode().MatchString(c.getRaw("Subject")) {
		return false, nil
	}
	return letters != "" && letters == strings.ToUpper(letters), nil
}

var (
	templateTag    = lazyRegexp(`%[A-Z][A-Z_-]`)
	templateExempt = lazyRegexp(`(?i)^(?:X-VMS-To|X-UIDL|X-Face|To|Cc|From|Subject|References|In-Reply-To|(?:X-|Resent-|X-Original-)?Message-Id):`)
)

// checkUnresolvedTemplate (check_unresolved_template()): a header still
// holds a "%TAG" from a mailing template.
func checkUnresolvedTemplate(c *Context, _ []string) (bool, error) {
	for _, f := range c.Msg.Header {
		line := f.Name + ": " + f.Value
		if templateTag().MatchString(line) && !templateExempt().MatchString(line) {
			return true, nil
		}
	}
	return false, nil
}

type recipStats struct {
	sorted  bool
	similar float64
}

// recipients is _check_recipients.
func (c *Context) recipients() recipStats {
	return cached(c, "recips", func() recipStats {
		var in []string
		for _, h := range []string{"ToCc", "Bcc"} {
			in = append(in, c.addrs(h)...)
			if len(in) >= 5 {
				break
			}
		}
		var addr []string
		prev := ""
		for _, a := range in {
			if a == "" {
				break
			}
			if !strings.EqualFold(a, prev) {
				addr = append(addr, a)
				prev = a
			}
			if len(addr) == 256 {
				break
			}
		}
		var st recipStats
		st.sorted = len(addr) >= 7 && slices.IsSorted(addr)
		if len(addr) >= 5 {
			first2 := func(s string) string {
				if len(s) > 2 {
					return s[:2]
				}
				return s
			}
			hits, combos := 0, 0
			for i := range addr {
				for j := i + 1; j < len(addr); j++ {
					if first2(addr[i]) == first2(addr[j]) {
						hits++
					}
					hi, hj := hostPart(addr[i]), hostPart(addr[j])
					if first2(hi) == first2(hj) && hi != hj {
						hits++
					}
					combos++
				}
			}
			st.similar = float64(hits) / float64(combos)
		}
		return st
	})
}

func hostPart(a string) string {
	if i := strings.IndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return ""
}

// sortedRecipients (sorted_recipients()): seven or more To/Cc addresses
// in sorted order.
func sortedRecipients(c *Context, _ []string) (bool, error) { return c.recipients().sorted, nil }

// similarRecipients (similar_recipients(MIN, MAX)): the share of
// recipient pairs with similar user or host names is in [MIN, MAX).
func similarRecipients(c *Context, args []string) (bool, error) {
	s := c.recipients().similar
	lo, hi := arg(args, 0), arg(args, 1)
	return (lo == "undef" || s >= perlNum(lo)) && (hi == "undef" || s < perlNum(hi)), nil
}

// checkForMatchingEnvAndHdrFrom (check_for_matching_env_and_hdr_from()):
// the envelope sender equals the From address.
func checkForMatchingEnvAndHdrFrom(c *Context, _ []string) (bool, error) {
	return strings.EqualFold(c.envelopeFrom(), c.addr("From")), nil
}

var (
	aolRly     = lazyRegexp(`(?i) rly-[a-z][a-z]\d\d\.`)
	aolVia     = lazyRegexp(`/AOL-\d+\.\d+\.\d+\)`)
	aolESMTPID = lazyRegexp(`ESMTP id (?:RELAY|MAILRELAY|MAILIN)`)
)

// checkForFakeAOLRelayInRcvd (check_for_fake_aol_relay_in_rcvd()): a
// Received header names an AOL relay that AOL did not write.
func checkForFakeAOLRelayInRcvd(c *Context, _ []string) (bool, error) {
	r := spaceRun().ReplaceAllString(c.get("Received"), " ")
	if aolRly().MatchString(r) {
		return !aolVia().MatchString(r) && !aolESMTPID().MatchString(r), nil
	}
	return false, nil
}

type hotmailResult struct{ forged, missing bool }

var (
	hmPickup   = lazyRegexp(`from mail pickup service by hotmail\.com with Microsoft SMTPSVC;`)
	hmOrigOrg  = lazyRegexp(`hotmail\.com|msonline\-outlook`)
	hmRcvd1    = lazyRegexp(`from (?:\S*\.)?hotmail.com \(\S+\.hotmail(?:\.msn)?\.com[ \)]`)
	hmRcvd2    = lazyRegexp(`from \S*\.outbound\.protection\.outlook\.com \(\S+\.outbound\.protection\.outlook\.com[ \)]`)
	hmRcvd3    = lazyRegexp(`from \S*\.(?:eur|nam)prd\d+\.prod\.outlook\.com \(` + ipAddress + `\)`)
	hmRcvd4    = lazyRegexp(`from \S*\.hotmail.com \(\[` + ipAddress + `\][ \):]`)
	hmRcvd5    = lazyRegexp(`from \S+ by \S+\.hotmail(?:\.msn)?\.com with HTTP;`)
	hmRcvd6    = lazyRegexp(`from \[66\.218.\S+\] by \S+\.yahoo\.com`)
	hmMention  = lazyRegexp(`(?:from |HELO |helo=)\S*hotmail\.com\b`)
	hmFromAddr = lazyRegexp(`(?i)\bhotmail\.com$`)
)

// hotmail is _check_for_forged_hotmail_received_headers.
func (c *Context) hotmail() hotmailResult {
	return cached(c, "hotmail", func() hotmailResult {
		var res hotmailResult
		rcvd := c.get("Received")
		// Both answers need "hotmail.com": in a Received header (as
		// written) or in the From address (in any case). Without it
		// the checks below could only return res as it is.
		if !strings.Contains(rcvd, "hotmail.com") && !strings.Contains(strings.ToLower(c.addr("From")), "hotmail.com") {
			return res
		}
		r := spaceRun().ReplaceAllString(rcvd, " ")
		if hmPickup().MatchString(r) || c.msnGroups() {
			return res
		}
		ip := c.has("X-Originating-Ip") && reIPAddress().MatchString(c.get("X-Originating-Ip"))
		orig := c.has("X-OriginatorOrg") && hmOrigOrg().MatchString(c.get("X-OriginatorOrg"))
		if gated, _ := gatedThroughReceivedHdrRemover(c, nil); gated {
			return res
		}
		if (ip && (hmRcvd1().MatchString(r) || hmRcvd4().MatchString(r) || hmRcvd5().MatchString(r) || hmRcvd6().MatchString(r))) ||
			(orig && (hmRcvd2().MatchString(r) || hmRcvd3().MatchString(r))) {
			return res
		}
		if hmMention().MatchString(r) {
			res.forged = true
		} else if hmFromAddr().MatchString(c.addr("From")) {
			res.missing = true
		}
		return res
	})
}

var (
	msnTo     = lazyRegexp(`(?i)<(\S+)@groups\.msn\.com>`)
	msnPickup = lazyRegexp(`from mail pickup service by ((?:p\d\d\.)groups\.msn\.com)\b`)
)

// msnGroups is check_for_msn_groups_headers.
func (c *Context) msnGroups() bool {
	m := msnTo().FindStringSubmatch(c.get("To"))
	if m == nil {
		return false
	}
	list := m[1]
	p := msnPickup().FindStringSubmatch(c.get("Received"))
	if p == nil {
		return false
	}
	if list == "notifications" {
		re := regexp.MustCompile(`^<\S+@` + regexp.QuoteMeta(p[1]) + `>`)
		return re.MatchString(c.get("Message-Id"))
	}
	q := regexp.QuoteMeta(list)
	return regexp.MustCompile(`^<`+q+`-\S+@groups\.msn\.com>`).MatchString(c.get("Message-Id")) &&
		regexp.MustCompile(q+`-bounce@groups\.msn\.com`).MatchString(c.envelopeFrom())
}

var (
	eudoraFrom = lazyRegexp(`(?i)\beudoramail\.com$`)
	eudoraBy   = lazyRegexp(`by \S*whowhere.com;`)
)

// checkForgedEudoramail (check_for_forged_eudoramail_received_headers()):
// From is at eudoramail.com but the relays are not WhoWhere's.
func checkForgedEudoramail(c *Context, _ []string) (bool, error) {
	if !eudoraFrom().MatchString(c.addr("From")) {
		return false, nil
	}
	r := spaceRun().ReplaceAllString(c.get("Received"), " ")
	ip := c.has("X-Sender-Ip") && reIPAddress().MatchString(c.get("X-Sender-Ip"))
	if gated, _ := gatedThroughReceivedHdrRemover(c, nil); gated {
		return false, nil
	}
	return !(eudoraBy().MatchString(r) && ip), nil
}

var (
	yahooFrom    = lazyRegexp(`(?i)\byahoo\.com$`)
	yahooRdnsT   = lazyRegexp(` rdns=\S+\.yahoo\.com `)
	yahooRdnsU   = lazyRegexp(`^[^\]]+ rdns=\S+\.yahoo\.com `)
	yahooOK      = []*regexp.Regexp{regexp.MustCompile(`by web\S+\.mail\S*\.yahoo\.com via HTTP`), regexp.MustCompile(`by sonic\S+\.consmr\.mail\S*\.yahoo\.com with HTTP`), regexp.MustCompile(`by smtp\S+\.yahoo\.com with SMTP`), regexp.MustCompile(`from \[` + ipAddress + `\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP`), regexp.MustCompile(`by \w+\.\w+\.yahoo\.com \(\d+\.\d+\.\d+/\d+\.\d+\.\d+\)(?: with ESMTP)? id \w+`)}
	yahooBulk    = lazyRegexp(`\bmailer\d+\.bulk\.scd\.yahoo\.com\b`)
	yahooReplyTo = lazyRegexp(`(?i)@reply\.yahoo\.com$`)
)

// checkForgedYahoo (check_for_forged_yahoo_received_headers()): From is at
// yahoo.com but no relay is Yahoo's.
func checkForgedYahoo(c *Context, _ []string) (bool, error) {
	from := c.addr("From")
	if !yahooFrom().MatchString(from) {
		return false, nil
	}
	r := c.get("Received")
	if c.get("Resent-From") != "" && c.get("Resent-To") != "" {
		if x := c.get("X-Received"); x != "" {
			r = x
		}
	}
	r = spaceRun().ReplaceAllString(r, " ")
	if gated, _ := gatedThroughReceivedHdrRemover(c, nil); gated {
		return false, nil
	}
	rh := c.relayHeaders()
	if yahooRdnsT().MatchString(rh.Trusted) || yahooRdnsU().MatchString(rh.Untrusted) {
		return false, nil
	}
	for _, re := range yahooOK {
		if re.MatchString(r) {
			return false, nil
		}
	}
	if yahooBulk().MatchString(r) && yahooReplyTo().MatchString(from) {
		return false, nil
	}
	return true, nil
}

func (c *Context) relayHeaders() tokenizer.RelayHeaders {
	return cached(c, "relayhdrs", c.Msg.RelayHeaders)
}

var (
	junoFrom     = lazyRegexp(`(?i)\bjuno\.com$`)
	junoRcvd     = lazyRegexp(`from.*\b(?:juno|untd)\.com.*[\[\(]` + ipAddress + `[\]\)].*by`)
	junoCookie   = lazyRegexp(` cookie\.(?:juno|untd)\.com `)
	junoMailCom  = lazyRegexp(`from.*\bmail\.com.*\[` + ipAddress + `\].*by`)
	junoXMailCom = lazyRegexp(`\bmail\.com`)
	junoWebmail  = lazyRegexp(`from (webmail\S+\.untd\.com) \((webmail\S+\.untd\.com) \[` + ipAddress + `\]\) by`)
	junoWebmailV = lazyRegexp(`^Webmail Version \d`)
)

// checkForgedJuno (check_for_forged_juno_received_headers()): From is at
// juno.com but the headers are not Juno's.
func checkForgedJuno(c *Context, _ []string) (bool, error) {
	if !junoFrom().MatchString(c.addr("From")) {
		return false, nil
	}
	if gated, _ := gatedThroughReceivedHdrRemover(c, nil); gated {
		return false, nil
	}
	xorig, xmailer, r := c.get("X-Originating-IP"), c.get("X-Mailer"), c.get("Received")
	if xorig != "" {
		if !junoRcvd().MatchString(r) && !junoCookie().MatchString(r) {
			return true, nil
		}
		return !strings.Contains(xmailer, "Juno "), nil
	}
	switch {
	case junoMailCom().MatchString(r):
		if !junoXMailCom().MatchString(xmailer) {
			return true, nil
		}
	default:
		m := junoWebmail().FindStringSubmatch(r)
		if m == nil || m[1] != m[2] {
			return true, nil
		}
		if !junoWebmailV().MatchString(xmailer) {
			return true, nil
		}
	}
	return !reIPAddress().MatchString(xorig), nil
}

var (
	gmailFrom  = lazyRegexp(`(?i)\bgmail\.com$`)
	gmailXR1   = lazyRegexp(`by 10\.\S+ with SMTP id \S+`)
	gmailXR2   = lazyRegexp(`by 2002:a\d\d:\w+:\S+ with SMTP id \S+`)
	gmailESMTP = lazyRegexp(`by smtp\.googlemail\.com with ESMTPSA id \S+`)
)

// checkForgedGmail (check_for_forged_gmail_received_headers()): From is at
// gmail.com but the Google-added headers are missing.
func checkForgedGmail(c *Context, _ []string) (bool, error) {
	if !gmailFrom().MatchString(c.addr("From")) {
		return false, nil
	}
	xr := c.get("X-Received")
	if gmailXR1().MatchString(xr) || gmailXR2().MatchString(xr) || gmailESMTP().MatchString(c.get("Received")) {
		return false, nil
	}
	// get() values end in "\n", which counts toward the length.
	if len(c.get("X-Gm-Message-State")) >= 60 && len(c.get("X-Google-Smtp-Source")) >= 60 {
		return false, nil
	}
	return true, nil
}

var gw05 = lazyRegexp(`(?s)\nfrom\s(\S+)\sby\s(\S+)\swith\sESMTP;\s+\S\S\S,\s+\d+\s+\S\S\S\s+\d{4}\s+\d\d:\d\d:\d\d\s+[-+]*\d{4}\n$`)

// checkForgedGW05 (check_for_forged_gw05_received_headers()): a Received
// line in the style of the GW05 ratware (receiving host without a dot).
func checkForgedGW05(c *Context, _ []string) (bool, error) {
	m := gw05().FindStringSubmatch(c.get("Received"))
	return m != nil && !strings.Contains(m[2], "."), nil
}

// lazyRegexp returns a function that compiles expr on its first call:
// the package's hundred expressions are compiled when a rule needs them,
// not at the start of every gospamd process (about 10 ms each time,
// which a learn or an MDA call per message pays in full).
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
