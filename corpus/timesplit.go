package corpus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// A TimeSplit asks MassCheck.RunTimeSplit for the honest estimate of how
// a filter does on mail newer than all it was trained on: each class is
// ordered by date on its own, Bayes is trained (and scores are fitted)
// on the oldest Fraction, and the newest rest is scanned.
//
// Cross-validation shuffles the corpus, so every fold's test mail has
// neighbours in time (the same campaigns, the same list threads) among
// its training mail; that is not how a filter meets mail, and it flatters
// rules and Bayes alike. A time split keeps every test message newer
// than every training message of its class.
type TimeSplit struct {
	// Fraction of each class's dated messages, oldest first, that
	// trains; in (0, 1).
	Fraction float64
	// From and To bound the dates that order messages (To exclusive);
	// a message whose Date header and receive time both fall outside
	// counts as undated. The zero values mean no bound.
	From, To time.Time
	// Folds of the cross-validation inside the older part that gives
	// each older message a Bayes answer from a store that has not
	// learned it, for fitting (default 10).
	Folds int
	// Fit, if set, is given the older part scored (see Folds) and
	// returns the engine builder the newer part is scanned with:
	// scores fitted on the older part only. Nil scans with
	// MassCheck.Engine.
	Fit func(ctx context.Context, older []Scored) (func(rules.BayesReader) (*rules.Engine, error), error)
	// Autolearn scans the newer part a second time, one message at a
	// time in date order, learning into the older part's store what
	// the engine's autolearn decides (as a daemon does as mail
	// arrives). The engine must have autolearn enabled.
	Autolearn bool
}

// SplitCount is one class's share of a time split.
type SplitCount struct {
	Older, Newer int // dated messages in each part
	// Undated messages (no date within From..To) train: they cannot
	// be placed in time, and only the test must be newer.
	Undated int
	// Cut is the date of the newest older message; Last of the
	// newest message.
	Cut, Last time.Time
}

// A TimeSplitResult is what RunTimeSplit found.
type TimeSplitResult struct {
	// Older are the training messages, each scored with a store
	// trained on the other older messages only (Folds-fold).
	Older []Scored
	// Newer are the test messages, scanned with a store trained on
	// all of Older (and the engine Fit returned), in date order.
	Newer []Scored
	// NewerAutolearn are the test messages scanned in date order
	// while autolearning (when TimeSplit.Autolearn is set).
	NewerAutolearn []Scored
	// Learned counts the autolearned messages by class (ham, spam).
	Learned [2]int
	// Counts are per class (index Ham, Spam).
	Counts [2]SplitCount
}

// MessageDate is when a message was written for ordering a corpus: its
// Date header, or else its receive time (the newest Received header,
// see tokenizer.Message.ReceiveTime), whichever first falls in [from,
// to) (a zero bound is open). ok is false when neither does.
func MessageDate(m *tokenizer.Message, from, to time.Time) (t time.Time, ok bool) {
	in := func(t time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
	}
	if v := m.Header.Get("Date"); v != "" {
		if t, ok := tokenizer.ParseDate(v); ok && in(t) {
			return t, true
		}
	}
	// A receive time after now is replaced by now; a now far outside
	// the window turns it into a miss instead.
	now := to
	if now.IsZero() {
		now = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t := m.ReceiveTime(now); in(t) && !t.Equal(now) {
		return t, true
	}
	return time.Time{}, false
}

// splitByDate splits the indices of labels into older and newer per
// class: the dated indices of each class sorted by date (ties by
// index), the first round(fraction·n) older and the rest newer; undated
// indices (zero dates) are older. Both results are in date order, the
// undated first.
func splitByDate(labels []Label, dates []time.Time, fraction float64) (older, newer []int, counts [2]SplitCount) {
	for _, l := range []Label{Ham, Spam} {
		var dated, undated []int
		for i, li := range labels {
			if li != l {
				continue
			}
			if dates[i].IsZero() {
				undated = append(undated, i)
			} else {
				dated = append(dated, i)
			}
		}
		slices.SortStableFunc(dated, func(a, b int) int { return dates[a].Compare(dates[b]) })
		k := int(math.Round(fraction * float64(len(dated))))
		c := &counts[l]
		c.Older, c.Newer, c.Undated = k, len(dated)-k, len(undated)
		if k > 0 {
			c.Cut = dates[dated[k-1]]
		}
		if len(dated) > 0 {
			c.Last = dates[dated[len(dated)-1]]
		}
		older = append(older, undated...)
		older = append(older, dated[:k]...)
		newer = append(newer, dated[k:]...)
	}
	byDate := func(a, b int) int {
		return cmp.Or(dates[a].Compare(dates[b]), cmp.Compare(a, b))
	}
	slices.SortStableFunc(older, byDate)
	slices.SortStableFunc(newer, byDate)
	return older, newer, counts
}

// RunTimeSplit loads the corpus and evaluates it on a time split (see
// TimeSplit). The Scored of both parts carry their messages' dates.
func (mc *MassCheck) RunTimeSplit(ctx context.Context, ts TimeSplit) (*TimeSplitResult, error) {
	if !(ts.Fraction > 0 && ts.Fraction < 1) {
		return nil, fmt.Errorf("time split: fraction %g is not between 0 and 1", ts.Fraction)
	}
	if ts.Folds == 0 {
		ts.Folds = 10
	}
	msgs, err := mc.load(ctx)
	if err != nil {
		return nil, err
	}
	labels := make([]Label, len(msgs))
	dates := make([]time.Time, len(msgs))
	for i, m := range msgs {
		labels[i] = m.label
		if t, ok := MessageDate(m.msg, ts.From, ts.To); ok {
			dates[i] = t
		}
	}
	olderIdx, newerIdx, counts := splitByDate(labels, dates, ts.Fraction)
	if len(newerIdx) == 0 || len(olderIdx) == 0 {
		return nil, errors.New("time split: one part is empty")
	}
	ops := mc.prepare(msgs)
	out := make([]Scored, len(msgs))
	res := &TimeSplitResult{Counts: counts}

	// The older part, each message scored by a store that has not
	// learned it.
	olderLabels := make([]Label, len(olderIdx))
	for k, i := range olderIdx {
		olderLabels[k] = labels[i]
	}
	for f, fold := range StratifiedFolds(olderLabels, ts.Folds, mc.Seed) {
		test := make([]int, len(fold))
		inFold := make(map[int]bool, len(fold))
		for k, j := range fold {
			test[k] = olderIdx[j]
			inFold[olderIdx[j]] = true
		}
		var train []int
		for _, i := range olderIdx {
			if !inFold[i] {
				train = append(train, i)
			}
		}
		err := mc.withStore(ctx, fmt.Sprintf("older fold %d", f+1), ops, train, func(store *classifier.Store) error {
			return mc.score(ctx, mc.Engine, store, msgs, test, out)
		})
		if err != nil {
			return nil, fmt.Errorf("time split, older fold %d of %d: %w", f+1, ts.Folds, err)
		}
	}
	for _, i := range olderIdx {
		out[i].Date = dates[i]
		res.Older = append(res.Older, out[i])
	}

	engine := mc.Engine
	if ts.Fit != nil {
		if engine, err = ts.Fit(ctx, res.Older); err != nil {
			return nil, fmt.Errorf("time split: fit on the older part: %w", err)
		}
	}
	err = mc.withStore(ctx, "older part", ops, olderIdx, func(store *classifier.Store) error {
		if err := mc.score(ctx, engine, store, msgs, newerIdx, out); err != nil {
			return err
		}
		for _, i := range newerIdx {
			out[i].Date = dates[i]
			res.Newer = append(res.Newer, out[i])
		}
		if !ts.Autolearn {
			return nil
		}
		var err error
		res.NewerAutolearn, res.Learned, err = mc.autolearnScan(ctx, engine, store, msgs, ops, newerIdx)
		for k, i := range newerIdx {
			res.NewerAutolearn[k].Date = dates[i]
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("time split, newer part: %w", err)
	}
	return res, nil
}

// autolearnScan scans msgs[idx...] one at a time in the order given,
// learning each message the engine's autolearn decides on before the
// next is scanned.
func (mc *MassCheck) autolearnScan(ctx context.Context, build func(rules.BayesReader) (*rules.Engine, error), store *classifier.Store, msgs []corpusMessage, ops []classifier.Op, idx []int) (out []Scored, learned [2]int, err error) {
	eng, err := build(store)
	if err != nil {
		return nil, learned, fmt.Errorf("build scan engine: %w", err)
	}
	w := learn.NewWriter(store, learn.WriterOptions{Logger: mc.Logger})
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close autolearn writer: %w", cerr)
		}
	}()
	for n, i := range idx {
		m := msgs[i]
		res, err := eng.Check(ctx, m.msg, rules.CheckOptions{})
		if err != nil {
			return nil, learned, fmt.Errorf("scan %s: %w", m.path, err)
		}
		class, ok, status := eng.AutolearnDecision(res)
		// The decision rides along as a pseudo-test, "autolearn=ham",
		// for the --split-autolearn-scores table.
		out = append(out, Scored{Label: m.label, Score: res.Score, Bayes: res.Bayes, HasBayes: res.BayesRan, Path: m.path,
			Tests: append(res.Rules(), "autolearn="+status)})
		if ok {
			op := ops[i]
			op.Class, op.NoRelearn = class, true
			ch, err := w.Submit(ctx, op)
			if err != nil {
				return nil, learned, fmt.Errorf("autolearn %s: %w", m.path, err)
			}
			o := <-ch
			if o.Err != nil {
				return nil, learned, fmt.Errorf("autolearn %s: %w", m.path, o.Err)
			}
			if class == classifier.Spam {
				learned[Spam]++
			} else {
				learned[Ham]++
			}
		}
		mc.progress("autolearn scan", n+1, len(idx))
	}
	return out, learned, nil
}
