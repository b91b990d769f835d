package rules

import (
	"fmt"
	"regexp"
	"sync"
)

// A matcher is a compiled rule pattern.
type matcher interface {
	MatchString(s string) bool
	FindAllStringIndex(s string, n int) [][]int
}

// compilePattern compiles a rule's Perl pattern. This first version hands
// patterns Go's RE2 can take unchanged to it (flags become an inline
// group) and refuses the rest; Perl-only syntax is the job of the
// backtracking fallback.
func compilePattern(expr, flags string) (matcher, string, error) {
	var inline string
	for _, f := range flags {
		switch f {
		case 'i', 's', 'm':
			inline += string(f)
		case 'x', 'g', 'o':
			if f == 'x' {
				return nil, "", fmt.Errorf("flag x is not supported yet")
			}
		default:
			return nil, "", fmt.Errorf("unknown flag %q", f)
		}
	}
	src := expr
	if inline != "" {
		src = "(?" + inline + ")" + expr
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, "", err
	}
	return re, "re2", nil
}

// A patternCache shares compiled patterns between the engines built from
// one site policy (the site's own and each user's), so that a user's
// engine compiles only the user's own rules. Safe for concurrent use.
type patternCache struct {
	mu sync.Mutex
	m  map[string]compiledPattern
}

type compiledPattern struct {
	m      matcher
	engine string
	err    error
}

func newPatternCache() *patternCache { return &patternCache{m: map[string]compiledPattern{}} }

func (c *patternCache) compile(expr, flags string) (matcher, string, error) {
	key := flags + "\x00" + expr
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[key]; ok {
		return p.m, p.engine, p.err
	}
	m, engine, err := compilePattern(expr, flags)
	c.m[key] = compiledPattern{m, engine, err}
	return m, engine, err
}
