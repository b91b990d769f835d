package classifier

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Classify keeps the same tokens, in the same order, and gives the same
// probability as the stable sort of every known token it replaced
// (classifyStable), ties in strength included: many tokens with equal
// counts, fewer and more strong tokens than MaxTokens, hapaxes on and
// off.
func TestClassifyMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		p := DefaultParams()
		p.MaxTokens = []int{150, 5, 1, 400}[round%4]
		p.UseHapaxes = round%3 != 0
		n := rng.IntN(900)
		counts := make([]Counts, n)
		for i := range counts {
			// Small counts: many tokens share a probability.
			counts[i] = Counts{Spam: uint32(rng.IntN(6)), Ham: uint32(rng.IntN(6))}
			if rng.IntN(4) == 0 {
				counts[i] = Counts{Spam: uint32(rng.IntN(400)), Ham: uint32(rng.IntN(3))}
			}
		}
		nspam, nham := int64(200+rng.IntN(500)), int64(200+rng.IntN(3000))
		gotP, gotUsed, gotOK := Classify(nspam, nham, counts, p)
		wantP, wantUsed, wantOK := classifyStable(nspam, nham, counts, p)
		if gotP != wantP || gotOK != wantOK || !slices.Equal(gotUsed, wantUsed) {
			t.Fatalf("round %d (%d tokens, MaxTokens %d): Classify %v %v %v, stable sort %v %v %v",
				round, n, p.MaxTokens, gotP, gotOK, gotUsed, wantP, wantOK, wantUsed)
		}
	}
}

// BenchmarkClassify: one message's worth of token counts (600 tokens,
// a third of them strong).
func BenchmarkClassify(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	counts := make([]Counts, 600)
	for i := range counts {
		counts[i] = Counts{Spam: uint32(rng.IntN(40)), Ham: uint32(rng.IntN(40))}
		if i%3 == 0 {
			counts[i].Ham = 0
		}
	}
	p := DefaultParams()
	for b.Loop() {
		Classify(500, 2500, counts, p)
	}
}

// classifyStable is Classify as first written: every known token sorted
// stably by strength, the first p.MaxTokens kept, the weak dropped.
// Classify must give the same answer with less work.
func classifyStable(nspam, nham int64, counts []Counts, p Params) (prob float64, used []int, ok bool) {
	candidates := make([]scoredToken, 0, len(counts))
	for i, c := range counts {
		f, known := TokenProbability(c, nspam, nham, p)
		if !known {
			continue
		}
		candidates = append(candidates, scoredToken{index: i, f: f, strength: math.Abs(f - 0.5)})
	}
	slices.SortStableFunc(candidates, func(a, b scoredToken) int {
		switch {
		case a.strength > b.strength:
			return -1
		case a.strength < b.strength:
			return 1
		}
		return 0
	})
	if len(candidates) > p.MaxTokens {
		candidates = candidates[:p.MaxTokens]
	}
	probs := make([]float64, 0, len(candidates))
	for _, c := range candidates {
		if c.strength < p.MinProbStrength {
			continue
		}
		used = append(used, c.index)
		probs = append(probs, c.f)
	}
	if len(probs) == 0 {
		return 0.5, nil, false
	}
	return Combine(nspam, nham, probs), used, true
}
