package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// findDMY, findHMS and findNumTZ give the match and submatches of the
// regexps they stand for (dateDMY, dateHMS, dateNumTZ) on ASCII text:
// the corpus's Received and Date fields as ParseDate sees them (before
// and after it cuts the date out), and strings put together from the
// pieces of dates.
func TestDateMatchersAsRegexps(t *testing.T) {
	var subjects []string
	raws, _ := testpeer.CorpusMessages(t)
	for _, raw := range raws {
		for _, f := range Parse(raw).Header {
			switch strings.ToLower(f.Name) {
			case "received", "date", "resent-date":
				s := collapseDateSpace(" " + rdUnfold(f.Raw) + " ")
				subjects = append(subjects, s)
				if loc := dateDMY.FindStringSubmatchIndex(s); loc != nil {
					subjects = append(subjects, s[:loc[0]]+" "+s[loc[1]:])
				}
			}
		}
	}
	pieces := []string{" ", "  ", "1", "12", "123", "2002", "02", "Aug", "aug", "AUG", "Sep", "sEp", "Mai", "Au", "augu",
		":", "::", "00", "59", "7", "+", "-", "+0700", "-0000", "+070", "-12345", "Thu,", "x", "\t", "(", ")", "GMT"}
	rng := rand.New(rand.NewPCG(51, 52))
	for range 100000 {
		subjects = append(subjects, " "+randomJoin(rng, pieces, 12))
	}
	idx := func(m [8]int, ok bool) []int {
		if !ok {
			return nil
		}
		return m[:]
	}
	for _, s := range subjects {
		if !isASCII(s) {
			continue
		}
		if got, want := idx(findDMY(s)), dateDMY.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
			t.Errorf("findDMY(%q) = %v, dateDMY %v", s, got, want)
		}
		if got, want := idx(findHMS(s)), dateHMS.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
			t.Errorf("findHMS(%q) = %v, dateHMS %v", s, got, want)
		}
		m, ok := findNumTZ(s)
		var got []string
		if ok {
			got = m[:]
		}
		if want := dateNumTZ.FindStringSubmatch(s); !slices.Equal(got, want) {
			t.Errorf("findNumTZ(%q) = %q, dateNumTZ %q", s, got, want)
		}
	}
}

// ParseDate reads a date with a long s in its month as the regexp does
// (the hand-written matchers take ASCII only).
func TestParseDateLongS(t *testing.T) {
	got, ok := ParseDate("Thu, 5 \u017Fep 2002 10:00:00 +0000")
	want, wantOK := ParseDate("Thu, 5 Jan 2002 10:00:00 +0000") // an unknown month reads as January
	if ok != wantOK || !got.Equal(want) {
		t.Errorf("ParseDate with \u017Fep = %v %v, want %v %v", got, ok, want, wantOK)
	}
}
