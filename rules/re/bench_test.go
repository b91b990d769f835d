package re

import (
	"os"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// bodyText returns about size bytes of rendered body text (paragraphs
// as lines) from corpus spam, starting at the first message of folder
// that has any; nonASCII selects messages with 8-bit bytes.
func bodyText(b *testing.B, size int, nonASCII bool) string {
	var sb strings.Builder
	for _, f := range testpeer.CorpusFiles(b, "spam") {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if isASCII(string(raw)) == nonASCII {
			continue
		}
		for _, line := range messageProbes(string(raw))[1:] {
			sb.WriteString(line)
			if !strings.HasSuffix(line, "\n") {
				sb.WriteByte('\n')
			}
			if sb.Len() >= size {
				return sb.String()[:size]
			}
		}
	}
	b.Fatalf("corpus too small for %d bytes of text", size)
	return ""
}

func stockBodyRegexps(b *testing.B) []*Regexp {
	var out []*Regexp
	for _, p := range loadStock(b) {
		if p.kind != "body" {
			continue
		}
		re, err := Compile(p.expr, p.flags, Options{})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, re)
	}
	return out
}

// BenchmarkStockMatch runs every stock body pattern over a 5 KB text,
// directly and behind the Prefilter.
func BenchmarkStockMatch(b *testing.B) {
	rs := stockBodyRegexps(b)
	pf := NewPrefilter(rs)
	for _, tc := range []struct {
		name     string
		nonASCII bool
	}{{"ascii", false}, {"8bit", true}} {
		text := bodyText(b, 5<<10, tc.nonASCII)
		b.Run(tc.name+"/all", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			hits := 0
			for b.Loop() {
				t := NewText(text)
				hits = 0
				for _, r := range rs {
					if r.MatchText(t) {
						hits++
					}
				}
			}
			b.ReportMetric(float64(len(rs)), "patterns")
			b.ReportMetric(float64(hits), "hits")
		})
		b.Run(tc.name+"/prefilter", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			dst := make([]bool, pf.Len())
			hits, ran := 0, 0
			for b.Loop() {
				t := NewText(text)
				pf.Candidates(text, dst)
				hits, ran = 0, 0
				for i, r := range rs {
					if !dst[i] {
						continue
					}
					ran++
					if r.MatchText(t) {
						hits++
					}
				}
			}
			b.ReportMetric(float64(ran), "ran")
			b.ReportMetric(float64(hits), "hits")
		})
	}
	b.Run("candidates-only", func(b *testing.B) {
		text := bodyText(b, 5<<10, false)
		dst := make([]bool, pf.Len())
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			pf.Candidates(text, dst)
		}
	})
}

// BenchmarkCompileStock compiles every stock pattern.
func BenchmarkCompileStock(b *testing.B) {
	pats := loadStock(b)
	for b.Loop() {
		for _, p := range pats {
			if _, err := Compile(p.expr, p.flags, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
