package classifier

import "github.com/gospamd/gospamd/tokenizer"

// A writeCache remembers token counts as the writer last committed or
// read them, so that a learn batch need not read back from Pebble the
// tokens the previous batches wrote (most tokens of a message are common
// ones, written again and again).
//
// # Consistency
//
// Every write to the token records goes through the Store's write methods
// under writeMu, and the cache is read and changed only there: after a
// successful commit the written counts are put in; Restore, Clear and
// Expire drop the scope. A failed commit leaves the cache as it was.
// Zero counts mean "known to be absent".
//
// # Complete scopes
//
// A scope whose every token was loaded into the cache (done once, by one
// sequential scan, when the scope fits) is complete: a key the cache does
// not hold is known to be absent, and learning needs no reads at all.
type writeCache struct {
	scopes   map[Scope]map[tokenizer.Key]Counts
	complete map[Scope]bool
	entries  int
	limit    int
}

// writeCacheLimit bounds the cache to a few tens of MiB; past it the cache
// starts over, which costs only reads.
const writeCacheLimit = 1 << 20

func newWriteCache(limit int) *writeCache {
	return &writeCache{scopes: map[Scope]map[tokenizer.Key]Counts{}, complete: map[Scope]bool{}, limit: limit}
}

// get returns the cached counts of k and whether they are known (held,
// or absent from a complete scope).
func (c *writeCache) get(sc Scope, k tokenizer.Key) (Counts, bool) {
	m := c.scopes[sc]
	if m == nil {
		return Counts{}, false
	}
	v, ok := m[k]
	return v, ok || c.complete[sc]
}

// room reports whether n more entries fit without starting over.
func (c *writeCache) room(n int64) bool { return int64(c.entries)+n <= int64(c.limit) }

func (c *writeCache) put(sc Scope, k tokenizer.Key, v Counts) {
	m := c.scopes[sc]
	if m == nil {
		m = map[tokenizer.Key]Counts{}
		c.scopes[sc] = m
	}
	if _, ok := m[k]; !ok {
		if c.entries >= c.limit {
			c.reset()
			m = map[tokenizer.Key]Counts{}
			c.scopes[sc] = m
		}
		c.entries++
	}
	m[k] = v
}

func (c *writeCache) dropScope(sc Scope) {
	c.entries -= len(c.scopes[sc])
	delete(c.scopes, sc)
	delete(c.complete, sc)
}

func (c *writeCache) reset() {
	clear(c.scopes)
	clear(c.complete)
	c.entries = 0
}
