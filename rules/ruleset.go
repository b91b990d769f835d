package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
	"github.com/gospamd/gospamd/rules/re"
)

// A compiledRule is one rule of a policy, ready to run.
type compiledRule struct {
	*cf.Rule
	re   *re.Regexp
	lits []string // lower-cased required literals of re; nil: none known
	// idx is the rule's index in its RuleSet's rules.
	idx int
	// kind is Rule.Kind, kept here so that a scan dispatches on it
	// without reading the Rule.
	kind cf.Kind
	// net marks an eval rule the engine's NetChecker answers; netCall
	// is the call it is asked (the rule's eval, or for an askdns rule
	// askdnsCall).
	net     bool
	netCall *cf.EvalCall
	// gate is set for a %{NAME} template rule (re is nil; its pattern is
	// compiled per scan from the capture tags): the pattern with every
	// %{NAME} as "any text", so that where it does not match no filling
	// can.
	gate *re.Regexp
	// pf is the rule's index in its kind's prefilter, -1 for none.
	pf int
	// si is the rule's index in its kind's pattern set, -1 for none.
	si int
	// hk is, for a header rule, the index of the header subject it
	// matches in its RuleSet's headerKeys; -1 for other rules.
	hk int
	// hsi is the rule's index in its header subject's pattern set
	// (RuleSet.headerSets[hk]), -1 for none.
	hsi int
	// hpf is the rule's index in its header subject's prefilter
	// (RuleSet.headerPrefilters[hk]), -1 for none.
	hpf int
	// mk is, for a mimeheader rule, the index of the header it matches
	// in its RuleSet's mimeKeys (-1 for other rules), and mpf its index
	// in that header's prefilter (RuleSet.mimePrefilters[mk]), -1 for
	// none.
	mk, mpf int
	meta    metaExpr
	eval    EvalFunc // for eval rules other than check_bayes
	// bayes is set for check_bayes rules: the band (lo, hi].
	bayes *[2]float64
	// bayesOdds is set for check_bayes_odds rules: the band is of
	// the mean log-odds answer (classifier.MeanLogOdds), not of
	// SpamAssassin's chi-square one.
	bayesOdds bool
}

// EvalFunc is an eval: function as the engine calls it (rules/eval
// holds the implementations).
type EvalFunc = eval.Func

// A RuleSet is a policy's rules compiled once: immutable, shared by every
// scan of the Engine that owns it.
type RuleSet struct {
	rules []*compiledRule // defined, runnable, in run order
	// listedIdx are the indexes in rules of the rules that are not
	// sub-rules, in run order: those a scan runs for hits (sub-rules
	// only run when a meta asks). listedScores are their scores, side
	// by side, so that a scan passes over the rules its score set
	// scores 0 without reading them.
	listedIdx    []int32
	listedScores [][4]float64
	byName       map[string]*compiledRule
	// prefilters find, in one pass over a text, the rules of a kind whose
	// literals it holds (body, rawbody, uri, full).
	prefilters map[cf.Kind]*re.Prefilter
	// sets match all the patterns of a kind (body, rawbody, uri, full)
	// in one walk over each text.
	sets map[cf.Kind]*re.Set
	// headerKeys are the header subjects that header rules match
	// (compiledRule.hk), and headerSets[i] the pattern set of the rules
	// on subject i that join one (nil: fewer than two).
	headerKeys []headerKey
	headerSets []*re.Set
	// headerPrefilters[i] finds, in one pass over subject i, which of
	// the rules on it that match alone (not in its set) hold their
	// literals (nil: no such rule has literals).
	headerPrefilters []*re.Prefilter
	// mimeKeys are the headers mimeheader rules match (the name, and
	// whether raw), and mimePrefilters[i] the prefilter of the rules
	// on header i that have literals.
	mimeKeys       []mimeKey
	mimePrefilters []*re.Prefilter
	Stats          CompileStats
	// Problems lists, file:line first, what could not be compiled or run.
	Problems []string
	// evalShared keeps what eval functions derive from the policy, for
	// all scans with this rule set.
	evalShared *eval.Shared
	// captureRules are, per capture tag name, the indexes of the rules
	// whose patterns set it with a named group (?<NAME>…).
	captureRules map[string][]int
}

// CompileStats count what compiling a policy did, for lint.
type CompileStats struct {
	Rules, Patterns, Compiled, Fallback, SkippedEvals, Errors int
	SkippedEvalNames                                          map[string]int
}

var rulesMatching = regexp.MustCompile(`rules_matching\(\s*([^)]*?)\s*\)`)

// compileRules compiles every defined rule of pol that this engine can
// run; evals resolves eval: functions.
func compileRules(pol *cf.Policy, evals func(name string) (EvalFunc, bool), net func(name string) bool, patterns *patternCache) *RuleSet {
	rs := &RuleSet{byName: map[string]*compiledRule{}, evalShared: eval.NewShared()}
	rs.Stats.SkippedEvalNames = map[string]int{}
	names := make([]string, 0, len(pol.Rules()))
	for _, r := range pol.Rules() {
		if r.Defined() {
			names = append(names, r.Name)
		}
	}
	problem := func(r *cf.Rule, format string, args ...any) {
		rs.Problems = append(rs.Problems, fmt.Sprintf("%s: %s: %s", r.Source, r.Name, fmt.Sprintf(format, args...)))
	}
	for _, r := range pol.Rules() {
		if !r.Defined() {
			continue
		}
		rs.Stats.Rules++
		c := &compiledRule{Rule: r, pf: -1, si: -1, hk: -1, hsi: -1, hpf: -1, mk: -1, mpf: -1}
		switch {
		case r.Kind == cf.KindMeta:
			expr := rulesMatching.ReplaceAllStringFunc(r.Meta, func(m string) string {
				glob := rulesMatching.FindStringSubmatch(m)[1]
				var hits []string
				for _, n := range names {
					if ok, _ := path.Match(glob, n); ok {
						hits = append(hits, n)
					}
				}
				if len(hits) == 0 {
					return "0"
				}
				return "(" + strings.Join(hits, " + ") + ")"
			})
			m, err := parseMeta(expr)
			if err != nil {
				rs.Stats.Errors++
				problem(r, "%v", err)
				continue
			}
			c.meta = m
		case r.Eval != nil:
			if r.Eval.Func == "check_bayes" || r.Eval.Func == "check_bayes_odds" {
				if b, ok := bayesBand(r.Eval.Args); ok {
					c.bayes, c.bayesOdds = &b, r.Eval.Func == "check_bayes_odds"
					break
				}
				rs.Stats.Errors++
				problem(r, "%s needs two numbers", r.Eval.Func)
				continue
			}
			fn, ok := evals(r.Eval.Func)
			if !ok && net != nil && net(r.Eval.Func) {
				c.net, c.netCall = true, r.Eval
				break
			}
			if !ok {
				rs.Stats.SkippedEvals++
				rs.Stats.SkippedEvalNames[r.Eval.Func]++
				continue
			}
			c.eval = fn
		case r.HasPattern() && len(r.Pattern.Templates) > 0:
			// A %{NAME} template rule is compiled during a scan, with the
			// captured values in place; here its pattern is checked with a
			// stand-in.
			rs.Stats.Patterns++
			gate, _, _, err := patterns.compile(templateGate(r.Pattern.Expr, r.Pattern.Templates), r.Pattern.Flags)
			if err != nil {
				rs.Stats.Errors++
				problem(r, "pattern %s: %v", r.Pattern.Source, err)
				continue
			}
			rs.Stats.Compiled++
			c.gate = gate
		case r.HasPattern():
			rs.Stats.Patterns++
			m, lits, engine, err := patterns.compile(r.Pattern.Expr, r.Pattern.Flags)
			if err != nil {
				rs.Stats.Errors++
				problem(r, "pattern %s: %v", r.Pattern.Source, err)
				continue
			}
			rs.Stats.Compiled++
			if engine != "re2" {
				rs.Stats.Fallback++
			}
			c.re = m
			c.lits = lits
		case r.Kind == cf.KindAskDNS && net != nil && net(AskDNSEval):
			// An askdns rule is answered by the NetChecker as a call of
			// the pseudo-eval AskDNSEval, the rule's name telling which.
			c.net, c.netCall = true, &cf.EvalCall{Func: AskDNSEval}
		case r.Kind == cf.KindHeader && r.Header.Exists:
		default:
			continue // reuse, askdns, uri_detail: not run here
		}
		rs.rules = append(rs.rules, c)
		rs.byName[r.Name] = c
	}
	// A meta is done when the last of its dependencies is: it takes its
	// place (and its hit its place in the report) after them, as in
	// SpamAssassin, even when its own priority is lower.
	done := map[string]int{}
	var doneAt func(c *compiledRule, depth int) int
	doneAt = func(c *compiledRule, depth int) int {
		if p, ok := done[c.Name]; ok {
			return p
		}
		p := c.Priority
		if c.meta != nil && depth < 64 {
			for _, d := range c.MetaDeps {
				if dc := rs.byName[d]; dc != nil {
					p = max(p, doneAt(dc, depth+1))
				}
			}
		}
		done[c.Name] = p
		return p
	}
	slices.SortStableFunc(rs.rules, func(a, b *compiledRule) int {
		if pa, pb := doneAt(a, 0), doneAt(b, 0); pa != pb {
			return pa - pb
		}
		return runPhase(a.Rule) - runPhase(b.Rule)
	})
	// The compiled rules live side by side in run order: a scan reads
	// them one after another, and scattered over the heap among the
	// patterns' automata each read was a cache miss.
	slab := make([]compiledRule, len(rs.rules))
	for i, c := range rs.rules {
		slab[i] = *c
		slab[i].kind = c.Kind
		rs.rules[i] = &slab[i]
		rs.byName[c.Name] = &slab[i]
	}
	for i, c := range rs.rules {
		c.idx = i
		if !c.IsSubRule() {
			rs.listedIdx = append(rs.listedIdx, int32(i))
			rs.listedScores = append(rs.listedScores, c.Scores)
		}
		if c.re != nil && c.Pattern.Captures {
			for _, name := range c.re.CaptureNames() {
				if rs.captureRules == nil {
					rs.captureRules = map[string][]int{}
				}
				rs.captureRules[name] = append(rs.captureRules[name], i)
			}
		}
	}
	for _, c := range rs.rules {
		if c.meta != nil {
			resolveMeta(c.meta, func(name string) (int, bool) {
				d, ok := rs.byName[name]
				if !ok {
					return 0, false
				}
				return d.idx, true
			})
		}
	}
	rs.buildPrefilters()
	rs.buildHeaderSets()
	rs.buildMIMEPrefilters()
	return rs
}

// runPhase orders the rules of one priority as SpamAssassin runs them,
// which is the order their hits are reported in: MIME-part headers,
// header tests, header evals, body tests, uri tests, body evals, rawbody
// tests and evals, full tests and evals, and metas last.
func runPhase(r *cf.Rule) int {
	eval := 0
	if r.Eval != nil {
		eval = 1
	}
	switch r.Kind {
	case cf.KindMIMEHeader:
		return 0
	case cf.KindHeader:
		return 1 + eval
	case cf.KindBody:
		if eval == 1 {
			return 5
		}
		return 3
	case cf.KindURI:
		return 4
	case cf.KindRawbody:
		return 6 + eval
	case cf.KindFull:
		return 8 + eval
	case cf.KindMeta:
		return 11
	}
	return 10
}

// buildPrefilters makes, per text kind, one Aho-Corasick prefilter over
// the literals of that kind's patterns, and one pattern set over those
// without literals that join a set well (re.Regexp.SetFriendly). The
// prefilter leaves few patterns with literals to match on a text; those
// without literals would each walk every text, and the set walks it
// once for all of them. The others, and all of them with
// Options.SeparatePatterns, are matched one by one.
//
// The full kind has one text, the whole message, whose literals the
// prefilter nearly always finds (Content-Type, Subject, ...): every
// full pattern a set can run joins its set, so that the message is
// walked once for all of them, not once per pattern.
func (rs *RuleSet) buildPrefilters() {
	byKind := map[cf.Kind][]*re.Regexp{}
	setKind := map[cf.Kind][]*re.Regexp{}
	for _, c := range rs.rules {
		r := c.re
		if r == nil {
			continue
		}
		switch c.Kind {
		case cf.KindBody, cf.KindRawbody, cf.KindURI, cf.KindFull:
		default:
			continue
		}
		if r.SetFriendly() && c.lits == nil || c.Kind == cf.KindFull && r.SetJoinable() {
			c.si = len(setKind[c.Kind])
			setKind[c.Kind] = append(setKind[c.Kind], r)
		}
		if c.lits != nil {
			c.pf = len(byKind[c.Kind])
			byKind[c.Kind] = append(byKind[c.Kind], r)
		}
	}
	rs.prefilters = map[cf.Kind]*re.Prefilter{}
	for k, rx := range byKind {
		rs.prefilters[k] = re.NewPrefilter(rx)
	}
	rs.sets = map[cf.Kind]*re.Set{}
	for k, rx := range setKind {
		rs.sets[k] = re.NewSet(rx)
	}
}

// buildHeaderSets numbers the header subjects of the header rules and
// joins, per subject, the patterns of the rules on it that join a set
// well (re.Regexp.SetFriendly) into one pattern set: a message's Subject
// (or To, or ALL) is then walked once for all the rules on it, not once
// per rule. Patterns with long counted repeats stay out: with them the
// sets' states kept being rebuilt (the stock rules' ALL header), which
// cost more CPU than their separate walks. A subject with a single such
// rule gets no set. The rules left to match alone that have literals
// get, per subject, a prefilter: one pass over the subject tells which
// of them may match, and the others are not walked at all.
func (rs *RuleSet) buildHeaderSets() {
	ids := map[headerKey]int{}
	var members, alone [][]*compiledRule
	for _, c := range rs.rules {
		if c.Kind != cf.KindHeader {
			continue
		}
		k := headerKeyOf(c.Header)
		id, ok := ids[k]
		if !ok {
			id = len(rs.headerKeys)
			ids[k] = id
			rs.headerKeys = append(rs.headerKeys, k)
			members = append(members, nil)
			alone = append(alone, nil)
		}
		c.hk = id
		if c.re == nil || c.eval != nil || c.meta != nil || c.net || c.gate != nil || c.Header.Exists {
			continue
		}
		if c.re.SetFriendly() {
			members[id] = append(members[id], c)
		} else if c.lits != nil {
			alone[id] = append(alone[id], c)
		}
	}
	rs.headerSets = make([]*re.Set, len(rs.headerKeys))
	rs.headerPrefilters = make([]*re.Prefilter, len(rs.headerKeys))
	for id, cs := range members {
		if len(cs) < 2 {
			// Matched alone, with the prefilter when it has literals.
			for _, c := range cs {
				if c.lits != nil {
					alone[id] = append(alone[id], c)
				}
			}
			continue
		}
		rs.headerSets[id] = re.NewSet(numbered(cs, func(c *compiledRule) *int { return &c.hsi }))
	}
	for id, cs := range alone {
		if len(cs) == 0 {
			continue
		}
		rs.headerPrefilters[id] = re.NewPrefilter(numbered(cs, func(c *compiledRule) *int { return &c.hpf }))
	}
}

// A mimeKey is a header of the MIME parts that mimeheader rules match:
// its name, and whether they match it raw.
type mimeKey struct {
	name string
	raw  bool
}

// buildMIMEPrefilters numbers the headers that mimeheader rules match
// and gives, per header, the rules on it that have literals a
// prefilter: one pass over each value tells which of them may match
// it.
func (rs *RuleSet) buildMIMEPrefilters() {
	ids := map[mimeKey]int{}
	var withLits [][]*compiledRule
	for _, c := range rs.rules {
		if c.Kind != cf.KindMIMEHeader || c.re == nil || c.eval != nil || c.meta != nil || c.net || c.gate != nil {
			continue
		}
		k := mimeKey{name: c.Header.Name, raw: c.Header.HasModifier("raw")}
		id, ok := ids[k]
		if !ok {
			id = len(rs.mimeKeys)
			ids[k] = id
			rs.mimeKeys = append(rs.mimeKeys, k)
			withLits = append(withLits, nil)
		}
		c.mk = id
		if c.lits != nil {
			withLits[id] = append(withLits[id], c)
		}
	}
	rs.mimePrefilters = make([]*re.Prefilter, len(rs.mimeKeys))
	for id, cs := range withLits {
		if len(cs) == 0 {
			continue
		}
		rs.mimePrefilters[id] = re.NewPrefilter(numbered(cs, func(c *compiledRule) *int { return &c.mpf }))
	}
}

// numbered gives each rule of cs its place in cs, in the index slot
// returns, and returns their patterns in that order: the members of one
// pattern set or prefilter.
func numbered(cs []*compiledRule, slot func(*compiledRule) *int) []*re.Regexp {
	rx := make([]*re.Regexp, len(cs))
	for i, c := range cs {
		*slot(c) = i
		rx[i] = c.re
	}
	return rx
}

func bayesBand(args []string) ([2]float64, bool) {
	var b [2]float64
	if len(args) != 2 {
		return b, false
	}
	for i, a := range args {
		if _, err := fmt.Sscan(a, &b[i]); err != nil {
			return b, false
		}
	}
	return b, true
}
