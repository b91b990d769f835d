package re

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
	n      int
	groups []*dfa
	// members are the regexp indexes of each group.
	members [][]int32
	// loose are the Regexps no group runs: always candidates.
	loose []int32
	// exact marks the Regexps whose yes from a group is their answer.
	exact []bool
}

// setGroupSize bounds the patterns one dfa of a Set joins.
const setGroupSize = 64

// NewSet joins rs; nil entries never match.
func NewSet(rs []*Regexp) *Set {
	s := &Set{n: len(rs), exact: make([]bool, len(rs))}
	var srcs []string
	var ids []int32
	flush := func() {
		if len(srcs) == 0 {
			return
		}
		d := newSetDFA(srcs, ids)
		if d == nil {
			// One of them is beyond the dfa (it has one of its own, so
			// this is unexpected): match them one by one.
			s.loose = append(s.loose, ids...)
			for _, i := range ids {
				s.exact[i] = false
			}
		} else {
			s.groups = append(s.groups, d)
			s.members = append(s.members, ids)
		}
		srcs, ids = nil, nil
	}
	for i, r := range rs {
		if r == nil {
			continue
		}
		if r.dfa == nil || r.dfaSrc == "" {
			s.loose = append(s.loose, int32(i))
			continue
		}
		srcs = append(srcs, r.dfaSrc)
		ids = append(ids, int32(i))
		s.exact[i] = r.re2 != nil
		if len(srcs) == setGroupSize {
			flush()
		}
	}
	flush()
	return s
}

// Len returns the number of Regexps the Set was built for.
func (s *Set) Len() int { return s.n }

// Exact reports whether a true that Match set for the i-th Regexp, when
// Match returned true, is the answer of its MatchText.
func (s *Set) Exact(i int) bool { return s.exact[i] }

// Match sets dst[i] to whether the i-th Regexp given to NewSet may match
// t: false means it does not. It returns false when a group gave up on
// t, whose patterns are then all set: none of dst's answers is then
// exact. dst must have at least Len() entries.
func (s *Set) Match(t *Text, dst []bool) (exact bool) {
	dst = dst[:s.n]
	clear(dst)
	for _, i := range s.loose {
		dst[i] = true
	}
	exact = true
	for g, d := range s.groups {
		if !d.matchSet(t.s, dst) {
			exact = false
			for _, i := range s.members[g] {
				dst[i] = true
			}
		}
	}
	return exact
}
