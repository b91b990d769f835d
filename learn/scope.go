package learn

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gospamd/gospamd/classifier"
)

// MaxUserNameLength bounds the user names requests may carry.
const MaxUserNameLength = 128

// ValidateUserName checks a user name from a request or the command line
// (spamc -u, sa-learn -u). Names select per-user preferences and Bayes
// scopes, and may end up in file names, so anything that could walk a
// path or hide in a log is refused: empty names, "." and "..", slashes
// and backslashes, NUL and other control characters, invalid UTF-8, and
// names longer than MaxUserNameLength bytes. Mail addresses
// (user@example.com) are fine.
func ValidateUserName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("user name is empty")
	case len(name) > MaxUserNameLength:
		return fmt.Errorf("user name is longer than %d bytes", MaxUserNameLength)
	case name == "." || name == "..":
		return fmt.Errorf("user name %q is not allowed", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("user name is not valid UTF-8")
	case strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("user name %q contains a path separator", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("user name contains a control character")
		}
	}
	return nil
}

// ScopeFor returns the Bayes scope a user's learns and scans use: the
// global scope unless perUser (bayes_scope user) is set and a user is
// named.
func ScopeFor(user string, perUser bool) (classifier.Scope, error) {
	if user == "" || !perUser {
		return "", nil
	}
	if err := ValidateUserName(user); err != nil {
		return "", err
	}
	return classifier.Scope(user), nil
}
