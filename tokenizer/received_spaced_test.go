package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// containsSpaced and containsGuard answer as strings.Contains for every
// needle the Received parser gives them, and mayHoldLocal6 as the three
// strings.Contains it stands for, on the corpus's Received fields and on
// strings put together from pieces of the needles.
func TestContainsSpacedAsContains(t *testing.T) {
	needles := []string{" by ", " by mx.google.com ", " (AUTH: ", " (authenticated as ", " (account ",
		" with Microsoft Exchange Server HTTP-DAV", " (via http", " SMTPSVC", " with mapi id", " (Postfix) with", " ", "  ", "@[", ") ["}
	var subjects []string
	raws, _ := testpeer.CorpusMessages(t)
	for _, raw := range raws {
		for _, f := range Parse(raw).Header {
			if strings.EqualFold(f.Name, "Received") {
				subjects = append(subjects, f.Value, " "+f.Value)
			}
		}
	}
	pieces := []string{" ", "  ", "by", "b", "y", "by ", "mx.google.com", "(", "AUTH:", "SMTPSVC", "with", "mapi", "id", "x", "", ":", "::", "0", "1", "0:", ":0", "10", "@", "[", ")"}
	rng := rand.New(rand.NewPCG(31, 32))
	for range 50000 {
		subjects = append(subjects, randomJoin(rng, pieces, 12))
	}
	for _, s := range subjects {
		for _, n := range needles {
			want := strings.Contains(s, n)
			if n[0] == ' ' {
				if got := containsSpaced(s, n); got != want {
					t.Errorf("containsSpaced(%q, %q) = %v, strings.Contains %v", s, n, got, want)
				}
			}
			if got := containsGuard(s, n); got != want {
				t.Errorf("containsGuard(%q, %q) = %v, strings.Contains %v", s, n, got, want)
			}
		}
		want := strings.Contains(s, "::") || strings.Contains(s, "0:0") || strings.Contains(s, "0:1")
		if got := mayHoldLocal6(s); got != want {
			t.Errorf("mayHoldLocal6(%q) = %v, want %v", s, got, want)
		}
	}
}

// mayBeQmail is true wherever rcvQmail (either form) matches: on the
// corpus's Received fields as parseFrom sees them, and on strings put
// together from the pieces of the pattern.
func TestMayBeQmailWhereQmailMatches(t *testing.T) {
	var subjects []string
	raws, _ := testpeer.CorpusMessages(t)
	for _, raw := range raws {
		for _, f := range Parse(raw).Header {
			if strings.EqualFold(f.Name, "Received") {
				v := strings.TrimPrefix(collapseASCIISpace(strings.TrimSpace(f.Value)), "from ")
				subjects = append(subjects, v, stripReceivedDate(v))
			}
		}
	}
	pieces := []string{"a", " ", " (", "(", ")", ") (", "HELO ", "EHLO ", "x@", "[", "]", "1.2.3.4", "::1", "IPv6:::1",
		" (envelope-sender <a@b>)", " by ", "b.c", " with ", "SMTP", "QMQP", " id", "\t", "\n", "; "}
	rng := rand.New(rand.NewPCG(61, 62))
	for range 100000 {
		subjects = append(subjects, "h"+randomJoin(rng, pieces, 14))
	}
	matched := 0
	for _, s := range subjects {
		if !rcvQmail.v4().MatchString(s) && !rcvQmail.all().MatchString(s) {
			continue
		}
		matched++
		if !mayBeQmail(s) {
			t.Errorf("rcvQmail matches %q, mayBeQmail says it cannot", s)
		}
	}
	if matched < 100 {
		t.Errorf("only %d subjects match rcvQmail", matched)
	}
	t.Logf("%d of %d subjects match rcvQmail", matched, len(subjects))
}

// containsFold answers as a search with strings.EqualFold over every
// len(sub) bytes of s, for the lower-case needles the Received parser
// gives it: on the corpus's Received fields, in upper case too, and on
// strings with bytes and characters that fold (K, the Kelvin sign, a
// long s), NUL and invalid UTF-8.
func TestContainsFoldAsEqualFold(t *testing.T) {
	byEqualFold := func(s, sub string) bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return true
			}
		}
		return false
	}
	subs := []string{" with ", " (via http", "return-path", "envelope-"}
	var subjects []string
	raws, _ := testpeer.CorpusMessages(t)
	for _, raw := range raws {
		for _, f := range Parse(raw).Header {
			if strings.EqualFold(f.Name, "Received") {
				subjects = append(subjects, f.Value, strings.ToUpper(f.Value))
			}
		}
	}
	pieces := []string{" ", "w", "W", "ith", "ITH", "with", " (", "via", "VIA", " http", "\x00", "\xff", "\u212a", "\u017f",
		"return", "-", "path", "PATH", "envelope", "Envelope", "x", "\x00with", "(via http"}
	rng := rand.New(rand.NewPCG(71, 72))
	for range 50000 {
		subjects = append(subjects, randomJoin(rng, pieces, 10))
	}
	for _, s := range subjects {
		for _, sub := range subs {
			if got, want := containsFold(s, sub), byEqualFold(s, sub); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", s, sub, got, want)
			}
		}
	}
}
