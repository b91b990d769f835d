package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// The token cache: the global scope's token counts that scans read,
// kept in memory and exact, on Redis's client-side caching
// (CLIENT TRACKING, default mode, RESP3).
//
// A cache is one connection (its tracking connection) and the counts
// read on it; it does one lookup at a time, and a store keeps a few
// (tokenCaches), so that lookups of a cold cache, which wait on the
// server, do not queue behind one another. The server remembers each key that connection read
// and, when the key changes (a learn, an expiry, a TTL renewal, a
// flush), pushes an invalidation on that same connection at once,
// before the reply to any command it runs later. So once a lookup's
// reply is read, every invalidation of a change made before the lookup
// ran has been read (and applied) too: a count still cached then is the
// count the server had when it ran the lookup, as if read in the same
// MULTI/EXEC as the counters and the seen keys, which are read every
// time. A lookup fetches only the tokens not cached; one whose cached
// tokens were invalidated while it waited for its reply is done again.
// The cache is dropped whole when the connection is lost (invalidations
// may have been lost with it) or reaches its share of maxCached tokens.
//
// Between lookups, invalidations wait on the connection (and in the
// server's output buffer for it) until the next lookup reads them: at
// most one per key read since, as the server stops tracking a key for
// the connection once it has invalidated it.
//
// Users' scopes are not cached: their lookups take the pool's
// connections, as the global scope's do on a server without RESP3.

// maxCached is the most tokens a store's caches hold together (about 40
// bytes each, and as many keys in the server's tracking table).
const maxCached = 1 << 20

// cacheAttempts is how many times a lookup whose cached tokens changed
// meanwhile is tried on the cache before it reads them all uncached.
const cacheAttempts = 3

// tokenCaches are the Store's token caches: several, each with its own
// tracking connection and its own counts, so that as many lookups run at
// once (a cold cache's lookups wait on the server; one connection would
// queue them all). A lookup takes whichever is free. Each is exact on
// its own, as above; they share nothing but the off switch.
type tokenCaches struct {
	free chan *tokenCache // the caches not in use
	n    int
	off  *atomic.Bool // the server has no RESP3 or tracking, or the store is closed
}

// cacheCount is how many token caches a store keeps: one a core, at
// least 2 and at most 4.
func cacheCount() int { return min(max(runtime.GOMAXPROCS(0), 2), 4) }

func newTokenCaches(pool *rawPool, log *slog.Logger, n int) *tokenCaches {
	g := &tokenCaches{free: make(chan *tokenCache, n), n: n, off: new(atomic.Bool)}
	for range n {
		c := newTokenCache(pool, log)
		c.off, c.limit = g.off, maxCached/n
		g.free <- c
	}
	return g
}

// lookup is tokenCache.lookup on a free cache, waiting (within ctx) for
// one while all are in use.
func (g *tokenCaches) lookup(ctx context.Context, keys []tokenizer.Key, out []classifier.Counts, ids []string) (m classifier.Magic, seen classifier.Class, ok bool, err error) {
	if g.off.Load() {
		return m, 0, false, nil
	}
	var c *tokenCache
	select {
	case c = <-g.free:
	case <-ctx.Done():
		return m, 0, false, ctx.Err()
	}
	defer func() { g.free <- c }()
	return c.lookup(ctx, keys, out, ids)
}

// close turns the caches off and closes their connections, once the
// lookups in flight are done.
func (g *tokenCaches) close() {
	g.off.Store(true)
	held := make([]*tokenCache, 0, g.n)
	for range g.n {
		c := <-g.free
		c.closeConn()
		held = append(held, c)
	}
	for _, c := range held {
		g.free <- c // a lookup that got past the off check returns at once
	}
}

// tokenCache is one of the Store's token caches; whoever takes it from
// tokenCaches.free has it alone.
type tokenCache struct {
	pool *rawPool // dial parameters and timeouts
	log  *slog.Logger

	conn   *rawConn // nil until dialed, and after an error
	counts map[tokenizer.Key]classifier.Counts
	limit  int // the most tokens counts holds
	// stale is set by a lookup one of whose cache hits was invalidated
	// while it waited for its reply.
	stale   bool
	misses  []int               // scratch: indices of the keys not cached
	fetched []classifier.Counts // scratch: their counts
	off     *atomic.Bool        // shared by a store's caches (tokenCaches.off)
}

func newTokenCache(pool *rawPool, log *slog.Logger) *tokenCache {
	return &tokenCache{pool: pool, log: log, off: new(atomic.Bool), limit: maxCached}
}

// closeConn closes the tracking connection and drops the counts.
func (c *tokenCache) closeConn() {
	if c.conn != nil {
		c.conn.nc.Close()
	}
	c.conn, c.counts = nil, nil
}

// errNoTracking is a server that cannot track keys for the cache.
var errNoTracking = errors.New("redis server without client tracking")

// lookup is LookupScan of the global scope through the cache. ok is
// false when the cache cannot serve it (the server has no tracking, or
// the lookup's tokens kept changing), and the caller reads uncached.
func (c *tokenCache) lookup(ctx context.Context, keys []tokenizer.Key, out []classifier.Counts, ids []string) (m classifier.Magic, seen classifier.Class, ok bool, err error) {
	if c.off.Load() {
		return m, 0, false, nil
	}
	for range cacheAttempts {
		reused := c.conn != nil
		if !reused {
			conn, err := c.pool.dialTracking(ctx)
			if errors.Is(err, errNoTracking) {
				if c.off.CompareAndSwap(false, true) {
					c.log.Info("redis bayes store: scans read every token from the server (no client-side tracking)",
						"addr", c.pool.addr, "err", err)
				}
				return m, 0, false, nil
			}
			if err != nil {
				return m, 0, false, err
			}
			conn.rr.push = c.invalidate
			c.conn, c.counts = conn, make(map[tokenizer.Key]classifier.Counts)
		}
		if len(c.counts)+len(keys) > c.limit {
			clear(c.counts)
		}
		c.misses = c.misses[:0]
		for i, k := range keys {
			if _, hit := c.counts[k]; !hit {
				c.misses = append(c.misses, i)
			}
		}
		c.stale = false
		err := c.pool.roundTrip(ctx, c.conn, func(b []byte) []byte {
			return appendCachedLookup(b, keys, c.misses, ids)
		}, func(r *respReader) error {
			var err error
			m, seen, err = c.readLookup(r, keys, out, len(ids))
			return err
		})
		if err != nil && !isServerError(err) {
			c.conn.nc.Close()
			c.conn, c.counts = nil, nil
			if reused && ctx.Err() == nil && !isTimeout(err) {
				continue // the server restarted since: dial again
			}
		}
		if err != nil {
			return m, 0, false, err
		}
		if !c.stale {
			return m, seen, true, nil
		}
	}
	return m, 0, false, nil
}

// dialTracking opens the tracking connection: RESP3 (HELLO 3, with AUTH
// and SETNAME), SELECT, CLIENT TRACKING ON.
func (p *rawPool) dialTracking(ctx context.Context) (*rawConn, error) {
	c, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	n := 2
	err = p.roundTrip(ctx, c, func(b []byte) []byte {
		args := []string{"HELLO", "3"}
		if p.password != "" {
			user := p.username
			if user == "" {
				user = "default"
			}
			args = append(args, "AUTH", user, p.password)
		}
		b = appendCommand(b, append(args, "SETNAME", "gospamd")...)
		if p.db != 0 {
			n++
			b = appendCommand(b, "SELECT", strconv.Itoa(p.db))
		}
		return appendCommand(b, "CLIENT", "TRACKING", "ON")
	}, func(r *respReader) error {
		var first error
		for i := range n {
			rep, err := r.readValue()
			if err != nil {
				return err
			}
			switch {
			case rep.kind == '-' || rep.kind == '!':
				if first == nil {
					first = serverError(rep.data)
				}
			case i == 0 && rep.kind != '%' || i > 0 && rep.kind != '+':
				return protocolError("reply type %q to the connection setup", rep.kind)
			}
		}
		if first != nil && !transient(first) {
			// A server without RESP3 (before Redis 6) or tracking, or
			// a user not allowed them.
			return fmt.Errorf("%w: %w", errNoTracking, first)
		}
		return first
	})
	if err != nil {
		c.nc.Close()
		return nil, err
	}
	return c, nil
}

// appendCachedLookup appends the global scope's lookup of the counters,
// the seen keys and the tokens keys[misses].
func appendCachedLookup(b []byte, keys []tokenizer.Key, misses []int, ids []string) []byte {
	b = appendCommand(b, "MULTI")
	b = appendGet(b, "", "v:", "NSPAM")
	b = appendGet(b, "", "v:", "NHAM")
	for _, id := range ids {
		b = appendGet(b, "", "s:", id)
	}
	for _, i := range misses {
		b = appendHMGet(b, "", keys[i])
	}
	return appendCommand(b, "EXEC")
}

// readLookup reads appendCachedLookup's replies, caches the tokens read
// and fills out from the cache. A token not in the cache then was a hit
// whose invalidation came before the reply (only the misses are added):
// the lookup is stale.
func (c *tokenCache) readLookup(r *respReader, keys []tokenizer.Key, out []classifier.Counts, nids int) (classifier.Magic, classifier.Class, error) {
	c.fetched = slices.Grow(c.fetched[:0], len(c.misses))[:len(c.misses)]
	fetched := c.fetched
	m, seen, err := readLookup(r, fetched, nids)
	if err != nil {
		return m, seen, err
	}
	for j, i := range c.misses {
		c.counts[keys[i]] = fetched[j]
	}
	for i, k := range keys {
		var hit bool
		if out[i], hit = c.counts[k]; !hit {
			c.stale = true
		}
	}
	return m, seen, nil
}

// invalidate is the tracking connection's push handler: an invalidation
// drops the tokens it names from the cache (a null one, after a flush,
// drops all of them); any other push is read and ignored.
func (c *tokenCache) invalidate(r *respReader, rep reply) error {
	if rep.n != 2 {
		return r.skip(rep, 0)
	}
	kind, err := r.readValue()
	if err != nil {
		return err
	}
	keys, err := r.read()
	if err != nil {
		return err
	}
	if kind.kind != '$' || string(kind.data) != "invalidate" {
		return r.skip(keys, 0)
	}
	if keys.null() {
		clear(c.counts)
		return nil
	}
	if keys.kind != '*' {
		return protocolError("invalidation of %q", keys.kind)
	}
	for range keys.n {
		k, err := r.read()
		if err != nil {
			return err
		}
		if k.kind != '$' || len(k.data) != 2+len(tokenizer.Key{}) || string(k.data[:2]) != "w:" {
			if err := r.skip(k, 0); err != nil {
				return err
			}
			continue
		}
		delete(c.counts, tokenizer.Key(k.data[2:]))
	}
	return nil
}
