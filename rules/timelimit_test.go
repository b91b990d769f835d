package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// runawayRulesCF has rules that hit early (priority -5) and six body
// rules that run on the backtracking engine (a lookahead after a nested
// quantifier; the backreference after it keeps the re package's solvers,
// which would decide them in linear time, off them) and backtrack
// catastrophically on every paragraph of
// runawayMessage: each match runs until its own limit (100 ms, some
// 200 ms in practice), so without a time limit the scan would take
// 6 rules × 40 paragraphs × 0.2 s, about 48 s. LATE_BODY runs after them.
const runawayRulesCF = `
header   EARLY_SUBJ  Subject =~ /urgent/
score    EARLY_SUBJ  1.5
priority EARLY_SUBJ  -5
body     EARLY_BODY  /\bwinner\b/
score    EARLY_BODY  2.0
priority EARLY_BODY  -5
meta     EARLY_META  EARLY_SUBJ && EARLY_BODY
score    EARLY_META  0.5
priority EARLY_META  -5
body     RUNAWAY_1   /(\w+\s?)+(?=\d{3}A)\1/
body     RUNAWAY_2   /(\w+\s?)+(?=\d{3}B)\1/
body     RUNAWAY_3   /(\w+\s?)+(?=\d{3}C)\1/
body     RUNAWAY_4   /(\w+\s?)+(?=\d{3}D)\1/
body     RUNAWAY_5   /(\w+\s?)+(?=\d{3}E)\1/
body     RUNAWAY_6   /(\w+\s?)+(?=\d{3}F)\1/
body     LATE_BODY   /winner/
score    LATE_BODY   3.0
priority LATE_BODY   10
`

// earlyScore is what the early rules score on runawayMessage.
const earlyScore = 1.5 + 2.0 + 0.5

func runawayMessage() *tokenizer.Message {
	var b strings.Builder
	b.WriteString("From: a@example.com\nSubject: urgent news\n\nYou are a winner.\n\n")
	for range 40 {
		b.WriteString(strings.Repeat("word ", 30) + "12\n\n")
	}
	return tokenizer.Parse([]byte(b.String()))
}

// A scan with runaway backtracking rules ends at the policy's
// time_limit or the context's deadline, whichever comes first, with what
// it scored until then and TIME_LIMIT_EXCEEDED, and no error. A user's
// prefs may shorten the site's limit but not lengthen it.
func TestTimeLimitStopsRunawayRules(t *testing.T) {
	tests := []struct {
		name        string
		site        string        // the site's time_limit line
		prefs       string        // user prefs, "" for the site's engine
		ctxLimit    time.Duration // the caller's deadline, 0 none
		most        time.Duration // how long Check may take
		wantAtLeast time.Duration
	}{
		{name: "time_limit 2", site: "time_limit 2", most: 3 * time.Second, wantAtLeast: time.Second},
		{name: "context deadline, no time_limit", site: "time_limit 0", ctxLimit: 2 * time.Second, most: 3 * time.Second, wantAtLeast: time.Second},
		{name: "context deadline before time_limit", site: "time_limit 300", ctxLimit: time.Second, most: 2 * time.Second},
		{name: "user prefs shorten it", site: "time_limit 300", prefs: "time_limit 1", most: 2 * time.Second},
		{name: "user prefs cannot lengthen it", site: "time_limit 1", prefs: "time_limit 600", most: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, mk := siteEngine(t, runawayRulesCF+tt.site+"\n")
			if tt.prefs != "" {
				var err error
				if eng, _, err = eng.ForUser(strings.NewReader(tt.prefs), "alice"); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			if tt.ctxLimit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxLimit)
				defer cancel()
			}
			start := time.Now()
			res, err := eng.Check(ctx, runawayMessage(), CheckOptions{})
			took := time.Since(start)
			if err != nil {
				t.Fatalf("Check: %v, want the partial result", err)
			}
			if took > tt.most || took < tt.wantAtLeast {
				t.Errorf("Check took %v, want between %v and %v", took, tt.wantAtLeast, tt.most)
			}
			if !res.TimeLimitExceeded || !strings.HasPrefix(res.TimeLimitRule, "RUNAWAY_") {
				t.Errorf("TimeLimitExceeded %v at %q, want true at a RUNAWAY_ rule", res.TimeLimitExceeded, res.TimeLimitRule)
			}
			want := []string{"EARLY_BODY", "EARLY_META", "EARLY_SUBJ", TimeLimitExceededRule}
			if got := res.Rules(); !slices.Equal(got, want) {
				t.Errorf("hits %v, want %v", got, want)
			}
			if want := earlyScore + 0.001; math.Abs(res.Score-want) > 1e-9 {
				t.Errorf("score %v, want %v (the early hits and TIME_LIMIT_EXCEEDED's 0.001)", res.Score, want)
			}
			assertRendersTimeLimit(t, mk, res)
		})
	}
}

// assertRendersTimeLimit checks that X-Spam-Status and the report list
// TIME_LIMIT_EXCEEDED like any hit.
func assertRendersTimeLimit(t *testing.T, mk Markup, res *Result) {
	t.Helper()
	var status string
	for _, f := range mk.Headers(res, nil) {
		if f.Name == "X-Spam-Status" {
			status = f.Value
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(status), " "), "TIME_LIMIT_EXCEEDED") {
		t.Errorf("X-Spam-Status %q does not list TIME_LIMIT_EXCEEDED", status)
	}
	if rep := mk.reportTag(res); !strings.Contains(rep, "*  0.0 TIME_LIMIT_EXCEEDED Exceeded time limit / deadline\n") {
		t.Errorf("report does not list TIME_LIMIT_EXCEEDED:\n%s", rep)
	}
}

// A scan that ends in time is not marked, with our default rules and
// the default time_limit (300 s) as with a tight but sufficient limit.
func TestTimeLimitNotReached(t *testing.T) {
	pol, diags, err := LoadPolicy(context.Background(), "")
	if err != nil {
		t.Fatal(err, diags)
	}
	if got := pol.Settings().TimeLimit; got != 300*time.Second {
		t.Fatalf("default time_limit %v, want 300s", got)
	}
	opt, _ := OptionsFromPolicy(pol, "test")
	if opt.TimeLimit != 300*time.Second {
		t.Fatalf("Options.TimeLimit %v, want the policy's 300s", opt.TimeLimit)
	}
	eng, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	msg := tokenizer.Parse([]byte("From: Alice <alice@example.org>\nTo: bob@example.com\nSubject: lunch on Friday?\n" +
		"Date: Mon, 8 Jul 2002 12:00:00 +0000\nMessage-Id: <1@example.org>\n\nHi Bob,\n\nare you free for lunch on Friday? " +
		"The usual place at noon.\n\nAlice\n"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := eng.Check(ctx, msg, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.TimeLimitExceeded || hasHit(res, TimeLimitExceededRule) {
		t.Errorf("an ordinary message hit the time limit at %q: %v", res.TimeLimitRule, res.Rules())
	}
}

// TIME_LIMIT_EXCEEDED takes the policy's score when one is given (0
// leaves it out of the hits, the flag still set); a past deadline runs
// no rule; a scan past its limit is not autolearned.
func TestTimeLimitExceededScore(t *testing.T) {
	tests := []struct {
		name      string
		scoreLine string
		wantHits  []string
		wantScore float64
	}{
		{"default score", "", []string{TimeLimitExceededRule}, 0.001},
		{"site score", "score TIME_LIMIT_EXCEEDED 4", []string{TimeLimitExceededRule}, 4},
		{"scored 0: not listed", "score TIME_LIMIT_EXCEEDED 0", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, _ := siteEngine(t, "body EARLY_BODY /winner/\n"+tt.scoreLine+"\n", func(o *Options) {
				o.Autolearn = AutolearnSettings{Enabled: true, SpamThreshold: 0.5, HamThreshold: 0.1}
			})
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			res, err := eng.Check(ctx, runawayMessage(), CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rules(); !slices.Equal(got, tt.wantHits) || res.Score != tt.wantScore {
				t.Errorf("hits %v score %v, want %v %v", got, res.Score, tt.wantHits, tt.wantScore)
			}
			if !res.TimeLimitExceeded || res.TimeLimitRule != "EARLY_BODY" {
				t.Errorf("TimeLimitExceeded %v at %q, want true at EARLY_BODY", res.TimeLimitExceeded, res.TimeLimitRule)
			}
			if _, learn, status := eng.AutolearnDecision(res); learn || status != AutolearnNo {
				t.Errorf("autolearn %v %q, want no", learn, status)
			}
		})
	}
}

// A caller that cancels its context (not a deadline) gets its error.
func TestTimeLimitCancelled(t *testing.T) {
	eng, _ := siteEngine(t, runawayRulesCF)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	res, err := eng.Check(ctx, runawayMessage(), CheckOptions{})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("Check = %v, %v; want context.Canceled", res, err)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("Check took %v after a cancel at 300ms", took)
	}
}

// stalledBayes has enough training and answers lookups only when the
// context ends, with its error (as a store does).
type stalledBayes struct{}

func (stalledBayes) Magic(context.Context, classifier.Scope) (classifier.Magic, error) {
	return classifier.Magic{NSpam: 1000, NHam: 1000}, nil
}

func (stalledBayes) Lookup(ctx context.Context, _ classifier.Scope, _ []tokenizer.Key, _ []classifier.Counts) error {
	<-ctx.Done()
	return ctx.Err()
}

// stalledNet starts no lookup and answers every net rule only when the
// scan's context ends.
type stalledNet struct{}

func (stalledNet) Handles(name string) bool { return name == "check_rbl" }
func (stalledNet) Start(context.Context, *tokenizer.Message, *cf.Policy) NetScan {
	return stalledNet{}
}
func (stalledNet) Eval(ctx context.Context, _ string, _ *cf.EvalCall) (bool, []string) {
	<-ctx.Done()
	return false, nil
}

// A Bayes lookup or a network test still waiting at the limit gives no
// result and no error: the scan returns what it has. (Net rules run at
// priority -100, so EARLY_BODY is placed before them.)
func TestTimeLimitBayesAndNet(t *testing.T) {
	const rulesCF = `
body     EARLY_BODY     /winner/
score    EARLY_BODY     2.0
priority EARLY_BODY     -200
header   RCVD_IN_TESTBL eval:check_rbl('test', 'bl.example.')
tflags   RCVD_IN_TESTBL net
score    RCVD_IN_TESTBL 3.0
time_limit 0.3
`
	tests := []struct {
		name     string
		opt      func(*Options)
		wantRule string
		wantHits []string
	}{
		{"Bayes lookup", func(o *Options) { o.Bayes = stalledBayes{} }, BayesPhase, []string{TimeLimitExceededRule}},
		{"network test", func(o *Options) { o.Net = stalledNet{} }, "RCVD_IN_TESTBL", []string{"EARLY_BODY", TimeLimitExceededRule}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, _ := siteEngine(t, rulesCF, tt.opt)
			start := time.Now()
			res, err := eng.Check(context.Background(), runawayMessage(), CheckOptions{})
			if err != nil {
				t.Fatalf("Check: %v, want the partial result", err)
			}
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("Check took %v with time_limit 0.3", took)
			}
			if res.BayesRan || !res.TimeLimitExceeded || res.TimeLimitRule != tt.wantRule {
				t.Errorf("BayesRan %v, TimeLimitExceeded %v at %q; want no Bayes, true at %q", res.BayesRan, res.TimeLimitExceeded, res.TimeLimitRule, tt.wantRule)
			}
			if got := res.Rules(); !slices.Equal(got, tt.wantHits) {
				t.Errorf("hits %v, want %v", got, tt.wantHits)
			}
		})
	}
}

// unavailableBayes is a network store whose server is down.
type unavailableBayes struct{}

func (unavailableBayes) Magic(context.Context, classifier.Scope) (classifier.Magic, error) {
	return classifier.Magic{}, fmt.Errorf("redis: %w: connection refused", classifier.ErrUnavailable)
}

func (unavailableBayes) Lookup(context.Context, classifier.Scope, []tokenizer.Key, []classifier.Counts) error {
	return fmt.Errorf("redis: %w: connection refused", classifier.ErrUnavailable)
}

type unavailableMagicLookuper struct{ unavailableBayes }

func (unavailableMagicLookuper) LookupMagic(context.Context, classifier.Scope, []tokenizer.Key, []classifier.Counts) (classifier.Magic, error) {
	return classifier.Magic{}, fmt.Errorf("redis: %w: connection refused", classifier.ErrUnavailable)
}

// A store that cannot be reached gives a scan without Bayes (no BAYES_xx
// hit, the score set without the Bayes bit), not an error; any other
// store error still fails the scan.
func TestBayesStoreUnavailable(t *testing.T) {
	const rulesCF = "body EARLY_BODY /winner/\nscore EARLY_BODY 2.0\n"
	for _, tt := range []struct {
		name  string
		store BayesReader
	}{
		{"Magic then Lookup", unavailableBayes{}},
		{"LookupMagic", unavailableMagicLookuper{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eng, _ := siteEngine(t, rulesCF, func(o *Options) { o.Bayes = tt.store })
			res, err := eng.Check(context.Background(), runawayMessage(), CheckOptions{})
			if err != nil {
				t.Fatalf("Check: %v, want a result without Bayes", err)
			}
			if res.BayesRan || res.ScoreSet&2 != 0 || !slices.Contains(res.Rules(), "EARLY_BODY") {
				t.Errorf("BayesRan %v, score set %d, hits %v; want no Bayes and EARLY_BODY", res.BayesRan, res.ScoreSet, res.Rules())
			}
		})
	}
}
