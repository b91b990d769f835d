package rules

import (
	"context"
	"sync/atomic"
	"time"
)

// The time limit. A scan is bounded by the policy's time_limit
// (Options.TimeLimit) and by the deadline of the caller's context
// (spamd's --timeout-child), whichever comes first. As in SpamAssassin
// 4, the limit is checked at places in the scan, not enforced by
// preemption: before every rule, between the texts a rule matches (body
// lines, URIs, header values, rawbody chunks), and before every match on
// the backtracking regex engine, which is only started when its whole
// per-match limit fits in the time left (see re.Regexp.MaxMatchTime). A
// scan therefore ends at the limit, or up to one backtracking match
// limit (about 0.35 s) before it when that is what it would run next.
//
// Past the limit the rules not yet run are skipped, and so is the one
// that was running (its result is incomplete); the rules finished
// before it keep their hits, a meta whose dependencies were not all
// evaluated is not evaluated, and the pseudo-rule TIME_LIMIT_EXCEEDED
// hits. The Bayes lookup and the network tests get the bounded context,
// which ends when Check returns: one cut short gives no result, never an
// error. A scan past its limit is not autolearned.

// TimeLimitExceededRule is the pseudo-rule a scan that ran out of time
// hits, as SpamAssassin 4's does. Its score is the policy's when a
// "score TIME_LIMIT_EXCEEDED" line gives one (0 leaves it unlisted),
// else timeLimitDefaultScore.
const TimeLimitExceededRule = "TIME_LIMIT_EXCEEDED"

// SpamAssassin 4.0.1's default score and description of
// TIME_LIMIT_EXCEEDED (Plugin/Check.pm): near zero, so that the report
// shows the event without changing the verdict.
const (
	timeLimitDefaultScore = 0.001
	timeLimitDescription  = "Exceeded time limit / deadline"
)

// BayesPhase is Result.TimeLimitRule when the limit passed during the
// Bayes lookup, before any rule ran. It cannot be a rule's name.
const BayesPhase = "(bayes)"

// A scanLimit tells one scan when to stop. Its methods are for the
// scan's goroutine; the network checker and the Bayes store see the
// bounded context instead.
type scanLimit struct {
	// over is set (by a context.AfterFunc) when the limit or the
	// caller's deadline passes, or the caller cancels (within the
	// moment AfterFunc's goroutine takes to run). An atomic load
	// costs about a nanosecond, cheap enough for every text a rule
	// matches; a receive from ctx.Done() costs several.
	over atomic.Bool
	// deadline is when over is set on time; zero without a limit.
	deadline time.Time
	// stopped is set once the scan saw the limit pass, at is the rule
	// (or phase) it was running or about to run then.
	stopped bool
	at      string
}

// boundScan returns ctx bounded by limit (none when zero), the function
// that releases it, and the scanLimit watching it.
func boundScan(ctx context.Context, limit time.Duration) (context.Context, func(), *scanLimit) {
	cancel := context.CancelFunc(func() {})
	if limit > 0 {
		ctx, cancel = context.WithTimeout(ctx, limit)
	}
	l := &scanLimit{}
	l.deadline, _ = ctx.Deadline()
	if ctx.Done() == nil {
		return ctx, cancel, l // never ends
	}
	unwatch := context.AfterFunc(ctx, func() { l.over.Store(true) })
	// AfterFunc calls its function on a goroutine of its own, even for
	// a context already done: see to that case here.
	if ctx.Err() != nil {
		l.over.Store(true)
	}
	return ctx, func() { unwatch(); cancel() }, l
}

// passed reports whether the scan must stop before (or while) running
// at, noting at when it is the first to see the limit pass.
func (l *scanLimit) passed(at string) bool {
	if l.stopped {
		return true
	}
	if l.over.Load() {
		l.stop(at)
		return true
	}
	return false
}

// passedRule is passed at rule c, reading c's name only when the limit
// passed (a scan asks before every rule).
func (l *scanLimit) passedRule(c *compiledRule) bool {
	if !l.stopped && !l.over.Load() {
		return false
	}
	return l.passed(c.Name)
}

// stop ends the scan at at (the first call wins).
func (l *scanLimit) stop(at string) {
	if !l.stopped {
		l.stopped, l.at = true, at
	}
}

// timeLimitHit is the TIME_LIMIT_EXCEEDED hit in score set set; ok is
// false when the policy scores it 0 (SpamAssassin then lists no hit).
func (e *Engine) timeLimitHit(set int) (Hit, bool) {
	score := timeLimitDefaultScore
	if e.opt.Policy != nil {
		if r := e.opt.Policy.Rule(TimeLimitExceededRule); r != nil && r.ScoreGiven {
			score = r.Scores[set]
		}
	}
	if score == 0 {
		return Hit{}, false
	}
	return Hit{Rule: TimeLimitExceededRule, Score: score, Description: timeLimitDescription}, true
}
