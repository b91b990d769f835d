package re

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A Set gives every stock pattern's answer on the probe subjects (corpus
// messages and their lines, non-ASCII variants, subjects made to match
// each pattern): a pattern it leaves out does not match (MatchText
// false), and for a pattern on RE2 its yes is MatchText's yes.
func TestSetAgreesWithMatchText(t *testing.T) {
	if testing.Short() {
		t.Skip("every stock pattern on the probes: skipped with -short")
	}
	pats := loadStock(t)
	// A match cut off by its time limit (a loaded machine) says no; a
	// subject on which one was is skipped, not counted as a difference.
	var timeouts atomic.Int64
	skipped := 0
	var rs []*Regexp
	var names []string
	for _, p := range pats {
		r, err := Compile(p.expr, p.flags, Options{MatchTimeout: time.Second, OnTimeout: func() { timeouts.Add(1) }})
		if err != nil {
			continue
		}
		rs = append(rs, r)
		names = append(names, p.rule+" /"+p.expr+"/"+p.flags)
	}
	texts := probeTexts(t, 3)
	for i := 0; i < len(pats); i += 11 {
		texts = append(texts, witnesses(pats[i].expr, pats[i].flags, 1, uint64(i))...)
	}
	n := len(texts)
	for _, s := range texts[:n] {
		for i, line := range strings.SplitAfter(s, "\n") {
			if i < 20 {
				texts = append(texts, line)
			}
		}
		texts = append(texts, "é"+s+"\xff\xe2\x84")
	}
	set := NewSet(rs)
	t.Logf("%d patterns in %d groups, %d alone; %d subjects", len(rs), len(set.parts.Load().groups), len(set.parts.Load().loose), len(texts))
	dst := make([]bool, set.Len())
	failures := 0
	inexact := 0
	for _, s := range texts {
		tx := NewText(s)
		before := timeouts.Load()
		exact := set.Match(tx, dst)
		want := make([]bool, len(rs))
		for i, r := range rs {
			want[i] = r.MatchText(tx)
		}
		if timeouts.Load() != before {
			skipped++
			continue
		}
		if !exact {
			inexact++
		}
		for i := range rs {
			switch {
			case want[i] && !dst[i]:
				t.Errorf("%s on %.60q: the set says no, MatchText yes", names[i], s)
				failures++
			case !want[i] && dst[i] && exact && set.Exact(i):
				t.Errorf("%s on %.60q: the set says yes, MatchText no", names[i], s)
				failures++
			}
			if failures > 30 {
				t.Fatal("too many differences")
			}
		}
	}
	t.Logf("%d subjects a group gave up on, %d skipped (a match timed out)", inexact, skipped)
	if skipped > len(texts)/100 {
		t.Errorf("%d of %d subjects timed out: too few compared to judge", skipped, len(texts))
	}
}

// The Set-candidate entry points give MatchTextBefore's and
// FindAllTextIndexBefore's answers, whatever a Set said: they only skip
// a dfa walk; and a Set of the pattern, read as the rules engine reads
// it, gives MatchTextBefore's answer.
func TestSetCandidateAnswersAsMatchText(t *testing.T) {
	tests := []struct {
		expr, flags string
		subjects    []string
	}{
		{`(\w+) \1`, "", []string{"hello hello", "hello world", "", "a a b b c c"}},
		{`foo(?=bar)`, "i", []string{"FOObar", "foobaz", "foo bar foobar"}},
		{`\nReceived:[^\n]{0,20} for <?([^\n\s>;]+)>?;(?:[^\n]+\n+)*Subject: [^\n]{0,10}\1[^a-z0-9]`, "ism",
			[]string{"\nReceived: x for <a@b>;\nSubject: hi a@b!\n", "\nReceived: x for <a@b>;\nSubject: hi c@d!\n", "\xe9\nReceived: x for a;\n\nSubject: a.\n"}},
		{`e|\xc3[\xa8\xa9]`, "", []string{"eee \xc3\xa8t\xc3\xa9", "xyz", ""}},
		{`^From:\s+(\S+)`, "m", []string{"x\nFrom: me\nFrom: you\n", "From:\n"}},
	}
	for _, tc := range tests {
		r, err := Compile(tc.expr, tc.flags, Options{})
		if err != nil {
			t.Fatalf("compile /%s/%s: %v", tc.expr, tc.flags, err)
		}
		for _, s := range tc.subjects {
			want, _ := r.MatchTextBefore(NewText(s), time.Time{})
			got, _ := r.MatchSetCandidateBefore(NewText(s), time.Time{})
			if got != want {
				t.Errorf("/%s/%s on %q: MatchSetCandidateBefore %v, MatchTextBefore %v", tc.expr, tc.flags, s, got, want)
			}
			// As the rules engine asks: the Set's no is the answer, an
			// exact yes is, and a walked yes goes to the candidate
			// entry point.
			set := NewSet([]*Regexp{r})
			may := make([]bool, 1)
			exact := set.Match(NewText(s), may)
			viaSet := false
			switch {
			case !may[0]:
			case exact && set.Exact(0):
				viaSet = true
			case exact && set.Walked(0):
				viaSet, _ = r.MatchSetCandidateBefore(NewText(s), time.Time{})
			default:
				viaSet, _ = r.MatchTextBefore(NewText(s), time.Time{})
			}
			if viaSet != want {
				t.Errorf("/%s/%s on %q: through a Set %v, MatchTextBefore %v", tc.expr, tc.flags, s, viaSet, want)
			}
			wantAll, _ := r.FindAllTextIndexBefore(NewText(s), -1, time.Time{})
			gotAll, _ := r.FindAllSetCandidateIndexBefore(NewText(s), -1, time.Time{})
			if fmt.Sprint(gotAll) != fmt.Sprint(wantAll) {
				t.Errorf("/%s/%s on %q: FindAllSetCandidateIndexBefore %v, FindAllTextIndexBefore %v", tc.expr, tc.flags, s, gotAll, wantAll)
			}
		}
	}
}

// The literal-candidate entry points give MatchTextBefore's and
// FindAllTextIndexBefore's answers on a subject holding one of the
// pattern's Literals, and a Prefilter of the pattern, read as the rules
// engine reads it (no where none of the literals is, the literal
// candidate entry point where one is), gives MatchTextBefore's answer.
func TestLiteralCandidateAnswersAsMatchText(t *testing.T) {
	tests := []struct {
		expr, flags string
		subjects    []string
	}{
		{`(\w+) \1 again`, "", []string{"hello hello again", "hello world again", "", "again", "a a AGAIN"}},
		{`foobar(?=baz)`, "i", []string{"FOOBARbaz", "foobarbax", "foo bar foobarbaz", "xyz"}},
		{`\nReceived:[^\n]{0,20} for <?([^\n\s>;]+)>?;(?:[^\n]+\n+)*Subject: [^\n]{0,10}\1[^a-z0-9]`, "ism",
			[]string{"\nReceived: x for <a@b>;\nSubject: hi a@b!\n", "\nreceived: x for <a@b>;\nsubject: hi c@d!\n", "\xe9\nReceived: x for a;\n\nSubject: a.\n", "Subject: x"}},
		{`(?<!=)(?:click|tap) here(?!\s*now)`, "i", []string{"CLICK HERE now", "Tap here today", "=click here", "click", "here"}},
		{`\b(?:viagra|cialis)(?!\w)`, "", []string{"buy VIAGRA", "buy viagra!", "cialis5", "nothing"}},
	}
	for _, tc := range tests {
		r, err := Compile(tc.expr, tc.flags, Options{})
		if err != nil {
			t.Fatalf("compile /%s/%s: %v", tc.expr, tc.flags, err)
		}
		if r.Engine() != EngineBacktrack || r.Literals() == nil {
			t.Fatalf("/%s/%s: want a backtracking pattern with literals, engine %s, literals %q", tc.expr, tc.flags, r.Engine(), r.Literals())
		}
		pf := NewPrefilter([]*Regexp{r})
		for _, s := range tc.subjects {
			want, _ := r.MatchTextBefore(NewText(s), time.Time{})
			wantAll, _ := r.FindAllTextIndexBefore(NewText(s), -1, time.Time{})
			may := make([]bool, 1)
			pf.Candidates(s, may)
			if !may[0] {
				if want {
					t.Errorf("/%s/%s on %q: the prefilter says no, MatchTextBefore yes", tc.expr, tc.flags, s)
				}
				continue
			}
			got, _ := r.MatchLiteralCandidateBefore(NewText(s), time.Time{})
			if got != want {
				t.Errorf("/%s/%s on %q: MatchLiteralCandidateBefore %v, MatchTextBefore %v", tc.expr, tc.flags, s, got, want)
			}
			gotAll, _ := r.FindAllLiteralCandidateIndexBefore(NewText(s), -1, time.Time{})
			if fmt.Sprint(gotAll) != fmt.Sprint(wantAll) {
				t.Errorf("/%s/%s on %q: FindAllLiteralCandidateIndexBefore %v, FindAllTextIndexBefore %v", tc.expr, tc.flags, s, gotAll, wantAll)
			}
		}
	}
}
