package classifier

import "slices"

// sortPacked sorts packed, each a 40-bit key id above a 24-bit index that
// grows with the element's position (so equal ids are already in index
// order), as slices.Sort would. A learn batch sorts tens of thousands of
// such keys twice (to write them in key order, and to merge them into
// the cache); a radix sort on the id bits, stable so the indices keep
// their order, takes a fraction of a comparison sort's time on them.
func sortPacked(packed []uint64) {
	if len(packed) < radixMin {
		slices.Sort(packed)
		return
	}
	src, dst := packed, make([]uint64, len(packed))
	for shift := uint(64 - radixDigitBits*radixDigits); shift < 64; shift += radixDigitBits {
		var count [1 << radixDigitBits]int
		for _, p := range src {
			count[(p>>shift)&(1<<radixDigitBits-1)]++
		}
		at := 0
		for d, c := range count {
			count[d] = at
			at += c
		}
		for _, p := range src {
			d := (p >> shift) & (1<<radixDigitBits - 1)
			dst[count[d]] = p
			count[d]++
		}
		src, dst = dst, src
	}
	// An even number of passes leaves the result in packed.
}

// The radix sort's digits: four of ten bits cover the 40 id bits.
const (
	radixDigitBits = 10
	radixDigits    = 4
	radixMin       = 2048 // below this many, a comparison sort is faster
)
