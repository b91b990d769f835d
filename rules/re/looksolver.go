package re

import "slices"

// A lookSolver decides MatchText, without backtracking, for a pattern
// whose lookarounds all stand at its top level and hold what RE2 runs,
// with no backreference: S0 L1 S1 L2 S2 … where each Si is a run of
// elements RE2 runs and each Li one or more lookarounds.
//
// A lookaround only asks something of the position it stands at, so
// whether such a pattern matches is whether the positions reachable
// through it are not all ruled out: the ends of S0 anywhere in the
// subject (every position when S0 is empty), kept where L1 holds,
// carried through S1 by an anchored dfa reporting every end, and so on.
// A lookahead holds at p when its body has (positive) or has not
// (negative) a match starting at p, which an anchored dfa started at p
// tells; a lookbehind when its body has (not) a match ending at p,
// which one unanchored walk of the body's dfa over the subject tells
// for every p.
//
// Like the refSolver it answers nothing when a dfa gives up or the
// walks would cost more than a multiple of the subject's length.
type lookSolver struct {
	// first walks S0 unanchored; nil when S0 is empty.
	first *dfa
	steps []lookStep
}

// A lookStep is the lookarounds after a segment and the segment after
// them.
type lookStep struct {
	looks []lookCheck
	// seg is the anchored dfa of the segment; nil when it is empty.
	seg *dfa
	// firsts holds the bytes the segment can start with (all when it
	// may match the empty string, mayBeEmpty).
	firsts     charSet
	mayBeEmpty bool
}

// A lookCheck is one lookaround.
type lookCheck struct {
	d           *dfa
	neg, behind bool
	// maxLen bounds the length of a lookbehind body's matches (-1:
	// unbounded): the body is then only walked from maxLen bytes back.
	maxLen int
	index  int // of the lookbehind's ends in a solve, when unbounded
}

// newLookSolver returns the solver of a pattern of the shape lookSolver
// describes, or nil.
func newLookSolver(tree *node) *lookSolver {
	items := []*node{tree}
	if tree.kind == nodeConcat {
		items = tree.subs
	}
	if countKind(tree, nodeBackref) > 0 {
		return nil
	}
	// With every lookaround standing for an element that must consume
	// (for "$") and for one that may be empty (for "^"), the rest must
	// translate for RE2 as it is.
	var consuming, empty []*node
	for _, it := range items {
		if it.kind == nodeLook {
			consuming = append(consuming, &node{kind: nodeSet, set: setAll})
			empty = append(empty, &node{kind: nodeEmpty})
			continue
		}
		consuming = append(consuming, it)
		empty = append(empty, it)
	}
	for _, stand := range [][]*node{consuming, empty} {
		whole := &node{kind: nodeConcat, subs: stand}
		if backtrackReason(whole) != "" || progSize(whole) > maxRE2Size {
			return nil
		}
	}
	ls := &lookSolver{}
	seg, rest := splitSegment(items)
	if len(seg) > 0 {
		var ok bool
		if ls.first, ok = piecesDFA(seg, false); !ok {
			return nil
		}
	}
	behinds := 0
	for len(rest) > 0 {
		var st lookStep
		for len(rest) > 0 && rest[0].kind == nodeLook {
			lk := rest[0]
			rest = rest[1:]
			body := lk.subs[0]
			if backtrackReason(body) != "" || lk.behind && countAssert(body, assertEndTextNL) > 0 {
				return nil
			}
			d, ok := piecesDFA([]*node{body}, !lk.behind)
			if !ok {
				return nil
			}
			c := lookCheck{d: d, neg: lk.neg, behind: lk.behind, maxLen: maxLength(body)}
			if lk.behind && c.maxLen < 0 {
				c.index = behinds
				behinds++
			}
			st.looks = append(st.looks, c)
		}
		seg, rest = splitSegment(rest)
		if len(seg) > 0 {
			var ok bool
			if st.seg, ok = piecesDFA(seg, true); !ok {
				return nil
			}
			whole := &node{kind: nodeConcat, subs: seg}
			st.firsts, st.mayBeEmpty = firstBytes(whole), mayBeEmpty(whole)
		} else {
			st.firsts, st.mayBeEmpty = setAll, true
		}
		ls.steps = append(ls.steps, st)
	}
	return ls
}

// maxAlternatives bounds the patterns newAltSolver splits one into.
const maxAlternatives = 16

// An altSolver decides MatchText for a pattern with lookarounds inside
// groups, alternations or optional elements at its top level: written
// out as an alternation of patterns whose lookarounds all stand at the
// top level (an alternative of the inner alternation, an optional
// element there or not, taken out to the top), it matches when one of
// them does, which a lookSolver each tells.
type altSolver []*lookSolver

// newAltSolver returns the solver of tree written out as altSolver
// says, or nil.
func newAltSolver(tree *node) solver {
	if countKind(tree, nodeBackref) > 0 || countKind(tree, nodeLook) == 0 {
		return nil
	}
	items := []*node{tree}
	if tree.kind == nodeConcat {
		items = tree.subs
	}
	alts, ok := expandLooks(items, nil)
	if !ok {
		return nil
	}
	var as altSolver
	for _, a := range alts {
		ls := newLookSolver(&node{kind: nodeConcat, subs: a})
		if ls == nil {
			return nil
		}
		as = append(as, ls)
	}
	return as
}

// expandLooks appends to out the sequences of elements, their
// lookarounds at the top level, whose alternation is items; ok is false
// when a lookaround stands where it cannot be taken out (in a repeat, an
// atomic group, another lookaround) or there would be more than
// maxAlternatives.
func expandLooks(items []*node, out [][]*node) ([][]*node, bool) {
	at := -1
	for i, it := range items {
		if it.kind != nodeLook && countKind(it, nodeLook) > 0 {
			at = i
			break
		}
	}
	if at < 0 {
		if len(out) >= maxAlternatives {
			return nil, false
		}
		return append(out, items), true
	}
	it := items[at]
	with := func(mid ...*node) []*node {
		seq := append([]*node(nil), items[:at]...)
		seq = append(seq, mid...)
		return append(seq, items[at+1:]...)
	}
	var ok bool
	switch {
	case it.kind == nodeConcat:
		return expandLooks(with(it.subs...), out)
	case it.kind == nodeCapture:
		return expandLooks(with(it.subs[0]), out)
	case it.kind == nodeRepeat && it.possessive:
		return nil, false
	case it.kind == nodeRepeat && it.min == 1 && it.max == 1:
		return expandLooks(with(it.subs[0]), out)
	case it.kind == nodeRepeat && it.min == 0 && it.max == 1:
		if out, ok = expandLooks(with(), out); !ok {
			return nil, false
		}
		return expandLooks(with(it.subs[0]), out)
	case it.kind == nodeAlt:
		// The branches without lookarounds stay together.
		var plain []*node
		for _, b := range it.subs {
			if countKind(b, nodeLook) == 0 {
				plain = append(plain, b)
				continue
			}
			if out, ok = expandLooks(with(b), out); !ok {
				return nil, false
			}
		}
		switch len(plain) {
		case 0:
			return out, true
		case 1:
			return expandLooks(with(plain[0]), out)
		}
		return expandLooks(with(&node{kind: nodeAlt, subs: plain}), out)
	}
	return nil, false
}

// match reports whether one of the alternatives matches s.
func (as altSolver) match(s string) (matched, ok bool) {
	for _, ls := range as {
		if m, ok := ls.match(s); !ok || m {
			return m, ok
		}
	}
	return false, true
}

// useBudget charges the solvers' dfas to b.
func (as altSolver) useBudget(b *StateBudget) {
	for _, ls := range as {
		ls.useBudget(b)
	}
}

// maxLength returns the length of the longest match of n, -1 when it
// is unbounded (or depends on a backreference).
func maxLength(n *node) int {
	switch n.kind {
	case nodeSet:
		return 1
	case nodeEmpty, nodeAssert, nodeLook:
		return 0
	case nodeBackref:
		return -1
	case nodeRepeat:
		sub := maxLength(n.subs[0])
		if sub < 0 || n.max < 0 && sub > 0 {
			return -1
		}
		if n.max < 0 {
			return 0
		}
		return sub * n.max
	case nodeAlt:
		m := 0
		for _, s := range n.subs {
			l := maxLength(s)
			if l < 0 {
				return -1
			}
			m = max(m, l)
		}
		return m
	case nodeConcat:
		m := 0
		for _, s := range n.subs {
			l := maxLength(s)
			if l < 0 {
				return -1
			}
			m += l
		}
		return m
	}
	return maxLength(n.subs[0]) // capture, atomic
}

// splitSegment splits items before the first lookaround.
func splitSegment(items []*node) (seg, rest []*node) {
	for i, it := range items {
		if it.kind == nodeLook {
			return items[:i], items[i:]
		}
	}
	return items, nil
}

// countAssert counts the assertions of kind a in n.
func countAssert(n *node, a assertKind) int {
	return countNodes(n, func(m *node) bool { return m.kind == nodeAssert && m.assert == a })
}

// firstBytes returns the bytes a match of n can start with; every byte
// when n may match the empty string.
func firstBytes(n *node) charSet {
	if mayBeEmpty(n) {
		return setAll
	}
	var walk func(n *node) (first charSet, empty bool)
	walk = func(n *node) (charSet, bool) {
		switch n.kind {
		case nodeSet:
			return n.set, false
		case nodeConcat:
			var acc charSet
			for _, s := range n.subs {
				f, e := walk(s)
				acc.addSet(f)
				if !e {
					return acc, false
				}
			}
			return acc, true
		case nodeAlt:
			var acc charSet
			empty := false
			for _, s := range n.subs {
				f, e := walk(s)
				acc.addSet(f)
				empty = empty || e
			}
			return acc, empty
		case nodeRepeat:
			f, e := walk(n.subs[0])
			return f, e || n.min == 0
		case nodeCapture, nodeAtomic:
			return walk(n.subs[0])
		}
		// Assertions, lookarounds, empty: zero width.
		return charSet{}, true
	}
	f, _ := walk(n)
	return f
}

// useBudget charges the solver's dfas to b.
func (ls *lookSolver) useBudget(b *StateBudget) {
	if ls.first != nil {
		ls.first.useBudget(b)
	}
	for _, st := range ls.steps {
		if st.seg != nil {
			st.seg.useBudget(b)
		}
		for _, c := range st.looks {
			c.d.useBudget(b)
		}
	}
}

// lookRun is the working memory of one solve.
type lookRun struct {
	s      string
	steps  int
	behind [][]bool // per lookbehind, whether its body ends at p
	ends   []int
}

// match reports whether the pattern matches s (read byte by byte, the
// Latin-1 view); ok is false when the solver cannot say.
func (ls *lookSolver) match(s string) (matched, ok bool) {
	run := &lookRun{s: s, steps: solverStepsBase + solverStepsPerByte*len(s)}
	n := len(s)
	var cur []int
	all := ls.first == nil
	if !all {
		if !ls.first.ends(s, 0, &run.steps, func(p int) bool {
			cur = append(cur, p)
			return len(ls.steps) > 0
		}) {
			return false, false
		}
	}
	// marks are the positions already in next; made when a step
	// other than the last has ends to carry.
	var marks []bool
	for si := range ls.steps {
		st := &ls.steps[si]
		last := si == len(ls.steps)-1
		var next []int
		visit := func(p int) (found, ok bool) {
			if p < n && !st.firsts.has(int(s[p])) || p == n && !st.mayBeEmpty {
				return false, true
			}
			ends := run.ends[:0]
			if st.seg != nil {
				if !st.seg.ends(s, p, &run.steps, func(e int) bool {
					ends = append(ends, e)
					return !last
				}) {
					return false, false
				}
				run.ends = ends
				if len(ends) == 0 {
					return false, true
				}
			}
			for _, c := range st.looks {
				h, ok := run.holds(c, p)
				if !ok {
					return false, false
				}
				if !h {
					return false, true
				}
			}
			if last {
				return true, true
			}
			if st.seg == nil {
				ends = append(ends[:0], p)
			}
			if marks == nil {
				marks = make([]bool, n+1)
			}
			for _, e := range ends {
				if !marks[e] {
					marks[e] = true
					next = append(next, e)
				}
			}
			return false, true
		}
		if all {
			for p := 0; p <= n; p++ {
				if found, ok := visit(p); !ok || found {
					return found, ok
				}
			}
			all = false
		} else {
			for _, p := range cur {
				if found, ok := visit(p); !ok || found {
					return found, ok
				}
			}
		}
		if len(next) == 0 {
			return false, true
		}
		for _, p := range next {
			marks[p] = false
		}
		slices.Sort(next)
		cur = next
	}
	return all || len(cur) > 0, true
}

// holds reports whether the lookaround c holds at p.
func (run *lookRun) holds(c lookCheck, p int) (holds, ok bool) {
	if c.behind && c.maxLen >= 0 {
		m := false
		if !c.d.endsBefore(run.s, max(0, p-c.maxLen), p, &run.steps, func(e int) bool {
			m = e == p
			return !m
		}) {
			return false, false
		}
		return m != c.neg, true
	}
	if c.behind {
		for len(run.behind) <= c.index {
			run.behind = append(run.behind, nil)
		}
		if run.behind[c.index] == nil {
			at := make([]bool, len(run.s)+1)
			if !c.d.ends(run.s, 0, &run.steps, func(e int) bool {
				at[e] = true
				return true
			}) {
				return false, false
			}
			run.behind[c.index] = at
		}
		return run.behind[c.index][p] != c.neg, true
	}
	m := false
	if !c.d.ends(run.s, p, &run.steps, func(int) bool {
		m = true
		return false
	}) {
		return false, false
	}
	return m != c.neg, true
}
