package classifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gospamd/gospamd/tokenizer"
)

// A Store is the Bayes database of every scope, kept in one Pebble
// directory.
//
// # Key layout
//
// Every key starts with a kind byte, then the scope name and a 0x00
// terminator (scope names may not contain 0x00, so one scope's keys never
// fall inside another's range):
//
//	'm' scope 0x00             magic counters of the scope (uvarints in Magic field order)
//	't' scope 0x00 key[5]      token counts: uvarint spam, uvarint ham, varint atime
//	's' scope 0x00 msgid       seen index: one byte, 's' or 'h'
//	'v'                        store format ("gospamd.bayes.v1")
//
// A scope exists once its magic key is written (by its first learn or a
// restore); Scopes lists the magic keys.
//
// # Concurrency
//
// Reads (Magic, Lookup, Seen, ForEach…, Scopes) are safe from any number of
// goroutines, concurrently with writes; each read sees committed data only.
// Writes (Apply, Touch, Restore, Clear, Expire) are meant to come from ONE
// goroutine, the learn package's writer: Apply reads each token's counts
// and writes them back, so interleaved writers would lose updates. The
// Store serialises writes with a mutex anyway, so a second writer is slow,
// never wrong.
//
// A second Open of the same directory, from this process or another one,
// fails with an error wrapping ErrLocked that names the holder (Pebble's
// LOCK file is the lock; a holder file beside it says who holds it).
//
// # Crash safety
//
// Apply, Restore, Clear and Expire each commit one synced Pebble batch:
// when they return without error the change is durable, and a crash at
// any moment leaves either all of a batch or none of it. Touch is written
// without waiting for the disk; a crash may lose recent atime updates,
// never counts.
type Store struct {
	db       *pebble.DB
	lock     *pebble.Lock
	dir      string
	log      *slog.Logger
	metrics  Metrics
	readOnly bool

	writeMu sync.Mutex // serialises writers
	cache   *tokenCache
	magic   *magicCache
	ingest  *ingester // Apply's commits as tables (Options.Ingest), or nil
}

// Options configure Open.
type Options struct {
	// Logger receives the store's and Pebble's log lines (Pebble's at
	// debug level, except errors). Nil discards them.
	Logger *slog.Logger
	// Metrics observes commits and lookups. Nil is a no-op.
	Metrics Metrics
	// ReadOnly opens the database without changing it; write methods
	// fail with ErrReadOnly. The directory lock is still taken (and the
	// holder file written), so a read-only opener also keeps writers out.
	ReadOnly bool
	// CacheSize is Pebble's block cache in bytes; 0 means 32 MiB.
	CacheSize int64
	// MemTableSize is the size of Pebble's memtable, which takes the
	// writes until they are flushed to a table, in bytes; 0 means 32
	// MiB, room for a bulk learn's batch of 500 messages. Its memory is
	// resident once written to (two of them while one is flushed), so a
	// process whose writes are small (the daemon's autolearn and TELL)
	// wants less.
	MemTableSize int64
	// L0Tables is how many overlapping tables (one per flush of the
	// memtable) Pebble lets pile up in its top level before it merges
	// them with the rest of the store; 0 means Pebble's default, 2.
	// Token keys are hashes, so every flush overlaps the whole store and
	// each merge rewrites it. A process that writes in bulk and exits
	// soon (gospamd learn) sets more: its flushes stay as they are, and
	// the next opener with the default (the daemon) merges them in the
	// background, or a later bulk writer once the bound is reached.
	L0Tables int
	// Ingest makes Apply write each batch as a table that Pebble takes
	// into the store whole (an ingestion: the table is synced, then
	// linked in by one synced edit of the store's manifest), instead of
	// through the write-ahead log and the memtable, which must then be
	// flushed to a table again, at the latest when the store closes. A
	// bulk learner (gospamd learn) sets it: its batches are large, and
	// it is not then left flushing its memtable, alone, before it exits.
	// A batch is as durable and atomic either way. Ignored with ReadOnly.
	Ingest bool
}

// Metrics observes the store. Implementations must be safe for concurrent
// use. NopMetrics is the default.
type Metrics interface {
	// ObserveCommit is called after each committed Apply with the number
	// of ops and the time from call to durable commit.
	ObserveCommit(ops int, d time.Duration)
	// ObserveLookup is called after each Lookup with the number of keys.
	ObserveLookup(keys int, d time.Duration)
}

// NopMetrics discards observations.
type NopMetrics struct{}

// ObserveCommit does nothing.
func (NopMetrics) ObserveCommit(int, time.Duration) {}

// ObserveLookup does nothing.
func (NopMetrics) ObserveLookup(int, time.Duration) {}

// ErrLocked is returned, wrapped, by Open when another Store (in this or
// another process) holds the directory.
var ErrLocked = errors.New("bayes store is locked by another process")

// ErrReadOnly is returned by writes on a store opened ReadOnly.
var ErrReadOnly = errors.New("bayes store is open read-only")

// holderFile is written inside the directory after taking the lock; it
// names the process holding it, for ErrLocked messages.
const holderFile = "GOSPAMD-HOLDER"

// storeFormat is the value of the 'v' key.
const storeFormat = "gospamd.bayes.v1"

const (
	kindMagic  byte = 'm'
	kindToken  byte = 't'
	kindSeen   byte = 's'
	kindFormat byte = 'v'
)

// Open opens (creating it if needed, unless ReadOnly) the store in dir.
//
// # Privacy
//
// Unless ReadOnly, Open makes the store private to the process's user
// before opening it: dir becomes 0700 and every file already in it 0600
// (directories 0700), even when dir existed with looser modes, and every
// file the store creates later is 0600 whatever the umask. A directory or
// file whose mode cannot be changed (owned by another user) is an error.
func Open(dir string, opt Options) (*Store, error) {
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	metrics := opt.Metrics
	if metrics == nil {
		metrics = NopMetrics{}
	}
	// A read-only opener changes nothing, modes included (it may not own
	// the store); a writer makes the store private before Pebble opens
	// any of it, and creates every new file private.
	fsys := vfs.Default
	if !opt.ReadOnly {
		if err := os.MkdirAll(dir, privateDirMode); err != nil {
			return nil, fmt.Errorf("create bayes store directory: %w", err)
		}
		if err := makePrivate(dir); err != nil {
			return nil, err
		}
		fsys = privateFS{vfs.Default}
	}
	lock, err := pebble.LockDirectory(dir, fsys)
	if err != nil {
		if isLockConflict(err) {
			return nil, fmt.Errorf("open bayes store %s: %w: %s", dir, ErrLocked, describeHolder(dir))
		}
		return nil, fmt.Errorf("lock bayes store %s: %w", dir, err)
	}
	s := &Store{lock: lock, dir: dir, log: logger, metrics: metrics, readOnly: opt.ReadOnly}
	if err := writeHolder(dir); err != nil {
		logger.Warn("cannot write bayes store holder file", "dir", dir, "err", err)
	}
	cacheSize := opt.CacheSize
	if cacheSize <= 0 {
		cacheSize = 32 << 20
	}
	cache := pebble.NewCache(cacheSize)
	defer cache.Unref()
	popts := &pebble.Options{
		Cache:              cache,
		FS:                 fsys,
		Lock:               lock,
		ReadOnly:           opt.ReadOnly,
		Logger:             pebbleLogger{logger},
		FormatMajorVersion: pebble.FormatNewest,
		// A learn batch of 500 messages is ~150 000 token writes; a
		// memtable large enough to take it whole avoids Pebble's slower
		// path for batches over half a memtable. A whole 150 000-token
		// scope fits in one, too.
		MemTableSize: 32 << 20,
	}
	if opt.MemTableSize > 0 {
		popts.MemTableSize = uint64(opt.MemTableSize)
	}
	if opt.L0Tables > 0 {
		// Pebble compacts its top level once twice its depth reaches
		// the threshold.
		popts.L0CompactionThreshold = 2 * opt.L0Tables
		// Pebble holds writes that would add to the top level once its
		// depth reaches this bound (default 12), which must stay above
		// the one that merges it.
		popts.L0StopWritesThreshold = max(12, 2*popts.L0CompactionThreshold)
	}
	// Most tokens of a scanned message are unknown to the store; a Bloom
	// filter per table answers those lookups without reading blocks.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		s.releaseLock()
		return nil, fmt.Errorf("open bayes store %s: %w", dir, err)
	}
	s.db = db
	if !opt.ReadOnly {
		if err := removeStaleIngest(dir); err != nil {
			logger.Warn("cannot remove a bayes ingest table left by a crash", "dir", dir, "err", err)
		}
		if opt.Ingest {
			s.ingest = newIngester(dir, fsys, popts, db.TableFormat())
		}
	}
	s.cache = newTokenCache(tokenCacheLimit)
	s.magic = newMagicCache()
	if err := s.checkFormat(); err != nil {
		closeErr := db.Close()
		s.releaseLock()
		return nil, errors.Join(err, closeErr)
	}
	return s, nil
}

// checkFormat writes the format key into a new store and refuses a
// store written in another format.
func (s *Store) checkFormat() error {
	key := []byte{kindFormat}
	val, closer, err := s.db.Get(key)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if s.readOnly {
			return nil
		}
		if err := s.db.Set(key, []byte(storeFormat), pebble.Sync); err != nil {
			return fmt.Errorf("write bayes store format: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read bayes store format: %w", err)
	}
	defer closer.Close()
	if string(val) != storeFormat {
		return fmt.Errorf("bayes store %s has format %q, want %q", s.dir, val, storeFormat)
	}
	return nil
}

// closeFlushWAL is how much unflushed write-ahead log makes Close flush
// the memtable.
const closeFlushWAL = 1 << 20

// Close closes the database and releases the directory lock.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return errors.New("bayes store already closed")
	}
	// Flush what the memtable holds so that the next Open finds it in
	// tables: replaying a long write-ahead log rebuilds a memtable full of
	// superseded versions of each token, which makes every lookup slower.
	// A short log (a new store's format key, a few learns) is left to be
	// replayed: a flush rotates the log and syncs three files, alone at
	// the end of a bulk learn, whose batches went in as tables.
	var err error
	if !s.readOnly && s.db.Metrics().WAL.Size >= closeFlushWAL {
		if ferr := s.db.Flush(); ferr != nil {
			err = fmt.Errorf("flush bayes store: %w", ferr)
		}
	}
	err = errors.Join(err, s.db.Close())
	s.db = nil
	if err != nil {
		err = fmt.Errorf("close bayes store: %w", err)
	}
	s.releaseLock()
	return err
}

func (s *Store) releaseLock() {
	if err := os.Remove(filepath.Join(s.dir, holderFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("cannot remove bayes store holder file", "err", err)
	}
	if err := s.lock.Close(); err != nil {
		s.log.Warn("cannot release bayes store lock", "err", err)
	}
}

// isLockConflict reports whether err from LockDirectory means that
// someone else holds the lock (rather than, say, a missing directory).
func isLockConflict(err error) bool {
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EWOULDBLOCK) {
		return true
	}
	// Pebble's in-process check has no sentinel error.
	return strings.Contains(err.Error(), "lock held by current process")
}

// writeHolder records this process in dir's holder file, atomically.
func writeHolder(dir string) error {
	host, _ := os.Hostname()
	content := fmt.Sprintf("pid=%d\nhost=%s\ncommand=%s\nstarted=%s\n",
		os.Getpid(), host, strings.Join(os.Args, " "), time.Now().UTC().Format(time.RFC3339))
	tmp := filepath.Join(dir, holderFile+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, holderFile))
}

// holderWait is how long Open, finding the directory locked, waits for
// the holder to write its holder file (it does so right after locking).
const holderWait = 500 * time.Millisecond

// describeHolder names the process holding dir's lock, for an error
// message, from its holder file. A file naming a process that no longer
// runs (left by a crash) is stale: the new holder is about to replace
// it, so describeHolder waits for that a little.
func describeHolder(dir string) string {
	host, _ := os.Hostname()
	deadline := time.Now().Add(holderWait)
	for {
		fields, err := readHolder(dir)
		live := err == nil && (fields["host"] != host || processRunning(fields["pid"]))
		if live || time.Now().After(deadline) {
			switch {
			case err != nil:
				return "holder unknown (no holder file)"
			case !live:
				return fmt.Sprintf("holder unknown (stale holder file names pid %s, which is not running)", fields["pid"])
			}
			desc := fmt.Sprintf("held by pid %s on host %s", fields["pid"], fields["host"])
			if cmd := fields["command"]; cmd != "" {
				desc += fmt.Sprintf(" (%q)", cmd)
			}
			if started := fields["started"]; started != "" {
				desc += " since " + started
			}
			return desc
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readHolder(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, holderFile))
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			fields[k] = v
		}
	}
	return fields, nil
}

// pebbleLogger routes Pebble's log lines to slog: info at debug level.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
	}
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("pebble fatal: " + msg)
	panic("pebble: " + msg)
}

// validScope checks that sc can be encoded in a key.
func validScope(sc Scope) error {
	if strings.IndexByte(string(sc), 0) >= 0 {
		return fmt.Errorf("bayes scope %q contains a NUL byte", sc)
	}
	return nil
}

// scopePrefix returns kind + scope + 0x00.
func scopePrefix(kind byte, sc Scope) []byte {
	p := make([]byte, 0, len(sc)+2+len(tokenizer.Key{})) // room for a token key
	p = append(p, kind)
	p = append(p, sc...)
	return append(p, 0)
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (p ends in 0x00, so replacing it with 0x01 is enough).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	end[len(end)-1] = 1
	return end
}

func magicKey(sc Scope) []byte { return scopePrefix(kindMagic, sc) }

func seenKey(sc Scope, msgid string) []byte {
	return append(scopePrefix(kindSeen, sc), msgid...)
}

func (s *Store) checkWritable() error {
	if s.readOnly {
		return ErrReadOnly
	}
	return nil
}
