package eval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkForToInSubject (check_for_to_in_subject("address"|"user")): the
// Subject names the recipient's address, or addresses them by user name.
//
// SpamAssassin builds a regular expression around the address for every
// message; compiling one per scan cost more than the test itself, so the
// two patterns are matched by hand here, with the semantics Go's regexp
// gives them (case folding as (?i), \b and \w as ASCII, \w folded):
//
//	address: (?i)\bADDRESS\b
//	user:    (?i)^(?:(?:re|fw):\s*(?:\w+\s+)?USER$|(?-i:USER)\s*[,:;!?-](?:$|\s)|USER$|,\s*USER[,:;!?-]$)
//
// TestToInSubjectMatchesRegexp checks them against those expressions.
func checkForToInSubject(c *Context, args []string) (bool, error) {
	to := c.addr("To")
	if to == "" {
		return false, nil
	}
	subject := c.get("Subject")
	switch arg(args, 0) {
	case "address":
		return addressInSubject(to, subject), nil
	case "user":
		user := to
		if i := strings.IndexByte(user, '@'); i >= 0 {
			user = user[:i]
		}
		return userInSubject(user, strings.TrimSuffix(subject, "\n")), nil
	}
	return false, nil
}

// addressInSubject is (?i)\bADDR\b matched against subject. An address
// that is not valid UTF-8 matches nothing (the expression would not
// compile).
func addressInSubject(addr, subject string) bool {
	if !utf8.ValidString(addr) {
		return false
	}
	prev := rune(-1) // the rune before i; -1 at the start
	for i := 0; ; {
		var next rune = -1
		size := 0
		if i < len(subject) {
			next, size = utf8.DecodeRuneInString(subject[i:])
		}
		if isWordRune(prev) != isWordRune(next) {
			if end, last, ok := matchPrefix(subject[i:], addr, true); ok {
				end += i
				before, after := last, rune(-1)
				if end < len(subject) {
					after, _ = utf8.DecodeRuneInString(subject[end:])
				}
				if isWordRune(before) != isWordRune(after) {
					return true
				}
			}
		}
		if i >= len(subject) {
			return false
		}
		prev = next
		i += size
	}
}

// userInSubject is the "user" expression (see checkForToInSubject)
// matched against s, the Subject without its final newline.
func userInSubject(user, s string) bool {
	if !utf8.ValidString(user) {
		return false
	}
	// USER, the whole subject.
	if foldEqual(s, user) {
		return true
	}
	// (?-i:USER)\s*[,:;!?-](?:$|\s)
	if end, _, ok := matchPrefix(s, user, false); ok {
		rest := strings.TrimLeft(s[end:], spaceChars)
		if rest != "" && isSubjectPunct(rest[0]) && (len(rest) == 1 || isSpaceByte(rest[1])) {
			return true
		}
	}
	// ,\s*USER[,:;!?-]$
	if rest, ok := strings.CutPrefix(s, ","); ok && rest != "" && isSubjectPunct(rest[len(rest)-1]) {
		body := rest[:len(rest)-1]
		for k := 0; ; k++ {
			if foldEqual(body[k:], user) {
				return true
			}
			if k >= len(body) || !isSpaceByte(body[k]) {
				break
			}
		}
	}
	// (?:re|fw):\s*(?:\w+\s+)?USER$
	for _, prefix := range []string{"re:", "fw:"} {
		end, _, ok := matchPrefix(s, prefix, true)
		if !ok {
			continue
		}
		for p := end; ; p++ {
			if foldEqual(s[p:], user) || wordsThenUser(s[p:], user) {
				return true
			}
			if p >= len(s) || !isSpaceByte(s[p]) {
				break
			}
		}
	}
	return false
}

// wordsThenUser is (?i)\w+\s+USER$ anchored at the start of s. \w and \s
// share no character, so \w+ takes the whole run of word characters;
// \s+ may stop early when USER itself starts with white space.
func wordsThenUser(s, user string) bool {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isFoldedWordRune(r) {
			break
		}
		i += size
	}
	if i == 0 {
		return false
	}
	for i < len(s) && isSpaceByte(s[i]) {
		i++
		if foldEqual(s[i:], user) {
			return true
		}
	}
	return false
}

// spaceChars is \s in Go's regexp: [\t\n\f\r ].
const spaceChars = "\t\n\f\r "

func isSpaceByte(b byte) bool { return strings.IndexByte(spaceChars, b) >= 0 }

func isSubjectPunct(b byte) bool { return strings.IndexByte(",:;!?-", b) >= 0 }

// isWordRune is \b's notion of a word character (ASCII only); -1, the
// edge of the text, is not one.
func isWordRune(r rune) bool {
	return r >= 0 && r < utf8.RuneSelf && (r == '_' || '0' <= r && r <= '9' || 'a' <= r|0x20 && r|0x20 <= 'z')
}

// isFoldedWordRune is \w under (?i): the ASCII word characters and
// what they fold to (ſ and the Kelvin sign).
func isFoldedWordRune(r rune) bool {
	return isWordRune(r) || r == '\u017f' || r == '\u212a'
}

// matchPrefix reports whether s starts with lit, rune by rune as the
// regexp engine reads them (a broken byte is U+FFFD), under simple case
// folding with fold (as a (?i) literal matches); it returns where that
// prefix ends and the last rune of it (-1 for an empty lit).
func matchPrefix(s, lit string, fold bool) (end int, last rune, ok bool) {
	last = -1
	for _, lr := range lit {
		if end >= len(s) {
			return 0, -1, false
		}
		sr, size := utf8.DecodeRuneInString(s[end:])
		if sr != lr && (!fold || !foldRuneEqual(sr, lr)) {
			return 0, -1, false
		}
		end += size
		last = sr
	}
	return end, last, true
}

// foldEqual reports whether s is lit under simple case folding.
func foldEqual(s, lit string) bool {
	end, _, ok := matchPrefix(s, lit, true)
	return ok && end == len(s)
}

// foldRuneEqual reports whether a is in b's simple case-folding orbit.
func foldRuneEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(b); r != b; r = unicode.SimpleFold(r) {
		if r == a {
			return true
		}
	}
	return false
}
