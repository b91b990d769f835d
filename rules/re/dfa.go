package re

import (
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// A dfa decides whether a Go regexp program matches somewhere in a
// subject, like regexp.MatchString, in one pass over the subject and a
// few instructions per byte: a deterministic automaton built lazily from
// the program's NFA, state by state as subjects need them, and kept for
// the next subjects. Go's regexp has no DFA; its NFA and backtracker
// cost time in proportion to the program's size at every byte, which
// dominates for the long alternations of rule patterns.
//
// A state is the set of program counters the NFA threads are at before
// the next input rune (not yet followed through empty-width
// instructions, whose truth depends on that rune), and what the previous
// rune was as far as assertions care: none (start of subject), "\n", a
// word character or another one. Threads start anew at every position
// (an unanchored search). Input runes are mapped to classes that the
// program cannot tell apart, so that a state has one transition per
// class.
//
// # Concurrency
//
// A dfa is safe for concurrent use: transitions are read without locks
// and new states are made under a mutex.
type dfa struct {
	prog *dprog
	// classOf maps a rune below 256 to its class.
	classOf [256]uint8
	// repr is a rune of each class.
	repr []rune
	// asciiOnly: no instruction matches a rune >= 0x80, so every such
	// rune of a UTF-8 subject is in classOf[0x80]'s class.
	asciiOnly bool
	// anchored: the program only matches at the start of the subject.
	anchored bool
	// set: the program is a pattern set (see newSetDFA): the end of
	// capture group i+1 marks a match of pattern i, states carry the
	// patterns matched on the way into them, and the walk goes on to the
	// end of the subject.
	set bool
	// maxResets is how often the cache may be emptied before the dfa
	// is abandoned (one walk, for a set).
	maxResets int
	// ids maps a set's pattern numbers to the numbers its hits report.
	ids []int32
	// maxStates bounds the states the cache keeps.
	maxStates int

	// table holds the states made so far and their transitions; it is
	// replaced (copied) when it grows and emptied when it is full.
	table  atomic.Pointer[dfaTable]
	mu     sync.Mutex // held to add states and transitions
	index  stateIndex
	resets int
	failed atomic.Bool // the cache was emptied too often: give up
	// scratch is the working memory of whoever holds mu (see lock).
	scratch *dfaScratch
	// charge is what the cache holds of its StateBudget; nil: none.
	charge *dfaCharge
	// starts caches the start states of anchored walks (see
	// startState); nil until one is made.
	starts atomic.Pointer[startStates]
	// twin is the anchored twin walked from the starts lead says instead
	// (see matchStarts); nil unless every match begins at a line start
	// or with one byte.
	twin *dfa
	lead int
}

// A dfaTable is a dfa's states by id and its transitions:
// trans[id*classes+class] is the row of the next state (its id times
// the number of classes, where its transitions start in trans, so that
// a walk takes no multiplication per byte), or one of the dfaUnknown,
// dfaMatched and dfaDead markers. A state's row is never below
// dfaStart, its id never 0.
type dfaTable struct {
	trans  []uint32 // read and written atomically
	states []*dstate
	n      int // states in use (under dfa.mu)
	gen    int // how many times the cache was emptied before this table
}

const (
	dfaUnknown uint32 = iota // transition not computed yet
	dfaMatched               // the program matched before this rune
	dfaDead                  // no match is possible any more
	dfaStart                 // the id of the start state

	// dfaHits flags a transition of a set's dfa into a state with
	// hits.
	dfaHits uint32 = 1 << 31
)

// dstate is one state of a dfa.
type dstate struct {
	// key is the state's key in the dfa's index and all there is to know
	// of it: prev+1 in its first byte, where prev is what the previous
	// rune was to assertions (-1 start, '\n', 'a' word, ' ' other), then
	// the sorted pcs and, for a set's state with hits, 0xffffffff and
	// the hits, four bytes each, little-endian.
	key string
	// atEnd caches whether the state matches at the end of the subject:
	// 0 unknown, 1 no, 2 yes.
	atEnd atomic.Int32
	// set holds a set's hits; nil for other dfas' states.
	set *dstateHits
}

// dstateHits are the patterns of a set that matched on the way into a
// state (before the rune that led to it) and, once atEnd is known,
// those that match at the end of the subject.
type dstateHits struct {
	hits, endHits []int32
}

func (s *dstate) prev() rune { return rune(s.key[0]) - 1 }

// appendPCs appends the state's pcs to dst.
func (s *dstate) appendPCs(dst []uint32) []uint32 {
	k := s.key
	for i := 1; i+4 <= len(k); i += 4 {
		pc := uint32(k[i]) | uint32(k[i+1])<<8 | uint32(k[i+2])<<16 | uint32(k[i+3])<<24
		if pc == 0xffffffff {
			break
		}
		dst = append(dst, pc)
	}
	return dst
}

// hits returns the patterns of a set that matched on the way into s.
func (s *dstate) hits() []int32 {
	if s.set == nil {
		return nil
	}
	return s.set.hits
}

// A dfaScratch is the working memory of making states. The holder of a
// dfa's mu takes one from scratchPool for as long as it holds the lock
// (lock, unlock), so that the thousands of dfas of a policy do not each
// keep arrays the size of their programs: only states are made under
// the lock, which is the slow path.
type dfaScratch struct {
	stack   []uint32
	pcs     []uint32
	seen    []uint32 // sparse set over pcs
	dense   []uint32
	consume []uint32
	out     []uint32
	key     []byte
	hits    []int32
}

var scratchPool = sync.Pool{New: func() any { return new(dfaScratch) }}

// lock takes d.mu and a scratch big enough for d's program.
func (d *dfa) lock() {
	d.mu.Lock()
	sc := scratchPool.Get().(*dfaScratch)
	if len(sc.seen) < len(d.prog.inst) {
		sc.seen = make([]uint32, len(d.prog.inst))
	}
	d.scratch = sc
}

// unlock gives the scratch back and releases d.mu.
func (d *dfa) unlock() {
	scratchPool.Put(d.scratch)
	d.scratch = nil
	d.mu.Unlock()
}

// dfaMaxStates bounds the states a dfa keeps; the cache is emptied when
// it is full, and after dfaMaxResets the dfa is abandoned for Go's
// matcher.
const (
	dfaMaxStates  = 10000
	dfaMaxResets  = 8
	dfaInitStates = 4
)

// newDFA prepares a dfa for the Go regexp src (as emitGo wrote it); nil
// when the program uses what the dfa does not handle.
func newDFA(src string) *dfa {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	return treeDFA(re)
}

// treeDFA prepares a dfa for re, a Go regexp as syntax.Parse gave it
// with syntax.Perl; nil when the program uses what the dfa does not
// handle.
func treeDFA(re *syntax.Regexp) *dfa {
	re = re.Simplify()
	prog, err := syntax.Compile(re)
	if err != nil {
		return nil
	}
	d := progDFA(prog)
	if d != nil && !d.anchored {
		d.twin, d.lead = d.startsTwin(re)
	}
	return d
}

// newSetDFA prepares one dfa for all of srcs (Go regexps as emitGo wrote
// them): its walk over a subject finds which of them match somewhere,
// read byte by byte (the Latin-1 view). Nil when one of them uses what
// the dfa does not handle.
//
// The program is the alternation of the patterns, each in a capture
// group of its own (their own groups removed), so that the end of group
// i+1 is where pattern i matched.
func newSetDFA(srcs []string, ids []int32) *dfa {
	alt := &syntax.Regexp{Op: syntax.OpAlternate}
	for i, src := range srcs {
		re, err := syntax.Parse(src, syntax.Perl)
		if err != nil {
			return nil
		}
		alt.Sub = append(alt.Sub, &syntax.Regexp{Op: syntax.OpCapture, Cap: i + 1, Sub: []*syntax.Regexp{uncapture(re.Simplify())}})
	}
	if len(srcs) == 1 {
		// The parser never leaves an alternation of one.
		alt = alt.Sub[0]
	}
	prog, err := syntax.Compile(alt)
	if err != nil {
		return nil
	}
	d := progDFA(prog)
	if d != nil {
		d.set = true
		d.ids = ids
		d.maxResets = setMaxResets
		d.maxStates = setMaxStates
		d.anchored = false
	}
	return d
}

// uncapture replaces the capture groups of re by their contents.
func uncapture(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	for i, s := range re.Sub {
		re.Sub[i] = uncapture(s)
	}
	return re
}

func progDFA(prog *syntax.Prog) *dfa {
	d := &dfa{asciiOnly: true, maxResets: dfaMaxResets, maxStates: dfaMaxStates, index: newStateIndex()}
	nonASCII := func(r rune) {
		if r >= utf8.RuneSelf {
			d.asciiOnly = false
		}
	}
	for i := range prog.Inst {
		inst := &prog.Inst[i]
		switch inst.Op {
		case syntax.InstRune:
			if syntax.Flags(inst.Arg)&syntax.FoldCase != 0 {
				// Go's parser turns a class of one letter's two cases
				// into a folded literal: the letters of its orbit.
				if len(inst.Rune) != 1 {
					return nil
				}
				r := inst.Rune[0]
				for f := unicode.SimpleFold(r); ; f = unicode.SimpleFold(f) {
					nonASCII(f)
					if f == r {
						break
					}
				}
				continue
			}
			for _, r := range inst.Rune {
				nonASCII(r)
			}
		case syntax.InstRune1:
			nonASCII(inst.Rune[0])
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			d.asciiOnly = false
		}
	}
	d.anchored = prog.StartCond()&syntax.EmptyBeginText != 0
	d.prog = newDProg(prog)
	d.classOf, d.repr = byteClasses(d.prog)
	d.lock()
	d.reset()
	d.unlock()
	return d
}

// reset empties the cache and makes the start state; d.mu is held (or d
// is new).
func (d *dfa) reset() {
	d.index.clear()
	gen := 0
	if old := d.table.Load(); old != nil {
		gen = old.gen + 1
	}
	t := &dfaTable{
		trans:  make([]uint32, dfaInitStates*len(d.repr)),
		states: make([]*dstate, dfaInitStates),
		n:      int(dfaStart),
		gen:    gen,
	}
	d.chargeTable(dfaInitStates) // within the floor: always charged
	d.table.Store(t)
	d.state([]uint32{d.prog.start}, -1, nil)
}

// state returns the id of the state of pcs (sorted, deduplicated) after
// prev, with hits (a set's, sorted), in the current table, making it if
// needed (which may replace the table); d.mu is held. It returns
// dfaUnknown when the dfa gave up.
func (d *dfa) state(pcs []uint32, prev rune, hits []int32) uint32 {
	key := d.scratch.key[:0]
	key = append(key, byte(prev+1))
	for _, pc := range pcs {
		key = append(key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if len(hits) > 0 {
		key = append(key, 0xff, 0xff, 0xff, 0xff)
		for _, h := range hits {
			key = append(key, byte(h), byte(h>>8), byte(h>>16), byte(h>>24))
		}
	}
	d.scratch.key = key
	t := d.table.Load()
	if id, ok := d.index.lookup(key, t.states); ok {
		return id
	}
	if t.n == len(t.states) {
		if t.n >= d.maxStates {
			d.resets++
			if !d.set && d.resets > d.maxResets {
				d.failed.Store(true)
				return dfaUnknown
			}
			d.reset()
			return d.state(pcs, prev, hits)
		}
		// Grow, by a quarter (a table is mostly full; the copying is
		// on the slow path): readers of the old table still see valid
		// states.
		n := min(len(t.states)+max(len(t.states)/4, 4), d.maxStates)
		if !d.chargeTable(n) {
			// Over the budget: start over, which does not count
			// towards giving up (other dfas filled the budget).
			d.reset()
			return d.state(pcs, prev, hits)
		}
		nt := &dfaTable{
			trans:  make([]uint32, n*len(d.repr)),
			states: make([]*dstate, n),
			n:      t.n,
			gen:    t.gen,
		}
		for i := range t.trans {
			nt.trans[i] = atomic.LoadUint32(&t.trans[i])
		}
		copy(nt.states, t.states)
		d.table.Store(nt)
		t = nt
	}
	id := uint32(t.n)
	k := string(key)
	t.states[id] = &dstate{key: k}
	if len(hits) > 0 {
		t.states[id].set = &dstateHits{hits: slices.Clone(hits)}
	}
	t.n++
	d.index.insert(id, t.states)
	return id
}

// closure follows the empty-width instructions from pcs under the
// assertion context flags; it returns whether a Match is reached and
// leaves the consuming instructions reached in scratch.consume.
func (d *dfa) closure(pcs []uint32, flags syntax.EmptyOp) bool {
	sc := d.scratch
	sc.dense = sc.dense[:0]
	sc.consume = sc.consume[:0]
	sc.hits = sc.hits[:0]
	stack := append(sc.stack[:0], pcs...)
	matched := false
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i := sc.seen[pc]; int(i) < len(sc.dense) && sc.dense[i] == pc {
			continue
		}
		sc.seen[pc] = uint32(len(sc.dense))
		sc.dense = append(sc.dense, pc)
		inst := &d.prog.inst[pc]
		switch inst.op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, inst.arg, inst.out)
		case syntax.InstCapture:
			if d.set && inst.arg >= 3 && inst.arg&1 == 1 {
				// The end of pattern (arg-3)/2.
				sc.hits = append(sc.hits, d.ids[(inst.arg-3)/2])
				continue
			}
			stack = append(stack, inst.out)
		case syntax.InstNop:
			stack = append(stack, inst.out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(inst.arg)&^flags == 0 {
				stack = append(stack, inst.out)
			}
		case syntax.InstMatch:
			matched = true
		case dinstConsume:
			sc.consume = append(sc.consume, pc)
		}
	}
	sc.stack = stack
	return matched
}

// prevKind reduces a rune to what assertions after it depend on.
func prevKind(r rune) rune {
	switch {
	case r == '\n':
		return '\n'
	case syntax.IsWordChar(r):
		return 'a'
	}
	return ' '
}

// step computes and records the transition of state id of table t on
// class. It returns the table to go on with (t may have been replaced)
// and the next state's row or a marker; ok is false when the dfa gave
// up.
func (d *dfa) step(t *dfaTable, id uint32, class uint8) (*dfaTable, uint32, bool) {
	d.lock()
	defer d.unlock()
	if d.failed.Load() {
		return nil, 0, false
	}
	cur := d.table.Load()
	nc := uint32(len(d.repr))
	if t == cur {
		if nx := atomic.LoadUint32(&t.trans[id*nc+uint32(class)]); nx != dfaUnknown {
			return t, nx, true
		}
	}
	s := t.states[id]
	r := d.repr[class]
	var nx uint32
	d.scratch.pcs = s.appendPCs(d.scratch.pcs[:0])
	if d.closure(d.scratch.pcs, syntax.EmptyOpContext(s.prev(), r)) && !d.set {
		nx = dfaMatched
	} else {
		sc := d.scratch
		out := sc.out[:0]
		for _, pc := range sc.consume {
			if inst := &d.prog.inst[pc]; d.prog.sets[inst.arg].has(r) {
				out = append(out, inst.out)
			}
		}
		if !d.anchored {
			out = append(out, d.prog.start)
		}
		slices.Sort(out)
		out = slices.Compact(out)
		sc.out = out
		hits := sc.hits
		if len(hits) > 1 {
			slices.Sort(hits)
			hits = slices.Compact(hits)
		}
		if len(out) == 0 && len(hits) == 0 {
			nx = dfaDead
		} else if nx = d.state(out, prevKind(r), hits); nx == dfaUnknown {
			return nil, 0, false
		} else {
			nx *= nc
			if len(hits) > 0 {
				nx |= dfaHits
			}
		}
	}
	// Record the transition in the current table when state id is the
	// same state there (the table may have grown, keeping ids, or been
	// emptied, or t may be an old table a reader still holds).
	after := d.table.Load()
	if t == cur && after.gen == t.gen && int(id) < after.n && after.states[id] == s {
		atomic.StoreUint32(&after.trans[id*nc+uint32(class)], nx)
	}
	return after, nx, true
}

// matchesAtEnd reports whether s matches at the end of the subject.
func (d *dfa) matchesAtEnd(s *dstate) bool {
	switch s.atEnd.Load() {
	case 1:
		return false
	case 2:
		return true
	}
	d.lock()
	d.scratch.pcs = s.appendPCs(d.scratch.pcs[:0])
	m := d.closure(d.scratch.pcs, syntax.EmptyOpContext(s.prev(), -1))
	d.unlock()
	v := int32(1)
	if m {
		v = 2
	}
	s.atEnd.Store(v)
	return m
}

// match reports whether the program matches in t; ok is false when the
// dfa cannot say (the caller then asks Go's matcher). With bytes, each
// byte of the subject is one rune (the Latin-1 view); else the subject
// is read as UTF-8.
func (d *dfa) match(t *Text, bytes bool) (matched, ok bool) {
	if d.failed.Load() {
		return false, false
	}
	s := t.s
	if !bytes && !t.ascii && !d.asciiOnly {
		return false, false
	}
	if d.twin != nil && (bytes || t.ascii) {
		if m, ok := d.twin.matchStarts(s, d.lead); ok {
			return m, true
		}
	}
	tbl := d.table.Load()
	nc := uint32(len(d.repr))
	row := dfaStart * nc
	if bytes || t.ascii {
		// One class lookup per byte.
		for i := 0; i < len(s); i++ {
			class := d.classOf[s[i]]
			nx := atomic.LoadUint32(&tbl.trans[row+uint32(class)])
			if nx < dfaStart {
				if nx != dfaUnknown {
					return nx == dfaMatched, true
				}
				if tbl, nx, ok = d.step(tbl, row/nc, class); !ok {
					return false, false
				}
				if nx < dfaStart {
					return nx == dfaMatched, true
				}
			}
			row = nx
		}
		return d.matchesAtEnd(tbl.states[row/nc]), true
	}
	other := d.classOf[utf8.RuneSelf]
	for i := 0; i < len(s); {
		c := s[i]
		var class uint8
		if c < utf8.RuneSelf {
			class = d.classOf[c]
			i++
		} else {
			_, n := utf8.DecodeRuneInString(s[i:])
			class = other
			i += n
		}
		nx := atomic.LoadUint32(&tbl.trans[row+uint32(class)])
		if nx == dfaUnknown {
			if tbl, nx, ok = d.step(tbl, row/nc, class); !ok {
				return false, false
			}
		}
		if nx < dfaStart {
			return nx == dfaMatched, true
		}
		row = nx
	}
	return d.matchesAtEnd(tbl.states[row/nc]), true
}

// setMaxResets bounds how often one walk of a set's dfa may empty its
// cache before it gives up on that subject (the next subjects start
// afresh).
const setMaxResets = 4

// setMaxStates bounds the states a set's dfa keeps.
const setMaxStates = 4096

// emptied returns how often the cache was emptied.
func (d *dfa) emptied() int { return d.table.Load().gen }

// endHits returns the patterns of a set that match at the end of the
// subject in state s.
func (d *dfa) endHits(s *dstate) []int32 {
	if s.atEnd.Load() != 0 {
		return s.endHitsKnown()
	}
	d.lock()
	defer d.unlock()
	if s.atEnd.Load() != 0 {
		return s.endHitsKnown()
	}
	sc := d.scratch
	sc.pcs = s.appendPCs(sc.pcs[:0])
	d.closure(sc.pcs, syntax.EmptyOpContext(s.prev(), -1))
	if len(sc.hits) > 0 {
		h := slices.Clone(sc.hits)
		slices.Sort(h)
		if s.set == nil {
			s.set = &dstateHits{}
		}
		s.set.endHits = slices.Compact(h)
	}
	s.atEnd.Store(1)
	return s.endHitsKnown()
}

// endHitsKnown returns the end hits endHits found for s.
func (s *dstate) endHitsKnown() []int32 {
	if s.set == nil {
		return nil
	}
	return s.set.endHits
}

// matchSet walks a set's dfa over s byte by byte and sets dst[i] for
// every pattern i that matches somewhere. It returns false when the dfa
// gave up (its cache was emptied too often during the walk); dst then
// holds part of the answer.
func (d *dfa) matchSet(s string, dst []bool) bool {
	tbl := d.table.Load()
	gen := tbl.gen
	nc := uint32(len(d.repr))
	row := dfaStart * nc
	for i := 0; i < len(s); i++ {
		class := d.classOf[s[i]]
		nx := atomic.LoadUint32(&tbl.trans[row+uint32(class)])
		if nx == dfaUnknown {
			var ok bool
			if tbl, nx, ok = d.step(tbl, row/nc, class); !ok || tbl.gen-gen > d.maxResets {
				return false
			}
		}
		if nx&dfaHits != 0 {
			nx &^= dfaHits
			for _, h := range tbl.states[nx/nc].hits() {
				dst[h] = true
			}
		}
		if nx < dfaStart {
			// dfaDead: only patterns anchored at the start, none of
			// which can match any more.
			return true
		}
		row = nx
	}
	for _, h := range d.endHits(tbl.states[row/nc]) {
		dst[h] = true
	}
	return true
}

// emitLatin1Go is emitGo of n for the Latin-1 view, with long counted
// repeats unrolled when RE2 refuses them as they are; "" when it does
// not translate.
func emitLatin1Go(n *node) string {
	src := emitGo(n, true, false)
	if _, err := syntax.Parse(src, syntax.Perl); err != nil {
		src = emitGo(n, true, true)
	}
	return src
}

// relaxedDFA is a dfa for a pattern the backtracking engine runs, that
// matches wherever the pattern does (and maybe elsewhere): lookarounds
// and assertions RE2 cannot place exactly always hold, a backreference
// matches any text, atomic groups and possessive repeats backtrack. nil
// when the relaxed pattern is too large for RE2.
func relaxedDFA(tree *node) (*dfa, string) {
	relaxed := relax(tree)
	if progSize(relaxed) > maxRE2Size {
		return nil, ""
	}
	src := emitLatin1Go(relaxed)
	if src == "" {
		return nil, ""
	}
	d := newDFA(src)
	if d == nil {
		return nil, ""
	}
	return d, strings.Clone(src)
}

// relax returns a copy of n loosened as relaxedDFA says.
func relax(n *node) *node {
	c := *n
	switch n.kind {
	case nodeLook:
		return &node{kind: nodeEmpty}
	case nodeBackref:
		return &node{kind: nodeRepeat, min: 0, max: -1, subs: []*node{{kind: nodeSet, set: setAll}}}
	case nodeAtomic:
		return relax(n.subs[0])
	case nodeAssert:
		switch n.assert {
		case assertEndTextNL:
			// RE2's translation consumes the "\n" Perl's "$" only
			// looks at.
			return &node{kind: nodeEmpty}
		}
		return &c
	}
	c.possessive = false
	c.subs = make([]*node, len(n.subs))
	for i, s := range n.subs {
		c.subs[i] = relax(s)
	}
	return &c
}
