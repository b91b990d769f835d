package tokenizer

import (
	"crypto/sha1"
	"math/rand/v2"
	"strings"
	"testing"
)

// The digest cache gives every token the key KeyOf gives it (the last
// five bytes of its SHA-1), whether the token is new, repeated, evicted
// by another of the same slot, or too long to be cached: random tokens
// of every length around the limit, drawn with repeats, through a large
// table and through a tiny one where slots are shared all the time.
func TestDigestCacheKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocabulary := make([][]byte, 500)
	for i := range vocabulary {
		tok := make([]byte, 1+rng.IntN(maxCachedToken+8))
		for j := range tok {
			tok[j] = byte(rng.IntN(256))
		}
		vocabulary[i] = tok
	}
	// Tokens that differ in one byte, or are prefixes of each other.
	vocabulary = append(vocabulary, []byte("a"), []byte("b"), []byte("ab"), []byte("H*:received"), []byte("H*:receivee"),
		[]byte(strings.Repeat("x", maxCachedToken)), []byte(strings.Repeat("x", maxCachedToken+1)))
	for _, size := range []int{digestEntries, 4} {
		c := newDigestCacheOf(size)
		for range 20000 {
			tok := vocabulary[rng.IntN(len(vocabulary))]
			sum := sha1.Sum(tok)
			var want Key
			copy(want[:], sum[15:])
			if got := c.key(tok); got != want {
				t.Fatalf("table of %d: key of %q = %v, want %v", size, tok, got, want)
			}
		}
	}
}
