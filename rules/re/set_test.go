package re

import (
	"strings"
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
	var rs []*Regexp
	var names []string
	for _, p := range pats {
		r, err := Compile(p.expr, p.flags, Options{MatchTimeout: time.Second})
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
		exact := set.Match(tx, dst)
		if !exact {
			inexact++
		}
		for i, r := range rs {
			want := r.MatchText(tx)
			switch {
			case want && !dst[i]:
				t.Errorf("%s on %.60q: the set says no, MatchText yes", names[i], s)
				failures++
			case !want && dst[i] && exact && set.Exact(i):
				t.Errorf("%s on %.60q: the set says yes, MatchText no", names[i], s)
				failures++
			}
			if failures > 30 {
				t.Fatal("too many differences")
			}
		}
	}
	t.Logf("%d subjects a group gave up on", inexact)
}
