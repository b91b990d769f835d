package eval

import (
	"fmt"
	"regexp"
	"time"

	"github.com/dlclark/regexp2"
)

// matcher is a compiled Perl pattern from an eval argument.
type matcher interface{ MatchString(s string) bool }

// backtracking wraps regexp2 for patterns RE2 refuses (look-around,
// back-references); a match that times out is a miss.
type backtracking struct{ re *regexp2.Regexp }

func (b backtracking) MatchString(s string) bool {
	ok, err := b.re.MatchString(s)
	return err == nil && ok
}

// compilePerl compiles a Perl pattern given as an eval argument (no
// delimiters; a "(?i)"-style prefix may carry flags). RE2 is used when it
// accepts the pattern, a backtracking engine with a time limit otherwise.
func compilePerl(expr string) (matcher, error) {
	if re, err := regexp.Compile(expr); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", expr, err)
	}
	re.MatchTimeout = 100 * time.Millisecond
	return backtracking{re}, nil
}
