package rules

import (
	"sync"
	"time"

	"github.com/gospamd/gospamd/rules/re"
)

// A matcher is a compiled rule pattern.
type matcher = *re.Regexp

// patternTimeout bounds one match of a pattern that runs on the
// backtracking engine; a timeout counts as no match.
const patternTimeout = 100 * time.Millisecond

// compilePattern compiles a rule's Perl pattern with Perl's byte
// semantics (rules/re): on Go's RE2 when it can run the pattern exactly,
// else on a backtracking engine with a time limit. It returns the
// pattern's required literals for the prefilter (nil: none) and which
// engine runs it.
func compilePattern(expr, flags string, budget *re.StateBudget) (matcher, []string, string, error) {
	r, err := re.Compile(expr, flags, re.Options{MatchTimeout: patternTimeout, StateBudget: budget})
	if err != nil {
		return nil, nil, "", err
	}
	return r, r.Literals(), r.Engine(), nil
}

// A patternCache shares compiled patterns between the engines built from
// one site policy (the site's own and each user's), so that a user's
// engine compiles only the user's own rules. Safe for concurrent use.
type patternCache struct {
	mu sync.Mutex
	m  map[string]compiledPattern
	// budget bounds the state caches of the patterns' dfas together.
	budget *re.StateBudget
}

// dfaStateBudget bounds the memory the dfas of one site policy's
// patterns keep for the states they build as they see text (the
// transitions of each state they have met): without a bound these
// caches grow with the mail a daemon has scanned. SpamAssassin's stock
// rules (with the built-in ones) charge 21 MiB after 800 messages of the
// shared corpus and 29 MiB after all 3250, the built-in rules alone 3
// MiB; past the budget the dfas that need the most states start over,
// which costs time, not answers.
const dfaStateBudget = 48 << 20

type compiledPattern struct {
	m      matcher
	lits   []string
	engine string
	err    error
}

func newPatternCache() *patternCache {
	return &patternCache{m: map[string]compiledPattern{}, budget: re.NewStateBudget(dfaStateBudget)}
}

func (c *patternCache) compile(expr, flags string) (matcher, []string, string, error) {
	key := flags + "\x00" + expr
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[key]; ok {
		return p.m, p.lits, p.engine, p.err
	}
	m, lits, engine, err := compilePattern(expr, flags, c.budget)
	c.m[key] = compiledPattern{m, lits, engine, err}
	return m, lits, engine, err
}
