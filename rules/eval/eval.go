package eval

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// Context is what an eval function sees of one scan.
//
// # Concurrency
//
// A Context belongs to one scan. Its functions may be called from several
// goroutines: the values they share are computed once under a lock. A
// Context must not be copied after first use.
type Context struct {
	Msg    *tokenizer.Message
	Policy *cf.Policy // settings and lists; nil means SpamAssassin's defaults
	Now    time.Time
	// Shared, if set, keeps what functions derive from Policy alone
	// (free-mail tables, compiled argument patterns) across the scans
	// of one policy; nil derives it again for each Context.
	Shared *Shared

	mu      sync.Mutex
	memo    map[string]any
	current string              // the rule being evaluated, for TestLog
	logs    map[string][]string // rule → TestLog lines
}

// Evaluating tells the Context which rule the next calls evaluate, so
// that what they log is kept for that rule.
func (c *Context) Evaluating(rule string) {
	c.mu.Lock()
	c.current = rule
	c.mu.Unlock()
}

// TestLog keeps a detail of the rule being evaluated (an address, a
// probability) for the report, which prints it under the rule's
// description as SpamAssassin's test_log does.
func (c *Context) TestLog(detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == "" {
		return
	}
	if c.logs == nil {
		c.logs = map[string][]string{}
	}
	c.logs[c.current] = append(c.logs[c.current], detail)
}

// TestLogs returns what the evaluations of rule logged.
func (c *Context) TestLogs(rule string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.logs[rule])
}

// cached returns the value computed by f under key, computing it once.
func cached[T any](c *Context, key string, f func() T) T {
	c.mu.Lock()
	if v, ok := c.memo[key]; ok {
		c.mu.Unlock()
		return v.(T)
	}
	c.mu.Unlock()
	v := f()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.memo == nil {
		c.memo = map[string]any{}
	}
	if old, ok := c.memo[key]; ok {
		return old.(T)
	}
	c.memo[key] = v
	return v
}

// Shared holds what eval functions derive from one policy alone,
// computed once for all the scans under that policy. It is safe for
// concurrent use.
type Shared struct {
	mu   sync.Mutex
	memo map[string]any
}

// NewShared returns an empty Shared for one policy.
func NewShared() *Shared { return &Shared{memo: map[string]any{}} }

// policyCached is cached for a value that depends on c.Policy only: kept
// in c.Shared when there is one, so that it is computed once per policy.
func policyCached[T any](c *Context, key string, f func() T) T {
	sh := c.Shared
	if sh == nil {
		return cached(c, key, f)
	}
	sh.mu.Lock()
	if v, ok := sh.memo[key]; ok {
		sh.mu.Unlock()
		return v.(T)
	}
	sh.mu.Unlock()
	v := f()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.memo[key]; ok {
		return old.(T)
	}
	sh.memo[key] = v
	return v
}

// compileArg compiles a pattern given as an eval argument, once per
// policy.
func (c *Context) compileArg(expr string) (matcher, error) {
	type compiled struct {
		m   matcher
		err error
	}
	r := policyCached(c, "re\x00"+expr, func() compiled {
		m, err := compilePerl(expr)
		return compiled{m, err}
	})
	return r.m, r.err
}

// Func is one eval function: args are the rule's arguments with quotes
// removed. An error means the arguments are unusable (the rule is then a
// miss and lint should say so).
type Func func(c *Context, args []string) (bool, error)

// Registry maps function names to implementations. It is immutable after
// construction and safe for concurrent use.
type Registry struct {
	funcs map[string]Func
}

// Default returns a registry with every function of this package,
// including the SpamAssassin 3.x alias names (…_whitelist, …_blacklist).
func Default() *Registry {
	r := &Registry{funcs: map[string]Func{}}
	for _, add := range []func(map[string]Func){
		addHTML, addMIME, addHeader, addBody, addMadiff, addVBounce, addRelay, addLists, addFreemail, addURI, addImage,
	} {
		add(r.funcs)
	}
	return r
}

// Lookup returns the function called name.
func (r *Registry) Lookup(name string) (Func, bool) {
	f, ok := r.funcs[name]
	return f, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.funcs))
	for n := range r.funcs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// settings returns the policy's settings, or SpamAssassin's defaults.
func (c *Context) settings() cf.Settings {
	if c.Policy == nil {
		return cf.DefaultSettings()
	}
	return c.Policy.Settings()
}

// arg returns args[i], or "" when missing.
func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// needArgs fails unless at least n arguments were given.
func needArgs(name string, args []string, n int) error {
	if len(args) < n {
		return fmt.Errorf("%s: want %d arguments, got %d", name, n, len(args))
	}
	return nil
}

// perlNum reads s as Perl does in numeric context: leading blanks, then
// the longest numeric prefix; "inf"/"infinity" and "nan" are recognised;
// anything else is 0.
func perlNum(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	if s == "" {
		return 0
	}
	sign, rest := 1.0, s
	if rest[0] == '+' || rest[0] == '-' {
		if rest[0] == '-' {
			sign = -1
		}
		rest = rest[1:]
	}
	lr := strings.ToLower(rest)
	if strings.HasPrefix(lr, "inf") {
		return sign * math.Inf(1)
	}
	if strings.HasPrefix(lr, "nan") {
		return math.NaN()
	}
	i := 0
	digits := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
		digits++
	}
	if i < len(rest) && rest[i] == '.' {
		i++
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(rest) && (rest[i] == 'e' || rest[i] == 'E') {
		j := i + 1
		if j < len(rest) && (rest[j] == '+' || rest[j] == '-') {
			j++
		}
		k := j
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	f, err := strconv.ParseFloat(rest[:i], 64)
	if err != nil {
		return 0
	}
	return sign * f
}

// compareExpr evaluates "val OP n" for the "< 384", "!= 0" style
// expressions of html_eval and html_tag_balance. Expressions are
// restricted to the characters SpamAssassin allows; ok is false for
// anything it would refuse or fail to evaluate.
func compareExpr(val float64, expr string) (hit, ok bool) {
	for _, c := range expr {
		if !strings.ContainsRune("<>=!-+ 0123456789", c) {
			return false, false
		}
	}
	e := strings.TrimSpace(expr)
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if rest, found := strings.CutPrefix(e, op); found {
			rest = strings.ReplaceAll(rest, " ", "")
			n, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				return false, false
			}
			switch op {
			case "<=":
				return val <= n, true
			case ">=":
				return val >= n, true
			case "==":
				return val == n, true
			case "!=":
				return val != n, true
			case "<":
				return val < n, true
			default:
				return val > n, true
			}
		}
	}
	return false, false
}
