package re

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The dfa answers MatchText exactly as Go's matchers do, and a relaxed
// dfa never refuses a subject the backtracking engine matches: every
// stock pattern on the probe subjects (corpus messages, crafted
// subjects, and subjects generated to match each pattern), with and
// without the dfa.
func TestDFAAgreesWithMatchers(t *testing.T) {
	if testing.Short() {
		t.Skip("every stock pattern on the probes: skipped with -short")
	}
	pats := loadStock(t)
	texts := probeTexts(t, 17)
	for i, p := range pats {
		texts = append(texts, witnesses(p.expr, p.flags, 2, uint64(i))...)
	}
	// Lines and non-ASCII variants exercise assertions and UTF-8.
	n := len(texts)
	for _, s := range texts[:n] {
		for i, line := range strings.SplitAfter(s, "\n") {
			if i < 40 {
				texts = append(texts, line)
			}
		}
		texts = append(texts, "é"+s+"\xff\xe2\x84")
	}
	prepared := make([]*Text, len(texts))
	for i, s := range texts {
		prepared[i] = NewText(s)
	}
	var compared, withDFA, skipped atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 2 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pats) {
					return
				}
				p := pats[i]
				// A match cut off by its time limit (a loaded machine) says
				// no; such a comparison is skipped, not counted as a difference.
				var timeouts atomic.Int64
				opt := Options{MatchTimeout: time.Second, OnTimeout: func() { timeouts.Add(1) }}
				fast, err := Compile(p.expr, p.flags, opt)
				if err != nil {
					continue
				}
				opt.noDFA = true
				slow, err := Compile(p.expr, p.flags, opt)
				if err != nil {
					t.Errorf("%s: compiles only with the dfa: %v", p.rule, err)
					continue
				}
				if fast.dfa != nil {
					withDFA.Add(1)
				}
				for j, tx := range prepared {
					before := timeouts.Load()
					got, want := fast.MatchText(tx), slow.MatchText(tx)
					if timeouts.Load() != before {
						skipped.Add(1)
						continue
					}
					compared.Add(1)
					if got != want {
						mu.Lock()
						failures = append(failures, p.rule+" /"+p.expr+"/"+p.flags+" ("+fast.Engine()+") on "+strings.ToValidUTF8(texts[j][:min(len(texts[j]), 80)], "?"))
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d patterns (%d with a dfa), %d comparisons, %d differ, %d skipped (a match timed out)", len(pats), withDFA.Load(), compared.Load(), len(failures), skipped.Load())
	if skipped.Load() > compared.Load()/100 {
		t.Errorf("%d of %d comparisons timed out: too few compared to judge", skipped.Load(), compared.Load()+skipped.Load())
	}
	for i, f := range failures {
		if i == 30 {
			break
		}
		t.Error(f)
	}
}

// The dfa agrees with Go's regexp on assertions, UTF-8 and Latin-1
// subjects, and patterns whose automaton outgrows the cache.
func TestDFACases(t *testing.T) {
	subjects := []string{
		"", "a", "ab\n", "\nfoo bar\n", "foo_bar baz", "x\n\n", "é", "aéb", "K s ſ \u212a",
		"\xff\xfe broken \xc3", "the quick brown fox\njumps over\n the lazy dog",
		strings.Repeat("ab", 3000) + "a" + strings.Repeat("b", 14),
		strings.Repeat("ba", 5000),
		randomAB(200000),
	}
	patterns := []string{
		`^foo`, `foo$`, `(?m)^jumps`, `(?m)over$`, `\bbar\b`, `\Bar`, `\B`, `^$`, `(?m)^$`, `\A\z`,
		`(?s)a.b`, `a.b`, `[^a-z]`, `é`, `(?i)k`, `[Kk]`, `[Ss]`, `\x{212a}`, `\n\z`, `(?:)`,
		`[ab]*a[ab]{14}`, `[ab]*a[ab]{13}b$`, `(?:ab)+a b`, `\bjumps\b.*\blazy\b`,
	}
	for _, pat := range patterns {
		want := regexp.MustCompile(pat)
		d := newDFA(pat)
		if d == nil {
			t.Errorf("%s: no dfa", pat)
			continue
		}
		for _, subj := range subjects {
			for range 2 { // cold and warm cache
				got, ok := d.match(NewText(subj), false)
				if ok && got != want.MatchString(subj) {
					t.Errorf("/%s/ on %.40q: dfa %v, regexp %v", pat, subj, got, !got)
				}
			}
		}
	}
}

// randomAB is n pseudo-random letters a and b: for a pattern like
// [ab]*a[ab]{14}, a walk through more states than the cache keeps.
func randomAB(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x&1)
	}
	return string(b)
}

func TestDFACacheResets(t *testing.T) {
	d := newDFA(`[ab]*a[ab]{14}c`)
	subj := NewText(randomAB(300000))
	for range 12 {
		if got, ok := d.match(subj, false); ok && got {
			t.Fatal("matched without a c")
		}
	}
	if d.resets == 0 {
		t.Errorf("the cache was never emptied (%d states)", d.table.Load().n)
	}
	if !d.failed.Load() {
		t.Errorf("a dfa emptied %d times was not abandoned", d.resets)
	}
}
