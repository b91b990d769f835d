package rules

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
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

	hits     map[string]int // rule name → hit count (0 = ran, no hit)
	visiting map[string]bool
	relays   *tokenizer.RelayHeaders
	full     string
	policy   *cf.Policy
	evalCtx  *eval.Context
	cand     map[cf.Kind][][]bool // per kind, per text: prefilter candidates
	raw      []string             // rawbody lines, once built
}

// evalContext is the eval functions' view of this scan, made on first
// use (it caches what several functions share).
func (s *scan) evalContext() *eval.Context {
	if s.evalCtx == nil {
		s.evalCtx = &eval.Context{Msg: s.msg, Policy: s.policy, Now: time.Now()}
	}
	return s.evalCtx
}

// candidates returns, for each of kind's texts, which of the kind's
// prefiltered rules may match it (one Aho-Corasick pass per text).
func (s *scan) candidates(kind cf.Kind, texts []string) [][]bool {
	if c, ok := s.cand[kind]; ok {
		return c
	}
	pf := s.rs.prefilters[kind]
	var out [][]bool
	if pf != nil {
		out = make([][]bool, len(texts))
		for i, t := range texts {
			out[i] = make([]bool, pf.Len())
			pf.Candidates(t, out[i])
		}
	}
	if s.cand == nil {
		s.cand = map[cf.Kind][][]bool{}
	}
	s.cand[kind] = out
	return out
}

// value is a rule's meta value: its hit count, running it if needed.
func (s *scan) value(name string) float64 {
	if n, ok := s.hits[name]; ok {
		return float64(n)
	}
	c := s.rs.byName[name]
	if c == nil || s.visiting[name] {
		return 0 // undefined, unrunnable, or a meta cycle
	}
	s.visiting[name] = true
	n := s.run(c)
	delete(s.visiting, name)
	s.hits[name] = n
	return float64(n)
}

// run evaluates one rule and returns its hit count.
func (s *scan) run(c *compiledRule) int {
	if c.IsNet() {
		return 0 // network tests come with their own phase
	}
	switch {
	case c.meta != nil:
		return boolCount(c.meta.eval(s.value) != 0)
	case c.bayes != nil:
		if !s.bayesRan {
			return 0
		}
		lo, hi := c.bayes[0], c.bayes[1]
		return boolCount((lo == 0 || s.bayes > lo) && s.bayes <= hi)
	case c.eval != nil:
		ok, err := c.eval(s.evalContext(), c.Eval.Args)
		return boolCount(err == nil && ok)
	}
	switch c.Kind {
	case cf.KindHeader:
		return s.runHeader(c)
	case cf.KindBody:
		return s.matchEachFiltered(c, cf.KindBody, s.msg.Text, c.Tflags.NoSubject)
	case cf.KindRawbody:
		return s.matchEachFiltered(c, cf.KindRawbody, s.rawbody(), false)
	case cf.KindURI:
		return s.matchEachFiltered(c, cf.KindURI, s.msg.URIs, false)
	case cf.KindFull:
		return s.matchEachFiltered(c, cf.KindFull, []string{s.fullText()}, false)
	case cf.KindMIMEHeader:
		var vals []string
		for _, p := range s.msg.Parts {
			for _, v := range p.Header.Values(c.Header.Name) {
				if !c.Header.HasModifier("raw") {
					v = strings.TrimSpace(v)
				}
				vals = append(vals, v)
			}
		}
		return s.matchEach(c, vals)
	}
	return 0
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}

// matchEachFiltered is matchEach over the texts of kind that contain one
// of c's required literals (all of them when it has none); skipFirst
// leaves out the first text (the Subject line of the body).
func (s *scan) matchEachFiltered(c *compiledRule, kind cf.Kind, texts []string, skipFirst bool) int {
	start := 0
	if skipFirst && len(texts) > 0 {
		start = 1
	}
	if c.pf < 0 {
		return s.matchEach(c, texts[start:])
	}
	cand := s.candidates(kind, texts)
	var may []string
	for i := start; i < len(texts); i++ {
		if cand[i][c.pf] {
			may = append(may, texts[i])
		}
	}
	return s.matchEach(c, may)
}

// matchEach counts matches of c's pattern over texts: once at most, or,
// with tflags multiple, every match up to maxhits.
func (s *scan) matchEach(c *compiledRule, texts []string) int {
	if c.re == nil {
		return 0
	}
	n := 0
	for _, t := range texts {
		if !c.Tflags.Multiple {
			if c.re.MatchString(t) {
				return 1
			}
			continue
		}
		limit := -1
		if c.Tflags.MaxHits > 0 {
			limit = c.Tflags.MaxHits - n
		}
		n += len(c.re.FindAllStringIndex(t, limit))
		if c.Tflags.MaxHits > 0 && n >= c.Tflags.MaxHits {
			return c.Tflags.MaxHits
		}
	}
	return n
}

func (s *scan) runHeader(c *compiledRule) int {
	h := c.Header
	val, present := s.headerValue(h)
	if h.Exists {
		return boolCount(present)
	}
	if !present {
		if !h.HasIfUnset {
			return boolCount(h.Negate && c.re != nil)
		}
		val = h.IfUnset
	}
	if c.re == nil {
		return 0
	}
	return boolCount(c.re.MatchString(val) != h.Negate)
}

// headerValue is what a header rule matches against: every field of that
// name, decoded (or raw with :raw), each ending in a newline; pseudo
// headers ALL, ToCc, MESSAGEID and the relay metadata as SpamAssassin
// provides them; :addr and :name take the first address's parts.
func (s *scan) headerValue(h cf.HeaderTest) (string, bool) {
	raw := h.HasModifier("raw")
	var vals []string
	// The pseudo-headers are spelt exactly (SpamAssassin compares them
	// case-sensitively): a header named "MessageID" is just that header.
	switch name := h.Name; {
	case name == "ALL":
		var b strings.Builder
		for _, f := range s.msg.Header {
			v := f.Value
			if raw {
				v = f.Raw
			}
			b.WriteString(f.Name + ": " + v + "\n")
		}
		return b.String(), len(s.msg.Header) > 0
	case name == "ToCc":
		vals = append(s.fieldValues("To", raw), s.fieldValues("Cc", raw)...)
	case name == "MESSAGEID":
		vals = append(append(s.fieldValues("Message-Id", raw), s.fieldValues("Resent-Message-Id", raw)...), s.fieldValues("X-Message-Id", raw)...)
	case strings.HasPrefix(strings.ToLower(name), "x-spam-relays-"):
		if s.relays == nil {
			rh := s.msg.RelayHeaders()
			s.relays = &rh
		}
		v := map[string]string{
			"x-spam-relays-trusted": s.relays.Trusted, "x-spam-relays-untrusted": s.relays.Untrusted,
			"x-spam-relays-internal": s.relays.Internal, "x-spam-relays-external": s.relays.External,
		}[strings.ToLower(name)]
		return v, true
	default:
		vals = s.fieldValues(h.Name, raw)
	}
	if len(vals) == 0 {
		return "", false
	}
	if h.HasModifier("addr") || h.HasModifier("name") {
		addr, name := firstAddress(vals[0])
		if h.HasModifier("addr") {
			return addr, true
		}
		return name, true
	}
	return strings.Join(vals, "\n") + "\n", true
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

// firstAddress returns the address and display name of the first mailbox
// in an address header, leniently.
func firstAddress(v string) (addr, name string) {
	if list, err := mail.ParseAddressList(v); err == nil && len(list) > 0 {
		return list[0].Address, list[0].Name
	}
	if i, j := strings.IndexByte(v, '<'), strings.IndexByte(v, '>'); i >= 0 && j > i {
		return strings.TrimSpace(v[i+1 : j]), strings.Trim(strings.TrimSpace(v[:i]), `"`)
	}
	return strings.TrimSpace(v), ""
}

// rawbody is the decoded text of every text part, line by line, HTML
// markup kept.
func (s *scan) rawbody() []string {
	if s.raw != nil {
		return s.raw
	}
	lines := []string{}
	for _, p := range s.msg.Parts {
		if !p.Leaf || p.Text == "" {
			continue
		}
		lines = append(lines, strings.SplitAfter(p.Text, "\n")...)
	}
	s.raw = lines
	return lines
}

// fullText is the message as received: header fields and body.
func (s *scan) fullText() string {
	if s.full == "" {
		var b strings.Builder
		for _, f := range s.msg.Header {
			b.WriteString(f.Name + ":" + f.Raw + "\n")
		}
		b.WriteString("\n")
		b.Write(s.msg.Body)
		s.full = b.String()
	}
	return s.full
}
