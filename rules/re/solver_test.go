package re

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
)

// TestFoldByteIsToLower checks foldByte against what the backtracking
// engine compares case-insensitive backreferences by.
func TestFoldByteIsToLower(t *testing.T) {
	for c := 0; c < 256; c++ {
		if got, want := rune(foldByte(byte(c))), unicode.ToLower(rune(c)); got != want {
			t.Errorf("foldByte(%#x) = %#x, unicode.ToLower = %#x", c, got, want)
		}
	}
}

// refWitnesses generates subjects meant to match the pattern of tree:
// a random walk that repeats what a group captured where a
// backreference to it stands (sometimes with its case changed or a
// byte altered, so that near misses are probed too).
func refWitnesses(tree *node, n int, rng *rand.Rand) []string {
	style := witnessStyle{
		printable: func(rng *rand.Rand) bool { return rng.IntN(3) != 0 },
		newline:   func(rng *rand.Rand) bool { return rng.IntN(2) == 0 },
		keepLook:  true,
		refs:      true,
	}
	var out []string
	for range n {
		out = append(out, string(walkWitness(tree, rng, style)))
	}
	return out
}

// TestRefSolverAgreesWithBacktracking compares the yes/no answers of
// every stock pattern the refSolver takes with the backtracking
// engine's, on corpus texts, generated witnesses and witnesses spliced
// into corpus header blocks.
func TestRefSolverAgreesWithBacktracking(t *testing.T) {
	pats := loadStock(t)
	perFolder := 40
	if testing.Short() {
		perFolder = 5
	}
	texts := probeTexts(t, perFolder)
	rng := rand.New(rand.NewPCG(16, 1))
	solved := 0
	for _, p := range pats {
		// Long time limits: a match that runs out of time on a loaded
		// machine counts as no match.
		fast, err := Compile(p.expr, p.flags, Options{MatchTimeout: time.Minute})
		if err != nil || fast.solver == nil {
			continue
		}
		solved++
		slow, err := Compile(p.expr, p.flags, Options{noSolver: true, MatchTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		tree, _, _ := parsePerl(p.expr, p.flags)
		subjects := append([]string(nil), texts...)
		for _, w := range refWitnesses(tree, 300, rng) {
			subjects = append(subjects, w, w+"\n", "x"+w+"\r\n", strings.ToUpper(w))
			host := texts[rng.IntN(len(texts))]
			at := rng.IntN(len(host) + 1)
			if nl := strings.IndexByte(host[at:], '\n'); nl >= 0 {
				at += nl + 1
			}
			subjects = append(subjects, host[:at]+w+"\n"+host[at:])
		}
		matched, undecided := 0, 0
		for _, s := range subjects {
			tx := NewText(s)
			want := slow.MatchText(tx)
			got, ok := fast.solver.match(s)
			if !ok {
				undecided++
				got = fast.MatchText(tx)
			}
			if got != want {
				t.Errorf("%s /%s/%s on %q: solver %v (decided %v), backtracking %v", p.rule, p.expr, p.flags, s, got, ok, want)
			}
			if fast.MatchText(tx) != want {
				t.Errorf("%s /%s/%s on %q: MatchText differs from backtracking", p.rule, p.expr, p.flags, s)
			}
			if want {
				matched++
			}
		}
		t.Logf("%s: %d of %d subjects match, %d left to backtracking", p.rule, matched, len(subjects), undecided)
	}
	t.Logf("%d stock patterns solved without backtracking", solved)
	if solved < 30 {
		t.Errorf("only %d stock patterns take the solver", solved)
	}
}

// solverShapes are patterns of the shapes the solvers take, with
// anchors, word boundaries and case folding at the points where the
// solvers split them.
// The third field, when set, says why no solver may take the pattern.
var solverShapes = [][3]string{
	{`(a+)b\1`, ""},
	{`(a+)b\1`, "i"},
	{`^(\w+) \1$`, "m"},
	{`^(\w+) \1$`, ""},
	{`\b(\w+)\b.*\b\1\b`, "s"},
	{`(\xe9|a)x\1`, "i"},
	{`(.)\1`, "i"},
	{`(a|b)*(ab?)\n?\2`, ""},
	{`x(\w*)(?=.*\1$)`, "s"},
	{`^(\S+)\s(?=.{0,9}^\1\r?$)`, "sm"},
	{`(?<=a)b`, ""},
	{`(?<!a|^)b`, "m", "RE2's ^ would hold after a final newline"},
	{`(?<=\b)b\b`, "i"},
	{`(?<=a\w*)b`, ""},
	{`(?<!\n)x$`, ""},
	{`a(?=\n)`, ""},
	{`a$(?!\n)`, "", "RE2's $ consumes the final newline"},
	{`\n^(?!x)`, "m", "RE2's ^ would hold after a final newline"},
	{`^(?!ab)[a-z]{2}`, "im"},
	{`(?!a)(?=\w)(?<!b).\b`, ""},
	{`(?=.*b)(?!.*x)a`, "s"},
	{`\d(?=\S{3,}\s*$)[\da-f]*\s*$`, "m"},
	{`a(?=b)b(?<=ab)c`, ""},
	{`(?!x)\xc9`, "i"},
	{`\b(?:a(?!b)|bb|x)\b`, "i"},
	{`(?:a(?=b)|b(?<=a.))(?:x|(?!a)\w)?$`, ""},
	{`^(?:a|(b(?!a))?)(?:a|(?<=b)\n)`, "m"},
	{`(?:a(?!b)){2}`, "", "a lookaround in a repeat"},
	{`(?:a(?!b))?+b`, "", "a possessive repeat"},
	{`^(?>\s{0,3})a`, "m"},
	{`(?>[ab]{1,3})b`, "i"},
	{`(?>[ab]*)\n?$`, ""},
	{`[ab]*+b`, ""},
	{`x[ab]{2,}+(?=\n)`, "i"},
	{`(?>[ab]{2})b`, ""},
	{`(?>[ab]{1,3}?)b`, "", "a lazy repeat in an atomic group"},
}

// TestSolverShapes compares the solvers with the backtracking engine on
// random subjects over a small alphabet, and with Perl where it is
// installed.
func TestSolverShapes(t *testing.T) {
	subjects := shapeSubjects()
	for _, sh := range solverShapes {
		fast, err := Compile(sh[0], sh[1], Options{MatchTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if (fast.solver == nil) != (sh[2] != "") {
			t.Errorf("/%s/%s: solver %v, want one: %v (%s)", sh[0], sh[1], fast.solver != nil, sh[2] == "", sh[2])
		}
		if fast.solver == nil {
			continue
		}
		slow, err := Compile(sh[0], sh[1], Options{noSolver: true, MatchTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subjects {
			got, ok := fast.solver.match(s)
			if !ok {
				t.Errorf("/%s/%s on %q: solver undecided", sh[0], sh[1], s)
			}
			if want := slow.MatchString(s); got != want {
				t.Errorf("/%s/%s on %q: solver %v, backtracking %v", sh[0], sh[1], s, got, want)
			}
		}
	}
}

// shapeSubjects are random subjects over a small alphabet for the
// solverShapes.
func shapeSubjects() []string {
	rng := rand.New(rand.NewPCG(7, 7))
	alphabet := []string{"a", "A", "b", "B", "x", "\n", " ", "\r", "\xe9", "\xc9", "1", "ab", "ab\n"}
	var subjects []string
	for range 1500 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		subjects = append(subjects, b.String())
	}
	return subjects
}

// TestSolverShapesArePerl compares the answers of the solverShapes on
// their random subjects with Perl's.
func TestSolverShapesArePerl(t *testing.T) {
	perl := startPerl(t)
	subjects := shapeSubjects()
	perl.setTexts(t, subjects)
	for _, sh := range solverShapes {
		re, err := Compile(sh[0], sh[1], Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := perl.matchProbes(t, sh[0], sh[1])
		if strings.HasPrefix(want, "E ") {
			// Perl refuses unbounded lookbehinds the engines take.
			t.Logf("/%s/%s: Perl refuses: %s", sh[0], sh[1], want)
			continue
		}
		if len(want) != len(subjects) {
			t.Fatalf("/%s/%s: Perl says %q", sh[0], sh[1], want)
		}
		for i, s := range subjects {
			got := byte('0')
			if re.MatchString(s) {
				got = '1'
			}
			if want[i] != got {
				t.Errorf("/%s/%s on %q: Go %c, Perl %c", sh[0], sh[1], s, got, want[i])
			}
		}
	}
}
