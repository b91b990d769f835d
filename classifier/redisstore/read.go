package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// magicVars are the v: variables Magic reads, in Magic's field order
// (SpamAssassin's names; only DB_VERSION, NSPAM and NHAM are ever set in
// Redis, the others read as 0, as SpamAssassin reads them).
var magicVars = [...]string{"DB_VERSION", "NSPAM", "NHAM", "NTOKENS", "OLDEST_TOKEN_AGE", "NEWEST_TOKEN_AGE",
	"LAST_JOURNAL_SYNC", "LAST_EXPIRE", "LAST_ATIME_DELTA", "LAST_EXPIRE_REDUCE"}

// Magic returns scope sc's counters; a scope never learned has zero
// counts and DB version 3.
func (s *Store) Magic(ctx context.Context, sc classifier.Scope) (classifier.Magic, error) {
	if err := validScope(sc); err != nil {
		return classifier.Magic{}, err
	}
	p := prefix(sc)
	keys := make([]string, len(magicVars))
	for i, v := range magicVars {
		keys[i] = p + "v:" + v
	}
	var vals []any
	err := s.call(ctx, "magic", func(ctx context.Context) error {
		var err error
		vals, err = s.client.MGet(ctx, keys...).Result()
		return err
	})
	if err != nil {
		return classifier.Magic{}, err
	}
	n := make([]int64, len(vals))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			n[i], _ = strconv.ParseInt(str, 10, 64)
		}
	}
	m := classifier.Magic{DBVersion: n[0], NSpam: max(n[1], 0), NHam: max(n[2], 0), NTokens: n[3],
		OldestAtime: n[4], NewestAtime: n[5], LastJournalSync: n[6], LastExpire: n[7],
		LastExpireDelta: n[8], LastExpireReduce: n[9]}
	if m.DBVersion == 0 {
		m.DBVersion = classifier.DBVersion
	}
	return m, nil
}

// Lookup reads the counts of keys in scope sc into out (zero for an
// unknown key), in one round trip. Redis keeps no atimes: Atime is 0.
func (s *Store) Lookup(ctx context.Context, sc classifier.Scope, keys []tokenizer.Key, out []classifier.Counts) error {
	_, err := s.LookupMagic(ctx, sc, keys, out)
	return err
}

// LookupMagic reads scope sc's message counts and the counts of keys, in
// one round trip (one MULTI/EXEC). Only NSpam, NHam and DBVersion of the
// Magic are filled in.
func (s *Store) LookupMagic(ctx context.Context, sc classifier.Scope, keys []tokenizer.Key, out []classifier.Counts) (classifier.Magic, error) {
	m, _, err := s.LookupScan(ctx, sc, keys, out, nil)
	return m, err
}

// LookupScan is LookupMagic that also reads the seen index for ids (at
// most 2, tried in order), in the same round trip: seen is the class of
// the first found, 0 for none.
//
// The counters and seen keys are read every time; the global scope's
// token counts come from the token cache (cache.go) where it has them,
// exactly as the server has them when it runs the lookup: a learn on
// any host changes every host's next answer.
func (s *Store) LookupScan(ctx context.Context, sc classifier.Scope, keys []tokenizer.Key, out []classifier.Counts, ids []string) (classifier.Magic, classifier.Class, error) {
	if len(out) < len(keys) {
		return classifier.Magic{}, 0, fmt.Errorf("bayes lookup: %d keys but room for %d counts", len(keys), len(out))
	}
	if len(ids) > 2 {
		return classifier.Magic{}, 0, fmt.Errorf("bayes lookup: %d seen ids, want at most 2", len(ids))
	}
	if err := validScope(sc); err != nil {
		return classifier.Magic{}, 0, err
	}
	start := time.Now()
	p := prefix(sc)
	var m classifier.Magic
	var seen classifier.Class
	err := s.call(ctx, "lookup", func(ctx context.Context) error {
		if sc == "" && s.cache != nil {
			var ok bool
			var err error
			if m, seen, ok, err = s.cache.lookup(ctx, keys, out, ids); ok || err != nil {
				return err
			}
		}
		return s.lookups.do(ctx, func(b []byte) []byte {
			return appendLookup(b, p, keys, ids)
		}, func(r *respReader) error {
			var err error
			m, seen, err = readLookup(r, out[:len(keys)], len(ids))
			return err
		})
	})
	if err != nil {
		return classifier.Magic{}, 0, err
	}
	s.metrics.ObserveLookup(len(keys), time.Since(start))
	return m, seen, nil
}

// lookupMulti wraps a scan's lookup in MULTI/EXEC, so that it reads one
// state of the database, as the script it replaces did: without it, a
// learn landing between the counters and the tokens could count a
// message in the tokens but not in NSPAM.
const lookupMulti = true

// appendLookup appends a scan's lookup of scope prefix p: GET of NSPAM,
// NHAM and each seen key of ids, then one HMGET <token key> s h per key.
func appendLookup(b []byte, p string, keys []tokenizer.Key, ids []string) []byte {
	if lookupMulti {
		b = appendCommand(b, "MULTI")
	}
	b = appendGet(b, p, "v:", "NSPAM")
	b = appendGet(b, p, "v:", "NHAM")
	for _, id := range ids {
		b = appendGet(b, p, "s:", id)
	}
	for _, k := range keys {
		b = appendHMGet(b, p, k)
	}
	if lookupMulti {
		b = appendCommand(b, "EXEC")
	}
	return b
}

// appendHMGet appends HMGET <p+"w:"+k> s h.
func appendHMGet(b []byte, p string, k tokenizer.Key) []byte {
	b = append(b, "*4\r\n$5\r\nHMGET\r\n$"...)
	b = strconv.AppendInt(b, int64(len(p)+2+len(k)), 10)
	b = append(b, '\r', '\n')
	b = append(b, p...)
	b = append(b, "w:"...)
	b = append(b, k[:]...)
	return append(b, "\r\n$1\r\ns\r\n$1\r\nh\r\n"...)
}

// appendGet appends GET of the key p+kind+name.
func appendGet(b []byte, p, kind, name string) []byte {
	b = append(b, "*2\r\n$3\r\nGET\r\n$"...)
	b = strconv.AppendInt(b, int64(len(p)+len(kind)+len(name)), 10)
	b = append(b, '\r', '\n')
	b = append(b, p...)
	b = append(b, kind...)
	b = append(b, name...)
	return append(b, '\r', '\n')
}

// readLookup reads the replies to appendLookup's request of nids seen
// keys and len(out) tokens, putting the token counts in out. It reads
// every reply even after an error reply, and then returns the first
// error reply.
func readLookup(r *respReader, out []classifier.Counts, nids int) (classifier.Magic, classifier.Class, error) {
	ncmd := 2 + nids + len(out)
	var first error
	note := func(err error) error {
		if !isServerError(err) {
			return err
		}
		if first == nil {
			first = err
		}
		return nil
	}
	if lookupMulti {
		for range 1 + ncmd { // +OK, then +QUEUED for each command
			if err := r.expectStatus(); err != nil {
				if err := note(err); err != nil {
					return classifier.Magic{}, 0, err
				}
			}
		}
		rep, err := r.read() // the elements follow
		switch {
		case err != nil:
			return classifier.Magic{}, 0, err
		case rep.kind == '-' || rep.kind == '!':
			if first == nil {
				first = serverError(rep.data)
			}
			return classifier.Magic{}, 0, first
		case rep.kind != '*' || rep.n != int64(ncmd):
			return classifier.Magic{}, 0, protocolError("EXEC answered %q %d for %d commands", rep.kind, rep.n, ncmd)
		}
	}
	m := classifier.Magic{DBVersion: classifier.DBVersion}
	var seen classifier.Class
	for i := range 2 + nids {
		v, err := readString(r)
		if err != nil {
			if err := note(err); err != nil {
				return classifier.Magic{}, 0, err
			}
			continue
		}
		switch {
		case i == 0:
			m.NSpam = max(parseCounter(v), 0)
		case i == 1:
			m.NHam = max(parseCounter(v), 0)
		case seen == 0 && len(v) == 1 && (v[0] == byte(classifier.Spam) || v[0] == byte(classifier.Ham)):
			seen = classifier.Class(v[0])
		}
	}
	for i := range out {
		out[i] = classifier.Counts{}
		rep, err := r.read()
		if err != nil {
			return classifier.Magic{}, 0, err
		}
		switch {
		case rep.kind == '-' || rep.kind == '!':
			if first == nil {
				first = serverError(rep.data)
			}
			continue
		case rep.kind != '*' || rep.n != 2:
			return classifier.Magic{}, 0, protocolError("HMGET answered %q %d", rep.kind, rep.n)
		}
		s, err := readString(r)
		if err != nil {
			return classifier.Magic{}, 0, err
		}
		out[i].Spam = countBytes(s)
		h, err := readString(r)
		if err != nil {
			return classifier.Magic{}, 0, err
		}
		out[i].Ham = countBytes(h)
	}
	if first != nil {
		return classifier.Magic{}, 0, first
	}
	return m, seen, nil
}

// readString reads a bulk string reply: its body, nil for a null one,
// a serverError for an error reply.
func readString(r *respReader) ([]byte, error) {
	rep, err := r.read()
	if err != nil {
		return nil, err
	}
	switch rep.kind {
	case '$', '_':
		return rep.data, nil
	case '-', '!':
		return nil, serverError(rep.data)
	}
	return nil, protocolError("reply type %q where a string was expected", rep.kind)
}

// parseCounter reads NSPAM or NHAM; anything not a number reads as 0.
func parseCounter(v []byte) int64 {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// countBytes is count of a reply's bytes.
func countBytes(v []byte) uint32 {
	if len(v) == 0 {
		return 0
	}
	return count(string(v))
}

// count reads a stored count, held within [0, 2^32-1].
func count(v string) uint32 {
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return uint32(min(n, math.MaxUint32))
}

func tokenKey(p string, k tokenizer.Key) string {
	var b strings.Builder
	b.Grow(len(p) + 2 + len(k))
	b.WriteString(p)
	b.WriteString("w:")
	b.Write(k[:])
	return b.String()
}

// Seen returns the class msgid was learned as in scope sc.
func (s *Store) Seen(ctx context.Context, sc classifier.Scope, msgid string) (classifier.Class, bool, error) {
	if err := validScope(sc); err != nil {
		return 0, false, err
	}
	var v string
	err := s.call(ctx, "seen", func(ctx context.Context) error {
		var err error
		v, err = s.client.Get(ctx, prefix(sc)+"s:"+msgid).Result()
		if errors.Is(err, redis.Nil) {
			v, err = "", nil
		}
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if len(v) == 1 && (classifier.Class(v[0]) == classifier.Spam || classifier.Class(v[0]) == classifier.Ham) {
		return classifier.Class(v[0]), true, nil
	}
	return 0, false, nil
}

// scanBatch is how many keys one SCAN step and one fetch take.
const scanBatch = 1000

// scanKeys returns every key matching pattern, sorted and without the
// duplicates SCAN may return.
func (s *Store) scanKeys(ctx context.Context, op, pattern string) ([]string, error) {
	seen := map[string]struct{}{}
	err := s.call(ctx, op, func(ctx context.Context) error {
		var cursor uint64
		for {
			keys, next, err := s.client.Scan(ctx, cursor, pattern, scanBatch).Result()
			if err != nil {
				return err
			}
			for _, k := range keys {
				seen[k] = struct{}{}
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// globEscape quotes the glob characters of s for a SCAN MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ForEachToken calls fn for every token of scope sc in key order. Redis
// keeps no atimes: each token's Atime is the current time, as
// SpamAssassin's dumps and backups of a Redis database print it. The
// walk is not a snapshot: learns running meanwhile may or may not show.
func (s *Store) ForEachToken(ctx context.Context, sc classifier.Scope, fn func(tokenizer.Key, classifier.Counts) error) error {
	if err := validScope(sc); err != nil {
		return err
	}
	p := prefix(sc)
	keys, err := s.scanKeys(ctx, "scan tokens", globEscape(p)+"w:*")
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	for start := 0; start < len(keys); start += scanBatch {
		chunk := keys[start:min(start+scanBatch, len(keys))]
		var cmds []redis.Cmder
		err := s.call(ctx, "read tokens", func(ctx context.Context) error {
			var err error
			cmds, err = s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for _, k := range chunk {
					pipe.HMGet(ctx, k, "s", "h")
				}
				return nil
			})
			return err
		})
		if err != nil {
			return err
		}
		for i, cmd := range cmds {
			raw := chunk[i][len(p)+2:]
			if len(raw) != len(tokenizer.Key{}) {
				continue // not a token of ours
			}
			vals := cmd.(*redis.SliceCmd).Val()
			var c classifier.Counts
			if str, ok := vals[0].(string); ok {
				c.Spam = count(str)
			}
			if str, ok := vals[1].(string); ok {
				c.Ham = count(str)
			}
			if c.Spam == 0 && c.Ham == 0 {
				continue
			}
			c.Atime = now
			if err := fn(tokenizer.Key([]byte(raw)), c); err != nil {
				return err
			}
		}
	}
	return nil
}

// ForEachSeen calls fn for every seen entry of scope sc in msgid order.
func (s *Store) ForEachSeen(ctx context.Context, sc classifier.Scope, fn func(msgid string, c classifier.Class) error) error {
	if err := validScope(sc); err != nil {
		return err
	}
	p := prefix(sc)
	keys, err := s.scanKeys(ctx, "scan seen", globEscape(p)+"s:*")
	if err != nil {
		return err
	}
	for start := 0; start < len(keys); start += scanBatch {
		chunk := keys[start:min(start+scanBatch, len(keys))]
		var vals []any
		err := s.call(ctx, "read seen", func(ctx context.Context) error {
			var err error
			vals, err = s.client.MGet(ctx, chunk...).Result()
			return err
		})
		if err != nil {
			return err
		}
		for i, v := range vals {
			str, _ := v.(string)
			if len(str) != 1 || (str[0] != byte(classifier.Spam) && str[0] != byte(classifier.Ham)) {
				continue
			}
			if err := fn(chunk[i][len(p)+2:], classifier.Class(str[0])); err != nil {
				return err
			}
		}
	}
	return nil
}

// Scopes lists the scopes that have a database: the global one first
// (when it has been initialized), then the users' in name order.
func (s *Store) Scopes(ctx context.Context) ([]classifier.Scope, error) {
	var scopes []classifier.Scope
	var global int64
	err := s.call(ctx, "scopes", func(ctx context.Context) error {
		var err error
		global, err = s.client.Exists(ctx, "v:DB_VERSION").Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	if global > 0 {
		scopes = append(scopes, "")
	}
	keys, err := s.scanKeys(ctx, "scopes", "u:*\x00v:DB_VERSION")
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		scopes = append(scopes, classifier.Scope(strings.TrimSuffix(strings.TrimPrefix(k, "u:"), "\x00v:DB_VERSION")))
	}
	return scopes, nil
}
