package re

import "strings"

// A refGap is a long counted repeat of one set, S{a,b}, standing
// between the group and its backreference of a refSolver's pattern:
// Y = Y1 S{a,b} Y2, with Y2 of a fixed width. An anchored dfa through
// such a repeat (.{1,2048} in /^From:\s+([^<]\S+\s\S+)\s(?=.{1,2048}^\1\r?$)/sm)
// would keep a state per count holding a thread per count, so it is
// not walked: the ends of S{a,b} from a position e are an interval,
// [e+a, e+min(b, r)] where r is the length of the run of S bytes from e,
// and the backreference is searched for inside that interval (shifted
// by Y2's width) as a string, each occurrence then checked for Y2 and Z.
type refGap struct {
	set      charSet
	min, max int // max -1: unbounded
	// y2 is the anchored dfa of Y2, nil when Y2 is empty; width is
	// the number of bytes every match of Y2 has.
	y2    *dfa
	width int
}

// splitGap returns the index in y of its one long counted repeat of a
// set, when no other element of y counts beyond Go's limit and the
// elements after it have a fixed width; else -1.
func splitGap(y []*node) int {
	at := -1
	for i, it := range y {
		if !longRepeat(it) {
			continue
		}
		if at >= 0 || it.kind != nodeRepeat || it.subs[0].kind != nodeSet {
			return -1
		}
		at = i
	}
	if at < 0 {
		return -1
	}
	if _, ok := fixedWidth(&node{kind: nodeConcat, subs: y[at+1:]}); !ok {
		return -1
	}
	return at
}

// fixedWidth returns the number of bytes every match of n has, ok
// false when matches of several lengths are possible (or n holds what
// a dfa does not run).
func fixedWidth(n *node) (int, bool) {
	switch n.kind {
	case nodeEmpty, nodeAssert:
		return 0, true
	case nodeSet:
		return 1, true
	case nodeCapture:
		return fixedWidth(n.subs[0])
	case nodeRepeat:
		if n.min != n.max {
			return 0, false
		}
		w, ok := fixedWidth(n.subs[0])
		return w * n.min, ok
	case nodeConcat:
		total := 0
		for _, s := range n.subs {
			w, ok := fixedWidth(s)
			if !ok {
				return 0, false
			}
			total += w
		}
		return total, true
	case nodeAlt:
		w0 := -1
		for _, s := range n.subs {
			w, ok := fixedWidth(s)
			if !ok || w0 >= 0 && w != w0 {
				return 0, false
			}
			w0 = w
		}
		return max(w0, 0), true
	}
	return 0, false
}

// newRefGap returns the gap of rep, the long repeat, followed by y2.
func newRefGap(rep *node, y2 []*node) (*refGap, bool) {
	g := &refGap{set: rep.subs[0].set, min: rep.min, max: rep.max}
	g.width, _ = fixedWidth(&node{kind: nodeConcat, subs: y2})
	if len(y2) > 0 {
		var ok bool
		if g.y2, ok = piecesDFA(y2, true); !ok {
			return nil, false
		}
	}
	return g, true
}

// span returns the interval [lo, hi] of the ends of the gap's repeat
// from e, ok false when there are none; every byte looked at costs a
// step.
func (g *refGap) span(s string, e int, steps *int) (lo, hi int, ok bool) {
	limit := len(s) - e
	if g.max >= 0 {
		limit = min(limit, g.max)
	}
	run := limit
	if g.set != setAll {
		run = 0
		for run < limit && g.set.has(int(s[e+run])) {
			run++
		}
		*steps -= run + 1
	}
	if run < g.min {
		return 0, 0, false
	}
	return e + g.min, e + run, true
}

// gapRepeats reports whether, for the group from i to j, the gap, Y2,
// the backreference and Z match from one of ends, the ends of Y1 from
// j (increasing).
func (run *solveRun) gapRepeats(i, j int, ends []int) bool {
	g := run.sv.gap
	lo, hi := -1, -1
	for _, e := range ends {
		a, b, ok := g.span(run.s, e, &run.steps)
		if run.steps < 0 {
			run.failed = true
			return false
		}
		if !ok {
			continue
		}
		// The ends of Y1 increase and so do both bounds of their
		// intervals (a run of S from a later start ends no sooner):
		// overlapping ones are searched once.
		if lo >= 0 && a <= hi+1 {
			hi = max(hi, b)
			continue
		}
		if lo >= 0 && run.searchRef(i, j, lo, hi) {
			return true
		}
		if run.failed {
			return false
		}
		lo, hi = a, b
	}
	return lo >= 0 && run.searchRef(i, j, lo, hi)
}

// searchRef reports whether the bytes from i to j repeat at some k with
// k-width in [lo, hi], Y2 matching the width bytes before k and Z from
// the end of the repeat.
func (run *solveRun) searchRef(i, j, lo, hi int) bool {
	g, s, n := run.sv.gap, run.s, j-i
	from, last := lo+g.width, min(hi+g.width, len(s)-n)
	try := func(k int) bool {
		return run.y2Ends(k) && run.zFrom(k+n)
	}
	if run.sv.fold {
		for k := from; k <= last && !run.failed; k++ {
			if run.repeats(i, j, k) && try(k) {
				return true
			}
		}
		return false
	}
	c := s[i:j]
	for from <= last {
		x := strings.Index(s[from:last+n], c)
		if x < 0 {
			run.steps -= last + n - from
			break
		}
		run.steps -= x + n + 1
		if run.steps < 0 {
			break
		}
		if k := from + x; try(k) {
			return true
		} else if run.failed {
			return false
		}
		from += x + 1
	}
	if run.steps < 0 {
		run.failed = true
	}
	return false
}

// y2Ends reports whether Y2 matches the width bytes before k.
func (run *solveRun) y2Ends(k int) bool {
	g := run.sv.gap
	if g.y2 == nil {
		return true
	}
	found := false
	if !g.y2.endsBefore(run.s, k-g.width, k, &run.steps, func(p int) bool {
		found = p == k
		return !found
	}) {
		run.failed = true
		return false
	}
	return found
}
