package re

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Patterns that are fixed byte sequences find the same matches by their
// byte scan as Go's regexp does (on the subject's Latin-1 view where the
// pattern has bytes >= 0x80), on random subjects made of the bytes the
// patterns care about; the others are left to the regexp.
func TestByteSeqsFindLikeRegexp(t *testing.T) {
	lcaseE := `(?:e|\xc3[\xa8\xa9\xaa\xab]|\xc4[\x93\x95\x97\x99\x9b]|\xc8[\x85\x87\x80]|\xcf\xb5|\xd0\xb5|\xd1[\x90\x91\x94\xb3]|\xd2[\xbc\xbd\xbe\xbf]|\xd3[\x07\xa9\xab])`
	for _, tc := range []struct {
		expr, flags string
		seqs        bool
	}{
		{`e`, "", true},
		{lcaseE, "", true},
		{`foo`, "i", true},
		{`[a-c]x{2}`, "", true},
		{`(?:ab|cd|e\.)`, "", true},
		{`(?:ab|ac)`, "", false}, // two alternatives start with a
		{`(?:a|ab)`, "", false},  // and one is a prefix of the other
		{`ab?`, "", false},       // not of fixed length
		{`\bfoo`, "", false},     // an assertion
		{`(foo)`, "", false},     // a capture
		{`^e`, "m", false},       // an anchor
		{`[^\n]{3}`, "", true},   // wide sets
		{`\xe4`, "i", true},      // Latin-1 folding: ä and Ä
	} {
		r, err := Compile(tc.expr, tc.flags, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if (r.seqs != nil) != tc.seqs {
			t.Errorf("/%s/%s: byte sequences %v, want %v", tc.expr, tc.flags, r.seqs != nil, tc.seqs)
			continue
		}
		if r.seqs == nil {
			continue
		}
		alphabet := []byte("eEfFoOaAbBcCdDxX.\n \xc3\xa8\xa9\xc4\x93\xd0\xb5\xd3\x07\xe4\xc4\xab")
		rng := rand.New(rand.NewPCG(uint64(len(tc.expr)), 7))
		for round := range 3000 {
			b := make([]byte, rng.IntN(60))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			s := string(b)
			limit := []int{-1, 1, 3}[round%3]
			got := r.seqs.findAll(s, limit)
			// The regexp's answer, as findAll gives it without seqs.
			want, _ := (&Regexp{re2Src: r.re2Src, latin1: r.latin1}).findAll(NewText(s), limit, time.Time{}, knownWalked)
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("/%s/%s on %q (limit %d): %v, regexp %v", tc.expr, tc.flags, s, limit, got, want)
			}
		}
	}
}
