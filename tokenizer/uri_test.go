package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// textURIsReference is textURIs as it was before it skipped the word
// runs no URI can start in: the reference for
// TestTextURIsMatchesReference.
func textURIsReference(lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range lines {
		hasAt := strings.IndexByte(s, '@') >= 0
		for p := 0; p < len(s); {
			// Without an '@' on the line only a URI starting with a
			// letter or digit can match here (matchTextURIAt).
			if !hasAt && !isAlnum(s[p]) || !uriStartOK(s, p) {
				p++
				continue
			}
			m, end, ok := matchTextURIAt(s, p, hasAt)
			if !ok {
				p++
				continue
			}
			p = end
			if u, ok := cleanTextURI(m, seen); ok {
				out = append(out, u)
			}
		}
	}
	return out
}

// TestTextURIsMatchesReference checks textURIs against the reference on
// random lines of words, host names, schemes, addresses and delimiters.
func TestTextURIsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := []string{" ", " ", "word", "foo-bar", "_x", ".", ":", "/", "com", "example.com", "www.", "www1.",
		"ftp.", "http://", "HTTPS://", "ftp://", "mailto:", "@", "user", "(", ")", "<", ">", "\"", "'", ",",
		"\x1b(", "\n", "é", "\xa0", "1.2.3.4", ":8080", "/path?q=1", "co.uk", "-", "a.b", "org", "x"}
	found := 0
	for range 30000 {
		var b strings.Builder
		for k := rng.IntN(14); k >= 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		lines := []string{b.String()}
		if got, want := textURIs(lines), textURIsReference(lines); !slices.Equal(got, want) {
			t.Fatalf("textURIs(%q) = %q, want %q", lines[0], got, want)
		} else if len(got) > 0 {
			found++
		}
	}
	if found < 3000 {
		t.Errorf("only %d of the random lines held a URI: the test is too weak", found)
	}
}
