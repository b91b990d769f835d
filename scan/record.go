package scan

import (
	"cmp"
	"slices"
	"time"

	"github.com/gospamd/gospamd/rules"
)

// A Record is the summary of one scan that Config.OnScan receives: what
// an administrator's "last scans" list shows. It never holds the message
// or any part of its body.
type Record struct {
	Time    time.Time // when the scan started
	User    string    // the user the message was scanned for; "" for the site
	Outcome string    // the verdict's String, "unscanned" or "error"
	Verdict rules.Verdict
	Score   float64
	Tag     float64 // the user's tag level (required_score)
	Reject  float64 // the user's reject level; 0 or less: never
	Elapsed time.Duration
	// TopRules are the rules that hit with the largest scores, at most
	// MaxTopRules of them, highest first.
	TopRules []RuleScore
}

// A RuleScore is one rule that hit and the score it added.
type RuleScore struct {
	Rule  string
	Score float64
}

// MaxTopRules is how many rules a Record lists.
const MaxTopRules = 5

// recordOf summarises one scan for OnScan.
func recordOf(req *Request, start time.Time, elapsed time.Duration, res *Result, outcome string) Record {
	rec := Record{Time: start, User: req.User, Outcome: outcome, Elapsed: elapsed}
	if res == nil || res.Rules == nil {
		return rec
	}
	rec.Verdict, rec.Score, rec.Tag, rec.Reject = res.Verdict, res.Rules.Score, res.Levels.Tag, res.Levels.Reject
	hits := slices.Clone(res.Rules.Hits)
	slices.SortStableFunc(hits, func(a, b rules.Hit) int { return cmp.Compare(b.Score, a.Score) })
	for _, h := range hits[:min(len(hits), MaxTopRules)] {
		rec.TopRules = append(rec.TopRules, RuleScore{Rule: h.Rule, Score: h.Score})
	}
	return rec
}
