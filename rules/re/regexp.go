package re

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"

	"github.com/gospamd/gospamd/internal/ascii"
)

// DefaultMatchTimeout is the per-match time limit of the backtracking
// engine when Options.MatchTimeout is zero.
const DefaultMatchTimeout = 100 * time.Millisecond

// ErrDeadline is the error of the ...Before methods when a match on the
// backtracking engine was not started because it might not end by the
// deadline.
var ErrDeadline = errors.New("backtracking match not started: it might not end by the deadline")

// clockSlack is how far past its MatchTimeout a backtracking match can
// run. regexp2 reads the time from a clock that a goroutine advances
// every regexp2.DefaultClockPeriod, and sets a match's deadline one
// period later than asked (the clock may be about to tick); the clock it
// compares with may be a period stale. Fifty milliseconds more cover a
// late tick and the stretch between two of its time checks.
const clockSlack = 2*regexp2.DefaultClockPeriod + 50*time.Millisecond

// Engine names, as Regexp.Engine returns them.
const (
	EngineRE2       = "re2"
	EngineBacktrack = "backtrack"
)

// Options tune Compile.
type Options struct {
	// MatchTimeout limits one match of a pattern that runs on the
	// backtracking engine (DefaultMatchTimeout when zero). A match that
	// runs out of time counts as no match.
	MatchTimeout time.Duration
	// OnTimeout, when set, is called once for every match that ran out
	// of time (for a metric). It must be safe for concurrent use.
	OnTimeout func()
	// StateBudget, when set, bounds the state caches of the dfas of all
	// the patterns compiled with it, together (see StateBudget).
	StateBudget *StateBudget

	// forceBacktrack compiles for the backtracking engine even when RE2
	// could run the pattern (tests compare the two).
	forceBacktrack bool
	// noDFA leaves the dfa out (tests compare with and without).
	noDFA bool
	// noSolver leaves the solvers out (tests compare with and
	// without).
	noSolver bool
}

// Error is a pattern that cannot be compiled.
type Error struct {
	Expr  string
	Flags string
	// Offset is the byte offset in Expr where the problem was found, or
	// -1 when it concerns the whole pattern.
	Offset int
	// Reason says what is wrong, in Perl's words where there are some
	// ("unmatched (", "nested quantifiers", "unrecognized escape \y").
	Reason string
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("compile pattern /%s/%s: %s (at offset %d)", e.Expr, e.Flags, e.Reason, e.Offset)
	}
	return fmt.Sprintf("compile pattern /%s/%s: %s", e.Expr, e.Flags, e.Reason)
}

// A Regexp is a compiled rule pattern.
//
// # Concurrency
//
// A Regexp is safe for concurrent use. What it builds as it runs (its
// dfa's states, Go's compiled regexp on first need) changes no answer.
//
// # Subject
//
// The subject string holds the bytes Perl would match, usually UTF-8;
// it need not be valid UTF-8. Byte offsets returned refer to it.
type Regexp struct {
	expr, flags string
	// latin1: some element matches bytes >= 0x80, so non-ASCII subjects
	// are matched through their Latin-1 view.
	latin1 bool
	// re2Src is the Go regexp RE2 runs the pattern as, "" when the
	// backtracking engine runs it. Go's compiled regexp (re2) is only
	// made the first time it is needed, for positions, captures or a
	// subject the dfa cannot read: most patterns are only ever asked
	// whether they match, which their dfa answers, and the compiled
	// program is as large as the dfa's.
	re2Src  string
	re2Once sync.Once
	re2     *regexp.Regexp
	bt      *regexp2.Regexp
	// why is the reason the backtracking engine is used.
	why       string
	onTimeout func()
	literals  []string
	// gate is a set of lower-cased strings one of which every match
	// contains, however short; a backtracking pattern is not run on a
	// subject that holds none of them (Perl's optimizer does the same
	// with its "floating substr" check).
	gate    []string
	keepOut bool
	// dfa decides MatchText for an RE2 pattern; for a backtracking one
	// it runs a relaxed pattern (lookaround, backreferences and atomic
	// groups loosened) that matches whenever the pattern does, so that
	// the backtracking engine only runs where it may match. nil: none.
	dfa *dfa
	// dfaSrc is the Go regexp dfa was built from, for a Set.
	dfaSrc string
	// heavy: the pattern has a long counted repeat of a wide class
	// (see SetFriendly).
	heavy bool
	// named maps each group name to the numbers of its groups.
	named map[string][]int
	// seqs finds the matches of an RE2 pattern that is a set of fixed
	// byte sequences (see byteSeqs); nil for the others.
	seqs *byteSeqs
	// solver decides MatchText for some backtracking patterns (see
	// refSolver and lookSolver); nil: none.
	solver solver
}

// Compile compiles a rule pattern: expr is the text between the
// delimiters and flags the trailing modifiers, as cf.Pattern gives
// them. Patterns Go's RE2 can run with Perl's results go to RE2; the
// others (lookaround, backreferences, atomic groups, possessive
// quantifiers, some anchors) to a backtracking engine with a per-match
// time limit. The error is an *Error.
func Compile(expr, flags string, opt Options) (*Regexp, error) {
	fail := func(off int, reason string) error {
		return &Error{Expr: expr, Flags: flags, Offset: off, Reason: reason}
	}
	tree, p, err := parsePerl(expr, flags)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, fail(se.pos, se.reason)
		}
		return nil, fail(-1, err.Error())
	}
	r := &Regexp{
		expr:      expr,
		flags:     flags,
		latin1:    needsBytes(tree),
		onTimeout: opt.OnTimeout,
		literals:  literals(tree),
		keepOut:   p.keepOut,
		named:     namedGroups(tree),
		heavy:     heavyRepeat(tree),
	}
	why := backtrackReason(tree)
	if opt.forceBacktrack && why == "" {
		why = "forced"
	}
	if why == "" && progSize(tree) > maxRE2Size {
		why = "counted repeats too large for RE2"
	}
	if why == "" {
		src := emitGo(tree, r.latin1, false)
		parsed, err := parseRE2(src)
		var se *syntax.Error
		if errors.As(err, &se) && se.Code == syntax.ErrInvalidRepeatSize {
			src = emitGo(tree, r.latin1, true)
			parsed, err = parseRE2(src)
		}
		if err == nil {
			// A copy of its length: the builder's buffer has room to
			// spare.
			r.re2Src = strings.Clone(src)
			r.seqs = newByteSeqs(tree)
			if !opt.noDFA {
				if r.dfa = treeDFA(parsed); r.dfa != nil {
					r.dfaSrc = r.re2Src
					if opt.StateBudget != nil {
						r.dfa.useBudget(opt.StateBudget)
					}
				}
			}
			return r, nil
		}
		why = "RE2: " + err.Error()
	}
	src := emitDotNet(wrapPossessive(tree))
	bt, err := regexp2.Compile(src, regexp2.None)
	if err != nil {
		return nil, fail(-1, fmt.Sprintf("backtracking engine refused the translation (%s): %v", why, err))
	}
	bt.MatchTimeout = opt.MatchTimeout
	if bt.MatchTimeout <= 0 {
		bt.MatchTimeout = DefaultMatchTimeout
	}
	r.bt = bt
	r.why = why
	r.gate = gateLiterals(tree)
	if !opt.noDFA {
		r.dfa, r.dfaSrc = relaxedDFA(tree)
		if r.dfa != nil && opt.StateBudget != nil {
			r.dfa.useBudget(opt.StateBudget)
		}
		if !opt.noSolver {
			if r.solver = newSolver(tree); r.solver != nil && opt.StateBudget != nil {
				r.solver.useBudget(opt.StateBudget)
			}
		}
	}
	return r, nil
}

// parseRE2 parses src as regexp.Compile does, so that a src it accepts
// compiles.
func parseRE2(src string) (*syntax.Regexp, error) {
	if src == "" {
		return nil, errors.New("translation too large")
	}
	return syntax.Parse(src, syntax.Perl)
}

// goRegexp returns Go's compiled regexp of an RE2 pattern, compiling
// it on first use; parseRE2 accepted its source.
func (r *Regexp) goRegexp() *regexp.Regexp {
	r.re2Once.Do(func() { r.re2 = regexp.MustCompile(r.re2Src) })
	return r.re2
}

// String returns the pattern as written, "/expr/flags".
func (r *Regexp) String() string { return "/" + r.expr + "/" + r.flags }

// Engine returns EngineRE2 or EngineBacktrack.
func (r *Regexp) Engine() string {
	if r.re2Src != "" {
		return EngineRE2
	}
	return EngineBacktrack
}

// FallbackReason says why the pattern runs on the backtracking engine
// ("lookaround", "backreference"…), or "" for RE2.
func (r *Regexp) FallbackReason() string { return r.why }

// ByteSemantics reports whether some element of the pattern can match a
// byte >= 0x80, so that non-ASCII subjects are matched through their
// Latin-1 view.
func (r *Regexp) ByteSemantics() bool { return r.latin1 }

// MaxMatchTime is the longest one match of the pattern can take: for a
// pattern on the backtracking engine its MatchTimeout and the slack of
// that engine's clock; 0 for RE2, which runs in time linear in the
// subject.
func (r *Regexp) MaxMatchTime() time.Duration {
	if r.bt == nil {
		return 0
	}
	return r.bt.MatchTimeout + clockSlack
}

// fits reports whether a backtracking match started now ends by
// deadline (always, when deadline is zero).
//
// The per-match limit cannot be lowered for one call: MatchTimeout is a
// field of the compiled regexp2.Regexp, which every scan shares, and
// regexp2 reads it when a match starts, so writing it per call would be
// a data race and would shorten other scans' matches. Instead a match is
// only started when the whole per-match limit fits in the time left;
// the caller decides what a refused match means (the rules engine stops
// the scan there, as at its time limit).
func (r *Regexp) fits(deadline time.Time) bool {
	return deadline.IsZero() || time.Until(deadline) >= r.MaxMatchTime()
}

// MatchString reports whether the pattern matches s.
func (r *Regexp) MatchString(s string) bool {
	return r.MatchText(NewText(s))
}

// FindAllStringIndex returns the byte offsets of successive
// non-overlapping matches in s, at most n of them (all when n < 0), like
// a Perl m//g loop. A timeout ends the search: the matches found before
// it are returned.
func (r *Regexp) FindAllStringIndex(s string, n int) [][]int {
	return r.FindAllTextIndex(NewText(s), n)
}

// Text is a subject prepared once for many patterns: the Latin-1 view
// (and the rune slice of the backtracking engine) of a non-ASCII subject
// are built on first use and shared. A Text is safe for concurrent use.
type Text struct {
	s     string
	ascii bool

	viewOnce  sync.Once
	view      string
	lowerOnce sync.Once
	low       string
	runesOnce sync.Once
	runes     []rune
}

// NewText prepares s.
func NewText(s string) *Text {
	return &Text{s: s, ascii: isASCII(s)}
}

// String returns the subject.
func (t *Text) String() string { return t.s }

func isASCII(s string) bool { return ascii.Is(s) }

// latin1 returns the subject with each byte as the rune of the same
// value, UTF-8 encoded.
func (t *Text) latin1() string {
	if t.ascii {
		return t.s
	}
	t.viewOnce.Do(func() {
		b := make([]byte, 0, len(t.s)+len(t.s)/4)
		for i := 0; i < len(t.s); i++ {
			b = utf8.AppendRune(b, rune(t.s[i]))
		}
		t.view = string(b)
	})
	return t.view
}

// lower returns LowerASCII of the subject.
func (t *Text) lower() string {
	t.lowerOnce.Do(func() { t.low = LowerASCII(t.s) })
	return t.low
}

// byteRunes returns one rune per byte of the subject.
func (t *Text) byteRunes() []rune {
	t.runesOnce.Do(func() {
		t.runes = make([]rune, len(t.s))
		for i := 0; i < len(t.s); i++ {
			t.runes[i] = rune(t.s[i])
		}
	})
	return t.runes
}

// MatchText reports whether the pattern matches t.
func (r *Regexp) MatchText(t *Text) bool {
	ok, _ := r.MatchTextBefore(t, time.Time{})
	return ok
}

// MatchTextBefore is MatchText bounded by deadline (none when zero): a
// pattern on the backtracking engine is not run when one match could
// last past the deadline (MaxMatchTime), and the answer is then false
// with ErrDeadline. The error is always nil or ErrDeadline; a match that
// runs out of its own MatchTimeout is no match, without error.
func (r *Regexp) MatchTextBefore(t *Text, deadline time.Time) (bool, error) {
	return r.matchText(t, deadline, 0)
}

// MatchSetCandidateBefore is MatchTextBefore for a t that a Set holding
// the pattern said it may match (Set.Match set its entry and returned
// true): the pattern's dfa, which the Set walked already, is not walked
// again. The answer is MatchTextBefore's whatever the Set said; only
// the work differs.
func (r *Regexp) MatchSetCandidateBefore(t *Text, deadline time.Time) (bool, error) {
	return r.matchText(t, deadline, knownWalked)
}

// MatchLiteralCandidateBefore is MatchTextBefore for a t known to hold
// one of the pattern's Literals (a Prefilter of them said so): the
// literal gate of a pattern on the backtracking engine, which is those
// same strings, is not searched for again. The answer is
// MatchTextBefore's.
func (r *Regexp) MatchLiteralCandidateBefore(t *Text, deadline time.Time) (bool, error) {
	return r.matchText(t, deadline, knownLits)
}

// FindAllLiteralCandidateIndexBefore is FindAllTextIndexBefore for a t
// known to hold one of the pattern's Literals, as
// MatchLiteralCandidateBefore.
func (r *Regexp) FindAllLiteralCandidateIndexBefore(t *Text, n int, deadline time.Time) ([][]int, error) {
	return r.findAll(t, n, deadline, knownLits)
}

// known says what a caller of matchText or findAll knows of t already.
type known uint8

const (
	// knownWalked: the pattern's dfa (for a backtracking pattern, its
	// relaxed one) was walked on t and said it may match, so it is not
	// walked again.
	knownWalked known = 1 << iota
	// knownLits: t holds one of the pattern's Literals.
	knownLits
)

// matchText is MatchTextBefore, not doing again what known says was
// done.
func (r *Regexp) matchText(t *Text, deadline time.Time, kn known) (bool, error) {
	walked := kn&knownWalked != 0
	if r.re2Src != "" && r.dfa != nil && !walked {
		if m, ok := r.dfa.match(t, r.latin1); ok {
			return m, nil
		}
	}
	if r.re2Src != "" {
		if r.latin1 {
			return r.goRegexp().MatchString(t.latin1()), nil
		}
		return r.goRegexp().MatchString(t.s), nil
	}
	if !r.gateOpen(t, kn) {
		return false, nil
	}
	if !r.fits(deadline) {
		return false, ErrDeadline
	}
	if r.solver != nil {
		if m, ok := r.solver.match(t.s); ok {
			return m, nil
		}
	}
	// The subject's runes, made once per Text for all the patterns on
	// the backtracking engine (MatchString would convert it each time).
	ok, err := r.bt.MatchRunes(t.byteRunes())
	if err != nil {
		r.timedOut()
		return false, nil
	}
	return ok, nil
}

// gateOpen reports whether the backtracking engine may match t: t
// holds one of the gate strings and the relaxed pattern matches (not
// asked again when walked: a Set walked its dfa on t and said yes).
//
// With knownLits the gate strings are not searched: a pattern with
// Literals has them as its gate (both are the strongest requirement the
// literal analysis finds; Literals drops it when a member is short).
func (r *Regexp) gateOpen(t *Text, kn known) bool {
	if (kn&knownLits == 0 || r.literals == nil) && !r.literalGateOpen(t) {
		return false
	}
	if r.dfa != nil && kn&knownWalked == 0 {
		if m, ok := r.dfa.match(t, true); ok && !m {
			return false
		}
	}
	return true
}

// literalGateOpen reports whether t holds one of the gate strings (true
// when there is no gate).
func (r *Regexp) literalGateOpen(t *Text) bool {
	if r.gate == nil {
		return true
	}
	low := t.lower()
	for _, g := range r.gate {
		if strings.Contains(low, g) {
			return true
		}
	}
	return false
}

func (r *Regexp) timedOut() {
	if r.onTimeout != nil {
		r.onTimeout()
	}
}

// FindAllTextIndex is FindAllStringIndex on a prepared Text.
func (r *Regexp) FindAllTextIndex(t *Text, n int) [][]int {
	out, _ := r.FindAllTextIndexBefore(t, n, time.Time{})
	return out
}

// FindAllTextIndexBefore is FindAllTextIndex bounded by deadline (none
// when zero), as MatchTextBefore: when the next match on the
// backtracking engine could last past the deadline it is not started,
// and the matches found so far are returned with ErrDeadline.
func (r *Regexp) FindAllTextIndexBefore(t *Text, n int, deadline time.Time) ([][]int, error) {
	return r.findAll(t, n, deadline, 0)
}

// FindAllSetCandidateIndexBefore is FindAllTextIndexBefore for a t that
// a Set holding the pattern said it may match, as
// MatchSetCandidateBefore: the same matches, without walking the
// pattern's dfa again.
func (r *Regexp) FindAllSetCandidateIndexBefore(t *Text, n int, deadline time.Time) ([][]int, error) {
	return r.findAll(t, n, deadline, knownWalked)
}

// findAll is FindAllTextIndexBefore; kn as for matchText.
func (r *Regexp) findAll(t *Text, n int, deadline time.Time, kn known) ([][]int, error) {
	walked := kn&knownWalked != 0
	if n == 0 {
		return nil, nil
	}
	if r.seqs != nil {
		// One scan of the bytes, cheaper than the dfa's yes or no.
		return r.seqs.findAll(t.s, n), nil
	}
	if r.re2Src != "" && r.dfa != nil && !walked {
		if m, ok := r.dfa.match(t, r.latin1); ok && !m {
			return nil, nil
		}
	}
	if r.re2Src != "" {
		if !r.latin1 || t.ascii {
			return r.goRegexp().FindAllStringIndex(t.s, n), nil
		}
		view := t.latin1()
		out := r.goRegexp().FindAllStringIndex(view, n)
		// One walk of the view for all offsets, which only increase.
		flat := make([]int, 0, 2*len(out))
		for _, m := range out {
			flat = append(flat, m...)
		}
		viewToSubject(view, flat)
		for i, m := range out {
			copy(m, flat[2*i:])
		}
		return out, nil
	}
	if !r.gateOpen(t, kn) {
		return nil, nil
	}
	if !r.fits(deadline) {
		return nil, ErrDeadline
	}
	var out [][]int
	m, err := r.btFind(t)
	for err == nil && m != nil {
		// Rune offsets are byte offsets: one rune per byte.
		out = append(out, []int{m.Index, m.Index + m.Length})
		if n > 0 && len(out) >= n {
			break
		}
		if !r.fits(deadline) {
			return out, ErrDeadline
		}
		m, err = r.bt.FindNextMatch(m)
	}
	if err != nil {
		r.timedOut()
	}
	return out, nil
}

// Literals returns strings of which every match contains at least one,
// for a prefilter that skips patterns whose literals are absent; nil
// when there is no such set worth testing (some member would be shorter
// than MinLiteralLen).
//
// The strings are bytes of the subject with ASCII letters lower-cased:
// search them in the subject after lower-casing its ASCII letters
// (LowerASCII). For a case-sensitive pattern that finds a superset of the
// subjects where the exact literals occur, which is all a prefilter
// needs.
func (r *Regexp) Literals() []string { return r.literals }
