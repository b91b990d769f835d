package eval

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The expressions SpamAssassin builds for check_for_to_in_subject, which
// addressInSubject and userInSubject match by hand.
func addressRegexp(addr string) (*regexp.Regexp, error) {
	return regexp.Compile(`(?i)\b` + regexp.QuoteMeta(addr) + `\b`)
}

func userRegexp(user string) (*regexp.Regexp, error) {
	q := regexp.QuoteMeta(user)
	return regexp.Compile(`(?i)^(?:(?:re|fw):\s*(?:\w+\s+)?` + q + `$|(?-i:` + q + `)\s*[,:;!?-](?:$|\s)|` + q + `$|,\s*` + q + `[,:;!?-]$)`)
}

func TestToInSubject(t *testing.T) {
	tests := []struct {
		name, to, subject string
		address, user     bool
	}{
		{"address in the subject", "jm@example.com", "news for jm@example.com today", true, false},
		{"address in other case", "jm@example.com", "News for JM@Example.COM", true, false},
		{"address inside a longer word", "jm@example.com", "news for xjm@example.com", false, false},
		{"address followed by a dot", "jm@example.com", "mail jm@example.com.", true, false},
		{"no address", "jm@example.com", "a subject", false, false},
		{"user alone", "jm@example.com", "jm", false, true},
		{"user alone, other case", "jm@example.com", "JM", false, true},
		{"reply to the user", "jm@example.com", "Re: jm", false, true},
		{"forward with a word", "jm@example.com", "FW: hello jm", false, true},
		{"user addressed first", "jm@example.com", "jm, your account", false, true},
		{"user addressed first, other case", "jm@example.com", "JM, your account", false, false},
		{"user after a comma", "jm@example.com", ",  jm!", false, true},
		{"user in the middle", "jm@example.com", "hello jm there", false, false},
		{"Kelvin sign folds to k", "kim@example.com", "\u212aim", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, _, _ := strings.Cut(tt.to, "@")
			if got := addressInSubject(tt.to, tt.subject); got != tt.address {
				t.Errorf("address %q in %q: %v, want %v", tt.to, tt.subject, got, tt.address)
			}
			if got := userInSubject(user, tt.subject); got != tt.user {
				t.Errorf("user %q in %q: %v, want %v", user, tt.subject, got, tt.user)
			}
		})
	}
}

// TestToInSubjectMatchesRegexp compares the hand matchers with the
// expressions on random subjects made of the characters that matter:
// word and non-word, white space, the punctuation, folding letters
// (k/K/Kelvin sign, s/S/long s), non-ASCII and broken UTF-8.
func TestToInSubjectMatchesRegexp(t *testing.T) {
	pieces := []string{"a", "A", "k", "K", "\u212a", "s", "S", "\u017f", "_", "1", " ", "  ", "\t", "\n", ",", ":", ";",
		"!", "?", "-", ".", "@", "re:", "RE:", "Fw:", "\xff", "\ufffd", "é", "É", "ﬀ", "x.y"}
	users := []string{"", "a", "ak", "s", "x.y", " a", "a ", "é", "\ufffd", "k1_s", "re", "a-b"}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(max int) string {
		var b strings.Builder
		for range rng.IntN(max + 1) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	// recase changes the case of some letters, as a subject might.
	recase := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r == 'k' && rng.IntN(3) == 0:
				b.WriteRune('\u212a')
			case r == 's' && rng.IntN(3) == 0:
				b.WriteRune('\u017f')
			case rng.IntN(2) == 0:
				b.WriteString(strings.ToUpper(string(r)))
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	for i := range 100000 {
		user := users[rng.IntN(len(users))]
		if i%4 == 0 {
			user = random(3)
		}
		addr := user + "@" + users[rng.IntN(len(users))]
		var subject string
		switch rng.IntN(4) {
		case 0:
			subject = random(6)
		case 1:
			subject = random(3) + recase(addr) + random(3)
		default:
			subject = random(3) + recase(user) + random(2)
		}
		if re, err := addressRegexp(addr); err == nil {
			if got, want := addressInSubject(addr, subject), re.MatchString(subject); got != want {
				t.Fatalf("address %q in %q: %v, the expression says %v", addr, subject, got, want)
			}
		} else if addressInSubject(addr, subject) {
			t.Fatalf("address %q (no expression) matched %q", addr, subject)
		}
		if re, err := userRegexp(user); err == nil {
			if got, want := userInSubject(user, subject), re.MatchString(subject); got != want {
				t.Fatalf("user %q in %q: %v, the expression says %v", user, subject, got, want)
			}
		} else if userInSubject(user, subject) {
			t.Fatalf("user %q (no expression) matched %q", user, subject)
		}
	}
}
