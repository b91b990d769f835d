package classifier

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gospamd/gospamd/tokenizer"
)

// A tokenCache holds the token counts of whole scopes in memory, so that
// neither a scan's lookups nor a learn batch's reads go to Pebble: a scope
// of SpamAssassin's default size (150 000 tokens) takes about 3 MB (see
// tokenTable).
//
// # Complete scopes
//
// A scope is loaded once, by one sequential scan, when it fits under the
// entry limit; it is then complete: a key the cache does not hold is
// known to be absent. A scope that does not fit is read from Pebble as
// before. Past the limit the cache starts over.
//
// # Consistency
//
// Every write to the token records goes through the Store's write methods
// under writeMu, and they keep the cache current: after a successful
// commit Apply and Touch put in what they wrote; Restore, Clear and Expire
// drop the scope before and after their commit (a scan may have loaded it
// from the old data in between). A reader may see the counts from just
// before a concurrent commit, as it would reading Pebble. Zero counts
// mean absent.
//
// A tokenCache is safe for concurrent use.
type tokenCache struct {
	mu       sync.RWMutex
	scopes   map[Scope]*tokenTable
	complete map[Scope]bool
	entries  int
	limit    int
}

// tokenCacheLimit bounds the cache (about 22 bytes an entry, more for
// keys learned since the last merge of their scope).
const tokenCacheLimit = 1 << 20

func newTokenCache(limit int) *tokenCache {
	return &tokenCache{scopes: map[Scope]*tokenTable{}, complete: map[Scope]bool{}, limit: limit}
}

// lookup fills out from a complete scope and reports true, or reports
// false when the scope is not complete.
func (c *tokenCache) lookup(sc Scope, keys []tokenizer.Key, out []Counts) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.complete[sc] {
		return false
	}
	m := c.scopes[sc]
	for i, k := range keys {
		out[i], _ = m.get(k)
	}
	return true
}

// known splits keys into those whose counts the cache knows (written to
// out) and the indices of those it does not.
func (c *tokenCache) known(sc Scope, keys []tokenizer.Key, out []Counts) (missing []int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, complete := c.scopes[sc], c.complete[sc]
	for i, k := range keys {
		v, ok := m.get(k)
		if ok || complete {
			out[i] = v
			continue
		}
		missing = append(missing, i)
	}
	return missing
}

// fill loads every token of sc, unless it is complete already or would
// not fit with room for extra more entries.
func (c *tokenCache) fill(r pebble.Reader, sc Scope, ntokens int64, extra int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.complete[sc] || int64(c.entries)-int64(c.scopes[sc].len())+ntokens+int64(extra) > int64(c.limit) {
		return nil
	}
	budget := c.limit - (c.entries - c.scopes[sc].len()) - extra
	keys := make([]tokenizer.Key, 0, max(ntokens, 0))
	counts := make([]Counts, 0, max(ntokens, 0))
	err := forEachToken(context.Background(), r, sc, func(k tokenizer.Key, v Counts) error {
		if len(keys) >= budget {
			return errScopeTooLarge
		}
		keys, counts = append(keys, k), append(counts, v)
		return nil
	})
	if err == errScopeTooLarge {
		return nil // the counter was off; read this scope from Pebble
	}
	if err != nil {
		return fmt.Errorf("load bayes tokens: %w", err)
	}
	c.dropScopeLocked(sc)
	m := newTokenTable(keys, counts)
	c.scopes[sc] = m
	c.entries += m.len()
	c.complete[sc] = true
	return nil
}

var errScopeTooLarge = errors.New("scope does not fit in the token cache")

// put records committed counts (zero: absent) of keys.
func (c *tokenCache) put(sc Scope, keys []tokenizer.Key, counts []Counts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.scopes[sc]; m != nil || c.entries+len(keys) <= c.limit {
		if m == nil {
			m = &tokenTable{}
			c.scopes[sc] = m
		}
		if added := m.setMany(keys, counts, c.limit-c.entries); added >= 0 {
			c.entries += added
			return
		}
	}
	// Past the limit: key by key, starting over when full.
	for i, k := range keys {
		c.putLocked(sc, k, counts[i])
	}
}

func (c *tokenCache) putLocked(sc Scope, k tokenizer.Key, v Counts) {
	m := c.scopes[sc]
	if m == nil {
		m = &tokenTable{}
		c.scopes[sc] = m
	}
	if !m.set(k, v) {
		return
	}
	if c.entries >= c.limit {
		// Full: start again with this key alone.
		clear(c.scopes)
		clear(c.complete)
		c.entries = 0
		m = &tokenTable{}
		c.scopes[sc] = m
		m.set(k, v)
	}
	c.entries++
}

func (c *tokenCache) dropScope(sc Scope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropScopeLocked(sc)
}

func (c *tokenCache) dropScopeLocked(sc Scope) {
	c.entries -= c.scopes[sc].len()
	delete(c.scopes, sc)
	delete(c.complete, sc)
}
