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

// HasPrefixFold reports whether s starts with prefix (lower-case
// ASCII), ASCII letters compared without case: what
// strings.HasPrefix(strings.ToLower(s), prefix) tells for a prefix of
// letters no other character lower-cases to, and what a (?i) regexp
// matches for one whose letters have no other case-folding partners
// (not k or s).
func HasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c, p := s[i], prefix[i]
		if 'a' <= p && p <= 'z' {
			c |= 0x20
		}
		if c != p {
			return false
		}
	}
	return true
}
