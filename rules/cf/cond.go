package cf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// lexArith splits an if/meta expression the way SpamAssassin's
// ARITH_EXPRESSION_LEXER does: numbers, names (with ::), parentheses and
// operators; characters that start no token are skipped, as with Perl's
// m//g. It reports whether anything was skipped.
func lexArith(s string) (toks []string, skipped bool) {
	isWord := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] == '-' || s[j] == '+' || s[j] == '.' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case isWord(c):
			j := i + 1
			for j < len(s) && (isWord(s[j]) || s[j] == ':') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '(' || c == ')' || c == '^' || c == '*' || c == '/' || c == '?' || c == ':':
			toks = append(toks, s[i:i+1])
			i++
		case c == '|' || c == '&':
			if i+1 < len(s) && s[i+1] == c {
				toks = append(toks, s[i:i+2])
				i += 2
			} else {
				skipped = true
				i++
			}
		case c == '!' || c == '>' || c == '<' || c == '=':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, s[i:i+2])
				i += 2
			} else if c == '=' {
				skipped = true
				i++
			} else {
				toks = append(toks, s[i:i+1])
				i++
			}
		default:
			if !isSpace(c) {
				skipped = true
			}
			i++
		}
	}
	return toks, skipped
}

// condValue is a Perl scalar as far as if expressions need one.
type condValue struct {
	num   float64
	str   string
	isStr bool
}

func (v condValue) truth() bool {
	if v.isStr {
		return v.str != "" && v.str != "0"
	}
	return v.num != 0
}

func (v condValue) number() float64 {
	if v.isStr {
		f, _ := strconv.ParseFloat(leadingNumber(v.str), 64)
		return f
	}
	return v.num
}

func leadingNumber(s string) string {
	s = strings.TrimLeft(s, " \t")
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || end == 0 && (s[end] == '-' || s[end] == '+')) {
		end++
	}
	return s[:end]
}

func num(f float64) condValue { return condValue{num: f} }
func boolean(b bool) condValue {
	if b {
		return num(1)
	}
	return condValue{isStr: true} // Perl's false is ""
}

// condEval evaluates one if expression with Perl precedence:
// ?: || && ^ (== !=) (< > <= >=) (+ -) (* /) (! unary-) primary.
//
// It recurses once per parenthesis, conditional and unary operator, so
// nesting is bounded by MaxNesting: an expression from an untrusted file
// (user_prefs) cannot exhaust the stack.
type condEval struct {
	p     *Parser
	file  string
	toks  []string
	i     int
	depth int
}

// MaxNesting bounds how deeply if conditions and meta expressions may
// nest parentheses, conditionals (?:) and unary operators. Real rules
// nest a few levels (SpamAssassin's stock rules at most 3).
const MaxNesting = 100

var (
	errCond = errors.New("syntax error")
	// ErrNesting is the error for an expression nested deeper than
	// MaxNesting.
	ErrNesting = fmt.Errorf("expression nested deeper than %d levels", MaxNesting)
)

// enter counts one more level of nesting; leave undoes it.
func (e *condEval) enter() error {
	e.depth++
	if e.depth > MaxNesting {
		return ErrNesting
	}
	return nil
}

func (e *condEval) leave() { e.depth-- }

func (p *Parser) evalCond(expr, file string) (bool, error) {
	toks, skipped := lexArith(expr)
	if skipped {
		return false, fmt.Errorf("unexpected character")
	}
	e := &condEval{p: p, file: file, toks: toks}
	v, err := e.ternary()
	if err != nil {
		return false, err
	}
	if e.i != len(e.toks) {
		return false, fmt.Errorf("%w at %q", errCond, e.toks[e.i])
	}
	return v.truth(), nil
}

func (e *condEval) peek() string {
	if e.i < len(e.toks) {
		return e.toks[e.i]
	}
	return ""
}

func (e *condEval) next() string {
	t := e.peek()
	if e.i < len(e.toks) {
		e.i++
	}
	return t
}

func (e *condEval) ternary() (condValue, error) {
	if err := e.enter(); err != nil {
		return condValue{}, err
	}
	defer e.leave()
	c, err := e.or()
	if err != nil || e.peek() != "?" {
		return c, err
	}
	e.next()
	a, err := e.ternary()
	if err != nil {
		return a, err
	}
	if e.next() != ":" {
		return a, fmt.Errorf("%w: '?' without ':'", errCond)
	}
	b, err := e.ternary()
	if err != nil {
		return b, err
	}
	if c.truth() {
		return a, nil
	}
	return b, nil
}

func (e *condEval) or() (condValue, error) {
	a, err := e.and()
	for err == nil && e.peek() == "||" {
		e.next()
		var b condValue
		b, err = e.and()
		if !a.truth() {
			a = b
		}
	}
	return a, err
}

func (e *condEval) and() (condValue, error) {
	a, err := e.xor()
	for err == nil && e.peek() == "&&" {
		e.next()
		var b condValue
		b, err = e.xor()
		if a.truth() {
			a = b
		}
	}
	return a, err
}

func (e *condEval) xor() (condValue, error) {
	a, err := e.equality()
	for err == nil && e.peek() == "^" {
		e.next()
		var b condValue
		b, err = e.equality()
		a = num(float64(uint64(a.number()) ^ uint64(b.number())))
	}
	return a, err
}

func (e *condEval) equality() (condValue, error) {
	a, err := e.relational()
	for err == nil && (e.peek() == "==" || e.peek() == "!=") {
		op := e.next()
		var b condValue
		b, err = e.relational()
		a = boolean((a.number() == b.number()) == (op == "=="))
	}
	return a, err
}

func (e *condEval) relational() (condValue, error) {
	a, err := e.additive()
	for err == nil {
		op := e.peek()
		if op != "<" && op != ">" && op != "<=" && op != ">=" {
			break
		}
		e.next()
		var b condValue
		b, err = e.additive()
		x, y := a.number(), b.number()
		switch op {
		case "<":
			a = boolean(x < y)
		case ">":
			a = boolean(x > y)
		case "<=":
			a = boolean(x <= y)
		default:
			a = boolean(x >= y)
		}
	}
	return a, err
}

func (e *condEval) additive() (condValue, error) {
	a, err := e.multiplicative()
	for err == nil && (e.peek() == "+" || e.peek() == "-") {
		op := e.next()
		var b condValue
		b, err = e.multiplicative()
		if op == "+" {
			a = num(a.number() + b.number())
		} else {
			a = num(a.number() - b.number())
		}
	}
	return a, err
}

func (e *condEval) multiplicative() (condValue, error) {
	a, err := e.unary()
	for err == nil && (e.peek() == "*" || e.peek() == "/") {
		op := e.next()
		var b condValue
		b, err = e.unary()
		if op == "*" {
			a = num(a.number() * b.number())
		} else {
			if b.number() == 0 {
				return a, fmt.Errorf("division by zero")
			}
			a = num(a.number() / b.number())
		}
	}
	return a, err
}

func (e *condEval) unary() (condValue, error) {
	switch e.peek() {
	case "!", "-":
		if err := e.enter(); err != nil {
			return condValue{}, err
		}
		defer e.leave()
	}
	switch e.peek() {
	case "!":
		e.next()
		v, err := e.unary()
		return boolean(!v.truth()), err
	case "-":
		e.next()
		v, err := e.unary()
		return num(-v.number()), err
	}
	return e.primary()
}

func (e *condEval) primary() (condValue, error) {
	t := e.next()
	switch {
	case t == "":
		return condValue{}, fmt.Errorf("%w: unexpected end", errCond)
	case t == "(":
		v, err := e.ternary()
		if err != nil {
			return v, err
		}
		if e.next() != ")" {
			return v, fmt.Errorf("%w: missing ')'", errCond)
		}
		return v, nil
	case t == "plugin" || t == "can" || t == "has":
		if e.next() != "(" {
			return condValue{}, fmt.Errorf("%w: %s without '('", errCond, t)
		}
		arg := e.next()
		if arg == ")" {
			return condValue{}, fmt.Errorf("%s() needs an argument", t)
		}
		if e.next() != ")" {
			return condValue{}, fmt.Errorf("%w: %s(…) missing ')'", errCond, t)
		}
		return e.call(t, arg)
	case t == "version":
		return num(e.p.opt.Version), nil
	case t == "perl_version":
		return num(e.p.opt.PerlVersion), nil
	case t == "local_tests_only":
		return boolean(e.p.opt.LocalTestsOnly), nil
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return num(f), nil
	}
	return condValue{}, fmt.Errorf("unexpected %q", t)
}

func (e *condEval) call(fn, arg string) (condValue, error) {
	switch fn {
	case "plugin":
		return boolean(e.p.pol.PluginEnabled(arg)), nil
	case "can":
		if e.p.user {
			// SpamAssassin: "if can" is not available in user_prefs.
			return boolean(false), nil
		}
		return boolean(e.p.can(arg)), nil
	default: // has
		return boolean(e.p.can(arg)), nil
	}
}

func (p *Parser) can(fn string) bool {
	if !strings.Contains(fn, "::") {
		return false
	}
	if p.canFn[fn] {
		return true
	}
	if flag, ok := strings.CutPrefix(fn, "Mail::SpamAssassin::Conf::compat_"); ok {
		for _, c := range p.pol.compat {
			if c == flag {
				return true
			}
		}
	}
	return false
}
