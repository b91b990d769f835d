package tokenizer

import "encoding/hex"

// A Key is the 40-bit identity of a Bayes token: the last five bytes of the
// SHA-1 digest of the token's bytes, as SpamAssassin stores it.
type Key [5]byte

// KeyOf returns the Key of token.
func KeyOf(token string) Key { return keyOfBytes([]byte(token)) }

// String returns the key as ten lower-case hex digits, as sa-learn --dump
// and --backup print it.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// ParseKey parses ten hex digits into a Key.
func ParseKey(s string) (Key, bool) {
	var k Key
	if len(s) != 10 {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, false
	}
	return k, true
}
