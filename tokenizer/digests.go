package tokenizer

import (
	"crypto/sha1"
	"hash/maphash"
)

// A digestCache remembers the keys of the tokens it was last asked for,
// so that a token repeated in a message, or common to the messages one
// worker tokenizes in turn, is hashed with SHA-1 once: a direct-mapped
// table of short tokens, found by a cheap hash of their bytes. A token
// is only taken from the table when its bytes are equal, so the keys are
// those KeyOf gives.
//
// A digestCache is not safe for concurrent use; each tokenScratch holds
// one.
type digestCache struct {
	seed    maphash.Seed
	entries []digestEntry
}

// maxCachedToken is the longest token the table holds: an entry then
// takes 48 bytes. Longer tokens are hashed every time.
const maxCachedToken = 42

// digestEntries is the size of the table (192 KiB).
const digestEntries = 4096

type digestEntry struct {
	n   uint8 // the token's length; 0: empty
	key Key
	tok [maxCachedToken]byte
}

func newDigestCache() *digestCache { return newDigestCacheOf(digestEntries) }

// newDigestCacheOf returns a cache of n entries, a power of two.
func newDigestCacheOf(n int) *digestCache {
	return &digestCache{seed: maphash.MakeSeed(), entries: make([]digestEntry, n)}
}

// key returns the Key of tok (not empty), as KeyOf does.
func (c *digestCache) key(tok []byte) Key {
	if len(tok) > maxCachedToken {
		return keyOfBytes(tok)
	}
	e := &c.entries[maphash.Bytes(c.seed, tok)&uint64(len(c.entries)-1)]
	if int(e.n) == len(tok) && string(e.tok[:e.n]) == string(tok) {
		return e.key
	}
	k := keyOfBytes(tok)
	e.n, e.key = uint8(len(tok)), k
	copy(e.tok[:], tok)
	return k
}

// keyOfBytes is KeyOf for a byte slice.
func keyOfBytes(tok []byte) Key {
	sum := sha1.Sum(tok)
	var k Key
	copy(k[:], sum[len(sum)-len(k):])
	return k
}
