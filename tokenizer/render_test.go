package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// collapseBodySpaceReference is collapseBodySpace as it was before it
// copied single spaces with the plain runs: the reference for
// TestCollapseBodySpaceMatchesReference.
func collapseBodySpaceReference(text string, wide bool) string {
	isSpace := func(s string) (bool, int) {
		if !wide || s[0] < 0x80 {
			return isPerlSpace(s[0]), 1
		}
		r, size := utf8.DecodeRuneInString(s)
		return isPerlUnicodeSpace(r), size
	}
	var sb strings.Builder
	sb.Grow(len(text))
	for i := 0; i < len(text); {
		// Copy a run of plain ASCII bytes at once.
		j := i
		for j < len(text) {
			c := text[j]
			if c >= 0x80 || c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
				break
			}
			j++
		}
		if j > i {
			sb.WriteString(text[i:j])
			i = j
			continue
		}
		sp, size := isSpace(text[i:])
		if !sp {
			if text[i] == 0 {
				// tr/\0/\n/ also turns NULs of the text into newlines.
				sb.WriteByte('\n')
				i++
				continue
			}
			sb.WriteString(text[i : i+size])
			i += size
			continue
		}
		// A whitespace run [i, j): newlines first..last at f..l.
		j = i
		f, l, nl := -1, -1, 0
		for j < len(text) {
			sp2, s2 := isSpace(text[j:])
			if !sp2 {
				break
			}
			if text[j] == '\n' {
				if f < 0 {
					f = j
				}
				l = j
				nl++
			}
			j += s2
		}
		if nl >= 2 {
			if f > i {
				sb.WriteByte(' ')
			}
			sb.WriteByte('\n')
			if l+1 < j {
				sb.WriteByte(' ')
			}
		} else {
			sb.WriteByte(' ')
		}
		i = j
	}
	return sb.String()
}

// TestCollapseBodySpaceMatchesReference checks collapseBodySpace against
// the reference on random texts of spaces, newlines, NULs, words and
// Unicode spaces, narrow and wide.
func TestCollapseBodySpaceMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{" ", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\v", "\f", "\x00", "a", "word", ".", "é",
		"\u00a0", "\u2003", "\xa0", "\x85", "\u0085", "x y", " z "}
	for range 50000 {
		var b []byte
		for k := rng.IntN(12); k >= 0; k-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		for _, wide := range []bool{false, true} {
			want := collapseBodySpaceReference(string(b), wide)
			if got := collapseBodySpace(string(b), wide); got != want {
				t.Fatalf("collapseBodySpace(%q, %v) = %q, want %q", b, wide, got, want)
			}
		}
	}
}
