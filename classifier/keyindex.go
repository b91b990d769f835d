package classifier

// A keyIndex numbers the distinct token keys of a learn batch: an
// open-addressing table of the keys, probed linearly, with each key's
// number beside it. A key is a digest, so its bits need no hashing beyond
// a multiplication to spread them; a batch puts every token of every
// message through it (tens of thousands), which a map[keyID]int32 did at
// several times the cost.
type keyIndex struct {
	slots []uint64 // a key id with keyIndexPresent set; 0 is empty
	nums  []int32
	n     int
	shift uint // 64 - log2(len(slots))
}

const keyIndexPresent = 1 << 40

// newKeyIndex returns an empty index with room for about hint keys
// before it grows.
func newKeyIndex(hint int) keyIndex {
	size := 64
	for size < 2*hint {
		size *= 2
	}
	return keyIndexOf(size)
}

func keyIndexOf(size int) keyIndex {
	shift := uint(64)
	for n := size; n > 1; n >>= 1 {
		shift--
	}
	return keyIndex{slots: make([]uint64, size), nums: make([]int32, size), shift: shift}
}

// number returns the number of id, giving it next when it has none yet
// (added then reports true).
func (x *keyIndex) number(id keyID, next int32) (num int32, added bool) {
	v := uint64(id) | keyIndexPresent
	mask := uint64(len(x.slots) - 1)
	for i := (v * 0x9E3779B97F4A7C15) >> x.shift; ; i = (i + 1) & mask {
		switch x.slots[i] {
		case v:
			return x.nums[i], false
		case 0:
			x.slots[i], x.nums[i] = v, next
			x.n++
			if 2*x.n > len(x.slots) {
				x.grow()
			}
			return next, true
		}
	}
}

// grow doubles the table.
func (x *keyIndex) grow() {
	old, oldNums := x.slots, x.nums
	*x = keyIndexOf(2 * len(old))
	x.n = 0
	mask := uint64(len(x.slots) - 1)
	for j, v := range old {
		if v == 0 {
			continue
		}
		i := (v * 0x9E3779B97F4A7C15) >> x.shift
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i], x.nums[i] = v, oldNums[j]
		x.n++
	}
}
