package classifier

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortPacked orders like slices.Sort: on keys drawn at random, on keys
// sharing most of their bits, and with repeated ids whose indices grow
// with position, as keyOrder and tokenTable.mergeWith build them.
func TestSortPackedAsSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		n    int
		id   func() uint64 // a 40-bit id
	}{
		{"empty", 0, nil},
		{"few", 100, func() uint64 { return rng.Uint64() >> 24 }},
		{"random", 5000, func() uint64 { return rng.Uint64() >> 24 }},
		{"repeats", 20000, func() uint64 { return rng.Uint64N(300) }},
		{"close", 3000, func() uint64 { return 1<<39 | rng.Uint64N(1<<12)<<10 }},
		{"top bits", 3000, func() uint64 { return rng.Uint64N(4) << 38 }},
	} {
		packed := make([]uint64, tc.n)
		for i := range packed {
			packed[i] = tc.id()<<24 | uint64(i)
		}
		rng.Shuffle(len(packed), func(i, j int) {
			// Keep indices growing with position: swap the ids only.
			pi, pj := packed[i]>>24, packed[j]>>24
			packed[i] = pj<<24 | packed[i]&(1<<24-1)
			packed[j] = pi<<24 | packed[j]&(1<<24-1)
		})
		want := slices.Sorted(slices.Values(packed))
		sortPacked(packed)
		if !slices.Equal(packed, want) {
			t.Errorf("%s: sortPacked differs from slices.Sort", tc.name)
		}
	}
}
