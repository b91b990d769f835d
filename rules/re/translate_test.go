package re

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// matchCase is one pattern, one subject and Perl's answer (checked
// against Perl itself by TestMatchCasesArePerl when perl is installed).
type matchCase struct {
	name        string
	expr, flags string
	text        string
	want        bool
}

var matchCases = []matchCase{
	// Byte semantics: Perl matches the bytes of the subject.
	{"hex escape is a byte, not U+00E4", `\xe4`, "", "ä", false},
	{"hex escape matches the Latin-1 byte", `\xe4`, "", "\xe4", true},
	{"two hex escapes spell UTF-8", `\xc3\xa4`, "", "Motörhead Mädchen", true},
	{"dot is one byte", `^.{3}$`, "", "äb", true},
	{"dot is not one character", `^.{2}$`, "", "äb", false},
	{"dot between ASCII", `a.b`, "", "aäb", false},
	{"two non-word bytes", `^\W\W$`, "", "ä", true},
	{"negated class per byte", `^[^a-z]{2}$`, "", "ä", true},
	{"fold Latin-1 byte", `\xe4`, "i", "\xc4", true},
	{"fold Latin-1 byte not UTF-8", `\xc4`, "i", "ä", false},
	{"no Kelvin sign for k under /i", `k`, "i", "\u212a", false},
	{"no long s for s under /i", `^s$`, "i", "\u017f", false},
	{"no sharp s for ss under /i", `ss`, "i", "\xdf", false},
	{"raw Latin-1 byte in pattern", "caf\xe9", "", "caf\xe9", true},
	{"raw UTF-8 in pattern", "café", "", "un café noir", true},
	{"raw UTF-8 in pattern folds bytes only", "CAFé", "i", "café", true},
	{"\\w is ASCII", `\w`, "", "é", false},
	{"POSIX alpha is ASCII", `[[:alpha:]]`, "", "é", false},
	{"\\d is ASCII", `\d`, "", "٣", false},
	{"word boundary next to non-ASCII", `\bfoo\b`, "", "éfooé", true},
	{"code point above 0xFF never matches", `\x{263a}`, "", "☺", false},
	{"Unicode property on a Latin-1 byte", `\p{L}`, "", "\xe9", true},
	{"Unicode property on ASCII", `^\p{Lu}$`, "", "a", false},

	// Whitespace classes.
	{"\\s includes VT", `\s`, "", "\v", true},
	{"\\h includes NBSP byte", `\h`, "", "\xa0", true},
	{"\\h finds the NBSP byte of UTF-8", `a\h`, "", "a\u00a0", false},
	{"\\v includes NEL", `\v`, "", "\x85", true},
	{"\\v is not space", `\v`, "", " ", false},
	{"\\H", `^\H$`, "", "\xa0", false},
	{"\\N is not newline", `\N`, "", "\n", false},
	{"\\R CRLF", `^\R$`, "", "\r\n", true},

	// Anchors.
	{"$ before final newline", `a$`, "", "a\n", true},
	{"$ not before two newlines", `a$`, "", "a\n\n", false},
	{"$ at end", `a$`, "", "a", true},
	{"\\Z before final newline", `a\Z`, "", "a\n", true},
	{"\\z only at end", `a\z`, "", "a\n", false},
	{"^$ on a lone newline", `^$`, "", "\n", true},
	{"$ then newline", `a$\n`, "", "a\n", true},
	{"$ inside alternation", `(?:a$|b)c`, "", "a\nc", false},
	{"$ then optional", `a$\s*`, "", "a\n", true},
	{"$ under /m before inner newline", `a$`, "m", "a\nb", true},
	{"^ under /m after inner newline", `^b`, "m", "a\nb", true},
	{"^$ under /m not after final newline", `^$`, "m", "a\n", false},
	{"^$ under /m on an empty line", `^$`, "m", "a\n\nb", true},
	{"^\\z under /m not after final newline", `^\z`, "m", "a\n", false},
	{"^ under /m on empty subject", `^`, "m", "", true},
	{"^\\s*$ under /m not at the end", `^\s*$`, "m", "a\n", false},
	{"^\\s*$ under /m on a blank line", `^\s*$`, "m", "a\n \nb", true},
	{"\\A", `\Aab`, "", "xab", false},
	{"^ without /m", `^b`, "", "a\nb", false},

	// Modifiers.
	{"x strips blanks", `a b c`, "x", "abc", true},
	{"x strips comments", "a # comment\nb", "x", "ab", true},
	{"x keeps escaped blank", `a\ b`, "x", "a b", true},
	{"x keeps class blank", `a[ ]b`, "x", "a b", true},
	{"xx strips class blank", `a[ b]c`, "xx", "a c", false},
	{"inline x", `(?x) a b`, "", "ab", true},
	{"inline x scoped", `(?x: a b ) c`, "", "ab c", true},
	{"x with quantifier after blank", `a +`, "x", "aa", true},
	{"s makes dot match newline", `a.b`, "s", "a\nb", true},
	{"dot without s", `a.b`, "", "a\nb", false},
	{"inline i off", `(?i)a(?-i)b`, "", "AB", false},
	{"inline i reaches later branches", `(a(?i)b|c)`, "", "C", true},
	{"caret resets modifiers", `(?i)(?^:a)`, "", "A", false},
	{"n makes groups non-capturing", `(a)`, "n", "a", true},
	{"i on class", `[a-c]`, "i", "B", true},
	{"i on negated class", `[^a]`, "i", "A", false},
	{"i on POSIX upper", `[[:upper:]]`, "i", "a", true},

	// Escapes.
	{"\\e is ESC", `\e\$B`, "", "\x1b$B", true},
	{"octal \\015", `\015`, "", "\r", true},
	{"octal \\0", `a\0b`, "", "a\x00b", true},
	{"octal in class", `[\042]`, "", `"`, true},
	{"octal 3 digits then digit", `\0123`, "", "\n3", true},
	{"\\x one digit", `\x4`, "", "\x04", true},
	{"\\x braces", `\x{41}`, "", "A", true},
	{"\\c control", `\cA`, "", "\x01", true},
	{"\\o braces", `\o{101}`, "", "A", true},
	{"\\N{U+}", `\N{U+41}`, "", "A", true},
	{"backspace in class", `[\b]`, "", "\b", true},
	{"escaped punctuation", `\.\*\[`, "", ".*[", true},
	{"\\K keeps matching", `a\Kb`, "", "ab", true},

	// Quantifiers.
	{"{,n}", `^x{,3}y$`, "", "xxy", true},
	{"{,n} bound", `^x{,3}y$`, "", "xxxxy", false},
	{"blanks in braces", `^a{ 1 , 2 }$`, "", "aa", true},
	{"literal { at start", `{a`, "", "{a", true},
	{"literal { after ^", `^{`, "", "{", true},
	{"count above 1000", `^a{1001}$`, "", strings.Repeat("a", 1001), true},
	{"count above 1000 short", `^a{1001}$`, "", strings.Repeat("a", 1000), false},
	{"range above 1000", `<[^>]{1,2048}>`, "", "<" + strings.Repeat("x", 1500) + ">", true},
	{"range above 1000 long", `^<[^>]{1,2048}>`, "", "<" + strings.Repeat("x", 2049) + ">", false},
	{"exact 1400", `a[^<\s]{1400}`, "i", "a" + strings.Repeat("z", 1400), true},
	{"lazy", `a.*?b`, "", "axxb", true},

	// Perl-only constructs (backtracking engine).
	{"possessive gives nothing back", `a++a`, "", "aa", false},
	{"possessive", `a++b`, "", "aab", true},
	{"atomic group", `(?>a+)a`, "", "aaa", false},
	{"atomic group matches", `(?>\s{0,50})x`, "", "  x", true},
	{"negative lookahead", `foo(?!bar)`, "", "foobar", false},
	{"negative lookahead matches", `foo(?!bar)`, "", "foobaz", true},
	{"lookbehind", `(?<=a)b`, "", "ab", true},
	{"negative lookbehind", `(?<!a)b`, "", "ab", false},
	{"lookahead with byte semantics", `(?=.{3}$)ä`, "", "xä", false},
	{"backreference", `(a)\1`, "", "aa", true},
	{"backreference differs", `(a)\1`, "", "ab", false},
	{"backreference under i", `(a)\1`, "i", "aA", true},
	{"named backreference", `(?<n>a)\k<n>`, "", "aa", true},
	{"relative backreference", `(a)\g{-1}`, "", "aa", true},
	{"named group", `(?<NAME>ab)c`, "", "abc", true},
	{"lookahead word boundary", `(?=\w)\bfoo`, "", "éfoo", true},
	{"backref after named group", `(?<x>a)(b)\2`, "", "abb", true},
	{"lookaround byte view", `(?<!\xc3)\xa4`, "", "ä", false},
}

func TestMatchCases(t *testing.T) {
	for _, c := range matchCases {
		t.Run(c.name, func(t *testing.T) {
			re, err := Compile(c.expr, c.flags, Options{})
			if err != nil {
				t.Fatalf("Compile(%q, %q): %v", c.expr, c.flags, err)
			}
			if got := re.MatchString(c.text); got != c.want {
				t.Errorf("/%s/%s on %q = %v, want %v (engine %s %s)", c.expr, c.flags, c.text, got, c.want, re.Engine(), re.FallbackReason())
			}
			// The backtracking translation must agree too.
			bt, err := Compile(c.expr, c.flags, Options{forceBacktrack: true})
			if err != nil {
				t.Fatalf("Compile backtracking: %v", err)
			}
			if got := bt.MatchString(c.text); got != c.want {
				t.Errorf("backtracking /%s/%s on %q = %v, want %v", c.expr, c.flags, c.text, got, c.want)
			}
		})
	}
}

// TestMatchCasesArePerl checks the expectations of matchCases against
// Perl itself, compiled as SpamAssassin compiles rule patterns.
func TestMatchCasesArePerl(t *testing.T) {
	perl := startPerl(t)
	for _, c := range matchCases {
		want := "0"
		if c.want {
			want = "1"
		}
		if got := perl.match(t, c.expr, c.flags, c.text); got != want {
			t.Errorf("%s: Perl says /%s/%s on %q = %s, table says %s", c.name, c.expr, c.flags, c.text, got, want)
		}
	}
}

// engineCases are where each kind of pattern runs.
var engineCases = []struct {
	expr, flags string
	want        string
}{
	{`foo\s+bar`, "i", EngineRE2},
	{`a$`, "", EngineRE2},
	{`^From:`, "m", EngineRE2},
	{`a{1400}`, "", EngineRE2},
	{`a(?=b)`, "", EngineBacktrack},
	{`(a)\1`, "", EngineBacktrack},
	{`(?>a)`, "", EngineBacktrack},
	{`a++`, "", EngineBacktrack},
	{`a$\n`, "", EngineBacktrack},
	{`^$`, "m", EngineBacktrack},
}

func TestEngine(t *testing.T) {
	for _, c := range engineCases {
		re, err := Compile(c.expr, c.flags, Options{})
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.expr, err)
		}
		if re.Engine() != c.want {
			t.Errorf("/%s/%s runs on %s (%s), want %s", c.expr, c.flags, re.Engine(), re.FallbackReason(), c.want)
		}
	}
}

// errorCases are patterns SpamAssassin refuses (Perl errors, or warnings
// that compile_regexp turns into errors).
var errorCases = []struct {
	expr, flags string
	reason      string // part of Error.Reason
}{
	{`a\Qb\E`, "", `unrecognized escape \Q`},
	{`\y`, "", `unrecognized escape \y`},
	{`a**`, "", "nested quantifiers"},
	{`a{2}{3}`, "", "nested quantifiers"},
	{`(?g)a`, "", "useless (?g)"},
	{`a`, "g", `modifier 'g'`},
	{`(a`, "", "unmatched ("},
	{`a)`, "", "unmatched )"},
	{`[a`, "", "unmatched ["},
	{`*a`, "", "quantifier follows nothing"},
	{`x{`, "", "unescaped left brace"},
	{`\1(a)`, "", ""},
	{`\2(a)`, "", "nonexistent group"},
	{`(?P=n)`, "", "nonexistent named group"},
	{`[z-a]`, "", "invalid [] range"},
	{`[\d-z]`, "", "false [] range"},
	{`a{3,2}`, "", "n > m"},
	{`[[:foo:]]`, "", "POSIX class"},
	{`\b*`, "", "zero-length"},
	{`\c`, "", `\c`},
	// Perl accepts these; this package does not support them.
	{`(?|(a)|(b))`, "", "not recognized"},
	{`\X`, "", "not supported"},
	{`\N{LATIN SMALL LETTER A}`, "", "not supported"},
}

// unsupported are the errorCases Perl accepts.
var unsupported = map[string]bool{`(?|(a)|(b))`: true, `\X`: true, `\N{LATIN SMALL LETTER A}`: true}

func TestCompileErrors(t *testing.T) {
	for _, c := range errorCases {
		re, err := Compile(c.expr, c.flags, Options{})
		if c.expr == `\1(a)` {
			// Perl compiles it (the group exists, later); it can never
			// match.
			if err != nil {
				t.Errorf("Compile(%q) = %v, want success", c.expr, err)
			} else if re.MatchString("aa") {
				t.Errorf("/%s/ matched", c.expr)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Compile(%q, %q) = %v, want an *Error", c.expr, c.flags, err)
			continue
		}
		if !strings.Contains(e.Reason, c.reason) {
			t.Errorf("Compile(%q, %q) reason %q, want it to mention %q", c.expr, c.flags, e.Reason, c.reason)
		}
	}
}

// TestCompileErrorsArePerl checks that Perl refuses the errorCases too.
func TestCompileErrorsArePerl(t *testing.T) {
	perl := startPerl(t)
	for _, c := range errorCases {
		got := perl.match(t, c.expr, c.flags, "aa")
		if c.expr == `\1(a)` {
			if got != "0" {
				t.Errorf("Perl on /%s/: %s, want 0", c.expr, got)
			}
			continue
		}
		if unsupported[c.expr] {
			if strings.HasPrefix(got, "E ") {
				t.Errorf("Perl refuses /%s/ (%s), the table says it is only unsupported here", c.expr, got)
			}
			continue
		}
		if !strings.HasPrefix(got, "E ") {
			t.Errorf("Perl accepts /%s/%s (%s), the table says it refuses it", c.expr, c.flags, got)
		}
	}
}

// findAllCases compare offsets with Perl's m//g loop.
var findAllCases = []struct {
	expr, flags, text string
	want              [][]int
}{
	{`o`, "", "foo boo", [][]int{{1, 2}, {2, 3}, {5, 6}, {6, 7}}},
	{`\xe4`, "", "\xe4 ä \xe4", [][]int{{0, 1}, {5, 6}}},
	{`.b`, "", "äb ab", [][]int{{1, 3}, {4, 6}}},
	{`(?<=ä)b`, "", "äb äb", [][]int{{2, 3}, {6, 7}}},
	{`\w+`, "", "über café", [][]int{{2, 5}, {6, 9}}},
}

func TestFindAllStringIndex(t *testing.T) {
	for _, c := range findAllCases {
		re, err := Compile(c.expr, c.flags, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := re.FindAllStringIndex(c.text, -1); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("/%s/ on %q: %v, want %v", c.expr, c.text, got, c.want)
		}
		if got := re.FindAllStringIndex(c.text, 1); len(got) != 1 || !slices.Equal(got[0], c.want[0]) {
			t.Errorf("/%s/ on %q, n=1: %v, want %v", c.expr, c.text, got, c.want[:1])
		}
	}
}

func TestFindAllStringIndexIsPerl(t *testing.T) {
	perl := startPerl(t)
	for _, c := range findAllCases {
		var parts []string
		for _, m := range c.want {
			parts = append(parts, fmt.Sprintf("%d-%d", m[0], m[1]))
		}
		if got, want := perl.matchAll(t, c.expr, c.flags, c.text), strings.Join(parts, " "); got != want {
			t.Errorf("Perl m/%s/g on %q: %s, table says %s", c.expr, c.text, got, want)
		}
	}
}

func TestTimeoutCountsAsNoMatch(t *testing.T) {
	timeouts := 0
	re, err := Compile(`^(\w+\s?)*$\1`, "", Options{MatchTimeout: 10e6, OnTimeout: func() { timeouts++ }})
	if err != nil {
		t.Fatal(err)
	}
	subject := strings.Repeat("aaaa ", 200) + "!"
	if re.MatchString(subject) {
		t.Error("runaway pattern matched")
	}
	if timeouts != 1 {
		t.Errorf("OnTimeout called %d times, want 1", timeouts)
	}
}
