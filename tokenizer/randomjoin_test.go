package tokenizer

import (
	"math/rand/v2"
	"strings"
)

// randomJoin is 1 to n pieces taken at random and joined: the random
// subjects of the tests that compare a hand-written matcher with the
// code it replaced.
func randomJoin(rng *rand.Rand, pieces []string, n int) string {
	var b strings.Builder
	for k := rng.IntN(n); k >= 0; k-- {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}
