package ascii

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// isByByte is the byte loop Is replaces.
func isByByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestIs(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"plain text, all ASCII\r\n", true},
		{strings.Repeat("a", 64), true},
		{"caf\xe9", false},
		{"na\xc3\xafve", false},
		{strings.Repeat("a", 15) + "\x80", false},
		{strings.Repeat("a", 16) + "\xff", false},
		{"\x80" + strings.Repeat("a", 40), false},
		{strings.Repeat("a", 23) + "\xa0" + strings.Repeat("b", 8), false},
		{"\x7f\x00\x01", true},
	}
	for _, c := range cases {
		if got := Is(c.in); got != c.want {
			t.Errorf("Is(%q) = %v, want %v", c.in, got, c.want)
		}
		if got := IsBytes([]byte(c.in)); got != c.want {
			t.Errorf("IsBytes(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	// Every length and every place of one high byte.
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 70; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(0x80))
		}
		for at := -1; at < n; at++ {
			c := append([]byte(nil), b...)
			if at >= 0 {
				c[at] = byte(0x80 + rng.IntN(0x80))
			}
			if got, want := Is(string(c)), isByByte(string(c)); got != want {
				t.Fatalf("Is(%q) = %v, want %v", c, got, want)
			}
			if got, want := IsBytes(c), isByByte(string(c)); got != want {
				t.Fatalf("IsBytes(%q) = %v, want %v", c, got, want)
			}
		}
	}
}

func BenchmarkIs(b *testing.B) {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if !Is(s) {
			b.Fatal("not ASCII")
		}
	}
}

func BenchmarkIsByByte(b *testing.B) {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if !isByByte(s) {
			b.Fatal("not ASCII")
		}
	}
}
