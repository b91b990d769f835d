package eval

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// SpamAssassin's expression that findReceivedDate matches by hand.
var rcvdDateRegexp = regexp.MustCompile(`(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+)`)

func TestFindReceivedDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"from a by b; Mon, 19 Aug 2002 14:20:58 +0100 (BST)", " 19 Aug 2002 14:20:58 +0100"},
		{"by b; 5 Sep 2002 01:02:03 -0000", " 5 Sep 2002 01:02:03 -0000"},
		{"by b;\t(12 Sep 2002 08:50:00 GMT)", "\t(12 Sep 2002 08:50:00 GMT)"},
		{"by b; Mon, 19 Aug 2002 14:20:58", ""},
		{"no date here", ""},
	}
	for _, tt := range tests {
		if got := findReceivedDate(tt.in); got != tt.want || got != rcvdDateRegexp.FindString(tt.in) {
			t.Errorf("findReceivedDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFindReceivedDateMatchesRegexp compares it with the expression on
// random text made of the pieces of a date, white space, newlines,
// non-ASCII and broken UTF-8.
func TestFindReceivedDateMatchesRegexp(t *testing.T) {
	pieces := []string{" ", "  ", "\t", "\n", "\r", "1", "19", "2002", "Aug", "Aü", "ü", "\xff", ":", "14:20:58", "+0100",
		"x", ",", ";", "(", "Mon,", " 19 Aug 2002 14:20:58 +0100", "19 Aug 2002 ", "1:2:3 ", "AB"}
	rng := rand.New(rand.NewPCG(7, 8))
	found := 0
	const n = 200000
	for range n {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		got, want := findReceivedDate(s), rcvdDateRegexp.FindString(s)
		if got != want {
			t.Fatalf("findReceivedDate(%q) = %q, the expression finds %q", s, got, want)
		}
		if got != "" {
			found++
		}
	}
	if found < n/20 {
		t.Errorf("only %d of %d texts held a date: the comparison proves little", found, n)
	}
}
