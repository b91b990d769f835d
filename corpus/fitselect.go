package corpus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A FitTrial is one candidate of SelectFit and how it did on the
// validation part.
type FitTrial struct {
	Options FitOptions
	Valid   Summary
	// NearFP counts the validation ham within margin of the threshold
	// or above it.
	NearFP int
	Cost   float64
}

// SelectFit chooses the class weight (HamWeight) and regularisation
// (L2) of a score fit on a time split of the training data itself: the
// older fraction of each class by Scored.Date fits, the newer rest
// validates, and the candidate with the least cost
//
//	hamCost·FP + FN
//
// on the validation part wins (ties: the earlier candidate), where FP
// counts the ham scoring at least threshold − margin: a few hundred
// validation ham rarely show a false positive, so the fit must keep a
// margin below the threshold to be trusted on newer mail. Choosing on
// mail newer than the fit's, rather than on shuffled folds, favours
// scores that carry to next month's mail over scores that recognise
// this month's campaigns. base gives every other option; the returned
// options are base with the winner's HamWeight and L2.
func SelectFit(ctx context.Context, scored []Scored, rules []FitRule, base FitOptions, hamWeights, l2s []float64, fraction, hamCost, margin float64) (FitOptions, []FitTrial, error) {
	if len(hamWeights) == 0 || len(l2s) == 0 {
		return base, nil, errors.New("select fit: no candidates")
	}
	labels := make([]Label, len(scored))
	dates := make([]time.Time, len(scored))
	for i, s := range scored {
		labels[i], dates[i] = s.Label, s.Date
	}
	older, newer, _ := splitByDate(labels, dates, fraction)
	if len(newer) == 0 || len(older) == 0 {
		return base, nil, errors.New("select fit: a part of the validation split is empty")
	}
	m := newHitMatrix(scored, rules)
	var trials []FitTrial
	best := -1
	for _, hw := range hamWeights {
		for _, l2 := range l2s {
			if err := ctx.Err(); err != nil {
				return base, nil, fmt.Errorf("select fit: %w", err)
			}
			opt := base
			opt.HamWeight, opt.L2 = hw, l2
			w := m.fit(older, opt.withDefaults())
			held := make([]Scored, 0, len(newer))
			for _, i := range newer {
				s := scored[i]
				s.Score = m.total(i, w)
				held = append(held, s)
			}
			sum := Summarize(held, opt.withDefaults().Threshold, ScoreValue)
			near := Summarize(held, opt.withDefaults().Threshold-margin, ScoreValue).FP
			t := FitTrial{Options: opt, Valid: sum, NearFP: near, Cost: hamCost*float64(near) + float64(sum.FN)}
			trials = append(trials, t)
			if best < 0 || t.Cost < trials[best].Cost {
				best = len(trials) - 1
			}
		}
	}
	return trials[best].Options, trials, nil
}
