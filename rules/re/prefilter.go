package re

import (
	"slices"
)

// A Prefilter finds, in one pass over a subject, which of many Regexps
// can possibly match it: those whose Literals occur in the subject
// (case-insensitively for ASCII letters), and those without literals.
// It is an Aho-Corasick automaton over all the literals.
//
// # Concurrency
//
// A Prefilter is immutable and safe for concurrent use.
type Prefilter struct {
	n int
	// always are the indexes of Regexps without literals.
	always []int32
	states []acState
	// root holds the root's transitions for every byte, so that most
	// bytes of a subject take one lookup.
	root [256]int32
}

type acState struct {
	// keys and next are the trie children, keys sorted.
	keys []byte
	next []int32
	fail int32
	// dict is the nearest state on the fail chain (this one included)
	// that ends a literal, or -1.
	dict int32
	// out are the Regexp indexes whose literal ends here.
	out []int32
}

// NewPrefilter builds the automaton for rs; nil entries never match.
func NewPrefilter(rs []*Regexp) *Prefilter {
	p := &Prefilter{n: len(rs), states: []acState{{fail: 0, dict: -1}}}
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
			s := p.insert(lit)
			if o := p.states[s].out; len(o) == 0 || o[len(o)-1] != int32(i) {
				p.states[s].out = append(p.states[s].out, int32(i))
			}
		}
	}
	p.link()
	return p
}

func (p *Prefilter) child(s int32, c byte) int32 {
	st := &p.states[s]
	if i, ok := slices.BinarySearch(st.keys, c); ok {
		return st.next[i]
	}
	return -1
}

func (p *Prefilter) insert(lit string) int32 {
	s := int32(0)
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if nx := p.child(s, c); nx >= 0 {
			s = nx
			continue
		}
		nx := int32(len(p.states))
		p.states = append(p.states, acState{dict: -1})
		st := &p.states[s]
		j, _ := slices.BinarySearch(st.keys, c)
		st.keys = slices.Insert(st.keys, j, c)
		st.next = slices.Insert(st.next, j, nx)
		s = nx
	}
	return s
}

// link computes fail and dict links breadth first, and the root table.
func (p *Prefilter) link() {
	queue := make([]int32, 0, len(p.states))
	root := &p.states[0]
	for i, nx := range root.next {
		p.root[root.keys[i]] = nx
		p.states[nx].fail = 0
		queue = append(queue, nx)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		st := &p.states[s]
		st.dict = -1
		if len(st.out) > 0 {
			st.dict = s
		} else if f := st.fail; f != 0 {
			st.dict = p.states[f].dict
		}
		for i, nx := range st.next {
			c := st.keys[i]
			f := st.fail
			for {
				if t := p.child(f, c); t >= 0 && t != nx {
					p.states[nx].fail = t
					break
				}
				if f == 0 {
					p.states[nx].fail = 0
					break
				}
				f = p.states[f].fail
			}
			queue = append(queue, nx)
		}
	}
}

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
	s := int32(0)
	for i := 0; i < len(text); i++ {
		c := lowerByte(text[i])
		for {
			if s == 0 {
				s = p.root[c]
				break
			}
			if nx := p.child(s, c); nx >= 0 {
				s = nx
				break
			}
			s = p.states[s].fail
		}
		for d := p.states[s].dict; d >= 0; d = p.states[p.states[d].fail].dict {
			for _, r := range p.states[d].out {
				dst[r] = true
			}
			if d == 0 {
				break
			}
		}
	}
}
