package re

import (
	"regexp/syntax"
	"slices"
	"unicode"
)

// A dprog is a dfa's copy of a Go regexp program: the instructions the
// dfa follows, with each consuming instruction's runes as the set of
// runes 0-255 it matches, which is all the dfa asks of it (it only
// steps on a class's smallest rune, see byteClasses). It is less than
// a third of the size of syntax.Prog and keeps nothing of the parse tree
// alive, which syntax.Compile's instructions point into for their
// runes.
type dprog struct {
	inst  []dinst
	sets  []byteSet
	start uint32
	// assertions: some instruction is InstEmptyWidth.
	assertions bool
}

// A dinst is one instruction (12 bytes): op, out and arg as in
// syntax.Inst, but every consuming instruction has op dinstConsume and
// matches the runes of sets[arg].
type dinst struct {
	op       syntax.InstOp
	out, arg uint32
}

const dinstConsume = syntax.InstRune

// A byteSet is a set of runes 0-255.
type byteSet [4]uint64

func (b *byteSet) has(r rune) bool { return b[r>>6]&(1<<(r&63)) != 0 }

func (b *byteSet) add(r rune) {
	if r >= 0 && r < 256 {
		b[r>>6] |= 1 << (r & 63)
	}
}

// newDProg copies prog, each distinct rune set once.
func newDProg(prog *syntax.Prog) *dprog {
	p := &dprog{inst: make([]dinst, len(prog.Inst)), start: uint32(prog.Start)}
	index := map[byteSet]uint32{}
	for i := range prog.Inst {
		in := &prog.Inst[i]
		di := dinst{op: in.Op, out: in.Out, arg: in.Arg}
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			set := instBytes(in)
			id, ok := index[set]
			if !ok {
				id = uint32(len(p.sets))
				index[set] = id
				p.sets = append(p.sets, set)
			}
			di = dinst{op: dinstConsume, out: in.Out, arg: id}
		case syntax.InstEmptyWidth:
			p.assertions = true
		}
		p.inst[i] = di
	}
	p.sets = slices.Clip(p.sets)
	return p
}

// instBytes is the set of runes 0-255 a consuming instruction matches,
// as syntax.Inst.MatchRune decides.
func instBytes(in *syntax.Inst) byteSet {
	var b byteSet
	switch in.Op {
	case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		b = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		if in.Op == syntax.InstRuneAnyNotNL {
			b[0] &^= 1 << '\n'
		}
	case syntax.InstRune1:
		b.add(in.Rune[0])
	case syntax.InstRune:
		r := in.Rune
		if len(r) == 1 {
			b.add(r[0])
			if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r[0]); f != r[0]; f = unicode.SimpleFold(f) {
					b.add(f)
				}
			}
			break
		}
		for j := 0; j+1 < len(r); j += 2 {
			for x := r[j]; x <= r[j+1] && x < 256; x++ {
				b.add(x)
			}
		}
	}
	return b
}

// byteClasses divides the runes 0-255 into the classes prog cannot tell
// apart, so that a state needs one transition per class: two runes are
// in one class when every consuming instruction matches both or neither
// and, if the program has assertions, they are the same kind of previous
// rune to them (prevKind). Each class is named by its smallest rune
// (repr), classes in that order. A rune >= 0x80 of a UTF-8 subject is in
// the class of 0x80 when no instruction matches such a rune (asciiOnly).
//
// The case-folded letters of a /i pattern ("[Aa]") thus make one class
// each, not two, and the bytes no instruction names one class together.
func byteClasses(prog *dprog) (classOf [256]uint8, repr []rune) {
	var cls [256]uint16 // one class to begin with
	refine := func(in func(r rune) bool) {
		var ids [512]int16
		for i := range ids {
			ids[i] = -1
		}
		next := int16(0)
		for b := range 256 {
			k := 2 * int(cls[b])
			if in(rune(b)) {
				k++
			}
			if ids[k] < 0 {
				ids[k] = next
				next++
			}
			cls[b] = uint16(ids[k])
		}
	}
	for i := range prog.sets {
		refine(prog.sets[i].has)
	}
	if prog.assertions {
		refine(func(r rune) bool { return r == '\n' })
		refine(syntax.IsWordChar)
	}
	for b := range 256 {
		classOf[b] = uint8(cls[b])
		if int(cls[b]) == len(repr) {
			repr = append(repr, rune(b))
		}
	}
	return classOf, repr
}
