package tokenizer

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Mail dates are parsed leniently, the way SpamAssassin's
// parse_rfc822_date reads them: the day-month-year part is searched for
// anywhere in the text (RFC 5322 "1 Jun 2024" or asctime "Jun  1 12:00:00
// 2024", whose time of day is consumed with it and so lost, as in
// SpamAssassin), then hh:mm[:ss], then a numeric or named zone;
// out-of-range fields are pulled into range instead of failing.

var (
	dateDMY      = regexp.MustCompile(`(?i) (\d+) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{4}) `)
	dateAsctime  = regexp.MustCompile(`(?i) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) +(\d+) \d+:\d+:\d+ (\d{4}) `)
	dateDMYShort = regexp.MustCompile(`(?i) (\d+) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{2,3}) `)
	dateHMS      = regexp.MustCompile(` (\d?\d):(\d\d)(?::(\d\d))? `)
	dateNumTZ    = regexp.MustCompile(` ([-+])(\d\d)(\d\d) `)
	dateNameTZ   = regexp.MustCompile(`\b([A-Z]{2,4}(?:-DST)?)\b`)
)

// collapseDateSpace is s/, */ /g then s/\s+/ /g (Go's \s: no \v), by
// hand: ParseDate runs on a Received header of every message learned.
// Together the two make every run of commas and white space one space.
func collapseDateSpace(s string) string {
	var b []byte // nil while s needs no change
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ',' && !isGoSpace(c) {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ',' || isGoSpace(s[j])) {
			j++
		}
		if b == nil && (c != ' ' || j > i+1) {
			b = append(make([]byte, 0, len(s)), s[:i]...)
		}
		if b != nil {
			b = append(b, ' ')
		}
		i = j - 1
	}
	if b == nil {
		return s
	}
	return string(b)
}

// rdZoneOffsets are the named zones mail software commonly writes, in
// minutes east of UTC. Unknown names count as UTC.
var rdZoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
	"NDT": -150, "AST": -240, "ADT": -180, "NST": -210,
	"EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
	"MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
	"HST": -600, "AKST": -540, "AKDT": -480, "HADT": -540, "HAST": -600,
	"BST": 60, "IST": 60, "WEST": 60, "CET": 60, "CEST": 120,
	"MET": 60, "MEST": 120, "MESZ": 120, "MEZ": 60,
	"EET": 120, "EEST": 180, "MSK": 180, "MSD": 240,
	"JST": 540, "KST": 540, "HKT": 480, "SGT": 480,
	"AEST": 600, "AEDT": 660, "ACST": 570, "AWST": 480, "NZST": 720, "NZDT": 780,
}

var rdMonths = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}

// ParseDate finds a mail date in s. It reports false when no day, month
// and year can be found.
func ParseDate(s string) (time.Time, bool) {
	s = collapseDateSpace(" " + s + " ")

	var day, year int
	var mon time.Month
	ascii := isASCII(s) // the hand-written matchers apply
	// Each expression runs once: its submatches say whether it matched.
	if m, ok := matchDMY(s, ascii); ok {
		day, _ = strconv.Atoi(s[m[2]:m[3]])
		mon = rdMonths[strings.ToLower(s[m[4]:m[5]])]
		year, _ = strconv.Atoi(s[m[6]:m[7]])
		s = s[:m[0]] + " " + s[m[1]:]
	} else if m := dateAsctime.FindStringSubmatchIndex(s); m != nil {
		mon = rdMonths[strings.ToLower(s[m[2]:m[3]])]
		day, _ = strconv.Atoi(s[m[4]:m[5]])
		year, _ = strconv.Atoi(s[m[6]:m[7]])
		// The time of day goes with the match, as in SpamAssassin: an
		// asctime date reads as midnight unless another time follows.
		s = s[:m[0]] + " " + s[m[1]:]
	} else if m := dateDMYShort.FindStringSubmatchIndex(s); m != nil {
		day, _ = strconv.Atoi(s[m[2]:m[3]])
		mon = rdMonths[strings.ToLower(s[m[4]:m[5]])]
		ys := s[m[6]:m[7]]
		year, _ = strconv.Atoi(ys)
		if len(ys) == 2 && year < 50 {
			year += 2000
		} else {
			year += 1900
		}
		s = s[:m[0]] + " " + s[m[1]:]
	} else {
		return time.Time{}, false
	}

	var hh, mm, ss int
	if m, ok := matchHMS(s, ascii); ok {
		hh, _ = strconv.Atoi(s[m[2]:m[3]])
		mm, _ = strconv.Atoi(s[m[4]:m[5]])
		if m[6] >= 0 {
			ss, _ = strconv.Atoi(s[m[6]:m[7]])
		}
		s = s[:m[0]] + " " + s[m[1]:]
	}
	offset := 0 // minutes east of UTC
	if m, ok := matchNumTZ(s, ascii); ok {
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		offset = h*60 + mi
		if m[1] == "-" {
			offset = -offset
		}
	} else if m := dateNameTZ.FindStringSubmatch(s); m != nil {
		offset = rdZoneOffsets[strings.TrimSuffix(m[1], "-DST")]
		if strings.HasSuffix(m[1], "-DST") {
			offset += 60
		}
	}

	ss = min(ss, 59)
	mm = min(mm, 59)
	hh = min(hh, 23)
	if mon == 0 {
		mon = 1
	}
	if day > rdDaysIn(mon, year) {
		day = 1
		mon++
		if mon > 12 {
			mon = 1
			year++
		}
	}
	year = max(min(year, 2037), 1970)
	t := time.Date(year, mon, day, hh, mm, ss, 0, time.UTC).Add(-time.Duration(offset) * time.Minute)
	if t.Unix() < 0 {
		t = time.Unix(0, 0).UTC()
	}
	return t, true
}

func rdDaysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ReceiveTime is when the message was received, as SpamAssassin's Bayes
// records it in token access times: the date of the newest Received header
// that is not a local hand-off (qmail "invoked by uid", from localhost, a
// fetchmail pick-up), else the mbox From line, else any Received date,
// else Resent-Date, else Date, else now. A date more than a day after now
// is replaced by now.
func (m *Message) ReceiveTime(now time.Time) time.Time {
	t, ok := m.receiveTime()
	if !ok || t.After(now.Add(24*time.Hour)) {
		return now
	}
	return t
}

var (
	qmailInvoked  = regexp.MustCompile(`qmail \d+ invoked by uid \d+`)
	fromLocalhost = regexp.MustCompile(`\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b)`)
	byFetchmail   = regexp.MustCompile(`\bby localhost with \w+ \(fetchmail-[\d.]+`)
	rdHasZone     = regexp.MustCompile(`(?:[-+]\d{4}|\b[A-Z]{2,4}\b)`)
)

// mayBeLocalHandOff reports whether s holds the literal text qmailInvoked
// or fromLocalhost need to match ("qmail ", or "from " and "localhost" or
// "127.0.0.1"): most Received fields hold neither, and the expressions
// cost more than the look.
func mayBeLocalHandOff(s string) bool {
	return strings.Contains(s, "qmail ") ||
		strings.Contains(s, "from ") && (strings.Contains(s, "localhost") || strings.Contains(s, "127.0.0.1"))
}

func (m *Message) receiveTime() (time.Time, bool) {
	var rcvd []string
	for _, f := range m.Header {
		if strings.EqualFold(f.Name, "Received") {
			rcvd = append(rcvd, f.Raw) // unfolded where read (rdUnfold)
		}
	}
	var local []string
	// The newest field unfolded, which the checks below and the date
	// usually read: unfolded once.
	var raw, unfolded string
	unfold := func(s string) string {
		if s != raw {
			raw, unfolded = s, rdUnfold(s)
		}
		return unfolded
	}
	if len(rcvd) > 0 {
		if first := unfold(rcvd[0]); mayBeLocalHandOff(first) && (qmailInvoked.MatchString(first) || fromLocalhost.MatchString(first)) {
			local = append(local, rcvd[0])
			rcvd = rcvd[1:]
		}
		if len(rcvd) > 0 && strings.Contains(rcvd[0], "(fetchmail-") && byFetchmail.MatchString(unfold(rcvd[0])) {
			local = append(local, rcvd[0])
			rcvd = rcvd[1:]
		} else if len(local) > 0 {
			rcvd = append([]string{local[0]}, rcvd...)
			local = local[1:]
		}
	}
	if len(rcvd) > 0 {
		if t, ok := ParseDate(unfold(rcvd[0])); ok {
			return t, true
		}
		rcvd = rcvd[1:]
	}
	if t, ok := rdFirstDate(local); ok {
		return t, true
	}
	if from, ok := strings.CutPrefix(m.MboxFrom, "From "); ok {
		if !rdHasZone.MatchString(from) {
			from += " +0000"
		}
		if t, ok := ParseDate(from); ok {
			return t, true
		}
	}
	if t, ok := rdFirstDate(rcvd); ok {
		return t, true
	}
	for _, name := range []string{"Resent-Date", "Date"} {
		if v := m.Header.Get(name); v != "" {
			if t, ok := ParseDate(v); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func rdFirstDate(ss []string) (time.Time, bool) {
	for _, s := range ss {
		if t, ok := ParseDate(rdUnfold(s)); ok && t.Unix() != 0 {
			return t, true
		}
	}
	return time.Time{}, false
}

func rdUnfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			for i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\t') {
				i++
			}
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
