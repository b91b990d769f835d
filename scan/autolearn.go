package scan

import (
	"context"
	"errors"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// autolearn learns the message when the autolearn thresholds say so,
// through the single writer, never relearning a message learned before
// (SpamAssassin's no_relearn: a manual classification is never flipped),
// and records the outcome in res for X-Spam-Status. Without a writer it
// does nothing (the status stays "disabled"). A scan cut short by its
// time limit is not learned from: its score is incomplete.
//
// Into a user's own scope (bayes_scope user) the user's scores and
// thresholds decide; into the global scope, which every user shares, the
// site's do (rules.Engine.SharedAutolearnDecision): one user's score
// lines must not decide what everyone's store learns.
func (s *Service) autolearn(ctx context.Context, engine *rules.Engine, pol *sitePolicy, m *tokenizer.Message, res *rules.Result, sc classifier.Scope) {
	if s.cfg.Writer == nil {
		return
	}
	decide := engine.AutolearnDecision
	if sc == "" { // the global scope
		decide = func(res *rules.Result) (classifier.Class, bool, string) {
			return engine.SharedAutolearnDecision(pol.engine, res)
		}
	}
	class, ok, status := decide(res)
	res.Autolearn = status
	defer func() { s.cfg.Metrics.Autolearned(res.Autolearn) }()
	if !ok {
		return
	}
	if res.TimeLimitExceeded || ctx.Err() != nil {
		res.Autolearn = rules.AutolearnUnavailable
		return
	}
	// A message learned before, as either class, is "unavailable"
	// without tokenizing it: the writer would refuse it anyway. A
	// network store answered that in the scan's Bayes lookup.
	if res.SeenChecked {
		if res.Seen != 0 {
			res.Autolearn = rules.AutolearnUnavailable
			return
		}
	} else if s.cfg.Store != nil {
		for _, id := range []string{learn.MessageID(m), learn.AltMessageID(m)} {
			if id == "" {
				continue
			}
			if _, seen, err := s.cfg.Store.Seen(ctx, sc, id); err == nil && seen {
				res.Autolearn = rules.AutolearnUnavailable
				return
			}
		}
	}
	op := learn.PrepareMessage(m, pol.learnTokens, s.cfg.Now())
	op.Scope, op.Class, op.NoRelearn = sc, class, true
	var r classifier.Result
	var err error
	offCore(ctx, func() { r, err = s.cfg.Writer.Learn(ctx, op) })
	switch {
	case errors.Is(err, classifier.ErrUnavailable):
		// The store logs its outage once; one line per scan would flood.
		s.log.Debug("autolearn failed: bayes store unavailable", "scope", string(sc), "err", err)
		res.Autolearn = rules.AutolearnFailed
	case err != nil:
		s.log.Warn("autolearn failed", "scope", string(sc), "err", err)
		res.Autolearn = rules.AutolearnFailed
	case r != classifier.Learned:
		res.Autolearn = rules.AutolearnUnavailable
	}
}

// seenIDs are the ids autolearn looks the message up by, for a store
// that answers the seen index in the Bayes lookup's round trip (saving
// autolearn a round trip of its own); nil when autolearn cannot run or
// the store cannot.
func (s *Service) seenIDs(engine *rules.Engine, m *tokenizer.Message) []string {
	if s.cfg.Writer == nil || !engine.AutolearnEnabled() {
		return nil
	}
	if _, ok := s.cfg.Store.(classifier.ScanLookuper); !ok {
		return nil
	}
	ids := []string{learn.MessageID(m)}
	if alt := learn.AltMessageID(m); alt != "" {
		ids = append(ids, alt)
	}
	return ids
}

// noteTimeLimit logs and counts a scan cut short by its time limit.
func (s *Service) noteTimeLimit(user string, res *rules.Result) {
	if !res.TimeLimitExceeded {
		return
	}
	s.cfg.Metrics.TimeLimitExceeded()
	s.log.Warn("scan stopped at its time limit", "user", user, "rule", res.TimeLimitRule, "score", res.Score)
}
