package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/ascii"
	"github.com/gospamd/gospamd/internal/testpeer"
)

// rcvDate is Received.pm's date pattern, which receivedDateStart reads
// by hand.
var rcvDate = regexp.MustCompile(`[\s;]+(?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\d+ (?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \d+ \d+:\d+(?::\d+)? \S+$`)

// stripByRegexp is stripReceivedDate as the pattern does it.
func stripByRegexp(s string) string {
	off := max(len(s)-receivedDateTail, 0)
	loc := rcvDate.FindStringIndex(s[off:])
	if loc == nil {
		return s
	}
	return s[:off+loc[0]]
}

// The hand-read date is removed exactly where the pattern would remove
// it: every Received header of the corpus, each cut short at every
// length, and generated tails of date-like pieces.
func TestStripReceivedDateAsRegexp(t *testing.T) {
	subjects := []string{
		"", ";", " 5 Jan 2020 10:00 +0000", "from a by b; Mon, 5 Jan 2020 10:00:00 +0000",
		"from a by b; Mon, 5 Jan 2020 10:00:00 +0000 (GMT)", "by b;Tue, 05 Feb 1999 1:2:3 X",
		"x ;; \t 7 Mar 2001 00:00 -0500", "x Sun, 7 Mar 2001 00:00 -0500", "x,Sun, 7 Mar 2001 00:00 -0500",
		"x; Sun,  7 Mar 2001 00:00 -0500", "x; 7 mar 2001 00:00 -0500", "x; 7 Mar 2001 00:00: -0500",
		"x; 7 Mar 2001 0:0:0:0 -0500", "x; 7 Mar 20a1 00:00 -0500", "x;7 Mar 2001 00:00 \xff\xfe",
		strings.Repeat("a ", 80) + "; Wed, 1 Jan 2020 10:00:00 +0100",
		strings.Repeat("a", 100) + "; Wed, 1 Jan 2020 10:00:00 +0100",
		strings.Repeat("a", 103) + "; Wed, 1 Jan 2020 10:00:00 +0100",
	}
	for _, raw := range corpusSample(t) {
		m := Parse(raw)
		for _, f := range m.Header {
			if strings.EqualFold(f.Name, "Received") {
				v := collapseASCIISpace(f.Value)
				subjects = append(subjects, v, strings.TrimSpace(v))
			}
		}
	}
	pieces := []string{" ", ";", "\t", ",", ":", "Mon", "Sun", "Jan", "Dec", "May", "1", "12", "2020", "10:00", "1:2:3", "+0000", "(GMT)", "x", "é"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b strings.Builder
		for range 3 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		subjects = append(subjects, b.String())
	}
	n := len(subjects)
	for _, s := range subjects[:min(n, 3000)] {
		for i := len(s) - 40; i < len(s); i++ {
			if i > 0 {
				subjects = append(subjects, s[:i])
			}
		}
	}
	bad := 0
	for _, s := range subjects {
		if got, want := stripReceivedDate(s), stripByRegexp(s); got != want {
			t.Errorf("%q: stripped to %q, the pattern to %q", s, got, want)
			if bad++; bad > 20 {
				t.Fatal("too many")
			}
		}
	}
	t.Logf("%d subjects", len(subjects))
}

// corpusSample is every tenth message of the shared corpus.
func corpusSample(t *testing.T) [][]byte {
	raws, _ := testpeer.CorpusMessages(t)
	var out [][]byte
	for i := 0; i < len(raws); i += 10 {
		out = append(out, raws[i])
	}
	return out
}

// The shape pre-checks of parseFrom change no relay: every Received
// header of every other corpus message (and variants with their first blanks and
// brackets moved) parses the same with them and without.
func TestReceivedShapesChangeNothing(t *testing.T) {
	raws, _ := testpeer.CorpusMessages(t)
	var lines []string
	for i := 0; i < len(raws); i += 2 {
		for _, f := range Parse(raws[i]).Header {
			if strings.EqualFold(f.Name, "Received") {
				lines = append(lines, f.Value)
			}
		}
	}
	n := len(lines)
	for _, l := range lines[:n] {
		lines = append(lines,
			strings.Replace(l, " (", "(", 1), strings.Replace(l, "(", "([", 1), strings.Replace(l, " [", "[", 1),
			strings.Replace(l, "(", "(HELO ", 1), strings.Replace(l, "from ", "from [", 1), strings.Replace(l, "from ", "from (", 1))
	}
	bad := 0
	for _, l := range lines {
		fast, resFast, _ := parseReceivedWith(l, &rcvState{})
		slow, resSlow, _ := parseReceivedWith(l, &rcvState{noShapes: true})
		if fast != slow || resFast != resSlow {
			t.Errorf("%q:\n with shapes    %d %+v\n without shapes %d %+v", l, resFast, fast, resSlow, slow)
			if bad++; bad > 10 {
				t.Fatal("too many")
			}
		}
	}
	t.Logf("%d headers", len(lines))
}

// The IPv4-only forms of the patterns, used for a header that cannot hold
// an IPv6 address, change no relay: every Received header of every other
// corpus message, and variants with an IPv6 address or localhost in place
// of its first IPv4 address, parse the same as with the full patterns.
func TestReceivedIPv4FormsChangeNothing(t *testing.T) {
	raws, _ := testpeer.CorpusMessages(t)
	var lines []string
	for i := 0; i < len(raws); i += 2 {
		for _, f := range Parse(raws[i]).Header {
			if strings.EqualFold(f.Name, "Received") {
				lines = append(lines, f.Value)
			}
		}
	}
	ipv4 := regexp.MustCompile(reIPv4)
	n := len(lines)
	for _, l := range lines[:n] {
		if loc := ipv4.FindStringIndex(l); loc != nil {
			for _, ip := range []string{"2001:db8::1", "IPv6:2001:db8:0:1:2:3:4:5", "::ffff:" + l[loc[0]:loc[1]], "::1", "0:0:0:0:0:0:0:1", "fe80::a:b", "1:2:3:4:5:6:7:8", "0:0:0:0:0:ffff:" + l[loc[0]:loc[1]], "[0:1]"} {
				lines = append(lines, l[:loc[0]]+ip+l[loc[1]:])
			}
		}
	}
	v4 := 0
	bad := 0
	for _, l := range lines {
		st := &rcvState{}
		fast, resFast, _ := parseReceivedWith(l, st)
		if st.v4IP {
			v4++
		}
		slow, resSlow, _ := parseReceivedWith(l, &rcvState{noV4: true})
		if fast != slow || resFast != resSlow {
			t.Errorf("%q:\n IPv4 forms %d %+v\n full forms %d %+v", l, resFast, fast, resSlow, slow)
			if bad++; bad > 10 {
				t.Fatal("too many")
			}
		}
	}
	t.Logf("%d headers, %d parsed with the IPv4 forms", len(lines), v4)
}

func TestMayHoldIPv6(t *testing.T) {
	for _, tc := range []struct {
		s           string
		ip6, local6 bool
	}{
		{"from a.example (a.example [192.0.2.1]) by b.example", false, false},
		{"from a (b [2001:db8::1]) by c", true, true},
		{"from a (b [IPv6:2001:db8:0:1:2:3:4:5]) by c", true, true},
		{"from a (b [1:2:3:4:5:6:7:8]) by c", true, false},
		{"from a (b [0:0:0:0:0:0:0:1]) by c", true, true},
		{"from a (b [0:0:0:0:0:ffff:192.0.2.1]) by c", true, true},
		{"from a (b [12345:2:3:4:5:ffff:192.0.2.1]) by c", true, false},
		{"from a (b [1:2:3:4:5]) by c", false, false},
		{"from a (b [1:2:3:45678:5:6:7:8]) by c", false, false},
		{"from localhost (::1) by c", true, true},
		{"from a (b [::]) by c", true, true},
		{"from a by c with ESMTP id 1; Thu, 26 Sep 2002 11:31:15 +0100 (IST)", false, false},
		{"from a by c with ESMTP id 1; Thu, 26 Sep 2002 10:01:05 +0100 (IST)", false, true},
		{":", false, false},
	} {
		if got := mayHoldIPv6(tc.s); got != tc.ip6 {
			t.Errorf("mayHoldIPv6(%q) = %v, want %v", tc.s, got, tc.ip6)
		}
		if got := mayHoldLocal6(tc.s); got != tc.local6 {
			t.Errorf("mayHoldLocal6(%q) = %v, want %v", tc.s, got, tc.local6)
		}
	}
}

// The hand-written matchers of parse do what Received.pm's patterns do
// (as Go regexps) on every Received header of the corpus and on variants
// that move their blanks, cases and brackets around.
func TestReceivedHandMatchersAsRegexps(t *testing.T) {
	var (
		fromBy    = regexp.MustCompile(`(?i)^from (\S+) by [^\s;]+ ?;`)
		bracketIP = regexp.MustCompile(`^\[[\d.]+\]$`)
		strip     = regexp.MustCompile(`[\s\x00#\[\]()<>|]`)
		anyIP     = regexp.MustCompile(reIP)
		id        = regexp.MustCompile(` id <?([^\s<>;]{3,})`)
		by        = regexp.MustCompile(` by (\S+)(?:[^-A-Za-z0-9;.]|$)`)
		auth      = regexp.MustCompile(`(?i) with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$)`)
	)
	raws, _ := testpeer.CorpusMessages(t)
	subjects := []string{"", "from", "from ", "from a by b;", "FROM a BY b ;", "From a\tby b;", "from a by b c;",
		"from a by ;", "from  a by b;", "from a by b;x", "from a by b  ;", "fRoM [1.2.3.4] bY x.y;", "from [1.2.3.4 by x;",
		"from a (b) by c;", "(from a by b;", "from a by b\x00;", "from \xff by \xfe;", "x from a by b;",
		"[]", "[1]", "[.]", "[1.2.3.4]", "[1.2.3.4]x", "[a]", "1.2.3.4", "[1.2.3.4",
		"a\x00b#c[d]e(f)g<h>i|j k\tl\nm\rn\fo\vp", "ip=::1 or 2001:db8::5", "1.2.3.4.5", "IPv6:::1 and 10.0.0.1",
		" id ", " id ab", " id abc", " id <ab", " id <abc>", " id <<abc", " id ab; id xyz", " id  abc", " id \vabc", " id id abc",
		" by ", " by  x", " by x", " by x\ty", " by \vx", " by x.", " by  by y", "a by b", " by x;y z", " by \xffz",
		" with ESMTPA", " with esmtpsa;", " WITH LMTPA x", " with UTF8SMTPSA", " with utf8lmtpa", " with ESMTPS", " with ESMTPSAX",
		" with ESMTPAA with LMTPA", " with ASMTP", " with HTTP", " with https;", " with HTTPU ", " with HTTPX", " with HTTPSX with http",
		" with  ESMTPA", "with ESMTPA", " with esmtpa\t", " with SMTP", " with ESMTPSA;"}
	for i := 0; i < len(raws); i += 3 {
		for _, f := range Parse(raws[i]).Header {
			if strings.EqualFold(f.Name, "Received") {
				v := f.Value
				subjects = append(subjects, v, collapseASCIISpace(v), strings.ToUpper(v))
				if k := strings.Index(v, " by "); k > 0 {
					if e := strings.IndexByte(v[k+4:], ' '); e > 0 {
						subjects = append(subjects, v[:k+4+e]+";", v[:k+4+e]+" ;")
					}
				}
			}
		}
	}
	for _, s := range subjects {
		m := fromBy.FindStringSubmatch(s)
		got, ok := fromByOnly(s)
		if ok != (m != nil) || ok && got != m[1] {
			t.Errorf("fromByOnly(%q) = %q, %v; the pattern gives %q", s, got, ok, m)
		}
		for _, c := range []struct {
			name string
			re   *regexp.Regexp
			f    func(string) (string, bool)
		}{{"receivedID", id, receivedID}, {"receivedBy", by, receivedBy}, {"authWith", auth, authWith}} {
			if c.name == "authWith" && !isASCII(s) {
				continue
			}
			m := c.re.FindStringSubmatch(s)
			got, ok := c.f(s)
			if ok != (m != nil) || ok && got != m[1] {
				t.Errorf("%s(%q) = %q, %v; the pattern gives %q", c.name, s, got, ok, m)
			}
		}
		if got, want := isBracketIP(s), bracketIP.MatchString(s); got != want {
			t.Errorf("isBracketIP(%q) = %v, want %v", s, got, want)
		}
		if got, want := stripRelayChars(s), strip.ReplaceAllString(s, "!"); got != want {
			t.Errorf("stripRelayChars(%q) = %q, want %q", s, got, want)
		}
		if got, want := firstIP(s), anyIP.FindString(s); got != want {
			t.Errorf("firstIP(%q) = %q, want %q", s, got, want)
		}
		for _, p := range []string{"from ", "(from "} {
			if got, want := ascii.HasPrefixFold(s, p), strings.HasPrefix(strings.ToLower(s), p); got != want {
				t.Errorf("ascii.HasPrefixFold(%q, %q) = %v, want %v", s, p, got, want)
			}
		}
	}
	t.Logf("%d subjects", len(subjects))
}

// The hand-written forms of the IPv4 Received patterns give what the
// regexps give (FindStringSubmatch) on every Received header of the
// corpus as parseFrom sees it, on variants with other addresses, blanks,
// line breaks and repeated parts, and on strings put together from their
// pieces.
func TestReceivedIPv4HandMatchersAsRegexps(t *testing.T) {
	raws, _ := testpeer.CorpusMessages(t)
	subjects := []string{"", "a (b [1.2.3.4]) by c (", "a (b [1.2.3.4]) by c ", "a (b [1.2.3.4]) by c",
		"a (b [1.2.3.4] x) by c (d) by e (", "a (b [1.2.3.4]\n) by c (", "a (b [1.2.3.4]) by c\t(",
		"a (b [1.2.3.4]) by  c (", "a (b [1.2.3.4]) by c (\n", "a\t(b [1.2.3.4]) by c (", "a (b\t[1.2.3.4]) by c (",
		"a (b [1.2.3.4]]) by c (", "a (b [1.2.3.4] ]) by c (", "(b [1.2.3.4]) by c (", "a ( [1.2.3.4]) by c (",
		"a (b [1.2.3.4]) by c (\xff", "\xff (\xfe [1.2.3.4]) by \xfd (", "a (b [1.2.3.4]) by c\x0b (",
		"a (b [1.2.3.4] x) by c d) by e (", "a (b [1.2.3.4] x) by c ( y) by ( (", "a (b [1.2.3.4]) by c\r (",
		"a (b [1.2.3.4]) x by -. by c.", "a (b [1.2.3.4]) by -- by é by x", "a (b [1.2.3.4])\n by c", "a (b [1.2.3.4]) by",
		"a (b [1.2.3.4])by c by d", "a (b [1.2.3.4]) by a.b-\xff", "a (b [1.2.3.4]) by x\vy z",
	}
	ips := []string{"0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.04",
		"249.250.199.100", "1.2.3.4x", "1..2.3", "9.99.199.255", "300.2.3.4", "1.2.3.", ".1.2.3", "12345.1.1.1", "٣.1.1.1"}
	ipv4 := regexp.MustCompile(reIPv4)
	for i := 0; i < len(raws); i++ {
		for _, f := range Parse(raws[i]).Header {
			if !strings.EqualFold(f.Name, "Received") {
				continue
			}
			v := collapseASCIISpace(f.Value)
			v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "from "))
			s := strings.Replace(stripReceivedDate(v), ")by ", ") by ", 1)
			subjects = append(subjects, s, f.Value, strings.Replace(s, ") by ", ")\n by ", 1), s+") by x (")
			if i%7 == 0 {
				if loc := ipv4.FindStringIndex(s); loc != nil {
					for _, ip := range ips {
						subjects = append(subjects, s[:loc[0]]+ip+s[loc[1]:])
					}
				}
			}
		}
	}
	pieces := []string{"a", "b.c", " ", " (", "(", ")", " [", "[", "]", "1.2.3.4", "255.0.10.1", "256.1.1.1", ") by ", " by ", "\n", "\t", "x", "(y)",
		"]) by ", "by", "-", ".", "_", "\xc3\xa9", "\xff", ";", "\v"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		var b strings.Builder
		b.WriteString("h (r [")
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		subjects = append(subjects, b.String())
	}
	bad := 0
	for _, c := range []struct {
		name string
		re   *rcvRe
		hand func(string) []string
	}{{"rcvGeneric1", rcvGeneric1, matchGeneric1}, {"rcvPostfix1", rcvPostfix1, matchPostfix1},
		{"rcvSendmail2", rcvSendmail2, matchSendmail2}} {
		hits := 0
		for _, s := range subjects {
			want, got := c.re.v4().FindStringSubmatch(s), c.hand(s)
			if want != nil {
				hits++
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s(%q) = %q, the regexp gives %q", c.name, s, got, want)
				if bad++; bad > 20 {
					t.Fatal("too many")
				}
			}
		}
		t.Logf("%s: %d subjects, %d matched", c.name, len(subjects), hits)
	}
}

// isPrivateIP answers as rcvIPPrivate does for every relay address of the
// corpus, every dotted address with private, neighbouring and malformed
// leading numbers, and IPv6 forms.
func TestIsPrivateIPAsRegexp(t *testing.T) {
	raws, _ := testpeer.CorpusMessages(t)
	subjects := []string{"", ".", "10", "10.", "10.1", "010.1.2.3", "10.1.2.3\n", "10\n.1", "127.0.0.1", "::1", "fe80::1",
		"0:0:0:0:0:ffff:10.0.0.1", "::ffff:192.168.1.1", "1.2.3.4", "100.64", "172.16", "192.168", "169.254", "FE80::1"}
	for _, raw := range raws {
		for _, r := range Parse(raw).Relays {
			subjects = append(subjects, r.IP)
		}
	}
	for _, first := range []string{"10", "100", "127", "169", "172", "192", "1", "11", "0"} {
		for second := 0; second < 300; second++ {
			for _, s := range []string{fmt.Sprint(second), fmt.Sprintf("%02d", second), fmt.Sprintf("%03d", second)} {
				subjects = append(subjects, first+"."+s+".1.2", first+"."+s, first+"."+s+".", first+"."+s+"x.1", first+"."+s+"\n.1")
			}
		}
	}
	bad := 0
	for _, s := range subjects {
		if got, want := isPrivateIP(s), rcvIPPrivate.MatchString(s); got != want {
			t.Errorf("isPrivateIP(%q) = %v, the regexp says %v", s, got, want)
			if bad++; bad > 20 {
				t.Fatal("too many")
			}
		}
	}
	t.Logf("%d subjects", len(subjects))
}
