package re

import (
	"slices"
)

// A Prefilter finds, in one pass over a subject, which of many Regexps
// can possibly match it: those whose Literals occur in the subject
// (case-insensitively for ASCII letters), and those without literals.
// It is an Aho-Corasick automaton over all the literals, made
// deterministic: every state has a transition for every byte class (the
// goto function with the failure links followed in advance), so that a
// subject's byte costs one table lookup.
//
// # Concurrency
//
// A Prefilter is immutable and safe for concurrent use.
type Prefilter struct {
	n int
	// maxLit is the length of the longest literal.
	maxLit int
	// always are the indexes of Regexps without literals.
	always []int32
	// classOf maps a byte to its class: the bytes no literal holds
	// share class 0, and an upper-case ASCII letter is in its lower
	// case's class.
	classOf [256]uint8
	// delta[row+class] is the row of the next state (its id times the
	// number of classes), with acOut set when literals end there.
	delta []uint32
	nc    uint32
	// outs[id] are the Regexp indexes of the literals that end at state
	// id (its own and those of its fail chain).
	outs [][]int32
}

// acOut flags a transition of a Prefilter into a state where literals
// end.
const acOut uint32 = 1 << 31

// A trieState is a state of the trie NewPrefilter builds the automaton
// from.
type trieState struct {
	// keys and next are the trie children, keys sorted.
	keys []byte
	next []int32
	fail int32
	// out are the Regexp indexes whose literal ends here.
	out []int32
}

// NewPrefilter builds the automaton for rs; nil entries never match.
func NewPrefilter(rs []*Regexp) *Prefilter {
	p := &Prefilter{n: len(rs)}
	trie := []trieState{{}}
	for i, r := range rs {
		if r == nil {
			continue
		}
		lits := r.Literals()
		if lits == nil {
			p.always = append(p.always, int32(i))
			continue
		}
		for _, lit := range lits {
			p.maxLit = max(p.maxLit, len(lit))
			var s int32
			trie, s = trieInsert(trie, lit)
			if o := trie[s].out; len(o) == 0 || o[len(o)-1] != int32(i) {
				trie[s].out = append(trie[s].out, int32(i))
			}
		}
	}
	p.build(trie)
	return p
}

// trieChild returns the child of state s on byte c, or -1.
func trieChild(trie []trieState, s int32, c byte) int32 {
	st := &trie[s]
	if i, ok := slices.BinarySearch(st.keys, c); ok {
		return st.next[i]
	}
	return -1
}

// trieInsert adds lit to trie and returns the trie and the state where
// lit ends.
func trieInsert(trie []trieState, lit string) ([]trieState, int32) {
	s := int32(0)
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if nx := trieChild(trie, s, c); nx >= 0 {
			s = nx
			continue
		}
		nx := int32(len(trie))
		trie = append(trie, trieState{})
		st := &trie[s]
		j, _ := slices.BinarySearch(st.keys, c)
		st.keys = slices.Insert(st.keys, j, c)
		st.next = slices.Insert(st.next, j, nx)
		s = nx
	}
	return trie, s
}

// build computes the byte classes, the failure links breadth first and
// from them every state's transitions and outputs.
func (p *Prefilter) build(trie []trieState) {
	var used [256]bool
	for _, st := range trie {
		for _, c := range st.keys {
			used[c] = true
		}
	}
	var classOfKey [256]uint8
	nc := 1
	for c := range used {
		if used[c] {
			classOfKey[c] = uint8(nc)
			nc++
		}
	}
	for c := range p.classOf {
		p.classOf[c] = classOfKey[lowerByte(byte(c))]
	}
	p.nc = uint32(nc)
	p.delta = make([]uint32, len(trie)*nc)
	p.outs = make([][]int32, len(trie))
	// Breadth first, so that a state's fail state (shallower) has its
	// transitions and outputs when the state is reached.
	queue := make([]int32, 0, len(trie))
	for i, nx := range trie[0].next {
		p.delta[classOfKey[trie[0].keys[i]]] = uint32(nx) * p.nc
		queue = append(queue, nx)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		st := &trie[s]
		f := st.fail
		// Own outputs first, then the fail chain's (already merged).
		if len(st.out) > 0 || len(p.outs[f]) > 0 {
			o := slices.Clone(st.out)
			for _, r := range p.outs[f] {
				if !slices.Contains(o, r) {
					o = append(o, r)
				}
			}
			p.outs[s] = o
		}
		row := uint32(s) * p.nc
		copy(p.delta[row:row+p.nc], p.delta[uint32(f)*p.nc:(uint32(f)+1)*p.nc])
		for i, nx := range st.next {
			c := st.keys[i]
			// The fail state of nx is where the fail state of s goes
			// on c (delta of f, complete by now). (The root is never
			// queued: its children fail to it.)
			trie[nx].fail = int32((p.delta[uint32(f)*p.nc+uint32(classOfKey[c])] &^ acOut) / p.nc)
			p.delta[row+uint32(classOfKey[c])] = uint32(nx) * p.nc
			queue = append(queue, nx)
		}
	}
	// Flag the transitions into states where literals end.
	for i, nx := range p.delta {
		if len(p.outs[nx/p.nc]) > 0 {
			p.delta[i] = nx | acOut
		}
	}
}

// Always reports whether the i-th Regexp given to NewPrefilter has no
// literals: it is a candidate on every text, and Hits never reports it.
func (p *Prefilter) Always(i int) bool {
	_, found := slices.BinarySearch(p.always, int32(i))
	return found
}

// Hits calls fn with the index of every Regexp given to NewPrefilter
// that has literals and may match text (one of them is in it), maybe
// more than once and in no particular order; the others cannot match
// it, except those Always reports.
func (p *Prefilter) Hits(text string, fn func(i int32)) {
	if p.maxLit == 0 || len(text) < prefilterSplitMin || len(text) < 8*p.maxLit {
		p.walkFrom(text, 0, fn)
		return
	}
	// Two walks in step over the halves, the first reading on into the
	// second for as long as a literal can be (every occurrence of a
	// literal lies whole in one of them): the walk is a chain of
	// dependent table reads, mostly missing the caches for the large
	// automata, and two chains overlap their waits.
	mid := len(text) / 2
	a, b := text[:mid+p.maxLit-1], text[mid:]
	n := min(len(a), len(b))
	var ra, rb uint32
	for i := 0; i < n; i++ {
		na := p.delta[ra+uint32(p.classOf[a[i]])]
		nb := p.delta[rb+uint32(p.classOf[b[i]])]
		if (na|nb)&acOut != 0 {
			na, nb = p.emit(na, fn), p.emit(nb, fn)
		}
		ra, rb = na, nb
	}
	p.walkFrom(a[n:], ra, fn)
	p.walkFrom(b[n:], rb, fn)
}

// prefilterSplitMin is the length from which Hits walks a text as two
// halves in step.
const prefilterSplitMin = 256

// Len returns the number of Regexps the Prefilter was built for.
func (p *Prefilter) Len() int { return p.n }

// Candidates sets dst[i] to whether the i-th Regexp given to NewPrefilter
// may match text: false means it cannot. dst must have at least Len()
// entries.
func (p *Prefilter) Candidates(text string, dst []bool) {
	dst = dst[:p.n]
	clear(dst)
	for _, i := range p.always {
		dst[i] = true
	}
	p.Hits(text, func(r int32) { dst[r] = true })
}

// walkFrom runs the automaton over text from state row, calling fn for
// the literals found.
func (p *Prefilter) walkFrom(text string, row uint32, fn func(int32)) {
	for i := 0; i < len(text); i++ {
		nx := p.delta[row+uint32(p.classOf[text[i]])]
		if nx&acOut != 0 {
			nx = p.emit(nx, fn)
		}
		row = nx
	}
}

// emit calls fn for the literals ending at transition nx and returns
// nx's row without the acOut flag.
func (p *Prefilter) emit(nx uint32, fn func(int32)) uint32 {
	if nx&acOut == 0 {
		return nx
	}
	nx &^= acOut
	for _, r := range p.outs[nx/p.nc] {
		fn(r)
	}
	return nx
}
