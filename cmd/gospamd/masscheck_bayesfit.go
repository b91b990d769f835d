package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/corpus"
	"github.com/gospamd/gospamd/rules/cf"
)

// bayesBounds are the intervals masscheck's score fit keeps the
// check_bayes bands in: a band below 0.5 is ham evidence and scores in
// [-bayesMaxScore, 0], one above 0.5 spam evidence in [0,
// bayesMaxScore], and the band holding 0.5 (BAYES_50), where Bayes
// cannot tell, in [undecidedLo, undecidedHi] (never 0, or it would not
// run: see bayesMinScore). Bands that partition the
// probability scale form one chain whose scores never decrease with
// the probability, one chain per answer (check_bayes,
// check_bayes_odds); a band inside another (BAYES_999, a bonus on top of
// BAYES_99) is fitted on its own.
type bayesBounds struct {
	undecidedLo, undecidedHi float64
}

// bayesMaxScore bounds the magnitude of a fitted Bayes band: a corpus
// where Bayes is nearly always right would otherwise let one band
// decide every message alone.
const bayesMaxScore = 4

// bayesMinScore is the least magnitude of a fitted band: a rule scored
// 0 does not run, and every answer of Bayes should be seen in the
// X-Spam-Status tests (SpamAssassin scores BAYES_20 and BAYES_40
// -0.001 for this).
const bayesMinScore = 0.001

// parseBayesBounds parses --fit-bayes-undecided's "LO,HI".
func parseBayesBounds(s string) (*bayesBounds, error) {
	a, c, ok := strings.Cut(s, ",")
	if !ok {
		return nil, fmt.Errorf("want LO,HI, got %q", s)
	}
	lo, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	hi, err2 := strconv.ParseFloat(strings.TrimSpace(c), 64)
	if err1 != nil || err2 != nil || lo > hi || lo < -bayesMaxScore || hi > bayesMaxScore || lo == 0 && hi == 0 {
		return nil, fmt.Errorf("want LO,HI with -%d ≤ LO ≤ HI ≤ %d, not both 0, got %q", bayesMaxScore, bayesMaxScore, s)
	}
	return &bayesBounds{undecidedLo: lo, undecidedHi: hi}, nil
}

// bayesBand returns the probability interval of a check_bayes or
// check_bayes_odds rule.
func bayesBand(r *cf.Rule) (lo, hi float64, ok bool) {
	if r.Eval == nil || r.Eval.Func != "check_bayes" && r.Eval.Func != "check_bayes_odds" || len(r.Eval.Args) != 2 {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseFloat(r.Eval.Args[0], 64)
	hi, err2 := strconv.ParseFloat(r.Eval.Args[1], 64)
	if err1 != nil || err2 != nil || lo >= hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// fitsBayes tells whether r is a check_bayes band the fit scores.
func (f *scoreFit) fitsBayes(r *cf.Rule) bool {
	if f.bayesBounds == nil {
		return false
	}
	_, _, ok := bayesBand(r)
	return ok
}

// fitRule turns fr, the fixed Bayes rule r, into a bounded one whose
// prior is its policy score, chained unless its band lies inside
// another band of all.
func (b *bayesBounds) fitRule(fr *corpus.FitRule, r *cf.Rule, all []*cf.Rule) {
	lo, hi, _ := bayesBand(r)
	fr.Fixed, fr.Bounded, fr.Rank = false, true, lo
	switch {
	case hi <= 0.5:
		fr.Lo, fr.Hi = -bayesMaxScore, -bayesMinScore
	case lo >= 0.5:
		fr.Lo, fr.Hi = bayesMinScore, bayesMaxScore
	default:
		fr.Lo, fr.Hi = b.undecidedLo, b.undecidedHi
	}
	// BAYES_999 (0.999-1.00) lies inside BAYES_99 (0.99-1.00): a
	// bonus, not a step of the scale.
	for _, o := range all {
		olo, ohi, ok := bayesBand(o)
		if ok && o != r && o.Eval.Func == r.Eval.Func && olo <= lo && hi <= ohi {
			return
		}
	}
	fr.Chain = r.Eval.Func
}
