package rules

import (
	"regexp"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/re"
)

// Capture tags: a rule whose pattern has a named group (?<NAME>…) sets
// the tag NAME to what the group captured when it matches, and a rule
// whose pattern holds %{NAME} runs with the tag's values (as a quoted
// alternation) in its place, or not at all while the tag is unset. This
// is SpamAssassin 4's capture-rule feature.

// captureTagName is the form of tag names a capture may set.
var captureTagName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$`)

// templateGate is expr with every %{NAME} standing for any non-empty
// text, which matches wherever expr can with any values filled in.
func templateGate(expr string, names []string) string {
	gate, _ := fillTemplatesWith(expr, names, func(string) (string, bool) { return "(?s:.+)", true })
	return gate
}

// fillTemplatesOK replaces every %{NAME} not preceded by a backslash
// with an alternation of the quoted values values(NAME) gives; ok is
// false when one has none.
func fillTemplatesOK(expr string, names []string, values func(string) []string) (string, bool) {
	return fillTemplatesWith(expr, names, func(name string) (string, bool) {
		var alts []string
		for _, v := range values(name) {
			if v != "" {
				alts = append(alts, quoteMeta(v))
			}
		}
		if len(alts) == 0 {
			return "", false
		}
		return "(?:" + strings.Join(alts, "|") + ")", true
	})
}

// fillTemplatesWith replaces every %{NAME} of names not preceded by a
// backslash with what sub gives for NAME; ok is false as soon as sub
// has nothing for one.
func fillTemplatesWith(expr string, names []string, sub func(string) (string, bool)) (string, bool) {
	for _, name := range names {
		alt, ok := sub(name)
		if !ok {
			return expr, false
		}
		tmpl := "%{" + name + "}"
		var b strings.Builder
		for {
			i := strings.Index(expr, tmpl)
			if i < 0 {
				b.WriteString(expr)
				break
			}
			if i > 0 && expr[i-1] == '\\' {
				b.WriteString(expr[:i+len(tmpl)])
			} else {
				b.WriteString(expr[:i] + alt)
			}
			expr = expr[i+len(tmpl):]
		}
		expr = b.String()
	}
	return expr, true
}

// quoteMeta is Perl's quotemeta for a byte string: every byte but ASCII
// letters, digits and "_" is escaped (bytes >= 0x80 as \xHH, which the
// pattern compiler reads as that byte).
func quoteMeta(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			b.WriteByte(c)
		case c >= 0x80:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String()
}

// captureTexts are the texts c's pattern was matched against.
func (s *scan) captureTexts(c *compiledRule) []*re.Text {
	switch c.Kind {
	case cf.KindHeader:
		subj := s.headerSubject(c)
		switch {
		case subj.present:
			return []*re.Text{subj.text}
		case c.Header.HasIfUnset:
			return []*re.Text{re.NewText(c.Header.IfUnset)}
		}
		return nil
	case cf.KindBody, cf.KindRawbody, cf.KindURI, cf.KindFull:
		texts := s.preparedTexts(c.Kind)
		if c.Kind == cf.KindBody && c.Tflags.NoSubject && len(texts) > 0 {
			texts = texts[1:]
		}
		return texts
	}
	return nil
}

// setCaptures sets the tags c's named groups captured in its first match.
func (s *scan) setCaptures(c *compiledRule) {
	for _, t := range s.captureTexts(c) {
		if s.limit.passed(c.Name) {
			return
		}
		caps, err := c.re.NamedCapturesBefore(t, s.limit.deadline)
		if err != nil {
			s.limit.stop(c.Name)
			return
		}
		if caps == nil {
			continue
		}
		for name, vals := range caps {
			if !captureTagName.MatchString(name) {
				continue
			}
			var uniq []string
			for _, v := range vals {
				if !contains(uniq, v) {
					uniq = append(uniq, v)
				}
			}
			if s.tags == nil {
				s.tags = map[string][]string{}
			}
			s.tags[name] = uniq
		}
		return
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// startTaggedLookups hands the net scan the tags its lookups read
// (NetTagScan), running the rules capturing them first. A tag no rule
// captures is left to the net scan's own values.
func (s *scan) startTaggedLookups() {
	ts, ok := s.net.(NetTagScan)
	if !ok {
		return
	}
	for _, name := range ts.CaptureTags() {
		idxs := s.rs.captureRules[name]
		if len(idxs) == 0 {
			continue
		}
		for _, idx := range idxs {
			s.valueAt(idx)
		}
		ts.SetCaptured(name, s.tags[name])
	}
}

// runTemplate runs a %{NAME} template rule: the rules capturing its tags
// run first; with every tag set, the pattern is compiled with their
// values and matched like any rule of its kind.
func (s *scan) runTemplate(c *compiledRule) int {
	for _, name := range c.Pattern.Templates {
		for _, idx := range s.rs.captureRules[name] {
			s.valueAt(idx)
		}
	}
	expr, ok := fillTemplatesOK(c.Pattern.Expr, c.Pattern.Templates, func(name string) []string { return s.tags[name] })
	if !ok {
		return 0
	}
	// Compiling the filled pattern costs far more than matching: first
	// see whether the pattern can match at all.
	if !(c.Kind == cf.KindHeader && c.Header.Negate) {
		gated := *c
		gated.re, gated.lits, gated.pf, gated.si, gated.gate = c.gate, nil, -1, -1, nil
		if s.run(&gated) == 0 {
			return 0
		}
	}
	// Not the shared pattern cache: the values differ from message to
	// message and would pile up there.
	m, _, _, err := compilePattern(expr, c.Pattern.Flags, nil)
	if err != nil {
		return 0
	}
	filled := *c
	filled.re, filled.lits, filled.pf, filled.si, filled.gate = m, nil, -1, -1, nil
	return s.run(&filled)
}
