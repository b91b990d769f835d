package rules

import (
	"context"
	"strings"
	"time"

	"github.com/gospamd/gospamd/internal/ascii"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
	"github.com/gospamd/gospamd/rules/re"
	"github.com/gospamd/gospamd/tokenizer"
)

// A scan is the state of one message's check: what each rule found, and
// the texts rules look at, built once on first use.
type scan struct {
	ctx      context.Context
	msg      *tokenizer.Message
	rs       *RuleSet
	set      int // score set
	bayes    float64
	bayesRan bool
	// bayesOdds is the second Bayes answer (Result.BayesOdds).
	bayesOdds float64

	// valueFn is valueAt, made once per scan for the metas (a method
	// value made at each call was an allocation per meta).
	valueFn func(idx int) float64
	// counts are the rules' hit counts by index: -1 not run yet, -2
	// running (a meta cycle reads 0).
	counts []int32
	relays *tokenizer.RelayHeaders
	// countries are the RelayCountry pseudo-headers, worked out on first
	// use.
	countries *RelayCountries
	countryDB CountryDB
	full      string
	policy    *cf.Policy
	// evalShared is the engine's: what eval functions derive from policy.
	evalShared *eval.Shared
	evalCtx    *eval.Context
	// separate: match patterns one by one (Options.SeparatePatterns).
	separate bool
	// cand are per kind which rules may match each text: the pattern
	// set's answers. pfHits are per kind, by index in the kind's
	// prefilter, the texts (increasing) that hold a literal of the
	// rule.
	cand   map[cf.Kind]*candidates
	pfHits map[cf.Kind][][]int32
	raw    []string // rawbody lines, once built
	// texts are each kind's texts prepared for matching, once built.
	texts map[cf.Kind][]*re.Text
	// headers caches header rules' subjects, by RuleSet.headerKeys
	// index.
	headers []headerSubject
	// headerCand are, by header subject, the answers of its pattern set
	// on the subject (RuleSet.headerSets); nil until asked.
	headerCand []*candidates
	// headerPf are, by header subject, the answers of its prefilter on
	// the subject (RuleSet.headerPrefilters); nil until asked.
	headerPf [][]bool
	// mime holds, by RuleSet.mimeKeys index, the values of that header
	// in every MIME part and its prefilter's answers on them; nil
	// until asked.
	mime []*mimeValues
	// tags are the capture tags set so far (see capture.go).
	tags map[string][]string
	// net answers the net eval rules; nil without network tests.
	net NetScan
	// limit says when to stop (see timelimit.go); never nil.
	limit *scanLimit
}

// headerKey names what a header rule matches: a header (or pseudo
// header) in one form.
type headerKey struct {
	name                             string
	raw, addr, nameOnly, first, last bool
}

// headerKeyOf is the header subject h matches.
func headerKeyOf(h cf.HeaderTest) headerKey {
	return headerKey{name: h.Name, raw: h.HasModifier("raw"), addr: h.HasModifier("addr"), nameOnly: h.HasModifier("name"),
		first: h.HasModifier("first"), last: h.HasModifier("last")}
}

// headerSubject is a header subject's text; text is nil until built.
type headerSubject struct {
	text    *re.Text
	present bool
}

// newScan prepares the scan of m with the rules of rs.
func newScan(ctx context.Context, m *tokenizer.Message, rs *RuleSet, pol *cf.Policy, set int, bayes float64, bayesRan bool) *scan {
	s := &scan{ctx: ctx, msg: m, rs: rs, set: set, bayes: bayes, bayesRan: bayesRan, policy: pol, evalShared: rs.evalShared, limit: &scanLimit{}}
	s.initCounts()
	return s
}

func (s *scan) initCounts() {
	s.counts = make([]int32, len(s.rs.rules))
	for i := range s.counts {
		s.counts[i] = -1
	}
}

// evalContext is the eval functions' view of this scan, made on first
// use (it caches what several functions share).
func (s *scan) evalContext() *eval.Context {
	if s.evalCtx == nil {
		s.evalCtx = &eval.Context{Msg: s.msg, Policy: s.policy, Now: time.Now(), Shared: s.evalShared}
	}
	return s.evalCtx
}

// candidates are, for each text of a kind, which of the kind's rules
// may match it: the answers of its pattern set (or, matching patterns
// separately, of its prefilter).
type candidates struct {
	may []bool // text i's answers at may[i*width:]
	// exact[i]: the set's yes for text i is the answer for patterns on
	// RE2.
	exact []bool
	width int
	set   *re.Set // nil for the prefilter's
}

// at returns text i's answer for the rule at index j (its si or pf).
func (c *candidates) at(i, j int) bool { return c.may[i*c.width+j] }

// exactHit reports whether the yes of text i for the rule at index j
// (its si) is the pattern's answer.
func (c *candidates) exactHit(i, j int) bool {
	return c.set != nil && c.exact[i] && c.set.Exact(j)
}

// walked reports whether the yes of text i for the rule at index j (its
// si) comes from a walk of the pattern's dfa on that text.
func (c *candidates) walked(i, j int) bool {
	return c.set != nil && c.exact[i] && c.set.Walked(j)
}

// candidates returns which of kind's rules in its pattern set may match
// each of its texts (one walk of the set per text).
func (s *scan) candidates(kind cf.Kind) *candidates {
	if c, ok := s.cand[kind]; ok {
		return c
	}
	c := &candidates{}
	if set := s.rs.sets[kind]; set != nil {
		texts := s.preparedTexts(kind)
		c.set, c.width = set, set.Len()
		c.may = make([]bool, len(texts)*c.width)
		c.exact = make([]bool, len(texts))
		for i, t := range texts {
			c.exact[i] = set.Match(t, c.may[i*c.width:(i+1)*c.width])
		}
	}
	if s.cand == nil {
		s.cand = map[cf.Kind]*candidates{}
	}
	s.cand[kind] = c
	return c
}

// prefiltered returns, by index in kind's prefilter, the texts of kind
// (indexes, increasing) that hold one of the rule's literals (one
// Aho-Corasick pass per text). A rule without literals (Prefilter.Always)
// may match every text; its entry is nil.
func (s *scan) prefiltered(kind cf.Kind) [][]int32 {
	if h, ok := s.pfHits[kind]; ok {
		return h
	}
	var hits [][]int32
	if pf := s.rs.prefilters[kind]; pf != nil {
		hits = make([][]int32, pf.Len())
		for i, t := range s.kindTexts(kind) {
			at := int32(i)
			pf.Hits(t, func(r int32) {
				if h := hits[r]; len(h) == 0 || h[len(h)-1] != at {
					hits[r] = append(h, at)
				}
			})
		}
	}
	if s.pfHits == nil {
		s.pfHits = map[cf.Kind][][]int32{}
	}
	s.pfHits[kind] = hits
	return hits
}

// valueAt is the meta value of the rule of index idx: its hit count,
// running it if needed. Once the time limit passed, rules not run (or
// cut short) are worth 0 and are not run.
func (s *scan) valueAt(idx int) float64 {
	if s.counts == nil {
		s.initCounts()
	}
	switch n := s.counts[idx]; n {
	case -1:
	case -2:
		return 0 // a meta cycle
	default:
		return float64(n)
	}
	c := s.rs.rules[idx]
	if s.limit.passedRule(c) {
		return 0 // not run
	}
	s.counts[idx] = -2
	n := s.run(c)
	if s.limit.stopped {
		// The limit passed while c ran: its count is incomplete, as is
		// a meta's over a rule cut short. Left as not run.
		s.counts[idx] = -1
		return 0
	}
	if n > 0 && c.re != nil && c.Pattern.Captures {
		s.setCaptures(c)
	}
	s.counts[idx] = int32(n)
	return float64(n)
}

// run evaluates one rule and returns its hit count.
func (s *scan) run(c *compiledRule) int {
	// As in SpamAssassin, a score set without network tests (0 and 2)
	// skips the eval rules flagged net (DNS lookups); net metas and
	// patterns still run, seeing the skipped rules as not hit.
	if (c.eval != nil || c.net) && c.Tflags.Net && s.set&1 == 0 {
		return 0
	}
	switch {
	case c.net:
		if s.net == nil {
			return 0
		}
		hit, details := s.net.Eval(s.ctx, c.Name, c.netCall)
		if s.ctx.Err() != nil {
			// A lookup unanswered by the deadline, not a miss. (The
			// context, not the limit's flag, which its AfterFunc may
			// not have set yet.)
			s.limit.stop(c.Name)
			return 0
		}
		if hit {
			ctx := s.evalContext()
			ctx.Evaluating(c.Name)
			for _, d := range details {
				ctx.TestLog(d)
			}
		}
		return boolCount(hit)
	case c.gate != nil:
		return s.runTemplate(c)
	case c.meta != nil:
		if s.valueFn == nil {
			s.valueFn = s.valueAt
		}
		return boolCount(c.meta.evalAt(s.valueFn) != 0)
	case c.bayes != nil:
		if !s.bayesRan {
			return 0
		}
		lo, hi, p := c.bayes[0], c.bayes[1], s.bayes
		if c.bayesOdds {
			p = s.bayesOdds
		}
		return boolCount((lo == 0 || p > lo) && p <= hi)
	case c.eval != nil:
		ctx := s.evalContext()
		ctx.Evaluating(c.Name)
		ok, err := c.eval(ctx, c.Eval.Args)
		return boolCount(err == nil && ok)
	}
	switch c.kind {
	case cf.KindHeader:
		return s.runHeader(c)
	case cf.KindBody:
		return s.matchEachFiltered(c, cf.KindBody, c.Tflags.NoSubject)
	case cf.KindRawbody, cf.KindURI, cf.KindFull:
		return s.matchEachFiltered(c, c.kind, false)
	case cf.KindMIMEHeader:
		return s.runMIMEHeader(c)
	}
	return 0
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}

// kindTexts are the texts rules of kind match, one by one: the body
// lines (Subject first), the rawbody lines, the URIs or the full message.
func (s *scan) kindTexts(kind cf.Kind) []string {
	switch kind {
	case cf.KindBody:
		return s.msg.Rendered
	case cf.KindRawbody:
		return s.rawbody()
	case cf.KindURI:
		return s.msg.URIs
	case cf.KindFull:
		return []string{s.fullText()}
	}
	return nil
}

// preparedTexts are kindTexts prepared for matching, once per scan.
func (s *scan) preparedTexts(kind cf.Kind) []*re.Text {
	if t, ok := s.texts[kind]; ok {
		return t
	}
	raw := s.kindTexts(kind)
	out := make([]*re.Text, len(raw))
	for i, t := range raw {
		out[i] = re.NewText(t)
	}
	if s.texts == nil {
		s.texts = map[cf.Kind][]*re.Text{}
	}
	s.texts[kind] = out
	return out
}

// matchEachFiltered is matchEach over the texts of kind that contain one
// of c's required literals (all of them when it has none); skipFirst
// leaves out the first text (the Subject line of the body).
func (s *scan) matchEachFiltered(c *compiledRule, kind cf.Kind, skipFirst bool) int {
	if c.re == nil {
		return 0
	}
	texts := s.preparedTexts(kind)
	start := 0
	if skipFirst && len(texts) > 0 {
		start = 1
	}
	var cand *candidates
	var j int
	switch {
	case !s.separate && c.si >= 0:
		cand, j = s.candidates(kind), c.si
	case c.pf >= 0 && !s.rs.prefilters[kind].Always(c.pf):
		// Only the texts that hold one of its literals.
		n := 0
		for _, i := range s.prefiltered(kind)[c.pf] {
			if int(i) < start {
				continue
			}
			var done bool
			if n, done = s.matchText(c, texts[i], n, false, true); done {
				break
			}
		}
		return n
	default:
		return s.matchEach(c, texts[start:])
	}
	n := 0
	for i := start; i < len(texts); i++ {
		if !cand.at(i, j) {
			continue
		}
		if !c.Tflags.Multiple && cand.exactHit(i, j) {
			// The set's yes is the pattern's.
			if s.limit.passed(c.Name) {
				return n
			}
			return 1
		}
		var done bool
		if n, done = s.matchText(c, texts[i], n, cand.walked(i, j), false); done {
			break
		}
	}
	return n
}

// matchEach counts matches of c's pattern over texts: once at most, or,
// with tflags multiple, every match up to maxhits.
func (s *scan) matchEach(c *compiledRule, texts []*re.Text) int {
	if c.re == nil {
		return 0
	}
	n := 0
	for _, t := range texts {
		var done bool
		if n, done = s.matchOne(c, t, n); done {
			break
		}
	}
	return n
}

// matchOne adds the matches of c's pattern in t to the count n so far;
// done is true when no more texts are needed: the count is final, or
// the time limit passed (the scan then discards the count).
func (s *scan) matchOne(c *compiledRule, t *re.Text, n int) (count int, done bool) {
	return s.matchText(c, t, n, false, false)
}

// matchText is matchOne; walked says c's pattern set walked the
// pattern's dfa on t and said it may match, so that it is not walked
// again, and lits that c's prefilter found one of its literals in t.
func (s *scan) matchText(c *compiledRule, t *re.Text, n int, walked, lits bool) (count int, done bool) {
	if s.limit.passedRule(c) {
		return n, true
	}
	match, findAll := c.re.MatchTextBefore, c.re.FindAllTextIndexBefore
	switch {
	case walked:
		match, findAll = c.re.MatchSetCandidateBefore, c.re.FindAllSetCandidateIndexBefore
	case lits:
		match, findAll = c.re.MatchLiteralCandidateBefore, c.re.FindAllLiteralCandidateIndexBefore
	}
	if !c.Tflags.Multiple {
		ok, err := match(t, s.limit.deadline)
		if err != nil {
			s.limit.stop(c.Name)
			return n, true
		}
		if ok {
			return 1, true
		}
		return n, false
	}
	limit := -1
	if c.Tflags.MaxHits > 0 {
		limit = c.Tflags.MaxHits - n
	}
	found, err := findAll(t, limit, s.limit.deadline)
	n += len(found)
	if err != nil {
		s.limit.stop(c.Name)
		return n, true
	}
	if c.Tflags.MaxHits > 0 && n >= c.Tflags.MaxHits {
		return c.Tflags.MaxHits, true
	}
	return n, false
}

func (s *scan) runHeader(c *compiledRule) int {
	h := c.Header
	subj := s.headerSubject(c)
	if h.Exists {
		return boolCount(subj.present)
	}
	if c.re == nil {
		return 0
	}
	var ok bool
	var err error
	switch {
	case !subj.present:
		// An absent header is matched as its [if-unset: …] text, else
		// as the empty string, as SpamAssassin matches it.
		ok, err = c.re.MatchTextBefore(re.NewText(h.IfUnset), s.limit.deadline)
	case c.hsi >= 0 && !s.separate:
		cand := s.headerCandidates(c.hk, subj.text)
		switch {
		case !cand.at(0, c.hsi):
		case cand.exactHit(0, c.hsi):
			ok = true
		case cand.walked(0, c.hsi):
			ok, err = c.re.MatchSetCandidateBefore(subj.text, s.limit.deadline)
		default:
			ok, err = c.re.MatchTextBefore(subj.text, s.limit.deadline)
		}
	case c.hpf >= 0 && !s.headerPrefiltered(c.hk, subj.text)[c.hpf]:
		// None of its literals is in the subject: no match.
	case c.hpf >= 0:
		ok, err = c.re.MatchLiteralCandidateBefore(subj.text, s.limit.deadline)
	default:
		ok, err = c.re.MatchTextBefore(subj.text, s.limit.deadline)
	}
	if err != nil {
		s.limit.stop(c.Name)
		return 0
	}
	return boolCount(ok != h.Negate)
}

// headerSubject is headerValue of header rule c prepared for matching,
// once per scan for every rule on the same header subject.
func (s *scan) headerSubject(c *compiledRule) headerSubject {
	if s.headers == nil {
		s.headers = make([]headerSubject, len(s.rs.headerKeys))
	}
	v := &s.headers[c.hk]
	if v.text == nil {
		val, present := s.headerValue(c.Header)
		*v = headerSubject{text: re.NewText(val), present: present}
	}
	return *v
}

// headerCandidates returns the answers of the pattern set of header
// subject hk on its text t (one text: index 0), walking the set on the
// first call.
func (s *scan) headerCandidates(hk int, t *re.Text) *candidates {
	if s.headerCand == nil {
		s.headerCand = make([]*candidates, len(s.rs.headerKeys))
	}
	if c := s.headerCand[hk]; c != nil {
		return c
	}
	set := s.rs.headerSets[hk]
	c := &candidates{set: set, width: set.Len(), may: make([]bool, set.Len())}
	c.exact = []bool{set.Match(t, c.may)}
	s.headerCand[hk] = c
	return c
}

// mimeValues are the values of one header (mimeKey) in the MIME parts,
// prepared for matching, and the answers of its prefilter on each
// (nil without one).
type mimeValues struct {
	texts []*re.Text
	may   [][]bool
}

// runMIMEHeader counts the matches of mimeheader rule c over the values
// of its header in every MIME part, leaving out those its prefilter
// says it cannot match.
func (s *scan) runMIMEHeader(c *compiledRule) int {
	if c.re == nil {
		return 0
	}
	v := s.mimeValues(c)
	n := 0
	for i, t := range v.texts {
		if c.mpf >= 0 && !v.may[i][c.mpf] {
			continue
		}
		var done bool
		if n, done = s.matchText(c, t, n, false, c.mpf >= 0); done {
			break
		}
	}
	return n
}

// mimeValues returns the values mimeheader rule c matches, once per
// scan for every rule on the same header.
func (s *scan) mimeValues(c *compiledRule) *mimeValues {
	if s.mime == nil {
		s.mime = make([]*mimeValues, len(s.rs.mimeKeys))
	}
	if v := s.mime[c.mk]; v != nil {
		return v
	}
	k := s.rs.mimeKeys[c.mk]
	v := &mimeValues{}
	pf := s.rs.mimePrefilters[c.mk]
	for _, p := range s.msg.Parts {
		for _, val := range p.Header.Values(k.name) {
			if !k.raw {
				val = strings.TrimSpace(val)
			}
			v.texts = append(v.texts, re.NewText(val))
			if pf != nil {
				may := make([]bool, pf.Len())
				pf.Candidates(val, may)
				v.may = append(v.may, may)
			}
		}
	}
	s.mime[c.mk] = v
	return v
}

// headerPrefiltered returns the answers of the prefilter of header
// subject hk on its text t, running it on the first call.
func (s *scan) headerPrefiltered(hk int, t *re.Text) []bool {
	if s.headerPf == nil {
		s.headerPf = make([][]bool, len(s.rs.headerKeys))
	}
	if may := s.headerPf[hk]; may != nil {
		return may
	}
	pf := s.rs.headerPrefilters[hk]
	may := make([]bool, pf.Len())
	pf.Candidates(t.String(), may)
	s.headerPf[hk] = may
	return may
}

// headerValue is what a header rule matches against: every field of that
// name, decoded (or raw with :raw), each ending in a newline; pseudo
// headers ALL, ALL-TRUSTED and the like, EnvelopeFrom, ToCc, MESSAGEID and
// the relay metadata as SpamAssassin provides them; :first and :last keep
// one field; :addr and :name give every address (display name) of the
// fields, one per line.
func (s *scan) headerValue(h cf.HeaderTest) (string, bool) {
	raw := h.HasModifier("raw")
	addrOrName := h.HasModifier("addr") || h.HasModifier("name")
	var vals []string
	// The pseudo-headers are spelt exactly (SpamAssassin compares them
	// case-sensitively): a header named "MessageID" is just that header.
	switch name := h.Name; {
	case name == "ALL" && raw:
		v := pristineFields(s.msg.RawHeader)
		return v, v != ""
	case name == "ALL":
		return headerBlock(s.msg.Header, raw), len(s.msg.Header) > 0
	case name == "ALL-TRUSTED", name == "ALL-INTERNAL", name == "ALL-UNTRUSTED", name == "ALL-EXTERNAL":
		fields := s.msg.ScopedFields(allScope(name))
		return headerBlock(fields, raw), len(fields) > 0
	case strings.EqualFold(name, "EnvelopeFrom"):
		if e := s.evalContext().EnvelopeFrom(); e != "" {
			vals = []string{e}
		}
	case name == "ToCc":
		vals = append(s.fieldValues("To", raw), s.fieldValues("Cc", raw)...)
	case name == "MESSAGEID":
		for _, n := range []string{"X-Message-Id", "Resent-Message-Id", "X-Original-Message-ID", "Message-Id"} {
			vals = append(vals, s.fieldValues(n, raw)...)
		}
	case ascii.HasPrefixFold(name, "x-relay-countries"):
		v, ok := s.relayCountries().header(name)
		if !ok {
			vals = s.fieldValues(h.Name, raw || addrOrName)
			break
		}
		return v, s.countryDB != nil
	case ascii.HasPrefixFold(name, "x-spam-relays-"):
		if s.relays == nil {
			rh := s.msg.RelayHeaders()
			s.relays = &rh
		}
		// Compared as strings.ToLower(name) would be: ASCII letters
		// folded, nothing else.
		is := func(suffix string) bool {
			rest := name[len("x-spam-relays-"):]
			return len(rest) == len(suffix) && ascii.HasPrefixFold(rest, suffix)
		}
		var v string
		switch {
		case is("trusted"):
			v = s.relays.Trusted
		case is("untrusted"):
			v = s.relays.Untrusted
		case is("internal"):
			v = s.relays.Internal
		case is("external"):
			v = s.relays.External
		}
		return v, true
	default:
		vals = s.fieldValues(h.Name, raw || addrOrName)
	}
	if len(vals) == 0 {
		return "", false
	}
	if h.HasModifier("first") {
		vals = vals[:1]
	} else if h.HasModifier("last") {
		vals = vals[len(vals)-1:]
	}
	if addrOrName {
		var out []string
		for _, v := range vals {
			if h.HasModifier("addr") {
				out = append(out, tokenizer.HeaderAddresses(v)...)
			} else {
				out = append(out, tokenizer.HeaderNames(v, !raw)...)
			}
		}
		return strings.Join(out, "\n"), len(out) > 0
	}
	return strings.Join(vals, "\n") + "\n", true
}

// allScope is the relay scope of the pseudo-header ALL-TRUSTED,
// ALL-INTERNAL, ALL-UNTRUSTED or ALL-EXTERNAL.
func allScope(name string) tokenizer.RelayScope {
	switch name {
	case "ALL-INTERNAL":
		return tokenizer.ScopeInternal
	case "ALL-UNTRUSTED":
		return tokenizer.ScopeUntrusted
	case "ALL-EXTERNAL":
		return tokenizer.ScopeExternal
	}
	return tokenizer.ScopeTrusted
}

func (s *scan) fieldValues(name string, raw bool) []string {
	var vals []string
	for _, f := range s.msg.Header {
		if strings.EqualFold(f.Name, name) {
			if raw {
				vals = append(vals, strings.TrimLeft(f.Raw, " \t"))
			} else {
				vals = append(vals, f.Value)
			}
		}
	}
	return vals
}

// rawbody is the decoded text of every text part, HTML markup kept, in
// SpamAssassin's chunks of 2–4 KB (many lines each).
func (s *scan) rawbody() []string {
	if s.raw == nil {
		s.raw = append([]string{}, s.msg.DecodedBody(tokenizer.RawbodyPartScanSize)...)
	}
	return s.raw
}

// fullText is the message as received (SpamAssassin's get_pristine):
// the header block as read and the body.
func (s *scan) fullText() string {
	if s.full == "" {
		s.full = s.msg.RawHeader + string(s.msg.Body)
	}
	return s.full
}

// headerBlock is fields as the ALL pseudo-headers give them: one
// "Name: value" line per field, or with raw each field as written.
func headerBlock(fields []tokenizer.Field, raw bool) string {
	n := 0
	for _, f := range fields {
		if raw {
			n += len(f.Name) + len(f.Raw) + 2
		} else {
			n += len(f.Name) + len(f.Value) + 3
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(f.Name)
		if raw {
			b.WriteByte(':')
			b.WriteString(f.Raw)
		} else {
			b.WriteString(": ")
			b.WriteString(f.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// pristineFields is ALL:raw, the fields of the header block as read
// (SpamAssassin's /^([^ \t].*?\n)(?![ \t])/ over pristine_headers): each
// line that starts a field with its continuation lines, untouched; lines
// that continue nothing, the closing blank line and a last line without a
// line ending left out.
func pristineFields(h string) string {
	var b strings.Builder
	b.Grow(len(h))
	start := -1 // where the field being read starts in h, or -1
	for p := 0; p < len(h); {
		end := strings.IndexByte(h[p:], '\n')
		if end < 0 {
			// A last line without its ending: the field it is part
			// of is no match.
			if c := h[p]; c != ' ' && c != '\t' && start >= 0 {
				b.WriteString(h[start:p])
			}
			start = -1
			break
		}
		end += p + 1
		switch c := h[p]; {
		case c == ' ' || c == '\t':
		case start >= 0:
			b.WriteString(h[start:p])
			start = -1
			fallthrough
		default:
			if h[p:end] != "\n" {
				start = p
			}
		}
		p = end
	}
	if start >= 0 {
		b.WriteString(h[start:])
	}
	return b.String()
}
