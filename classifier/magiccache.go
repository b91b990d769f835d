package classifier

import (
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// A magicCache holds the counters (Magic) of the scopes a scan has read,
// so that a scan does not go to Pebble for them: every Bayes scan needs
// its scope's message counts, and a Pebble point read costs as much as
// looking up all of a message's tokens in the token cache.
//
// # Consistency
//
// Every write method of the Store clears the cache after its commit,
// still under writeMu (see Store.clearMagicAfterWrite). A miss reads
// Pebble while holding the cache's lock, so a read that raced a commit
// either saw the new counters or is cleared by the clear that follows
// the commit. A reader may see the counters from just before a
// concurrent commit, as it would reading Pebble.
//
// A magicCache is safe for concurrent use.
type magicCache struct {
	mu     sync.RWMutex
	scopes map[Scope]Magic
}

func newMagicCache() *magicCache { return &magicCache{scopes: map[Scope]Magic{}} }

// get returns sc's counters, from the cache or read from r.
func (c *magicCache) get(r pebble.Reader, sc Scope) (Magic, error) {
	c.mu.RLock()
	m, ok := c.scopes[sc]
	c.mu.RUnlock()
	if ok {
		return m, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.scopes[sc]; ok {
		return m, nil
	}
	m, err := readMagic(r, sc)
	if err != nil {
		return Magic{}, err
	}
	c.scopes[sc] = m
	return m, nil
}

// clear forgets every scope's counters.
func (c *magicCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.scopes)
}
