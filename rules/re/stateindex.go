package re

import "hash/maphash"

// A stateIndex finds a dfa's state by its key: open addressing over the
// state ids, at most half full, hashed by the key the state itself
// holds, so that the index adds 8 to 16 bytes a state where a Go map of
// the keys took about 30.
type stateIndex struct {
	seed  maphash.Seed
	slots []uint32 // id+1 of a state; 0: empty
	n     int
}

func newStateIndex() stateIndex { return stateIndex{seed: maphash.MakeSeed()} }

// clear forgets every state.
func (x *stateIndex) clear() {
	x.slots, x.n = nil, 0
}

// lookup returns the id of the state whose key is key; states are the
// current table's.
func (x *stateIndex) lookup(key []byte, states []*dstate) (uint32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for i := maphash.Bytes(x.seed, key) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0, false
		}
		if states[s-1].key == string(key) {
			return s - 1, true
		}
	}
}

// insert adds state id, whose key is not in the index yet.
func (x *stateIndex) insert(id uint32, states []*dstate) {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]uint32, max(2*len(old), 16))
		x.n = 0
		for _, s := range old {
			if s != 0 {
				x.place(s-1, states)
			}
		}
	}
	x.place(id, states)
}

func (x *stateIndex) place(id uint32, states []*dstate) {
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, states[id].key) & mask; ; i = (i + 1) & mask {
		if x.slots[i] == 0 {
			x.slots[i] = id + 1
			x.n++
			return
		}
	}
}
