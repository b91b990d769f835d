package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
)

// Bayes is everything `gospamd learn` (and any other tool) does to a
// Bayes store: learn and forget through a single writer, dump, back up,
// restore, clear and expire. Open returns one that works on the store
// directly (Local) or, when a running daemon owns the store, through that
// daemon's admin socket (Client); the caller cannot tell the difference.
type Bayes interface {
	learn.Submitter
	DumpMagic(ctx context.Context, sc classifier.Scope, w io.Writer) error
	DumpData(ctx context.Context, sc classifier.Scope, re string, w io.Writer) error
	Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error
	Restore(ctx context.Context, sc classifier.Scope, r io.Reader) error
	Clear(ctx context.Context, sc classifier.Scope) error
	Expire(ctx context.Context, sc classifier.Scope) error
	Close() error
}

// OpenOptions configure Open.
type OpenOptions struct {
	// ReadOnly opens the store for reading only (dumps and backups).
	ReadOnly bool
	Logger   *slog.Logger
	// OpenStore opens the store in dir (a Pebble store) or the store the
	// caller configured otherwise (a Redis store, which ignores dir);
	// default classifier.Open with Logger and ReadOnly. Its error must
	// wrap classifier.ErrLocked when another process holds the store.
	OpenStore func(dir string, readOnly bool) (Store, error)
}

// Store is what a Local works on and a Service serves from: either
// backend (classifier.Store, redisstore.Store).
type Store interface {
	learn.Store
	learn.DumpReader
	Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error
	Restore(ctx context.Context, sc classifier.Scope, r io.Reader) (classifier.RestoreStats, error)
	Clear(ctx context.Context, sc classifier.Scope) error
	Expire(ctx context.Context, sc classifier.Scope, opt classifier.ExpireOptions) (classifier.ExpireStats, error)
	Close() error
}

// Open opens the store in dbpath or, when another process holds it and a
// daemon answers on its admin socket, connects to that daemon. When the
// store is held and no daemon answers, the error is the store's (naming
// the holder).
func Open(ctx context.Context, dbpath string, opt OpenOptions) (Bayes, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.OpenStore == nil {
		opt.OpenStore = func(dir string, readOnly bool) (Store, error) {
			s, err := classifier.Open(dir, classifier.Options{Logger: opt.Logger, ReadOnly: readOnly})
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	store, err := opt.OpenStore(dbpath, opt.ReadOnly)
	if err == nil {
		return NewLocal(store, !opt.ReadOnly, opt.Logger), nil
	}
	if !errors.Is(err, classifier.ErrLocked) {
		return nil, err
	}
	c, derr := Dial(ctx, SocketPath(dbpath))
	if derr != nil {
		opt.Logger.Debug("no daemon on the admin socket", "err", derr)
		return nil, err
	}
	opt.Logger.Debug("the daemon owns the store: working through its admin socket")
	return c, nil
}

// Local is a Bayes on a store this process opened, with its own single
// writer unless read-only. Close closes the writer and the store.
type Local struct {
	store  Store
	writer *learn.Writer // nil when read-only
	params classifier.Params
}

// NewLocal wraps store; writable starts a single writer for it.
func NewLocal(store Store, writable bool, log *slog.Logger) *Local {
	l := &Local{store: store, params: classifier.DefaultParams()}
	if writable {
		l.writer = learn.NewWriter(store, learn.WriterOptions{Logger: log})
	}
	return l
}

// Submit queues a learn on the writer.
func (l *Local) Submit(ctx context.Context, op classifier.Op) (<-chan learn.Outcome, error) {
	if l.writer == nil {
		return nil, classifier.ErrReadOnly
	}
	return l.writer.Submit(ctx, op)
}

// SubmitBatch queues learns on the writer, committed together (a
// learn.BatchSubmitter).
func (l *Local) SubmitBatch(ctx context.Context, ops []classifier.Op) (<-chan learn.Outcome, error) {
	if l.writer == nil {
		return nil, classifier.ErrReadOnly
	}
	return l.writer.SubmitBatch(ctx, ops)
}

// DumpMagic writes sa-learn --dump magic.
func (l *Local) DumpMagic(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	return learn.DumpMagic(ctx, w, l.store, sc)
}

// DumpData writes sa-learn --dump data, filtered by the regexp expr when
// it is not empty.
func (l *Local) DumpData(ctx context.Context, sc classifier.Scope, expr string, w io.Writer) error {
	var re *regexp.Regexp
	if expr != "" {
		var err error
		if re, err = regexp.Compile(expr); err != nil {
			return fmt.Errorf("invalid dump_tokens regex '%s': %w", expr, err)
		}
	}
	return learn.DumpData(ctx, w, l.store, sc, l.params, re)
}

// Backup writes sa-learn --backup.
func (l *Local) Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	return l.store.Backup(ctx, sc, w)
}

func (l *Local) exclusive(ctx context.Context, fn func(context.Context) error) error {
	if l.writer == nil {
		return classifier.ErrReadOnly
	}
	return l.writer.Exclusive(ctx, fn)
}

// Restore replaces the scope with a backup.
func (l *Local) Restore(ctx context.Context, sc classifier.Scope, r io.Reader) error {
	return l.exclusive(ctx, func(ctx context.Context) error {
		_, err := l.store.Restore(ctx, sc, r)
		return err
	})
}

// Clear empties the scope.
func (l *Local) Clear(ctx context.Context, sc classifier.Scope) error {
	return l.exclusive(ctx, func(ctx context.Context) error { return l.store.Clear(ctx, sc) })
}

// Expire forces a token expiry run.
func (l *Local) Expire(ctx context.Context, sc classifier.Scope) error {
	return l.exclusive(ctx, func(ctx context.Context) error {
		_, err := l.store.Expire(ctx, sc, classifier.ExpireOptions{Force: true, Now: time.Now()})
		return err
	})
}

// Close stops the writer after what it has queued and closes the store.
func (l *Local) Close() error {
	var err error
	if l.writer != nil {
		err = l.writer.Close()
	}
	return errors.Join(err, l.store.Close())
}
