package classifier

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gospamd/gospamd/tokenizer"
)

// BenchmarkTokenCachePutLearn puts what a bulk learn's batches remember
// into a fresh cache: ten batches of 40 000 distinct keys, a third of
// them already known. One op is the ten batches.
func BenchmarkTokenCachePutLearn(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var known []tokenizer.Key
	batches := make([][]tokenizer.Key, 10)
	for n := range batches {
		seen := map[tokenizer.Key]bool{}
		for len(batches[n]) < 40000 {
			var k tokenizer.Key
			if len(known) > 0 && rng.IntN(3) == 0 {
				k = known[rng.IntN(len(known))]
			} else {
				k = tokenizer.KeyOf(strconv.FormatUint(rng.Uint64(), 36))
				known = append(known, k)
			}
			if !seen[k] {
				seen[k] = true
				batches[n] = append(batches[n], k)
			}
		}
	}
	counts := make([]Counts, 40000)
	for i := range counts {
		counts[i] = Counts{Spam: 1}
	}
	b.ReportAllocs()
	for b.Loop() {
		c := newTokenCache(tokenCacheLimit)
		for _, keys := range batches {
			c.put("", keys, counts)
		}
	}
}
