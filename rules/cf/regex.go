package cf

import (
	"fmt"
	"strings"
)

// ParsePattern splits a Perl regex literal as SpamAssassin's
// compile_regexp accepts it: "/re/flags", "m{re}flags" (also m( m< m[),
// or "m" or "qr" followed by any other non-word delimiter except '\'.
// Flags are [a-df-z]* ('e' is refused). An unescaped delimiter inside a
// non-bracket pattern and the code constructs "(?{" / "(??{" are errors.
// The expression itself is not compiled.
func ParsePattern(src string) (Pattern, error) {
	pat := Pattern{Source: src}
	re := src
	var end byte
	switch {
	case strings.HasPrefix(re, "/"):
		re, end = re[1:], '/'
	default:
		rest, ok := strings.CutPrefix(re, "qr")
		if !ok {
			rest, ok = strings.CutPrefix(re, "m")
		}
		if !ok || rest == "" {
			return pat, fmt.Errorf("missing regexp delimiters")
		}
		d := rest[0]
		switch d {
		case '{':
			end = '}'
		case '(':
			end = ')'
		case '<':
			end = '>'
		case '[':
			end = ']'
		case '\\':
			return pat, fmt.Errorf("backslash delimiter not allowed")
		default:
			if d == '_' || d >= '0' && d <= '9' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || isSpace(d) {
				return pat, fmt.Errorf("missing regexp delimiters")
			}
			end = d
		}
		re = rest[1:]
	}
	// The end delimiter is the last one followed only by flags.
	i := len(re)
	for i > 0 && isFlag(re[i-1]) {
		i--
	}
	if i == 0 || re[i-1] != end {
		return pat, fmt.Errorf("invalid end delimiter/mods")
	}
	pat.Expr, pat.Flags = re[:i-1], re[i:]
	if strings.Contains(pat.Expr, "(?{") || strings.Contains(pat.Expr, "(??{") {
		return pat, fmt.Errorf("eval (?{}) found")
	}
	if end != '}' && end != ')' && end != ']' {
		stripped := strings.ReplaceAll(pat.Expr, `\\`, "")
		for j := 0; j < len(stripped); j++ {
			if stripped[j] == end && (j == 0 || stripped[j-1] != '\\') {
				return pat, fmt.Errorf("unquoted delimiter '%c' found", end)
			}
		}
	}
	pat.Captures = hasNamedCapture(pat.Expr)
	pat.Templates = captureTemplates(pat.Expr)
	return pat, nil
}

func isFlag(c byte) bool { return c >= 'a' && c <= 'z' && c != 'e' }

// hasNamedCapture reports "(?<NAME" or "(?'NAME" or "(?P<NAME" with an
// upper-case first letter, which SpamAssassin treats as a capture rule.
func hasNamedCapture(s string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], "(?")
		if j < 0 {
			return false
		}
		k := i + j + 2
		if k < len(s) && s[k] == 'P' {
			k++
		}
		if k+1 < len(s) && (s[k] == '<' || s[k] == '\'') && s[k+1] >= 'A' && s[k+1] <= 'Z' {
			return true
		}
		i = i + j + 2
	}
}

// captureTemplates returns the %{NAME} tags (NAME upper case, optionally
// with "(args)") not preceded by a backslash.
func captureTemplates(s string) []string {
	var out []string
	for i := 0; i+2 < len(s); i++ {
		if s[i] != '%' || s[i+1] != '{' || (i > 0 && s[i-1] == '\\') {
			continue
		}
		j := strings.IndexByte(s[i+2:], '}')
		if j < 0 {
			break
		}
		name := s[i+2 : i+2+j]
		if validTemplate(name) {
			out = append(out, name)
		}
	}
	return out
}

func validTemplate(n string) bool {
	base, args, hasArgs := strings.Cut(n, "(")
	if hasArgs && !strings.HasSuffix(args, ")") {
		return false
	}
	if base == "" || base[0] < 'A' || base[0] > 'Z' || strings.HasPrefix(base, "_") || strings.HasSuffix(base, "_") || strings.Contains(base, "__") {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validRuleName is SpamAssassin's IS_RULENAME: [_a-zA-Z][_a-zA-Z0-9]{0,127}.
func validRuleName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseEval parses "func(args)" as SpamAssassin's pack_eval_args does:
// arguments are quoted strings ('…' or "…") or bare [\d.:A-Za-z-]+ words,
// separated by commas.
func parseEval(text string) (*EvalCall, error) {
	open := strings.IndexByte(text, '(')
	if open <= 0 || !strings.HasSuffix(text, ")") {
		return nil, fmt.Errorf("syntax error for eval function: %s", text)
	}
	fn := text[:open]
	for i := 0; i < len(fn); i++ {
		c := fn[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return nil, fmt.Errorf("syntax error for eval function: %s", text)
		}
	}
	// Perl: /^(\w+)\((.*?)\)$/ — the lazy group still has to reach the
	// final ')', so args is everything between the first '(' and the last.
	args := text[open+1 : len(text)-1]
	call := &EvalCall{Func: fn, Args: []string{}}
	if trimSpace(args) == "" {
		return call, nil
	}
	s := args
	for s != "" {
		s = strings.TrimLeft(s, " \t\r\n\f\v")
		var arg string
		if s != "" && (s[0] == '\'' || s[0] == '"') {
			// (['"])(.*?)\1 followed by a comma or the end: the lazy
			// match moves on to a later quote if needed.
			q, found := s[0], false
			for j := 1; j < len(s); j++ {
				if s[j] != q {
					continue
				}
				rest := strings.TrimLeft(s[j+1:], " \t\r\n\f\v")
				if rest == "" || rest[0] == ',' {
					arg, s, found = s[1:j], s[j+1:], true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("syntax error in eval arguments: %s", text)
			}
		} else {
			j := 0
			for j < len(s) && (s[j] == '.' || s[j] == ':' || s[j] == '-' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			if j == 0 {
				return nil, fmt.Errorf("syntax error in eval arguments: %s", text)
			}
			arg, s = s[:j], s[j:]
		}
		s = strings.TrimLeft(s, " \t\r\n\f\v")
		if s != "" {
			if s[0] != ',' {
				return nil, fmt.Errorf("syntax error in eval arguments: %s", text)
			}
			s = s[1:]
			if trimSpace(s) == "" {
				// SpamAssassin accepts a trailing comma.
				s = ""
			}
		}
		call.Args = append(call.Args, arg)
	}
	return call, nil
}
