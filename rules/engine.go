package rules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
	"github.com/gospamd/gospamd/tokenizer"
)

// BayesReader is the read side of the token store a scan needs.
type BayesReader interface {
	Magic(ctx context.Context, sc classifier.Scope) (classifier.Magic, error)
	Lookup(ctx context.Context, sc classifier.Scope, keys []tokenizer.Key, out []classifier.Counts) error
}

// Options configure an Engine.
type Options struct {
	// Bayes is the token store; nil disables Bayes.
	Bayes BayesReader
	// UseBayes runs the BAYES_xx rules (use_bayes and use_bayes_rules).
	UseBayes     bool
	BayesParams  classifier.Params
	TokenOptions tokenizer.TokenOptions
	// RequiredScore is the tag level: a total at or above it is spam.
	RequiredScore float64
	// Policy supplies the rules to run; nil runs the BAYES_xx rules alone.
	Policy *cf.Policy
	// Evals resolves eval: functions; nil knows none (check_bayes is
	// built in).
	Evals func(name string) (EvalFunc, bool)
	// Autolearn are the autolearn settings; off in DefaultOptions.
	Autolearn AutolearnSettings
	// Net runs the network tests (see NetChecker); nil scans with
	// local tests only.
	Net NetChecker
	// Countries maps relay addresses to countries for the RelayCountry
	// pseudo-headers (X-Relay-Countries…); nil leaves them empty. See
	// rules/geo.
	Countries CountryDB
	// TimeLimit bounds each scan (the policy's time_limit); 0 leaves
	// only the context's deadline. See Check.
	TimeLimit time.Duration
	// SeparatePatterns matches the body, rawbody, uri and full patterns
	// one by one after a literal prefilter, as before pattern sets
	// matched them all in one walk over each text; the answers are the
	// same (tests compare the two).
	SeparatePatterns bool
}

// DefaultOptions are SpamAssassin's defaults: required_score 5.0, Bayes on.
func DefaultOptions() Options {
	return Options{
		UseBayes:      true,
		BayesParams:   classifier.DefaultParams(),
		TokenOptions:  scanTokenOptions(),
		RequiredScore: 5.0,
	}
}

// An Engine scans messages. It is immutable once built and safe for
// concurrent use; a policy reload builds a new Engine and swaps it in.
type Engine struct {
	opt        Options
	bayesRules map[string]bayesRule
	rules      *RuleSet // nil without a policy
	// policyBayes is true when the policy defines check_bayes rules,
	// which then replace the built-in BAYES_xx set.
	policyBayes bool
	patterns    *patternCache // shared with the engines ForUser derives
	// userRules are, for an engine ForUser derived that shares its site
	// engine's RuleSet (the user changed scores and descriptions only),
	// the user's versions of the rules they changed, by index in rules;
	// read through ruleOf. Nil for an engine with a RuleSet of its own.
	userRules map[int]*cf.Rule
	// evalShared is what eval functions derive from the policy, for all
	// scans of this engine: the RuleSet's, unless the user's policy has
	// directives of its own (freemail_domains…) that it depends on.
	evalShared *eval.Shared
	// ownRules is set when the engine compiled its rules itself (not
	// shared with another engine), for UserCost.
	ownRules bool
}

// ruleOf is what the engine's policy says about c: c's own Rule, or the
// user's version of it.
func (e *Engine) ruleOf(c *compiledRule) *cf.Rule {
	if e.userRules != nil {
		if r, ok := e.userRules[c.idx]; ok {
			return r
		}
	}
	return c.Rule
}

type bayesRule struct {
	score       [4]float64 // by score set
	description string
}

// The BAYES_xx rule scores per score set (SpamAssassin 4.0's stock
// values, spec/bayes.md §6) and our own descriptions.
var bayesRuleDefs = map[string]bayesRule{
	"BAYES_00":  {[4]float64{0, 0, -1.5, -1.9}, "Bayes spam probability is 0 to 1%"},
	"BAYES_05":  {[4]float64{0, 0, -0.3, -0.5}, "Bayes spam probability is 1 to 5%"},
	"BAYES_20":  {[4]float64{0, 0, -0.001, -0.001}, "Bayes spam probability is 5 to 20%"},
	"BAYES_40":  {[4]float64{0, 0, -0.001, -0.001}, "Bayes spam probability is 20 to 40%"},
	"BAYES_50":  {[4]float64{0, 0, 2.0, 0.8}, "Bayes spam probability is 40 to 60%"},
	"BAYES_60":  {[4]float64{0, 0, 2.5, 1.5}, "Bayes spam probability is 60 to 80%"},
	"BAYES_80":  {[4]float64{0, 0, 2.7, 2.0}, "Bayes spam probability is 80 to 95%"},
	"BAYES_95":  {[4]float64{0, 0, 3.2, 3.0}, "Bayes spam probability is 95 to 99%"},
	"BAYES_99":  {[4]float64{0, 0, 3.8, 3.5}, "Bayes spam probability is 99 to 100%"},
	"BAYES_999": {[4]float64{0, 0, 0.2, 0.2}, "Bayes spam probability is 99.9 to 100%"},
}

// New builds an Engine.
func New(opt Options) (*Engine, error) {
	return newEngine(opt, newPatternCache())
}

func newEngine(opt Options, patterns *patternCache) (*Engine, error) {
	if math.IsNaN(opt.RequiredScore) {
		return nil, fmt.Errorf("required score is not a number")
	}
	e := &Engine{opt: opt, bayesRules: bayesRuleDefs, patterns: patterns}
	if opt.Policy != nil {
		evals := opt.Evals
		if evals == nil {
			evals = func(string) (EvalFunc, bool) { return nil, false }
		}
		var net func(string) bool
		if opt.Net != nil {
			net = opt.Net.Handles
		}
		e.rules = compileRules(opt.Policy, evals, net, patterns)
		e.evalShared, e.ownRules = e.rules.evalShared, true
		for _, c := range e.rules.rules {
			if c.bayes != nil {
				e.policyBayes = true
			}
		}
	}
	return e, nil
}

// ForUser returns the engine for one user: the site policy with the
// user's preferences (user_prefs) applied — scores, lists, thresholds,
// and rules when allow_user_rules permits — as SpamAssassin's spamd does
// for the User of a request. Lines a user may not set are refused and
// reported as diagnostics; name is the file's name in them.
//
// # Memory
//
// Prefs that change only scores, descriptions, lists and settings (no
// rules of their own) share e's compiled RuleSet: the user's engine
// carries only the rules whose score or description it changed, and
// costs kilobytes instead of the megabytes of a compiled rule set. Prefs
// with rules of their own (allow_user_rules) compile a RuleSet, reusing
// the patterns compiled for the site. See UserCost.
func (e *Engine) ForUser(prefs io.Reader, name string) (*Engine, []cf.Diagnostic, error) {
	if e.opt.Policy == nil {
		return e, nil, nil
	}
	pol, diags, err := e.opt.Policy.WithUserPrefs(prefs, name)
	if err != nil {
		return nil, diags, fmt.Errorf("user prefs of %s: %w", name, err)
	}
	opt := e.opt
	opt.Policy = pol
	s := pol.Settings()
	if s.RequiredScore != e.opt.Policy.Settings().RequiredScore {
		opt.RequiredScore = s.RequiredScore // the user chose a level
	}
	// A user may shorten the time limit, never lengthen it (the parser
	// refuses a longer one; an engine built with a shorter limit than
	// the site policy's keeps it).
	if u := s.TimeLimit; u != e.opt.Policy.Settings().TimeLimit && u > 0 && (opt.TimeLimit == 0 || u < opt.TimeLimit) {
		opt.TimeLimit = u
	}
	opt.Autolearn.Enabled = opt.Autolearn.Enabled && s.BayesAutoLearn
	if e.rules != nil {
		if changed, same := pol.RuleChanges(e.opt.Policy); same {
			return e.sharing(opt, changed), diags, nil
		}
	}
	eng, err := newEngine(opt, e.patterns)
	return eng, diags, err
}

// sharing is an engine with opt that shares e's RuleSet, reading the
// changed rules (user versions of e's rules) in place of e's.
func (e *Engine) sharing(opt Options, changed []*cf.Rule) *Engine {
	u := &Engine{opt: opt, bayesRules: e.bayesRules, rules: e.rules, policyBayes: e.policyBayes,
		patterns: e.patterns, evalShared: e.evalShared}
	for _, r := range changed {
		c := e.rules.byName[r.Name]
		if c == nil || c.Rule == r {
			continue // not run here (a skipped eval…)
		}
		if u.userRules == nil {
			u.userRules = make(map[int]*cf.Rule, len(changed))
		}
		u.userRules[c.idx] = r
	}
	if !slices.Equal(opt.Policy.OtherDirectives(), e.opt.Policy.OtherDirectives()) {
		// The user has directives of their own (freemail_domains,
		// freemail_welcomelist…) that eval functions derive tables
		// from: theirs, not the site's.
		u.evalShared = eval.NewShared()
	}
	return u
}

// UserCost estimates the bytes an engine ForUser built from site keeps
// alive beyond site itself, for bounding a cache of users' engines: a
// few kilobytes for one sharing site's rule set (plus its copy of the
// rule list and its changed rules), about what site's rule set costs for
// one with rules of its own.
func (e *Engine) UserCost(site *Engine) int64 {
	const (
		base        = 16 << 10 // the engine, policy and settings copies
		perRuleRef  = 8        // the user policy's copy of the rule list
		perChanged  = 1 << 10  // a changed rule and its map entries
		perCompiled = 2 << 10  // a compiled rule, its share of prefilters and maps
	)
	if e == site || e.opt.Policy == nil {
		return 0
	}
	n := int64(len(e.opt.Policy.Rules()))
	cost := base + perRuleRef*n + perChanged*int64(len(e.userRules))
	if e.ownRules {
		cost += perCompiled * n
	}
	return cost
}

// Rules returns the compiled rule set (nil without a policy), for lint.
func (e *Engine) Rules() *RuleSet { return e.rules }

// RequiredScore is the tag level: a total at or above it is spam.
func (e *Engine) RequiredScore() float64 { return e.opt.RequiredScore }

// CheckOptions are per-request settings.
type CheckOptions struct {
	// Scope selects the Bayes database (global or one user's).
	Scope classifier.Scope
	// SeenIDs are the message's seen-index ids (learn.MessageID, then
	// learn.AltMessageID) when the caller wants to know whether it was
	// learned before (autolearn): a store that can answer in the Bayes
	// lookup's round trip (classifier.ScanLookuper) fills
	// Result.SeenChecked and Result.Seen.
	SeenIDs []string
}

// A Hit is one rule that matched.
type Hit struct {
	Rule        string
	Score       float64
	Description string
	// Area prefixes the description in reports: "BODY: ", "URI: ",
	// "RAW: ", "FULL: " or nothing, after the part the test looked at.
	Area string
	// Details are what the test noted about its hit (the Bayes
	// probability, a free-mail address), printed under the description.
	Details []string
	rule    *compiledRule // nil for the built-in Bayes rules
	count   int           // the rule's hit count
}

// A Result is what a scan found. Policy (tag, reject, file) is applied
// to it by the front ends.
type Result struct {
	Score    float64
	Required float64
	Hits     []Hit
	// Bayes is the Bayes spam probability when BayesRan.
	Bayes    float64
	BayesRan bool
	// BayesOdds is the second answer of the same tokens when BayesRan
	// (classifier.MeanLogOdds), read by check_bayes_odds rules.
	BayesOdds float64
	// ScoreSet is the SpamAssassin score set used (0–3).
	ScoreSet int
	// Autolearn is the _AUTOLEARN_ status the front end settled (see
	// Engine.AutolearnDecision); "" renders as "disabled".
	Autolearn string
	// TimeLimitExceeded is set when the scan stopped at its time limit
	// or the context's deadline: the rules not yet run were skipped, and
	// Hits has what the others found plus TIME_LIMIT_EXCEEDED (unless
	// the policy scores that 0). TimeLimitRule is the rule that was
	// running or about to run then (BayesPhase during the Bayes lookup).
	TimeLimitExceeded bool
	TimeLimitRule     string
	// SeenChecked is set when the Bayes lookup also read the seen index
	// for CheckOptions.SeenIDs; Seen is then the class the message was
	// learned as, 0 for not learned.
	SeenChecked bool
	Seen        classifier.Class
	// siteOnly are, for an engine ForUser derived that shares its
	// site's rules, the hits of the rules the user scored 0 and the
	// site does not, with the site's scores: not the user's hits, but
	// what the site would see (SharedAutolearnDecision).
	siteOnly []Hit
}

// IsSpam reports whether the score reaches the required score.
func (r *Result) IsSpam() bool { return r.Score >= r.Required }

// Rules returns the names of the rules hit, sorted.
func (r *Result) Rules() []string {
	names := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		names[i] = h.Rule
	}
	slices.Sort(names)
	return names
}

// Check scans m.
//
// The scan is bounded by Options.TimeLimit and ctx's deadline: past
// either, Check returns what it scored so far with TimeLimitExceeded set
// and the TIME_LIMIT_EXCEEDED hit, not an error. When ctx is cancelled
// (not by its deadline) while the scan runs, the error is ctx's.
func (e *Engine) Check(ctx context.Context, m *tokenizer.Message, opt CheckOptions) (*Result, error) {
	sctx, cancel, limit := boundScan(ctx, e.opt.TimeLimit)
	defer cancel()
	res := &Result{Required: e.opt.RequiredScore}
	// The network lookups start first, to run while everything else
	// does.
	var net NetScan
	if e.opt.Net != nil && e.rules != nil {
		net = e.opt.Net.Start(sctx, m, e.opt.Policy)
		res.ScoreSet |= 1
	}
	var prob, odds float64
	var ran, usable bool
	if e.opt.Bayes != nil && e.opt.UseBayes && !limit.passed(BayesPhase) {
		var err error
		prob, odds, ran, usable, err = e.bayes(sctx, m, opt, res)
		if err != nil && sctx.Err() == nil {
			return nil, err
		}
		if err != nil {
			// Cut short by the limit: no Bayes result.
			prob, ran = 0, false
			limit.stop(BayesPhase)
		}
	}
	if usable {
		res.ScoreSet |= 2
	}
	if ran {
		res.Bayes, res.BayesOdds, res.BayesRan = prob, odds, true
	}
	if ran && !e.policyBayes {
		for _, name := range classifier.BandRules(prob) {
			def := e.bayesRules[name]
			res.Hits = append(res.Hits, Hit{Rule: name, Score: def.score[res.ScoreSet], Description: def.description,
				Area: "BODY: ", Details: []string{fmt.Sprintf("score: %3.4f", prob)}})
		}
	}
	if e.rules != nil && !limit.stopped {
		e.runRules(sctx, m, res, net, limit)
	}
	if limit.stopped {
		if err := ctx.Err(); errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("check: %w", err)
		}
		res.TimeLimitExceeded, res.TimeLimitRule = true, limit.at
		if h, ok := e.timeLimitHit(res.ScoreSet); ok && !hasHit(res, h.Rule) {
			res.Hits = append(res.Hits, h)
		}
	}
	for _, h := range res.Hits {
		res.Score += h.Score
	}
	res.Score = math.Round(res.Score*1000) / 1000
	return res, nil
}

// runRules runs the policy's rules over m and adds their hits to res,
// until limit passes: then only the hits of the rules finished before.
func (e *Engine) runRules(ctx context.Context, m *tokenizer.Message, res *Result, net NetScan, limit *scanLimit) {
	s := newScan(ctx, m, e.rules, e.opt.Policy, res.ScoreSet, res.Bayes, res.BayesRan)
	s.bayesOdds = res.BayesOdds
	s.countryDB = e.opt.Countries
	s.separate = e.opt.SeparatePatterns
	s.evalShared = e.evalShared
	s.net = net
	s.limit = limit
	s.startTaggedLookups()
	// Sub-rules run when a meta asks for them; rules scored 0 in this
	// score set do not run at all.
	scores := e.rules.listedScores
	for i, idx := range e.rules.listedIdx {
		if e.userRules == nil {
			// The site's rules: the dense score list says whether to
			// run the rule, and its Rule is only read for a hit.
			if scores[i][s.set] == 0 {
				continue
			}
			if s.valueAt(int(idx)) == 0 {
				continue
			}
		}
		c := e.rules.rules[idx]
		r := e.ruleOf(c)
		siteOnly := false
		if r.Scores[s.set] == 0 {
			if r == c.Rule || c.Scores[s.set] == 0 {
				continue
			}
			// Scored 0 by the user, not by the site: run for what the
			// site would see (SharedAutolearnDecision), not a hit.
			r, siteOnly = c.Rule, true
		}
		n := int(s.valueAt(c.idx))
		if n == 0 {
			continue
		}
		score := r.Scores[s.set]
		if r.Tflags.Multiple {
			score *= float64(n)
		}
		h := Hit{Rule: c.Name, Score: score, Description: r.Describe, Area: hitArea(c), rule: c, count: n}
		if siteOnly {
			res.siteOnly = append(res.siteOnly, h)
			continue
		}
		h.Details = s.details(c)
		res.Hits = append(res.Hits, h)
	}
}

// hitArea is the report's prefix to a rule's description, naming the
// part of the message a test looked at as SpamAssassin names it.
func hitArea(c *compiledRule) string {
	switch c.Kind {
	case cf.KindBody:
		return "BODY: "
	case cf.KindURI:
		return "URI: "
	case cf.KindRawbody:
		return "RAW: "
	case cf.KindFull:
		if c.Eval == nil {
			return "FULL: "
		}
	}
	return ""
}

// details are what the rule's evaluation logged for the report.
func (s *scan) details(c *compiledRule) []string {
	if c.bayes != nil {
		if c.bayesOdds {
			return []string{fmt.Sprintf("score: %3.4f", s.bayesOdds)}
		}
		return []string{fmt.Sprintf("score: %3.4f", s.bayes)}
	}
	if (c.eval != nil || c.net) && s.evalCtx != nil {
		return s.evalCtx.TestLogs(c.Name)
	}
	return nil
}

// bayes computes the Bayes probability of m; ran is false when the store
// has too little training or no token of m is decisive, and
// usable reports whether the store has enough training for Bayes to be
// used at all (which selects the score sets with the Bayes bit). A
// store that answers the seen index in the same round trip fills res's
// SeenChecked and Seen for opt.SeenIDs.
func (e *Engine) bayes(ctx context.Context, m *tokenizer.Message, opt CheckOptions, res *Result) (prob, odds float64, ran, usable bool, err error) {
	if e.opt.Bayes == nil || !e.opt.UseBayes {
		return 0, 0, false, false, nil
	}
	sc := opt.Scope
	p := e.opt.BayesParams
	var magic classifier.Magic
	var keys []tokenizer.Key
	var counts []classifier.Counts
	switch store := e.opt.Bayes.(type) {
	case classifier.ScanLookuper:
		// A network store: the counters, the tokens and the seen entry
		// in one round trip.
		keys = tokenizer.TokenKeys(m, e.opt.TokenOptions)
		counts = make([]classifier.Counts, len(keys))
		var seen classifier.Class
		if magic, seen, err = store.LookupScan(ctx, sc, keys, counts, opt.SeenIDs); err != nil {
			return noBayes(fmt.Errorf("bayes: look up tokens: %w", err))
		}
		if len(opt.SeenIDs) > 0 {
			res.SeenChecked, res.Seen = true, seen
		}
	case classifier.MagicLookuper:
		keys = tokenizer.TokenKeys(m, e.opt.TokenOptions)
		counts = make([]classifier.Counts, len(keys))
		if magic, err = store.LookupMagic(ctx, sc, keys, counts); err != nil {
			return noBayes(fmt.Errorf("bayes: look up tokens: %w", err))
		}
	default:
		if magic, err = store.Magic(ctx, sc); err != nil {
			return noBayes(fmt.Errorf("bayes: read counters: %w", err))
		}
		if magic.NSpam < p.MinSpam || magic.NHam < p.MinHam {
			return 0, 0, false, false, nil
		}
		keys = tokenizer.TokenKeys(m, e.opt.TokenOptions)
		counts = make([]classifier.Counts, len(keys))
		if err := store.Lookup(ctx, sc, keys, counts); err != nil {
			return noBayes(fmt.Errorf("bayes: look up tokens: %w", err))
		}
	}
	if magic.NSpam < p.MinSpam || magic.NHam < p.MinHam {
		return 0, 0, false, false, nil
	}
	prob, odds, used, ok := classifier.ClassifyOdds(magic.NSpam, magic.NHam, counts, p)
	if ok {
		if n, isNoter := e.opt.Bayes.(classifier.UsedNoter); isNoter {
			// SpamAssassin renews the tokens that decided the answer.
			usedKeys := make([]tokenizer.Key, len(used))
			for i, j := range used {
				usedKeys[i] = keys[j]
			}
			n.NoteUsed(sc, usedKeys)
		}
	}
	return prob, odds, ok, true, nil
}

// noBayes is the answer of a scan whose store failed: a store that
// cannot be reached (classifier.ErrUnavailable: Redis down or too slow)
// means no Bayes result and the score sets without the Bayes bit, as
// with an untrained store, and the scan goes on (the store logs and
// counts the outage); any other error fails the scan.
func noBayes(err error) (prob, odds float64, ran, usable bool, _ error) {
	if errors.Is(err, classifier.ErrUnavailable) {
		return 0, 0, false, false, nil
	}
	return 0, 0, false, false, err
}

// scanTokenOptions are the tokenizer settings of a scan: SpamAssassin
// tokenizes a message it scans slightly differently from one it learns.
func scanTokenOptions() tokenizer.TokenOptions {
	opt := tokenizer.DefaultTokenOptions()
	opt.Scan = true
	return opt
}

// LearnTokenOptions are the tokenizer settings for learning that go with
// a scan's (an engine's Options.TokenOptions): the same, but in learn
// mode.
func LearnTokenOptions(scan tokenizer.TokenOptions) tokenizer.TokenOptions {
	scan.Scan = false
	return scan
}
