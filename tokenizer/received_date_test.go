package tokenizer

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

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
