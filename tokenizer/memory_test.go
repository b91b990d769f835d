package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/peakmem"
)

// hugeMessages are the malformed or huge messages whose parse and
// tokenization must stay within memoryBound.
func hugeMessages() []struct{ name, raw string } {
	var many strings.Builder
	many.WriteString("From: a@example.com\r\nSubject: many headers\r\n")
	for i := range 100_000 {
		fmt.Fprintf(&many, "X-Filler-%d: value %d of a header line repeated\r\n", i, i)
	}
	many.WriteString("\r\nbody\r\n")

	var nested strings.Builder
	nested.WriteString("From: a@example.com\r\nSubject: nested\r\n")
	for i := range 5000 {
		fmt.Fprintf(&nested, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	nested.WriteString("Content-Type: text/plain\r\n\r\ninnermost\r\n")
	for i := 4999; i >= 0; i-- {
		fmt.Fprintf(&nested, "--b%d--\r\n", i)
	}

	var siblings strings.Builder
	siblings.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"s\"\r\n\r\n")
	for i := range 5000 {
		fmt.Fprintf(&siblings, "--s\r\nContent-Type: text/plain\r\n\r\npart %d words here\r\n", i)
	}
	siblings.WriteString("--s--\r\n")

	line := "The quick brown fox jumps over the lazy dog http://example.com/x?y=1 and more words\r\n"
	text := strings.Repeat(line, (10<<20)/len(line))
	html := strings.Repeat("<p>The quick <b>brown</b> fox <a href=\"http://example.com/x\">jumps</a> over</p>\r\n", (10<<20)/80)
	return []struct{ name, raw string }{
		{"100000 header lines", many.String()},
		{"5000 nested multiparts", nested.String()},
		{"5000 sibling parts", siblings.String()},
		{"10 MB of text", "From: a@example.com\r\nSubject: big\r\n\r\n" + text},
		{"10 MB of HTML", "From: a@example.com\r\nContent-Type: text/html\r\n\r\n" + html},
		{"10 MB of one line", "From: a@example.com\r\n\r\n" + strings.Repeat("abcdefgh ", (10<<20)/9)},
	}
}

// TestHugeMessageMemory: parsing and tokenizing a huge or malformed
// message costs under 50 MB more than the message itself, measured as the
// rise of the process's peak resident set (see package peakmem for why
// that measure is robust on a shared machine), and still gives tokens.
func TestHugeMessageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 40 MB of messages")
	}
	const maxExtra = 50 << 20
	for _, tt := range hugeMessages() {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			var keys []Key
			extra, err := peakmem.Measure(func() {
				m := Parse(raw)
				keys = TokenKeys(m, DefaultTokenOptions())
			})
			if errors.Is(err, peakmem.ErrUnsupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%.1f MB message: %d tokens, peak RSS +%.1f MB", float64(len(raw))/(1<<20), len(keys), float64(extra)/(1<<20))
			if len(keys) == 0 {
				t.Error("no tokens")
			}
			if extra >= maxExtra {
				t.Errorf("peak RSS rose by %.1f MB, want under %d MB", float64(extra)/(1<<20), maxExtra>>20)
			}
		})
	}
}
