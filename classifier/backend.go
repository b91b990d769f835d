package classifier

import (
	"context"
	"errors"
	"io"

	"github.com/gospamd/gospamd/tokenizer"
)

// A Backend is a Bayes store: the embedded Pebble Store, or a network
// store several hosts share (classifier/redisstore). Everything above
// the store (the learn writer, the scan service, dumps, backup, restore,
// expiry) works on either through this contract; each consumer declares
// the few methods it uses.
//
// # Semantics
//
// Both backends keep SpamAssassin's counts (bayes.md §5) with the same
// Results: Apply learns and forgets ops in order, a learn of a message
// seen as the same class is AlreadyLearned, the other class is moved
// (Relearned) unless NoRelearn, a forget removes what the learn added,
// counts never go below zero. An acknowledged Apply is durable as the
// backend defines durability (Pebble: synced; Redis: as the server's
// appendfsync says).
//
// # Concurrency
//
// Reads are safe from any number of goroutines. Pebble expects one
// writer (the learn package's Writer) per store and one process per
// directory; a network backend is written by one Writer per process and
// by any number of processes at once, each Apply's op being atomic on
// the server (its seen check and count update cannot race another
// host's).
//
// # Availability
//
// A network backend that cannot reach its server fails with an error
// wrapping ErrUnavailable; a scan treats that as "no Bayes" and goes on.
type Backend interface {
	Magic(ctx context.Context, sc Scope) (Magic, error)
	Lookup(ctx context.Context, sc Scope, keys []tokenizer.Key, out []Counts) error
	Seen(ctx context.Context, sc Scope, msgid string) (Class, bool, error)
	ForEachToken(ctx context.Context, sc Scope, fn func(tokenizer.Key, Counts) error) error
	ForEachSeen(ctx context.Context, sc Scope, fn func(msgid string, c Class) error) error
	Scopes(ctx context.Context) ([]Scope, error)

	Apply(ctx context.Context, ops []Op) ([]Result, error)
	Touch(ctx context.Context, sc Scope, keys []tokenizer.Key, atime int64) error
	Backup(ctx context.Context, sc Scope, w io.Writer) error
	Restore(ctx context.Context, sc Scope, r io.Reader) (RestoreStats, error)
	Clear(ctx context.Context, sc Scope) error
	Expire(ctx context.Context, sc Scope, opt ExpireOptions) (ExpireStats, error)
	Close() error
}

// A MagicLookuper reads a scope's counters and a message's tokens
// together, in one round trip to a network store. Scans use it, when the
// store has it, instead of Magic then Lookup.
type MagicLookuper interface {
	LookupMagic(ctx context.Context, sc Scope, keys []tokenizer.Key, out []Counts) (Magic, error)
}

// A ScanLookuper is a MagicLookuper that also says, in the same round
// trip, whether the message being scanned was learned before: ids are
// the message's seen-index ids in lookup order (SpamAssassin's msgid,
// then its Message-ID), seen the class of the first one found (0 when
// none is). Autolearn uses the answer instead of a Seen call of its own.
// With no ids it is LookupMagic.
type ScanLookuper interface {
	LookupScan(ctx context.Context, sc Scope, keys []tokenizer.Key, out []Counts, ids []string) (m Magic, seen Class, err error)
}

// A UsedNoter refreshes, off the scan's path, the tokens a scan's Bayes
// answer used, as SpamAssassin's scan does with tok_touch_all: a network
// store whose tokens expire by TTL renews them in the background,
// batched across scans, with no round trip of the scan's own. NoteUsed
// never blocks and may drop notes when the store is behind (a missed
// renewal only lets a token expire sooner); keys is not retained.
type UsedNoter interface {
	NoteUsed(sc Scope, keys []tokenizer.Key)
}

// ErrUnavailable is wrapped by the errors of a network backend that
// cannot reach its server (refused, timed out, reset). Scans go on
// without Bayes; learns fail and are retried by their callers.
var ErrUnavailable = errors.New("bayes store unavailable")

var _ Backend = (*Store)(nil)
