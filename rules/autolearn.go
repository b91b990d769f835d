package rules

import (
	"math"
	"slices"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules/cf"
)

// AutolearnSettings are the bayes_auto_learn settings.
type AutolearnSettings struct {
	Enabled bool
	// SpamThreshold and HamThreshold are
	// bayes_auto_learn_threshold_spam and _nonspam.
	SpamThreshold, HamThreshold float64
	// OnError learns only what Bayes got wrong (bayes_auto_learn_on_error).
	OnError bool
}

// Autolearn statuses, the first word of _AUTOLEARN_.
const (
	AutolearnDisabled    = "disabled"
	AutolearnNo          = "no"
	AutolearnSpam        = "spam"
	AutolearnHam         = "ham"
	AutolearnUnavailable = "unavailable" // decided, but the store did not change
	AutolearnFailed      = "failed"
)

// AutolearnDecision says whether res should be learned, and as what,
// the way SpamAssassin's AutoLearnThreshold plugin decides:
//
// The hits are re-scored in the current score set with its Bayes bit
// cleared, leaving out rules flagged noautolearn or userconf; the BAYES_xx
// (tflags learn) rules are summed apart as the learned points, with their
// current scores. Header rules count as head points; body, rawbody and
// uri rules as body points; full rules and DNS list checks as neither; a
// meta splits its score between the two in proportion to its direct
// dependencies. Below the ham threshold the message is a ham candidate,
// at or over the spam threshold a spam candidate. A spam is learned only
// with at least 3 head and 3 body points (unless an autolearn_force rule
// hit), with learned points ≥ −1, and if it is spam by the total; a ham
// only with learned points ≤ +1 and if it is ham by the total.
//
// learn is false with status "disabled" or "no" when nothing is to be
// learned; the caller learns with NoRelearn and sets res.Autolearn to
// "spam"/"ham" if the store changed, "unavailable" if not.
func (e *Engine) AutolearnDecision(res *Result) (class classifier.Class, learn bool, status string) {
	if !e.autolearnOn() {
		return 0, false, AutolearnDisabled
	}
	return e.decideAutolearn(e.opt.Autolearn, res, res.Hits, e.ruleOf, res.IsSpam())
}

// SharedAutolearnDecision is AutolearnDecision for a store e's user
// shares with others (the global Bayes scope): decided with the scores,
// thresholds and required_score of site, the engine e was derived from
// with ForUser, so that no user's own scores decide what everyone's
// store learns (SpamAssassin's spamd decides with the user's). The rules
// the user scored 0 and the site does not were run for this (see
// Result.siteOnly). A user may turn autolearn off for their mail; one
// with rules of their own (allow_user_rules) never autolearns into a
// shared store: their hits are not the site's.
func (e *Engine) SharedAutolearnDecision(site *Engine, res *Result) (class classifier.Class, learn bool, status string) {
	if e == site {
		return e.AutolearnDecision(res)
	}
	if !e.autolearnOn() || !site.autolearnOn() {
		return 0, false, AutolearnDisabled
	}
	if e.rules != site.rules {
		return 0, false, AutolearnNo
	}
	hits := make([]Hit, 0, len(res.Hits)+len(res.siteOnly))
	total := 0.0
	for _, h := range slices.Concat(res.Hits, res.siteOnly) {
		if h.rule != nil {
			r := site.ruleOf(h.rule)
			h.Score = r.Scores[res.ScoreSet]
			if r.Tflags.Multiple {
				h.Score *= float64(h.count)
			}
			if h.Score == 0 {
				continue
			}
		}
		hits = append(hits, h)
		total += h.Score
	}
	isSpam := math.Round(total*1000)/1000 >= site.opt.RequiredScore
	return site.decideAutolearn(site.opt.Autolearn, res, hits, site.ruleOf, isSpam)
}

// AutolearnEnabled reports whether e may autolearn at all
// (bayes_auto_learn, with Bayes on): when it is false, every decision is
// "disabled".
func (e *Engine) AutolearnEnabled() bool { return e.autolearnOn() }

func (e *Engine) autolearnOn() bool {
	return e.opt.Autolearn.Enabled && e.rules != nil && e.opt.UseBayes
}

// decideAutolearn decides over hits (res's, or their view under another
// engine's scores), reading each rule through ruleOf; isSpam is the
// total's verdict.
func (e *Engine) decideAutolearn(al AutolearnSettings, res *Result, hits []Hit, ruleOf func(*compiledRule) *cf.Rule, isSpam bool) (class classifier.Class, learn bool, status string) {
	if res.TimeLimitExceeded {
		// Rules were skipped: the score is too partial to learn from
		// (SpamAssassin skips auto-learning too).
		return 0, false, AutolearnNo
	}
	noBayes := res.ScoreSet &^ 2
	var points, head, body, learned float64
	force := false
	for _, h := range hits {
		if h.rule == nil {
			continue
		}
		c := ruleOf(h.rule)
		if c.Tflags.NoAutolearn || c.Tflags.Userconf {
			continue
		}
		if c.Tflags.Learn {
			learned += c.Scores[res.ScoreSet]
			continue
		}
		score := c.Scores[noBayes]
		if score == 0 {
			continue
		}
		if c.Tflags.AutolearnForce {
			force = true
		}
		points += score
		hs, bs := e.autolearnBuckets(h.rule, score)
		head += hs
		body += bs
	}
	points = math.Round(points*1000) / 1000
	switch {
	case points < al.HamThreshold:
		if learned > 1.0 || isSpam {
			return 0, false, AutolearnNo
		}
		if al.OnError && hasHit(res, "BAYES_00") {
			return 0, false, AutolearnNo
		}
		return classifier.Ham, true, AutolearnHam
	case points >= al.SpamThreshold:
		if !force && (body < 3 || head < 3) || learned < -1.0 || !isSpam {
			return 0, false, AutolearnNo
		}
		if al.OnError && hasHit(res, "BAYES_99") {
			return 0, false, AutolearnNo
		}
		return classifier.Spam, true, AutolearnSpam
	}
	return 0, false, AutolearnNo
}

// autolearnBuckets splits a rule's score into head and body points.
func (e *Engine) autolearnBuckets(c *compiledRule, score float64) (head, body float64) {
	switch {
	case c.Tflags.AutolearnHeader:
		return score, 0
	case c.Tflags.AutolearnBody:
		return 0, score
	}
	switch c.Kind {
	case cf.KindHeader, cf.KindMIMEHeader:
		if c.Eval != nil && c.Eval.RBL {
			return 0, 0
		}
		return score, 0
	case cf.KindBody, cf.KindRawbody, cf.KindURI:
		return 0, score
	case cf.KindMeta:
		var nh, nb int
		for _, dep := range c.MetaDeps {
			d := e.rules.byName[dep]
			if d == nil {
				continue
			}
			switch d.Kind {
			case cf.KindHeader, cf.KindMIMEHeader:
				nh++
			case cf.KindBody, cf.KindRawbody, cf.KindURI:
				nb++
			}
		}
		if nh+nb == 0 {
			return 0, 0
		}
		h := math.Round(score*float64(nh)/float64(nh+nb)*1000) / 1000
		b := math.Round(score*float64(nb)/float64(nh+nb)*1000) / 1000
		return h, b
	}
	return 0, 0
}

func hasHit(res *Result, name string) bool {
	for _, h := range res.Hits {
		if h.Rule == name {
			return true
		}
	}
	return false
}
