package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/gospamd/gospamd/rules/cf"
)

// A metaExpr is a compiled meta rule expression: SpamAssassin's subset of
// Perl expressions over rule names (a rule's value is its hit count, 0
// when it did not hit), numbers, ! && || ?:, comparisons and + - * /.
//
// evalAt evaluates it with the rules resolved to their index in the
// RuleSet (see resolveMeta): a scan looks values up by index, not by name.
type metaExpr interface {
	evalAt(value func(idx int) float64) float64
}

type (
	metaNum float64
	// metaRef is a rule a meta uses; idx is its index in the RuleSet,
	// -1 when it is not a runnable rule (value 0).
	metaRef struct {
		name string
		idx  int
	}
	metaUnary struct {
		neg bool // - (else !)
		x   metaExpr
	}
	metaBinary struct {
		op   metaOp
		l, r metaExpr
	}
	// metaSum is x0 + x1 + …, added left to right as the chain of
	// binary + it stands for (SpamAssassin's metas add long lists of
	// rules), in one call.
	metaSum  struct{ xs []metaExpr }
	metaCond struct{ c, t, f metaExpr }
	metaOp   uint8
)

// The binary operators, with the names they have in a meta.
const (
	opOr metaOp = iota
	opAnd
	opEq
	opNe
	opLt
	opGt
	opLe
	opGe
	opAdd
	opSub
	opMul
	opDiv
)

// metaOpOf is the operator a meta writes op for (op is one the parser
// read as a binary operator).
func metaOpOf(op string) metaOp {
	switch op {
	case "||":
		return opOr
	case "&&":
		return opAnd
	case "==":
		return opEq
	case "!=":
		return opNe
	case "<":
		return opLt
	case ">":
		return opGt
	case "<=":
		return opLe
	case ">=":
		return opGe
	case "+":
		return opAdd
	case "-":
		return opSub
	case "*":
		return opMul
	}
	return opDiv
}

func (n metaNum) evalAt(func(int) float64) float64 { return float64(n) }
func (r *metaRef) evalAt(v func(int) float64) float64 {
	if r.idx < 0 {
		return 0
	}
	return v(r.idx)
}
func (u *metaUnary) evalAt(v func(int) float64) float64 { return u.apply(u.x.evalAt(v)) }
func (u *metaUnary) apply(x float64) float64 {
	if u.neg {
		return -x
	}
	return b2f(x == 0)
}
func (c *metaCond) evalAt(v func(int) float64) float64 {
	if c.c.evalAt(v) != 0 {
		return c.t.evalAt(v)
	}
	return c.f.evalAt(v)
}
func (m *metaSum) evalAt(v func(int) float64) float64 {
	sum := m.xs[0].evalAt(v)
	for _, x := range m.xs[1:] {
		sum += x.evalAt(v)
	}
	return sum
}
func (b *metaBinary) evalAt(v func(int) float64) float64 {
	switch b.op {
	case opAnd:
		l := b.l.evalAt(v)
		if l == 0 {
			return l
		}
		return b.r.evalAt(v)
	case opOr:
		if l := b.l.evalAt(v); l != 0 {
			return l
		}
		return b.r.evalAt(v)
	}
	return b.apply(b.l.evalAt(v), b.r.evalAt(v))
}
func (b *metaBinary) apply(l, r float64) float64 {
	switch b.op {
	case opAdd:
		return l + r
	case opSub:
		return l - r
	case opMul:
		return l * r
	case opDiv:
		if r == 0 {
			return 0
		}
		return l / r
	case opGt:
		return b2f(l > r)
	case opLt:
		return b2f(l < r)
	case opGe:
		return b2f(l >= r)
	case opLe:
		return b2f(l <= r)
	case opEq:
		return b2f(l == r)
	case opNe:
		return b2f(l != r)
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// parseMeta compiles a meta expression.
func parseMeta(src string) (metaExpr, error) {
	toks, err := lexMeta(src)
	if err != nil {
		return nil, err
	}
	p := &metaParser{toks: toks}
	e, err := p.cond()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("meta %q: unexpected %q", src, p.toks[p.i])
	}
	return e, nil
}

func lexMeta(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] < 0x80 && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])))) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			if i+1 < len(s) {
				two := s[i : i+2]
				switch two {
				case "&&", "||", ">=", "<=", "==", "!=":
					toks = append(toks, two)
					i += 2
					continue
				}
			}
			if strings.IndexByte("()!+-*/<>?:", c) < 0 {
				return nil, fmt.Errorf("meta: unexpected character %q", c)
			}
			toks = append(toks, string(c))
			i++
		}
	}
	return toks, nil
}

// metaParser is a recursive-descent parser; it recurses once per
// parenthesis, conditional and unary operator, so its nesting is bounded
// by cf.MaxNesting (a meta from an untrusted file cannot exhaust the
// stack, and evaluating the tree it builds cannot either).
type metaParser struct {
	toks  []string
	i     int
	depth int
}

// enter counts one more level of nesting; leave undoes it.
func (p *metaParser) enter() error {
	p.depth++
	if p.depth > cf.MaxNesting {
		return fmt.Errorf("meta: %w", cf.ErrNesting)
	}
	return nil
}

func (p *metaParser) leave() { p.depth-- }

func (p *metaParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *metaParser) cond() (metaExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	c, err := p.binary(0)
	if err != nil || p.peek() != "?" {
		return c, err
	}
	p.i++
	t, err := p.cond()
	if err != nil {
		return nil, err
	}
	if p.peek() != ":" {
		return nil, errors.New("meta: a conditional (?) lacks its colon part")
	}
	p.i++
	f, err := p.cond()
	if err != nil {
		return nil, err
	}
	return &metaCond{c, t, f}, nil
}

// Binary operator precedence, loosest first, as in Perl.
var metaLevels = [][]string{{"||"}, {"&&"}, {"==", "!="}, {"<", ">", "<=", ">="}, {"+", "-"}, {"*", "/"}}

func (p *metaParser) binary(level int) (metaExpr, error) {
	if level == len(metaLevels) {
		return p.unary()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	var sum *metaSum // l, when it is a chain of + built here
	for {
		op := p.peek()
		found := false
		for _, o := range metaLevels[level] {
			if op == o {
				found = true
			}
		}
		if !found {
			return l, nil
		}
		p.i++
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		switch {
		case op == "+" && sum != nil:
			sum.xs = append(sum.xs, r)
		case op == "+":
			sum = &metaSum{xs: []metaExpr{l, r}}
			l = sum
		default:
			sum = nil
			l = &metaBinary{metaOpOf(op), l, r}
		}
	}
}

func (p *metaParser) unary() (metaExpr, error) {
	switch t := p.peek(); t {
	case "!", "-":
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &metaUnary{t == "-", x}, nil
	case "(":
		p.i++
		e, err := p.cond()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("meta: missing )")
		}
		p.i++
		return e, nil
	case "":
		return nil, fmt.Errorf("meta: unexpected end")
	default:
		p.i++
		if t[0] >= '0' && t[0] <= '9' || t[0] == '.' {
			n, err := strconv.ParseFloat(t, 64)
			if err != nil {
				return nil, fmt.Errorf("meta: bad number %q", t)
			}
			return metaNum(n), nil
		}
		if strings.IndexByte("()+*/<>?:&|=", t[0]) >= 0 {
			return nil, fmt.Errorf("meta: unexpected %q", t)
		}
		return &metaRef{name: t, idx: -1}, nil
	}
}

// resolveMeta sets the index of every rule e uses (-1 for a name index
// does not know).
func resolveMeta(e metaExpr, index func(name string) (int, bool)) {
	switch e := e.(type) {
	case *metaRef:
		e.idx = -1
		if i, ok := index(e.name); ok {
			e.idx = i
		}
	case *metaUnary:
		resolveMeta(e.x, index)
	case *metaBinary:
		resolveMeta(e.l, index)
		resolveMeta(e.r, index)
	case *metaSum:
		for _, x := range e.xs {
			resolveMeta(x, index)
		}
	case *metaCond:
		resolveMeta(e.c, index)
		resolveMeta(e.t, index)
		resolveMeta(e.f, index)
	}
}
