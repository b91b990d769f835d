package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// Speed work changes no answer: a mass-check of the shared corpus gives
// every message the same hits and score with the patterns of each text
// kind matched in one walk (pattern sets, the default) as with each
// pattern matched on its own after the literal prefilter
// (Options.SeparatePatterns), with the built-in rules and with
// SpamAssassin's stock rules (on every fourth message: they take ten
// times as long).
func TestPatternSetsChangeNoScore(t *testing.T) {
	all, _ := testpeer.CorpusMessages(t)
	for _, tc := range []struct {
		name  string
		every int
		pol   func(t *testing.T) *cf.Policy
	}{
		{"built-in rules", 1, func(t *testing.T) *cf.Policy {
			pol, diags, err := LoadPolicy(context.Background(), "")
			if err != nil {
				t.Fatalf("%v %v", err, diags)
			}
			return pol
		}},
		{"stock rules", 4, func(t *testing.T) *cf.Policy { return stockSite(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			every := tc.every
			if testing.Short() {
				every *= 10
			}
			var raws [][]byte
			for i := 0; i < len(all); i += every {
				raws = append(raws, all[i])
			}
			pol := tc.pol(t)
			engine := func(separate bool) *Engine {
				opt, _ := OptionsFromPolicy(pol, "")
				opt.TimeLimit = 0 // a loaded machine must not cut one run short
				opt.SeparatePatterns = separate
				e, err := New(opt)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			sets, separate := engine(false), engine(true)
			var next, hits atomic.Int64
			var mu sync.Mutex
			var diffs []string
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for {
						i := int(next.Add(1) - 1)
						if i >= len(raws) {
							return
						}
						m := tokenizer.Parse(raws[i])
						a, errA := sets.Check(context.Background(), m, CheckOptions{})
						b, errB := separate.Check(context.Background(), m, CheckOptions{})
						if errA != nil || errB != nil {
							t.Errorf("message %d: %v, %v", i, errA, errB)
							continue
						}
						hits.Add(int64(len(a.Hits)))
						if ha, hb := hitList(a), hitList(b); a.Score != b.Score || ha != hb {
							mu.Lock()
							diffs = append(diffs, fmt.Sprintf("message %d: pattern sets %.3f %s, separately %.3f %s", i, a.Score, ha, b.Score, hb))
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			t.Logf("%d messages, %d hits", len(raws), hits.Load())
			slices.Sort(diffs)
			for i, d := range diffs {
				if i == 20 {
					t.Errorf("… %d more", len(diffs)-i)
					break
				}
				t.Error(d)
			}
		})
	}
}

// hitList is a result's hits as "RULE=score" in order.
func hitList(r *Result) string {
	var b strings.Builder
	for _, h := range r.Hits {
		fmt.Fprintf(&b, "%s=%g,", h.Rule, h.Score)
	}
	return b.String()
}

// The header rules on one header subject are matched by one pattern set
// (RuleSet.headerSets) and answer as when each is matched on its own:
// negated rules, an absent header's [if-unset: …] text, a rule on the
// backtracking engine, exists: and :addr subjects included.
func TestHeaderSetAnswers(t *testing.T) {
	const rulesCF = `
header HS_SUBJ_WIN      Subject =~ /\bwinner\b/i
header HS_SUBJ_FREE     Subject =~ /free/
header HS_SUBJ_NOT_HI   Subject !~ /hello/
header HS_SUBJ_NOT_WIN  Subject !~ /winner/i
header HS_SUBJ_LOOK     Subject =~ /(?<!no )prize(?= inside)/
header HS_SUBJ_BACKREF  Subject =~ /(\w)\1\1/
header HS_ABSENT_UNSET  X-Absent =~ /^unset$/ [if-unset: unset]
header HS_ABSENT_EMPTY  X-Absent =~ /^$/
header HS_ABSENT_NOT    X-Absent !~ /x/
header HS_HAS_SUBJ      exists:Subject
header HS_TO_ADDR       To:addr =~ /\@example\.org$/m
header HS_TO_ADDR_NET   To:addr =~ /\@example\.net$/m
`
	msg := "From: a@example.com\nTo: \"B\" <b@example.org>, c@example.com\n" +
		"Subject: You are a WINNER: free prize inside, zzz\n\nbody\n"
	want := []string{"HS_ABSENT_EMPTY", "HS_ABSENT_NOT", "HS_ABSENT_UNSET", "HS_HAS_SUBJ", "HS_SUBJ_BACKREF",
		"HS_SUBJ_FREE", "HS_SUBJ_LOOK", "HS_SUBJ_NOT_HI", "HS_SUBJ_WIN", "HS_TO_ADDR"}
	for _, separate := range []bool{false, true} {
		eng, _ := siteEngine(t, rulesCF, func(o *Options) { o.SeparatePatterns = separate })
		if !separate {
			n := 0
			for _, set := range eng.rules.headerSets {
				if set != nil {
					n++
				}
			}
			if n == 0 {
				t.Fatal("no header pattern set was built")
			}
		}
		res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(msg)), CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Rules() {
			if strings.HasPrefix(r, "HS_") {
				got = append(got, r)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("separate=%v: hits %v, want %v", separate, got, want)
		}
	}
}
