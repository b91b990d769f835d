package classifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gospamd/gospamd/tokenizer"
)

// Magic returns the counters of scope sc; a scope that has learned
// nothing has zero counters and the current DB version.
func (s *Store) Magic(ctx context.Context, sc Scope) (Magic, error) {
	if err := validScope(sc); err != nil {
		return Magic{}, err
	}
	return s.magic.get(s.db, sc)
}

// clearMagicAfterWrite is deferred by every write method right after it
// takes writeMu, so that it runs once the write has committed (or
// failed), before the lock is released: the counters cached for scans
// are then never older than the last commit. The writes that change
// tokens also clear the counters right after their commit, before the
// token cache takes the new counts, so that a scan never reads a
// token's new counts with the old message counts.
func (s *Store) clearMagicAfterWrite() { s.magic.clear() }

func readMagic(r pebble.Reader, sc Scope) (Magic, error) {
	val, closer, err := r.Get(magicKey(sc))
	if errors.Is(err, pebble.ErrNotFound) {
		return emptyMagic(), nil
	}
	if err != nil {
		return Magic{}, fmt.Errorf("read bayes magic of scope %q: %w", sc, err)
	}
	defer closer.Close()
	m, err := decodeMagic(val)
	if err != nil {
		return Magic{}, fmt.Errorf("decode bayes magic of scope %q: %w", sc, err)
	}
	return m, nil
}

// lookupSeekThreshold is the number of keys from which Lookup sorts them
// and walks one iterator instead of calling Get per key.
const lookupSeekThreshold = 16

// Lookup reads the counts of keys in scope sc into out, which must be at
// least as long as keys; out[i] is zero for an unknown key.
func (s *Store) Lookup(ctx context.Context, sc Scope, keys []tokenizer.Key, out []Counts) error {
	if len(out) < len(keys) {
		return fmt.Errorf("bayes lookup: %d keys but room for %d counts", len(keys), len(out))
	}
	if err := validScope(sc); err != nil {
		return err
	}
	start := time.Now()
	if s.cachedLookup(sc, keys, out) {
		s.metrics.ObserveLookup(len(keys), time.Since(start))
		return nil
	}
	var err error
	if len(keys) >= lookupSeekThreshold {
		err = lookupSorted(s.db, sc, keys, out)
	} else {
		err = lookupGet(s.db, sc, keys, out)
	}
	if err != nil {
		return err
	}
	s.metrics.ObserveLookup(len(keys), time.Since(start))
	return nil
}

// lookupGet reads keys one Get each.
func lookupGet(r pebble.Reader, sc Scope, keys []tokenizer.Key, out []Counts) error {
	buf := scopePrefix(kindToken, sc)
	n := len(buf)
	for i, k := range keys {
		buf = append(buf[:n], k[:]...)
		val, closer, err := r.Get(buf)
		if errors.Is(err, pebble.ErrNotFound) {
			out[i] = Counts{}
			continue
		}
		if err != nil {
			return fmt.Errorf("read bayes token %s: %w", k, err)
		}
		out[i], err = decodeCounts(val)
		closer.Close()
		if err != nil {
			return fmt.Errorf("decode bayes token %s: %w", k, err)
		}
	}
	return nil
}

// lookupSorted reads keys with one iterator, seeking in ascending key
// order (Pebble turns forward seeks into cheap Next steps).
func lookupSorted(r pebble.Reader, sc Scope, keys []tokenizer.Key, out []Counts) error {
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return bytes.Compare(keys[a][:], keys[b][:]) })
	prefix := scopePrefix(kindToken, sc)
	iter, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("open bayes token iterator: %w", err)
	}
	buf := bytes.Clone(prefix)
	n := len(buf)
	for _, i := range order {
		k := keys[i]
		buf = append(buf[:n], k[:]...)
		if !iter.SeekGE(buf) || !bytes.Equal(iter.Key(), buf) {
			out[i] = Counts{}
			continue
		}
		val, err := iter.ValueAndErr()
		if err == nil {
			out[i], err = decodeCounts(val)
		}
		if err != nil {
			iter.Close()
			return fmt.Errorf("read bayes token %s: %w", k, err)
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("read bayes tokens: %w", err)
	}
	return nil
}

// Seen returns the class msgid was learned as in scope sc; ok is false if
// it was not learned.
func (s *Store) Seen(ctx context.Context, sc Scope, msgid string) (Class, bool, error) {
	if err := validScope(sc); err != nil {
		return 0, false, err
	}
	return readSeen(s.db, sc, msgid)
}

func readSeen(r pebble.Reader, sc Scope, msgid string) (Class, bool, error) {
	val, closer, err := r.Get(seenKey(sc, msgid))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read bayes seen entry %q: %w", msgid, err)
	}
	defer closer.Close()
	c, err := decodeClass(val)
	if err != nil {
		return 0, false, fmt.Errorf("bayes seen entry %q: %w", msgid, err)
	}
	return c, true, nil
}

// readSeenMany reads the seen entries of refs with one iterator, seeking
// them in key order (each seek a point lookup, which the Bloom filters
// answer for the tables that lack the key, as Get does), and returns
// the classes of those found. A large batch looks up its messages this
// way instead of one Get each, which sets up a read of every table.
func readSeenMany(r pebble.Reader, refs []seenRef) (map[seenRef]Class, error) {
	type keyed struct {
		key []byte
		ref seenRef
	}
	keys := make([]keyed, len(refs))
	for i, ref := range refs {
		keys[i] = keyed{seenKey(ref.scope, ref.msgid), ref}
	}
	slices.SortFunc(keys, func(a, b keyed) int { return bytes.Compare(a.key, b.key) })
	iter, err := r.NewIter(nil)
	if err != nil {
		return nil, fmt.Errorf("open bayes seen iterator: %w", err)
	}
	found := make(map[seenRef]Class, len(refs))
	for _, k := range keys {
		if !iter.SeekPrefixGE(k.key) || !bytes.Equal(iter.Key(), k.key) {
			continue
		}
		val, err := iter.ValueAndErr()
		if err != nil {
			iter.Close()
			return nil, fmt.Errorf("read bayes seen entry %q: %w", k.ref.msgid, err)
		}
		c, err := decodeClass(val)
		if err != nil {
			iter.Close()
			return nil, fmt.Errorf("bayes seen entry %q: %w", k.ref.msgid, err)
		}
		found[k.ref] = c
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read bayes seen entries: %w", err)
	}
	return found, nil
}

// ctxCheckEvery is how many records the ForEach loops visit between
// checks of ctx.
const ctxCheckEvery = 4096

// ForEachToken calls fn for every token of scope sc in key order, from a
// consistent snapshot. An error from fn stops the walk and is returned.
func (s *Store) ForEachToken(ctx context.Context, sc Scope, fn func(tokenizer.Key, Counts) error) error {
	if err := validScope(sc); err != nil {
		return err
	}
	return forEachToken(ctx, s.db, sc, fn)
}

func forEachToken(ctx context.Context, r pebble.Reader, sc Scope, fn func(tokenizer.Key, Counts) error) error {
	prefix := scopePrefix(kindToken, sc)
	return forEachPrefix(ctx, r, prefix, func(suffix, val []byte) error {
		if len(suffix) != len(tokenizer.Key{}) {
			return fmt.Errorf("bayes token key %x: %w", suffix, errCorruptValue)
		}
		c, err := decodeCounts(val)
		if err != nil {
			return fmt.Errorf("decode bayes token %x: %w", suffix, err)
		}
		return fn(tokenizer.Key(suffix), c)
	})
}

// ForEachSeen calls fn for every seen entry of scope sc in msgid order,
// from a consistent snapshot.
func (s *Store) ForEachSeen(ctx context.Context, sc Scope, fn func(msgid string, c Class) error) error {
	if err := validScope(sc); err != nil {
		return err
	}
	return forEachSeen(ctx, s.db, sc, fn)
}

func forEachSeen(ctx context.Context, r pebble.Reader, sc Scope, fn func(msgid string, c Class) error) error {
	return forEachPrefix(ctx, r, scopePrefix(kindSeen, sc), func(suffix, val []byte) error {
		c, err := decodeClass(val)
		if err != nil {
			return fmt.Errorf("bayes seen entry %q: %w", suffix, err)
		}
		return fn(string(suffix), c)
	})
}

// Scopes lists the scopes that have data, the global scope ("") first.
func (s *Store) Scopes(ctx context.Context) ([]Scope, error) {
	var scopes []Scope
	iter, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindMagic}, UpperBound: []byte{kindMagic + 1}})
	if err != nil {
		return nil, fmt.Errorf("list bayes scopes: %w", err)
	}
	for iter.First(); iter.Valid(); iter.Next() {
		k := iter.Key()
		scopes = append(scopes, Scope(k[1:len(k)-1]))
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("list bayes scopes: %w", err)
	}
	return scopes, nil
}

// forEachPrefix walks the keys under prefix from a snapshot, passing the
// key without prefix and the value (both valid only during the call).
func forEachPrefix(ctx context.Context, r pebble.Reader, prefix []byte, fn func(suffix, val []byte) error) error {
	if db, ok := r.(*pebble.DB); ok {
		snap := db.NewSnapshot()
		defer snap.Close()
		r = snap
	}
	iter, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("open bayes iterator: %w", err)
	}
	n := 0
	for iter.First(); iter.Valid(); iter.Next() {
		n++
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				iter.Close()
				return err
			}
		}
		val, err := iter.ValueAndErr()
		if err == nil {
			err = fn(iter.Key()[len(prefix):], val)
		}
		if err != nil {
			iter.Close()
			return err
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("walk bayes keys: %w", err)
	}
	return nil
}

// cachedLookup answers a lookup from the token cache, loading the scope
// into it first if it fits; it reports false when the scope is not held
// whole.
func (s *Store) cachedLookup(sc Scope, keys []tokenizer.Key, out []Counts) bool {
	if s.cache.lookup(sc, keys, out) {
		return true
	}
	m, err := s.magic.get(s.db, sc)
	if err != nil {
		return false
	}
	if err := s.cache.fill(s.db, sc, m.NTokens, 0); err != nil {
		s.log.Warn("cannot cache bayes tokens", "scope", string(sc), "err", err)
		return false
	}
	return s.cache.lookup(sc, keys, out)
}
