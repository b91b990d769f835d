package re

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
)

// nodeKind says what a node of the parsed pattern is.
type nodeKind uint8

const (
	nodeEmpty   nodeKind = iota // matches the empty string
	nodeSet                     // one byte from set
	nodeConcat                  // subs in sequence
	nodeAlt                     // one of subs, first preferred
	nodeRepeat                  // subs[0] min..max times (max -1 = unbounded)
	nodeCapture                 // capturing group number cap, optional name
	nodeAssert                  // zero-width assertion
	nodeLook                    // lookahead/lookbehind (behind, neg)
	nodeAtomic                  // (?>…)
	nodeBackref                 // \N, \k<name>: group ref, fold when /i
)

// assertKind is the zero-width assertion of a nodeAssert.
type assertKind uint8

const (
	assertBeginText       assertKind = iota // \A, ^ without /m (also \G for one match)
	assertEndText                           // \z
	assertEndTextNL                         // \Z, $ without /m: end, or before a final "\n"
	assertBeginLine                         // ^ with /m: start, or after "\n" not at the end
	assertEndLine                           // $ with /m: end, or before any "\n"
	assertWordBoundary                      // \b (ASCII word bytes)
	assertNotWordBoundary                   // \B
)

type node struct {
	kind       nodeKind
	set        charSet
	subs       []*node
	min, max   int
	lazy       bool
	possessive bool
	cap        int
	name       string
	assert     assertKind
	behind     bool
	neg        bool
	fold       bool // nodeBackref under /i
}

// flags are the Perl modifiers in force at a point of the pattern.
type flags struct {
	i, m, s, x, xx, n bool
}

// maxPerlRepeat is Perl's limit on a {n,m} count.
const maxPerlRepeat = 65534

// parser turns a Perl pattern (bytes) into a node tree.
type parser struct {
	src   string
	pos   int
	ncap  int
	names map[string]int
	// refs are backreferences to check once every group is known.
	refs []*node
	// keepOut is set when the pattern uses \K (dropped: it only moves
	// the reported start of a match).
	keepOut bool
}

// syntaxError is a compile failure at an offset of the pattern.
type syntaxError struct {
	pos    int
	reason string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("at offset %d: %s", e.pos, e.reason) }

func (p *parser) errorf(format string, args ...any) error {
	return &syntaxError{pos: p.pos, reason: fmt.Sprintf(format, args...)}
}

// parsePerl parses expr under the initial modifiers (the rule's trailing
// flags).
func parsePerl(expr, mods string) (*node, *parser, error) {
	p := &parser{src: expr, names: map[string]int{}}
	var fl flags
	for i := 0; i < len(mods); i++ {
		if err := applyFlag(&fl, mods, &i, true); err != nil {
			return nil, p, err
		}
	}
	n, err := p.parseAlt(&fl, 0)
	if err != nil {
		return nil, p, err
	}
	if p.pos < len(p.src) {
		return nil, p, p.errorf("unmatched )")
	}
	for _, r := range p.refs {
		if r.name != "" {
			idx, ok := p.names[r.name]
			if !ok {
				return nil, p, &syntaxError{pos: -1, reason: fmt.Sprintf("reference to nonexistent named group %q", r.name)}
			}
			r.cap = idx
		}
		if r.cap < 1 || r.cap > p.ncap {
			return nil, p, &syntaxError{pos: -1, reason: fmt.Sprintf("reference to nonexistent group %d", r.cap)}
		}
	}
	return n, p, nil
}

// applyFlag applies the modifier letter at mods[*i] ("xx" takes two).
func applyFlag(fl *flags, mods string, i *int, on bool) error {
	switch c := mods[*i]; c {
	case 'i':
		fl.i = on
	case 'm':
		fl.m = on
	case 's':
		fl.s = on
	case 'x':
		if *i+1 < len(mods) && mods[*i+1] == 'x' {
			*i++
			fl.xx = on
		}
		fl.x = on
		if !on {
			fl.xx = false
		}
	case 'n':
		fl.n = on
	case 'a', 'u', 'l', 'd', 'p':
		// Character-set modifiers: the rule is compiled /aa already and
		// the subject is bytes, so there is nothing to change.
	default:
		return &syntaxError{reason: fmt.Sprintf("modifier %q not allowed in a rule pattern", c)}
	}
	return nil
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// isXSpace is Perl's Pattern_White_Space for a byte pattern.
func isXSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0x85
}

// skipIgnored skips (?#…) comments and, under /x, white space and
// #-comments.
func (p *parser) skipIgnored(fl *flags) error {
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case fl.x && isXSpace(c):
			p.pos++
		case fl.x && c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		case strings.HasPrefix(p.src[p.pos:], "(?#"):
			end := strings.IndexByte(p.src[p.pos:], ')')
			if end < 0 {
				return p.errorf("sequence (?#... not terminated")
			}
			p.pos += end + 1
		default:
			return nil
		}
	}
	return nil
}

// parseAlt parses alternatives up to an unmatched ")" or the end. fl is
// the group's modifier state; inline "(?i)" changes it for the rest of
// the group, later branches included (as in Perl).
func (p *parser) parseAlt(fl *flags, depth int) (*node, error) {
	if depth > 500 {
		return nil, p.errorf("groups nested too deeply")
	}
	var branches []*node
	for {
		br, err := p.parseConcat(fl, depth)
		if err != nil {
			return nil, err
		}
		branches = append(branches, br)
		if p.eof() || p.src[p.pos] != '|' {
			break
		}
		p.pos++
	}
	if len(branches) == 1 {
		return branches[0], nil
	}
	return &node{kind: nodeAlt, subs: branches}, nil
}

func (p *parser) parseConcat(fl *flags, depth int) (*node, error) {
	var items []*node
	for {
		if err := p.skipIgnored(fl); err != nil {
			return nil, err
		}
		if p.eof() {
			break
		}
		c := p.src[p.pos]
		if c == '|' || c == ')' {
			break
		}
		start := p.pos
		atom, err := p.parseAtom(fl, depth)
		if err != nil {
			return nil, err
		}
		if atom == nil { // an inline modifier group "(?i)"
			continue
		}
		if err := p.skipIgnored(fl); err != nil {
			return nil, err
		}
		atom, err = p.parseQuantifier(fl, atom, start)
		if err != nil {
			return nil, err
		}
		items = append(items, atom)
	}
	switch len(items) {
	case 0:
		return &node{kind: nodeEmpty}, nil
	case 1:
		return items[0], nil
	}
	return &node{kind: nodeConcat, subs: items}, nil
}

// quantifierAt parses "{n}", "{n,}", "{n,m}" or "{,m}" (blanks allowed
// next to the braces and comma, as in Perl 5.34+) at s; ok is false when
// s does not start with one, in which case "{" is a literal.
func quantifierAt(s string) (min, max, length int, ok bool) {
	if len(s) == 0 || s[0] != '{' {
		return 0, 0, 0, false
	}
	i := 1
	blanks := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	digits := func() (int, bool) {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return 0, false
		}
		n, err := strconv.Atoi(s[j:i])
		if err != nil {
			n = maxPerlRepeat + 1
		}
		return n, true
	}
	blanks()
	lo, hasLo := digits()
	blanks()
	hi, hasHi := lo, hasLo
	if i < len(s) && s[i] == ',' {
		i++
		blanks()
		hi, hasHi = digits()
		if !hasHi {
			hi = -1
		}
		blanks()
		if !hasLo && !hasHi {
			return 0, 0, 0, false
		}
	} else if !hasLo {
		return 0, 0, 0, false
	}
	if i >= len(s) || s[i] != '}' {
		return 0, 0, 0, false
	}
	return lo, hi, i + 1, true
}

func (p *parser) parseQuantifier(fl *flags, atom *node, atomStart int) (*node, error) {
	if p.eof() {
		return atom, nil
	}
	var min, max int
	switch c := p.src[p.pos]; c {
	case '*':
		min, max = 0, -1
		p.pos++
	case '+':
		min, max = 1, -1
		p.pos++
	case '?':
		min, max = 0, 1
		p.pos++
	case '{':
		lo, hi, n, ok := quantifierAt(p.src[p.pos:])
		if !ok && (atom.kind == nodeAssert || atom.kind == nodeEmpty) {
			// "^{" and "\b{": the brace is a literal.
			return atom, nil
		}
		if !ok {
			// Perl passes the brace through but warns, and
			// SpamAssassin refuses patterns that warn.
			return nil, p.errorf("unescaped left brace after an atom")
		}
		if lo > maxPerlRepeat || hi > maxPerlRepeat {
			return nil, p.errorf("quantifier in {,} bigger than %d", maxPerlRepeat)
		}
		if hi >= 0 && lo > hi {
			return nil, p.errorf("can't do {n,m} with n > m")
		}
		min, max = lo, hi
		p.pos += n
	default:
		return atom, nil
	}
	rep := &node{kind: nodeRepeat, subs: []*node{atom}, min: min, max: max}
	if !p.eof() {
		switch p.src[p.pos] {
		case '?':
			rep.lazy = true
			p.pos++
		case '+':
			rep.possessive = true
			p.pos++
		}
	}
	if atom.kind == nodeAssert || atom.kind == nodeLook || atom.kind == nodeEmpty {
		if max == -1 {
			return nil, &syntaxError{pos: atomStart, reason: "quantifier on a zero-length expression matches the null string many times"}
		}
	}
	if err := p.skipIgnored(fl); err != nil {
		return nil, err
	}
	if !p.eof() {
		c := p.src[p.pos]
		_, _, _, brace := quantifierAt(p.src[p.pos:])
		if c == '*' || c == '+' || c == '?' || brace {
			return nil, p.errorf("nested quantifiers")
		}
	}
	return rep, nil
}

func (p *parser) setNode(s charSet, fl *flags) *node {
	if fl.i {
		s = s.fold()
	}
	return &node{kind: nodeSet, set: s}
}

// parseAtom parses one atom; it returns nil, nil for an inline modifier
// group such as "(?i)".
func (p *parser) parseAtom(fl *flags, depth int) (*node, error) {
	c := p.src[p.pos]
	switch c {
	case '(':
		return p.parseGroup(fl, depth)
	case '[':
		p.pos++
		s, err := p.parseClass(fl)
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeSet, set: s}, nil
	case '.':
		p.pos++
		if fl.s {
			return &node{kind: nodeSet, set: setAll}, nil
		}
		return &node{kind: nodeSet, set: setNotNL}, nil
	case '^':
		p.pos++
		if fl.m {
			return &node{kind: nodeAssert, assert: assertBeginLine}, nil
		}
		return &node{kind: nodeAssert, assert: assertBeginText}, nil
	case '$':
		p.pos++
		if fl.m {
			return &node{kind: nodeAssert, assert: assertEndLine}, nil
		}
		return &node{kind: nodeAssert, assert: assertEndTextNL}, nil
	case '*', '+', '?':
		return nil, p.errorf("quantifier follows nothing")
	case '\\':
		return p.parseEscape(fl)
	}
	p.pos++
	return p.setNode(setOf(int(c)), fl), nil
}

func (p *parser) parseGroup(fl *flags, depth int) (*node, error) {
	start := p.pos
	p.pos++ // (
	inner := *fl
	var n *node
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, "?:"):
		p.pos += 2
	case strings.HasPrefix(rest, "?="), strings.HasPrefix(rest, "?!"):
		n = &node{kind: nodeLook, neg: rest[1] == '!'}
		p.pos += 2
	case strings.HasPrefix(rest, "?<="), strings.HasPrefix(rest, "?<!"):
		n = &node{kind: nodeLook, behind: true, neg: rest[2] == '!'}
		p.pos += 3
	case strings.HasPrefix(rest, "?>"):
		n = &node{kind: nodeAtomic}
		p.pos += 2
	case strings.HasPrefix(rest, "?<"), strings.HasPrefix(rest, "?P<"), strings.HasPrefix(rest, "?'"):
		open := rest[1]
		p.pos += 2
		if open == 'P' {
			p.pos++
			open = '<'
		}
		close := byte('>')
		if open == '\'' {
			close = '\''
		}
		name, err := p.groupName(close)
		if err != nil {
			return nil, err
		}
		p.ncap++
		if _, dup := p.names[name]; !dup {
			p.names[name] = p.ncap
		}
		n = &node{kind: nodeCapture, cap: p.ncap, name: name}
	case strings.HasPrefix(rest, "?P="):
		p.pos += 3
		name, err := p.groupName(')')
		if err != nil {
			return nil, err
		}
		ref := &node{kind: nodeBackref, name: name, fold: fl.i}
		p.refs = append(p.refs, ref)
		return ref, nil
	case strings.HasPrefix(rest, "?"):
		// Modifiers: (?imsx-imsx), (?^imsx), with ":" for a group.
		i := 1
		on := true
		if i < len(rest) && rest[i] == '^' {
			inner.i, inner.m, inner.s, inner.x, inner.xx, inner.n = false, false, false, false, false, false
			i++
		}
		for ; i < len(rest) && rest[i] != ':' && rest[i] != ')'; i++ {
			if rest[i] == '-' && on {
				on = false
				continue
			}
			c := rest[i]
			if !(c >= 'a' && c <= 'z') {
				p.pos += i
				return nil, p.errorf("sequence (?%c...) not recognized or not supported", c)
			}
			if c == 'g' || c == 'o' || c == 'c' {
				p.pos += i
				return nil, p.errorf("useless (?%c) modifier", c)
			}
			if err := applyFlag(&inner, rest, &i, on); err != nil {
				p.pos += i
				return nil, err
			}
		}
		if i >= len(rest) {
			return nil, p.errorf("sequence (?... not terminated")
		}
		p.pos += i + 1
		if rest[i] == ')' {
			*fl = inner
			return nil, nil
		}
	default:
		if !fl.n {
			p.ncap++
			n = &node{kind: nodeCapture, cap: p.ncap}
		}
	}
	sub, err := p.parseAlt(&inner, depth+1)
	if err != nil {
		return nil, err
	}
	if p.eof() || p.src[p.pos] != ')' {
		return nil, &syntaxError{pos: start, reason: "unmatched ("}
	}
	p.pos++
	if n == nil {
		// A non-capturing group: keep it as a concat of one so that a
		// quantifier applies to the whole.
		return &node{kind: nodeConcat, subs: []*node{sub}}, nil
	}
	n.subs = []*node{sub}
	return n, nil
}

func (p *parser) groupName(close byte) (string, error) {
	end := strings.IndexByte(p.src[p.pos:], close)
	if end <= 0 {
		return "", p.errorf("group name must start with a non-digit word character")
	}
	name := p.src[p.pos : p.pos+end]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return "", p.errorf("invalid group name %q", name)
		}
	}
	p.pos += end + 1
	return name, nil
}

// parseEscape parses a backslash sequence outside a class.
func (p *parser) parseEscape(fl *flags) (*node, error) {
	start := p.pos
	p.pos++
	if p.eof() {
		return nil, p.errorf("trailing \\")
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case 'A', 'G':
		return &node{kind: nodeAssert, assert: assertBeginText}, nil
	case 'z':
		return &node{kind: nodeAssert, assert: assertEndText}, nil
	case 'Z':
		return &node{kind: nodeAssert, assert: assertEndTextNL}, nil
	case 'b', 'B':
		if p.peek() == '{' {
			return nil, p.errorf("\\%c{...} boundaries are not supported", c)
		}
		if c == 'b' {
			return &node{kind: nodeAssert, assert: assertWordBoundary}, nil
		}
		return &node{kind: nodeAssert, assert: assertNotWordBoundary}, nil
	case 'K':
		p.keepOut = true
		return &node{kind: nodeEmpty}, nil
	case 'R':
		// (?>\x0D\x0A|\v)
		crlf := &node{kind: nodeConcat, subs: []*node{{kind: nodeSet, set: setOf('\r')}, {kind: nodeSet, set: setOf('\n')}}}
		alt := &node{kind: nodeAlt, subs: []*node{crlf, {kind: nodeSet, set: setVSpace}}}
		return &node{kind: nodeAtomic, subs: []*node{alt}}, nil
	case 'X', 'C':
		return nil, &syntaxError{pos: start, reason: fmt.Sprintf("\\%c is not supported", c)}
	case 'g', 'k':
		return p.parseNamedRef(fl, c, start)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		j := p.pos
		for j < len(p.src) && p.src[j] >= '0' && p.src[j] <= '9' {
			j++
		}
		num, _ := strconv.Atoi(p.src[start+1 : j])
		if num <= 9 || num <= p.ncap {
			p.pos = j
			ref := &node{kind: nodeBackref, cap: num, fold: fl.i}
			p.refs = append(p.refs, ref)
			return ref, nil
		}
		// \10 and up with fewer groups: an octal escape.
		p.pos = start + 1
		b, err := p.octal(3)
		if err != nil {
			return nil, err
		}
		return p.byteNode(b, fl), nil
	}
	p.pos = start
	s, _, err := p.parseCharEscape(false)
	if err != nil {
		return nil, err
	}
	return p.setNode(s, fl), nil
}

// byteNode is a literal character; code points above 0xFF can never
// match a byte string and give an empty set.
func (p *parser) byteNode(r int, fl *flags) *node {
	if r > 0xFF {
		return &node{kind: nodeSet}
	}
	return p.setNode(setOf(r), fl)
}

func (p *parser) parseNamedRef(fl *flags, c byte, start int) (*node, error) {
	rest := p.src[p.pos:]
	var body string
	switch {
	case len(rest) > 0 && (rest[0] == '{' || c == 'k' && (rest[0] == '<' || rest[0] == '\'')):
		close := map[byte]byte{'{': '}', '<': '>', '\'': '\''}[rest[0]]
		end := strings.IndexByte(rest[1:], close)
		if end < 0 {
			return nil, p.errorf("unterminated \\%c%c...", c, rest[0])
		}
		body = rest[1 : 1+end]
		p.pos += end + 2
	case c == 'g':
		j := 0
		if j < len(rest) && rest[j] == '-' {
			j++
		}
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		body = rest[:j]
		p.pos += j
	default:
		return nil, &syntaxError{pos: start, reason: "sequence \\k... not terminated"}
	}
	ref := &node{kind: nodeBackref, fold: fl.i}
	if n, err := strconv.Atoi(body); err == nil && c == 'g' {
		if n < 0 {
			n = p.ncap + 1 + n
		}
		if n == 0 {
			return nil, &syntaxError{pos: start, reason: "reference to invalid group 0"}
		}
		ref.cap = n
	} else if body != "" {
		ref.name = body
	} else {
		return nil, &syntaxError{pos: start, reason: "unterminated \\g... pattern"}
	}
	p.refs = append(p.refs, ref)
	return ref, nil
}

// octal reads up to max octal digits at p.pos.
func (p *parser) octal(max int) (int, error) {
	v, n := 0, 0
	for n < max && !p.eof() && p.src[p.pos] >= '0' && p.src[p.pos] <= '7' {
		v = v*8 + int(p.src[p.pos]-'0')
		p.pos++
		n++
	}
	return v, nil
}

// parseCharEscape parses a backslash sequence that stands for one
// character or a class (\d, \x41, \n…), in or out of a bracket class.
// It returns the set of bytes it matches; isSet is true for class
// escapes (\d, \w…) that cannot end a range.
func (p *parser) parseCharEscape(inClass bool) (s charSet, isSet bool, err error) {
	start := p.pos
	p.pos++ // backslash
	if p.eof() {
		return s, false, p.errorf("trailing \\")
	}
	c := p.src[p.pos]
	p.pos++
	char := func(r int) (charSet, bool, error) {
		if r > 0xFF {
			return charSet{}, false, nil
		}
		return setOf(r), false, nil
	}
	switch c {
	case 'd':
		return setDigit, true, nil
	case 'D':
		return setDigit.negate(), true, nil
	case 'w':
		return setWord, true, nil
	case 'W':
		return setWord.negate(), true, nil
	case 's':
		return setSpace, true, nil
	case 'S':
		return setSpace.negate(), true, nil
	case 'h':
		return setHSpace, true, nil
	case 'H':
		return setHSpace.negate(), true, nil
	case 'v':
		return setVSpace, true, nil
	case 'V':
		return setVSpace.negate(), true, nil
	case 'N':
		if p.peek() == '{' {
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return s, false, p.errorf("missing right brace on \\N{}")
			}
			body := p.src[p.pos+1 : p.pos+end]
			p.pos += end + 1
			hex, ok := strings.CutPrefix(body, "U+")
			if !ok {
				return s, false, &syntaxError{pos: start, reason: "named characters \\N{NAME} are not supported"}
			}
			v, err := strconv.ParseUint(hex, 16, 32)
			if err != nil {
				return s, false, &syntaxError{pos: start, reason: "invalid \\N{U+...}"}
			}
			return char(int(v))
		}
		if inClass {
			return s, false, &syntaxError{pos: start, reason: "\\N in a character class must be a named character: \\N{...}"}
		}
		return setNotNL, true, nil
	case 'p', 'P':
		return p.unicodeProperty(c == 'P', start)
	case 't':
		return char('\t')
	case 'n':
		return char('\n')
	case 'r':
		return char('\r')
	case 'f':
		return char('\f')
	case 'a':
		return char(0x07)
	case 'e':
		return char(0x1B)
	case 'b':
		if inClass {
			return char(0x08)
		}
	case 'c':
		if p.eof() || p.src[p.pos] < 0x20 || p.src[p.pos] > 0x7E {
			return s, false, &syntaxError{pos: start, reason: `character following "\c" must be printable ASCII`}
		}
		x := p.src[p.pos]
		p.pos++
		if x >= 'a' && x <= 'z' {
			x -= 0x20
		}
		return char(int(x ^ 0x40))
	case 'x':
		if p.peek() == '{' {
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return s, false, p.errorf("missing right brace on \\x{}")
			}
			body := strings.Trim(p.src[p.pos+1:p.pos+end], " \t")
			p.pos += end + 1
			body = strings.ReplaceAll(body, "_", "")
			if body == "" {
				return char(0)
			}
			v, err := strconv.ParseUint(body, 16, 32)
			if err != nil {
				return s, false, &syntaxError{pos: start, reason: "non-hex character in \\x{...}"}
			}
			return char(int(v))
		}
		v, n := 0, 0
		for n < 2 && !p.eof() && isHex(p.src[p.pos]) {
			v = v*16 + hexVal(p.src[p.pos])
			p.pos++
			n++
		}
		return char(v)
	case 'o':
		if p.peek() != '{' {
			return s, false, &syntaxError{pos: start, reason: "missing braces on \\o{}"}
		}
		end := strings.IndexByte(p.src[p.pos:], '}')
		if end < 0 {
			return s, false, p.errorf("missing right brace on \\o{}")
		}
		v, err := strconv.ParseUint(strings.Trim(p.src[p.pos+1:p.pos+end], " \t"), 8, 32)
		p.pos += end + 1
		if err != nil {
			return s, false, &syntaxError{pos: start, reason: "non-octal character in \\o{...}"}
		}
		return char(int(v))
	case '0':
		p.pos--
		v, _ := p.octal(3)
		return char(v)
	case '1', '2', '3', '4', '5', '6', '7':
		if inClass {
			p.pos--
			v, _ := p.octal(3)
			return char(v)
		}
	}
	if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		// An escaped non-word character is itself.
		return char(int(c))
	}
	p.pos = start
	return s, false, p.errorf("unrecognized escape \\%c", c)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// unicodeProperty parses the rest of \p{Name} / \pL. Perl applies
// Unicode rules to the bytes 0x80-0xFF of a byte string here, so the
// property is looked up in Go's Unicode tables (general categories and
// scripts) and cut to the first 256 code points.
func (p *parser) unicodeProperty(negated bool, start int) (charSet, bool, error) {
	var name string
	if p.peek() == '{' {
		end := strings.IndexByte(p.src[p.pos:], '}')
		if end < 0 {
			return charSet{}, false, p.errorf("missing right brace on \\p{}")
		}
		name = strings.TrimSpace(p.src[p.pos+1 : p.pos+end])
		p.pos += end + 1
	} else if !p.eof() {
		name = p.src[p.pos : p.pos+1]
		p.pos++
	}
	if strings.HasPrefix(name, "^") {
		negated = !negated
		name = name[1:]
	}
	re, err := syntax.Parse(`[\p{`+name+`}]`, syntax.Perl)
	if err != nil || re.Op != syntax.OpCharClass {
		return charSet{}, false, &syntaxError{pos: start, reason: fmt.Sprintf("unsupported Unicode property \\p{%s}", name)}
	}
	var s charSet
	for i := 0; i+1 < len(re.Rune); i += 2 {
		lo, hi := int(re.Rune[i]), int(re.Rune[i+1])
		if lo > 0xFF {
			break
		}
		s.addRange(lo, min(hi, 0xFF))
	}
	if negated {
		s = s.negate()
	}
	return s, true, nil
}

// parseClass parses a bracket class after its "[" and returns the set,
// folded under /i before any negation (as Perl does).
func (p *parser) parseClass(fl *flags) (charSet, error) {
	start := p.pos - 1
	var s charSet
	neg := false
	if p.peek() == '^' {
		neg = true
		p.pos++
	}
	first := true
	for {
		if p.eof() {
			return s, &syntaxError{pos: start, reason: "unmatched ["}
		}
		c := p.src[p.pos]
		if c == ']' && !first {
			p.pos++
			break
		}
		first = false
		if fl.xx && (c == ' ' || c == '\t') {
			p.pos++
			continue
		}
		if c == '[' {
			if set, ok, err := p.posix(); err != nil {
				return s, err
			} else if ok {
				s.addSet(set)
				continue
			}
		}
		lo, loSet, err := p.classItem()
		if err != nil {
			return s, err
		}
		// A range "a-z": "-" before "]" is literal.
		if p.pos+1 < len(p.src) && p.src[p.pos] == '-' && p.src[p.pos+1] != ']' {
			if loSet {
				return s, p.errorf("false [] range")
			}
			p.pos++
			if p.peek() == '[' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == ':' || p.src[p.pos+1] == '=' || p.src[p.pos+1] == '.') {
				if _, ok, _ := p.posixPeek(); ok {
					return s, p.errorf("false [] range")
				}
			}
			hi, hiSet, err := p.classItem()
			if err != nil {
				return s, err
			}
			if hiSet {
				return s, p.errorf("false [] range")
			}
			l, h := single(lo), single(hi)
			if l < 0 || h < 0 {
				// An endpoint above 0xFF: the range still covers
				// bytes from l up.
				if l >= 0 && h < 0 {
					s.addRange(l, 0xFF)
				}
				continue
			}
			if l > h {
				return s, p.errorf("invalid [] range")
			}
			s.addRange(l, h)
			continue
		}
		s.addSet(lo)
	}
	if fl.i {
		s = s.fold()
	}
	if neg {
		s = s.negate()
	}
	return s, nil
}

// single returns the one member of a single-character set, or -1.
func single(s charSet) int {
	if s.count() != 1 {
		return -1
	}
	return int(s.members()[0])
}

// classItem parses one character or class escape inside [...].
func (p *parser) classItem() (charSet, bool, error) {
	c := p.src[p.pos]
	if c == '\\' {
		s, isSet, err := p.parseCharEscape(true)
		if err != nil {
			return s, false, err
		}
		if !isSet && s.count() == 0 {
			// A code point above 0xFF: no byte, but not a class.
			return s, false, nil
		}
		return s, isSet, nil
	}
	p.pos++
	return setOf(int(c)), false, nil
}

// posixPeek reports whether a POSIX class "[:name:]" starts at p.pos,
// without consuming it.
func (p *parser) posixPeek() (charSet, bool, error) {
	save := p.pos
	s, ok, err := p.posix()
	p.pos = save
	return s, ok, err
}

// posix parses "[:name:]" or "[:^name:]" at p.pos.
func (p *parser) posix() (charSet, bool, error) {
	rest := p.src[p.pos:]
	if len(rest) < 2 {
		return charSet{}, false, nil
	}
	kind := rest[1]
	if kind != ':' && kind != '=' && kind != '.' {
		return charSet{}, false, nil
	}
	end := strings.Index(rest[2:], string(kind)+"]")
	if end < 0 {
		return charSet{}, false, nil
	}
	body := rest[2 : 2+end]
	for i := 0; i < len(body); i++ {
		if !(body[i] >= 'a' && body[i] <= 'z' || body[i] == '^' && i == 0) {
			return charSet{}, false, nil
		}
	}
	if kind != ':' {
		return charSet{}, false, p.errorf("POSIX syntax [%c %c] is reserved for future extensions", kind, kind)
	}
	neg := strings.HasPrefix(body, "^")
	s, ok := posixClass(strings.TrimPrefix(body, "^"))
	if !ok {
		return charSet{}, false, p.errorf("POSIX class [:%s:] unknown", body)
	}
	p.pos += 2 + end + 2
	if neg {
		s = s.negate()
	}
	return s, true, nil
}
