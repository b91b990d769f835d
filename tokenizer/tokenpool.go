package tokenizer

import "sync"

// A tokenScratch holds the memory TokenKeys uses for one message and can
// reuse for the next: the key set's table, the line tokenizer's buffers
// and the cache of token keys. Reusing them spares the allocator and the garbage collector
// a table of several KiB per message.
type tokenScratch struct {
	slots                []uint64
	norm, alt, out, skip []byte
	digests              *digestCache
}

// tokenScratchPool holds the tokenScratch not in use.
var tokenScratchPool = sync.Pool{New: func() any { return new(tokenScratch) }}

// keySetSlots is the size of a fresh key set's table, and
// maxPooledSlots the largest table kept for reuse.
const (
	keySetSlots    = 1024
	maxPooledSlots = 1 << 15
)

// keySet returns an empty key set on the scratch table (a new one the
// first time).
func (sc *tokenScratch) keySet() keySet {
	if sc.slots == nil {
		return newKeySet(keySetSlots)
	}
	return keySetOn(sc.slots)
}

// digestCache returns the scratch's cache of token keys, kept from
// message to message.
func (sc *tokenScratch) digestCache() *digestCache {
	if sc.digests == nil {
		sc.digests = newDigestCache()
	}
	return sc.digests
}

// release keeps the set's table (emptied; it holds exactly keys) and t's
// buffers for the next message, unless a huge message grew them, and
// puts sc back in the pool.
func (sc *tokenScratch) release(s keySet, keys []Key, t *lineTokenizer) {
	sc.slots = nil
	if len(s.slots) <= maxPooledSlots {
		s.reset(keys)
		sc.slots = s.slots
	}
	keep := func(b []byte) []byte {
		if cap(b) > 64<<10 {
			return nil
		}
		return b[:0]
	}
	sc.norm, sc.alt, sc.out, sc.skip = keep(t.norm), keep(t.alt), keep(t.out), keep(t.skip)
	tokenScratchPool.Put(sc)
}
