// Package ascii answers whether text is all 7-bit ASCII, eight bytes at
// a time: the rules engine asks it of every text a message gives its
// patterns, and the tokenizer of every part and header.
package ascii

const highBits = 0x8080808080808080

// Is reports whether s holds no byte of 0x80 or more.
func Is(s string) bool {
	i := 0
	for ; i+16 <= len(s); i += 16 {
		if (word(s[i:i+8])|word(s[i+8:i+16]))&highBits != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// IsBytes is Is for a byte slice.
func IsBytes(b []byte) bool {
	i := 0
	for ; i+16 <= len(b); i += 16 {
		if (wordBytes(b[i:i+8])|wordBytes(b[i+8:i+16]))&highBits != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return false
		}
	}
	return true
}

// word is the eight bytes of s (len 8) as one number; the compiler
// turns it into one load.
func word(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func wordBytes(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
