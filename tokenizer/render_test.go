package tokenizer

import (
	"math/rand/v2"
	"slices"
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

// splitShortLinesReference is splitShortLines as it was before it split
// the prefix and the text apart: the reference for
// TestSplitShortLinesMatchesReference.
func splitShortLinesReference(prefix, text string) []string {
	all := prefix + text
	if all == "" {
		return nil
	}
	out := make([]string, 0, strings.Count(all, "\n")+1)
	for all != "" {
		k := strings.IndexByte(all, '\n')
		var line string
		if k < 0 {
			line, all = all, ""
		} else {
			line, all = all[:k+1], all[k+1:]
		}
		for len(line) > maxBodyLineLength {
			cut := strings.LastIndexByte(line[:maxBodyLineLength+1], ' ') + 1
			if cut == 0 {
				cut = maxBodyLineLength
			}
			out = append(out, line[:cut])
			line = line[cut:]
		}
		out = append(out, line)
	}
	return out
}

// TestSplitShortLinesMatchesReference checks splitShortLines against the
// reference on random prefixes and texts with newlines, spaces and lines
// longer than maxBodyLineLength.
func TestSplitShortLinesMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	pieces := []string{"", "\n", " ", "word", "Subject line\n", strings.Repeat("x", maxBodyLineLength-3),
		strings.Repeat("ab ", maxBodyLineLength/2)}
	for range 20000 {
		var p, x strings.Builder
		for k := rng.IntN(3); k > 0; k-- {
			p.WriteString(pieces[rng.IntN(len(pieces))])
		}
		for k := rng.IntN(5); k > 0; k-- {
			x.WriteString(pieces[rng.IntN(len(pieces))])
		}
		got, want := splitShortLines(p.String(), x.String()), splitShortLinesReference(p.String(), x.String())
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("splitShortLines(%q, %q) = %q, want %q", p.String(), x.String(), got, want)
		}
	}
}
