package classifier

import (
	"math/rand/v2"
	"testing"
)

// A keyIndex numbers keys as a map numbering them in first-seen order
// does, whether it is sized for them or grows many times, with keys
// drawn with repeats from a small and from a large vocabulary (and the
// extreme ids 0 and 2^40-1).
func TestKeyIndexNumbersLikeAMap(t *testing.T) {
	for _, tc := range []struct {
		name              string
		hint, vocab, draw int
	}{
		{"sized", 20000, 5000, 20000},
		{"grows from the smallest", 0, 50000, 200000},
		{"few keys", 10, 3, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tc.vocab)))
			vocab := []keyID{0, 1<<40 - 1}
			for len(vocab) < tc.vocab {
				vocab = append(vocab, keyID(rng.Uint64()&(1<<40-1)))
			}
			x := newKeyIndex(tc.hint)
			want := map[keyID]int32{}
			for range tc.draw {
				id := vocab[rng.IntN(len(vocab))]
				w, known := want[id]
				if !known {
					w = int32(len(want))
					want[id] = w
				}
				got, added := x.number(id, int32(len(want)-1))
				if got != w || added == known {
					t.Fatalf("number(%x) = %d, %v; want %d, %v", uint64(id), got, added, w, !known)
				}
			}
			if x.n != len(want) {
				t.Errorf("%d keys held, want %d", x.n, len(want))
			}
		})
	}
}
