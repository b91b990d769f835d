package re

import (
	"slices"
	"sync"
	"sync/atomic"
)

// A Set answers, in one walk over a subject, which of many Regexps match
// it: the patterns' automata are joined into one lazily built dfa (as
// RE2::Set and Hyperscan do), so the cost per byte of the subject is one
// table lookup however many patterns there are, where matching each
// Regexp on its own walks the subject once per pattern.
//
// For a pattern Go's RE2 runs, a yes from the Set is the answer of
// MatchText; for one on the backtracking engine the Set runs its relaxed
// pattern, so a no is the answer and a yes only says that MatchText must
// be asked. Patterns the dfa cannot run are always reported.
//
// Patterns are joined in groups of at most setGroupSize, so that one
// group's states stay few; a group whose cache fills up too often on one
// subject gives up on it, and its patterns are then all reported as
// candidates to be matched one by one.
//
// # Concurrency
//
// A Set is safe for concurrent use.
type Set struct {
	n int
	// exact marks the Regexps whose yes from a group is their answer.
	exact []bool
	// walked marks the Regexps a group runs the dfa of.
	walked []bool
	// parts are the groups and the patterns no group runs; replaced
	// when a group is split.
	parts atomic.Pointer[setParts]
	mu    sync.Mutex // held to split a group
}

type setParts struct {
	groups []*setGroup
	// loose are the Regexps no group runs: always candidates.
	loose []int32
}

// A setGroup is one dfa of a Set and the patterns it joins.
type setGroup struct {
	d       *dfa
	members []int32 // regexp indexes
	srcs    []string
}

// setGroupSize bounds the patterns one dfa of a Set joins at first; a
// group whose cache is emptied setSplitResets times is split in two.
const (
	setGroupSize   = 32
	setSplitResets = 2
)

// NewSet joins rs; nil entries never match.
func NewSet(rs []*Regexp) *Set {
	s := &Set{n: len(rs), exact: make([]bool, len(rs)), walked: make([]bool, len(rs))}
	parts := &setParts{}
	var srcs []string
	var ids []int32
	flush := func() {
		if len(srcs) > 0 && !parts.add(srcs, ids) {
			// Matched one by one: their yes is neither a walk nor
			// an answer.
			for _, i := range ids {
				s.exact[i], s.walked[i] = false, false
			}
		}
		srcs, ids = nil, nil
	}
	for i, r := range rs {
		if r == nil {
			continue
		}
		if r.dfa == nil || r.dfaSrc == "" {
			parts.loose = append(parts.loose, int32(i))
			continue
		}
		srcs = append(srcs, r.dfaSrc)
		ids = append(ids, int32(i))
		s.exact[i] = r.re2Src != ""
		s.walked[i] = true
		if len(srcs) == setGroupSize {
			flush()
		}
	}
	flush()
	s.parts.Store(parts)
	return s
}

// add makes a group of the patterns srcs (regexp indexes ids), or leaves
// them loose when the dfa cannot join them, and reports whether it made
// the group.
func (p *setParts) add(srcs []string, ids []int32) bool {
	if d := newSetDFA(srcs, ids); d != nil {
		p.groups = append(p.groups, &setGroup{d: d, members: ids, srcs: srcs})
		return true
	}
	// One of them is beyond the dfa (it has one of its own, so this is
	// unexpected): match them one by one.
	p.loose = append(p.loose, ids...)
	return false
}

// split replaces g by two groups of half its patterns each.
func (s *Set) split(g *setGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.parts.Load()
	i := slices.Index(old.groups, g)
	if i < 0 {
		return // split already
	}
	p := &setParts{loose: old.loose}
	p.groups = append(p.groups, old.groups[:i]...)
	h := len(g.srcs) / 2
	if !p.add(g.srcs[:h], g.members[:h]) || !p.add(g.srcs[h:], g.members[h:]) {
		// Unexpected (each half's patterns joined before): keep g,
		// whose members' exact and walked marks hold.
		return
	}
	p.groups = append(p.groups, old.groups[i+1:]...)
	s.parts.Store(p)
}

// SetFriendly reports whether the pattern is worth joining in a Set:
// it has no counted repeat of more than a few bytes from a wide class
// (".{0,200}", "[^\n]{20,300}"). Such a repeat makes a dfa of
// itself alone hold hundreds of states, and the states of a Set are the
// combinations of its patterns' states: one such pattern keeps a whole
// group building states on every new text.
func (r *Regexp) SetFriendly() bool { return r.dfaSrc != "" && !r.heavy }

// SetJoinable reports whether the pattern can join a Set at all (its
// dfa can run it or its relaxed form), friendly or not.
func (r *Regexp) SetJoinable() bool { return r.dfaSrc != "" }

// heavyRepeat reports whether n holds a repeat of more than
// heavyRepeatCount copies of a pattern that can match heavyRepeatWidth
// bytes or more.
func heavyRepeat(n *node) bool {
	if n.kind == nodeRepeat {
		if (n.max < 0 || n.max > heavyRepeatCount) && wide(n.subs[0]) {
			return true
		}
	}
	for _, s := range n.subs {
		if heavyRepeat(s) {
			return true
		}
	}
	return false
}

const (
	heavyRepeatCount = 1
	heavyRepeatWidth = 16
)

// wide reports whether n can match a byte of heavyRepeatWidth or more
// at some point.
func wide(n *node) bool {
	if n.kind == nodeSet {
		return n.set.count() >= heavyRepeatWidth
	}
	for _, s := range n.subs {
		if wide(s) {
			return true
		}
	}
	return false
}

// Len returns the number of Regexps the Set was built for.
func (s *Set) Len() int { return s.n }

// Exact reports whether a true that Match set for the i-th Regexp, when
// Match returned true, is the answer of its MatchText.
func (s *Set) Exact(i int) bool { return s.exact[i] }

// Walked reports whether a true that Match set for the i-th Regexp,
// when Match returned true, comes from a walk of that Regexp's dfa (its
// relaxed one for a pattern on the backtracking engine), so that its
// MatchSetCandidateBefore need not walk it again. (A pattern no group
// runs is neither walked nor exact: it is always reported, to be
// matched on its own.)
func (s *Set) Walked(i int) bool { return s.walked[i] }

// Match sets dst[i] to whether the i-th Regexp given to NewSet may match
// t: false means it does not. It returns false when a group gave up on
// t, whose patterns are then all set: none of dst's answers is then
// exact. dst must have at least Len() entries.
func (s *Set) Match(t *Text, dst []bool) (exact bool) {
	dst = dst[:s.n]
	clear(dst)
	p := s.parts.Load()
	for _, i := range p.loose {
		dst[i] = true
	}
	exact = true
	for _, g := range p.groups {
		if !g.d.matchSet(t.s, dst) {
			exact = false
			for _, i := range g.members {
				dst[i] = true
			}
		}
		if len(g.members) > 1 && g.d.emptied() >= setSplitResets {
			s.split(g)
		}
	}
	return exact
}

// GroupStats describe one group of a Set: how many patterns it joins,
// the states its cache holds and how often the cache was emptied.
type GroupStats struct {
	Patterns, States, Resets int
}

// Stats describe the Set's groups.
func (s *Set) Stats() []GroupStats {
	p := s.parts.Load()
	out := make([]GroupStats, len(p.groups))
	for i, g := range p.groups {
		t := g.d.table.Load()
		out[i] = GroupStats{Patterns: len(g.members), States: t.n, Resets: t.gen}
	}
	return out
}
