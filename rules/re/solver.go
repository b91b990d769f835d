package re

import (
	"slices"
	"sync/atomic"
)

// A solver decides MatchText for a pattern on the backtracking engine
// without backtracking, for the patterns of a shape it knows.
type solver interface {
	// match reports whether the pattern matches s (read byte by byte,
	// the Latin-1 view); ok is false when the solver cannot say (the
	// backtracking engine then decides).
	match(s string) (matched, ok bool)
	// useBudget charges the solver's dfas to b.
	useBudget(b *StateBudget)
}

// newSolver returns a solver for the pattern of tree, or nil when none
// knows its shape.
func newSolver(tree *node) solver {
	plain := unatomic(tree)
	if sv := newRefSolver(plain); sv != nil {
		return sv
	}
	if plain == tree && countKind(tree, nodeLook) == 0 {
		// Nothing a lookSolver could run better than the backtracking
		// engine does.
		return nil
	}
	tree = plain
	if ls := newLookSolver(tree); ls != nil {
		return ls
	}
	return newAltSolver(tree)
}

// unatomic returns n with every atomic group of a greedy repeat of one
// set, (?>S{a,b}) (or S{a,b}+), written as S{b}|S{a,b-1}(?!S), or
// S{a,}(?!S) when unbounded: both match the longest run of S there is,
// up to b bytes, when it is at least a long. n is not changed; parts
// without such a group are shared.
func unatomic(n *node) *node {
	if n.kind == nodeAtomic {
		r := n.subs[0]
		if r.kind != nodeRepeat || r.lazy || r.possessive || r.subs[0].kind != nodeSet {
			return n
		}
		set := r.subs[0]
		notNext := &node{kind: nodeLook, neg: true, subs: []*node{set}}
		switch {
		case r.min == r.max:
			return r
		case r.max < 0:
			return &node{kind: nodeConcat, subs: []*node{r, notNext}}
		}
		full := &node{kind: nodeRepeat, min: r.max, max: r.max, subs: []*node{set}}
		short := &node{kind: nodeRepeat, min: r.min, max: r.max - 1, subs: []*node{set}}
		return &node{kind: nodeAlt, subs: []*node{full, {kind: nodeConcat, subs: []*node{short, notNext}}}}
	}
	var subs []*node
	for i, s := range n.subs {
		if u := unatomic(s); u != s {
			if subs == nil {
				subs = slices.Clone(n.subs)
			}
			subs[i] = u
		}
	}
	if subs == nil {
		return n
	}
	c := *n
	c.subs = subs
	return &c
}

// A refSolver decides MatchText, without backtracking, for a pattern of
// the shape X (G) Y \N Z: one capture group G and one backreference to
// it, both at the top level of the pattern, where X, G, Y and Z are
// otherwise what RE2 runs (no lookaround, atomic group or possessive
// repeat). A trailing positive lookahead counts as more pattern: for a
// yes/no answer A(?=B) at the end is AB.
//
// Whether such a pattern matches is whether some X ends at i, some G
// runs from i to j, some Y runs from j to k, the bytes at k repeat those
// from i to j (under /i as the backtracking engine compares them:
// unicode.ToLower of each byte as a rune) and Z matches from there. The
// solver enumerates exactly that with dfas reporting every position
// where a match ends: an unanchored one for X and anchored ones, started
// at a position with the assertion context of the byte before it, for
// G, Y and Z. The backtracking engine tries the same candidates, but
// walks Y again for every one and gives back its repeats byte by byte;
// here each distinct start of Y and Z is walked once.
//
// The solver answers nothing (the backtracking engine then runs) when
// its dfas give up or the candidates would cost more than a multiple of
// the subject's length.
type refSolver struct {
	// x is nil when X is empty: every position is an end of X.
	x    *dfa
	g, y *dfa
	// z is nil when Z is empty: it matches anywhere.
	z    *dfa
	fold bool
	// gap, when set, is the long counted repeat in Y (see refGap); y
	// is then the dfa of the part of Y before it.
	gap *refGap
}

// solverStepsPerByte and solverStepsBase bound the dfa steps and
// compared bytes of one solve: past them the backtracking engine
// decides.
const (
	solverStepsPerByte = 64
	solverStepsBase    = 1 << 14
)

// newRefSolver returns the solver of a pattern of the shape refSolver
// describes, or nil when tree has another shape or a piece does not
// translate.
func newRefSolver(tree *node) *refSolver {
	items := []*node{tree}
	if tree.kind == nodeConcat {
		items = append([]*node(nil), tree.subs...)
	}
	if last := items[len(items)-1]; last.kind == nodeLook && !last.behind && !last.neg {
		items = items[:len(items)-1]
		if b := last.subs[0]; b.kind == nodeConcat {
			items = append(items, b.subs...)
		} else {
			items = append(items, b)
		}
	}
	refAt, capAt := -1, -1
	for i, it := range items {
		if it.kind == nodeBackref {
			if refAt >= 0 {
				return nil
			}
			refAt = i
		}
	}
	if refAt < 0 || countKind(tree, nodeBackref) != 1 {
		return nil
	}
	ref := items[refAt]
	for i, it := range items[:refAt] {
		if it.kind == nodeCapture && it.cap == ref.cap {
			capAt = i
		}
	}
	if capAt < 0 {
		return nil
	}
	g := items[capAt].subs[0]
	// The pattern with the backreference standing for another G must
	// translate for RE2 as it is: then the context of every anchor is
	// the same in the pieces as in the whole.
	standIn := append(append(append([]*node(nil), items[:refAt]...), g), items[refAt+1:]...)
	whole := &node{kind: nodeConcat, subs: standIn}
	if backtrackReason(whole) != "" || progSize(whole) > maxRE2Size {
		return nil
	}
	sv := &refSolver{fold: ref.fold}
	var ok bool
	if capAt > 0 {
		if sv.x, ok = piecesDFA(items[:capAt], false); !ok {
			return nil
		}
	}
	if sv.g, ok = piecesDFA([]*node{g}, true); !ok {
		return nil
	}
	y := items[capAt+1 : refAt]
	if at := splitGap(y); at >= 0 {
		if sv.gap, ok = newRefGap(y[at], y[at+1:]); !ok {
			return nil
		}
		y = y[:at]
	}
	if sv.y, ok = piecesDFA(y, true); !ok {
		return nil
	}
	if refAt < len(items)-1 {
		if sv.z, ok = piecesDFA(items[refAt+1:], true); !ok {
			return nil
		}
	}
	return sv
}

// countKind counts the nodes of kind k in n.
func countKind(n *node, k nodeKind) int {
	return countNodes(n, func(m *node) bool { return m.kind == k })
}

// countNodes counts the nodes of n (n included) that is says yes to.
func countNodes(n *node, is func(*node) bool) int {
	c := 0
	if is(n) {
		c++
	}
	for _, s := range n.subs {
		c += countNodes(s, is)
	}
	return c
}

// piecesDFA returns a dfa reporting the ends of matches of the
// concatenation of items (read as the Latin-1 view), anchored where it
// is started or not.
func piecesDFA(items []*node, anchored bool) (*dfa, bool) {
	var n *node
	switch len(items) {
	case 0:
		n = &node{kind: nodeEmpty}
	case 1:
		n = items[0]
	default:
		n = &node{kind: nodeConcat, subs: items}
	}
	if longRepeat(n) {
		return nil, false
	}
	src := emitLatin1Go(n)
	if src == "" {
		return nil, false
	}
	// A set's dfa (one pattern) reports every end of a match; it keeps
	// as many states as a pattern set's.
	d := newSetDFA([]string{src}, []int32{0})
	if d == nil {
		return nil, false
	}
	d.anchored = anchored
	return d, true
}

// longRepeat reports whether n counts a repeat beyond Go's limit. RE2
// gets it split into several counted repeats (.{1,2048} as
// .{1,1000}.{0,1000}.{0,48}), whose threads spread over all the ways
// to share a count among them: an anchored walk through it makes a
// state per count holding a thread per way, megabytes for one pattern.
func longRepeat(n *node) bool {
	if n.kind == nodeRepeat && max(n.min, n.max) > goRepeatLimit {
		return true
	}
	for _, s := range n.subs {
		if longRepeat(s) {
			return true
		}
	}
	return false
}

// useBudget charges the solver's dfas to b.
func (sv *refSolver) useBudget(b *StateBudget) {
	ds := []*dfa{sv.x, sv.g, sv.y, sv.z}
	if sv.gap != nil {
		ds = append(ds, sv.gap.y2)
	}
	for _, d := range ds {
		if d != nil {
			d.useBudget(b)
		}
	}
}

// solveRun is the working memory of one solve.
type solveRun struct {
	sv    *refSolver
	s     string
	steps int
	// yEnds holds the ends of Y from the starts walked so far; zDone
	// the starts of Z tried (all failed).
	yEnds map[int][]int
	zDone map[int]bool
	gEnds []int
	// failed: a dfa gave up or the steps ran out.
	failed bool
}

// match reports whether the pattern matches s (read byte by byte, the
// Latin-1 view); ok is false when the solver cannot say.
func (sv *refSolver) match(s string) (matched, ok bool) {
	run := &solveRun{sv: sv, s: s, steps: solverStepsBase + solverStepsPerByte*len(s)}
	found := false
	try := func(i int) bool {
		found = run.fromX(i)
		return !found && !run.failed
	}
	if sv.x == nil {
		for i := 0; i <= len(s) && try(i); i++ {
		}
	} else if !sv.x.ends(s, 0, &run.steps, try) {
		run.failed = true
	}
	if run.failed {
		return false, false
	}
	return found, true
}

// fromX reports whether G, Y, \N and Z match from i, an end of X.
func (run *solveRun) fromX(i int) bool {
	gEnds := run.gEnds[:0]
	if !run.sv.g.ends(run.s, i, &run.steps, func(j int) bool {
		gEnds = append(gEnds, j)
		return true
	}) {
		run.failed = true
		return false
	}
	run.gEnds = gEnds[:0]
	for _, j := range gEnds {
		ks, ok := run.yFrom(j)
		if !ok {
			return false
		}
		if run.sv.gap != nil {
			if run.gapRepeats(i, j, ks) {
				return true
			}
			if run.failed {
				return false
			}
			continue
		}
		for _, k := range ks {
			if end := k + j - i; end <= len(run.s) && run.repeats(i, j, k) && run.zFrom(end) {
				return true
			}
			if run.failed {
				return false
			}
		}
	}
	return false
}

// yFrom returns the ends of Y from j.
func (run *solveRun) yFrom(j int) ([]int, bool) {
	if ks, ok := run.yEnds[j]; ok {
		return ks, true
	}
	var ks []int
	if !run.sv.y.ends(run.s, j, &run.steps, func(k int) bool {
		ks = append(ks, k)
		return true
	}) {
		run.failed = true
		return nil, false
	}
	if run.yEnds == nil {
		run.yEnds = map[int][]int{}
	}
	run.yEnds[j] = ks
	return ks, true
}

// zFrom reports whether Z matches from p.
func (run *solveRun) zFrom(p int) bool {
	if run.sv.z == nil {
		return true
	}
	if run.zDone[p] {
		return false
	}
	m := false
	if !run.sv.z.ends(run.s, p, &run.steps, func(int) bool {
		m = true
		return false
	}) {
		run.failed = true
		return false
	}
	if !m {
		if run.zDone == nil {
			run.zDone = map[int]bool{}
		}
		run.zDone[p] = true
	}
	return m
}

// repeats reports whether the bytes at k repeat those from i to j, as
// the backtracking engine compares a backreference (k+j-i is within the
// subject); every byte compared costs a step.
func (run *solveRun) repeats(i, j, k int) bool {
	a, b := run.s[i:j], run.s[k:k+j-i]
	x := 0
	for x < len(a) && (a[x] == b[x] || run.sv.fold && foldByte(a[x]) == foldByte(b[x])) {
		x++
	}
	if run.steps -= x + 1; run.steps < 0 {
		run.failed = true
		return false
	}
	return x == len(a)
}

// foldByte is unicode.ToLower of the byte as a rune (Latin-1), what
// the backtracking engine compares case-insensitive backreferences by.
func foldByte(c byte) byte {
	if p := foldPartner(int(c)); p > int(c) {
		return byte(p)
	}
	return c
}

// ends is endsBefore to the end of s.
func (d *dfa) ends(s string, from int, steps *int, fn func(int) bool) bool {
	return d.endsBefore(s, from, len(s), steps, fn)
}

// endsBefore walks d, a dfa of one pattern made by newSetDFA, over s from
// position from with the assertion context of the byte before it, and
// calls fn with every position up to to where a match ends, in
// increasing order, until fn returns false; the assertions at to see
// the byte after it. Every byte read costs one of *steps. It returns
// false when the dfa gave up or the steps ran out.
func (d *dfa) endsBefore(s string, from, to int, steps *int, fn func(int) bool) bool {
	prev := rune(-1)
	if from > 0 {
		prev = prevKind(rune(s[from-1]))
	}
	tbl, id := d.startState(prev)
	if id == dfaUnknown {
		return false
	}
	gen := tbl.gen
	nc := uint32(len(d.repr))
	row := id * nc
	// The bytes read: up to the one after to, which a match ending at
	// to is found on.
	stop := min(to+1, len(s))
	if *steps -= stop - from; *steps < 0 {
		// Charged up front, refunded for what the walk does not read.
		return false
	}
	for p := from; p < stop; p++ {
		class := d.classOf[s[p]]
		nx := atomic.LoadUint32(&tbl.trans[row+uint32(class)])
		if nx == dfaUnknown {
			var ok bool
			if tbl, nx, ok = d.step(tbl, row/nc, class); !ok || tbl.gen-gen > d.maxResets {
				return false
			}
		}
		if nx&dfaHits != 0 {
			nx &^= dfaHits
			if !fn(p) {
				*steps += stop - p - 1
				return true
			}
		}
		if nx < dfaStart {
			*steps += stop - p - 1
			return true
		}
		row = nx
	}
	if to == len(s) && len(d.endHits(tbl.states[row/nc])) > 0 {
		fn(len(s))
	}
	return true
}

// startStates are the ids of a dfa's start states after each kind of
// previous byte (see prevSlot) in one table of the dfa (0: not made).
type startStates struct {
	tbl *dfaTable
	ids [4]atomic.Uint32
}

// prevSlot numbers the kinds of previous rune of prevKind.
func prevSlot(prev rune) int {
	switch prev {
	case -1:
		return 0
	case '\n':
		return 1
	case 'a':
		return 2
	}
	return 3
}

// startState returns the current table and the id in it of the start
// state after prev (a kind prevKind returns, or -1), dfaUnknown when
// the dfa gave up.
func (d *dfa) startState(prev rune) (*dfaTable, uint32) {
	slot := prevSlot(prev)
	tbl := d.table.Load()
	if st := d.starts.Load(); st != nil && st.tbl == tbl {
		if id := st.ids[slot].Load(); id != 0 {
			return tbl, id
		}
	}
	d.lock()
	defer d.unlock()
	id := d.state([]uint32{d.prog.start}, prev, nil)
	tbl = d.table.Load()
	if id == dfaUnknown {
		return tbl, id
	}
	st := d.starts.Load()
	if st == nil || st.tbl != tbl {
		// A new table keeps the ids of the old one's states only when
		// it grew; start afresh either way.
		st = &startStates{tbl: tbl}
		d.starts.Store(st)
	}
	st.ids[slot].Store(id)
	return tbl, id
}
