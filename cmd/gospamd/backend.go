package main

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
	"github.com/gospamd/gospamd/learn/admin"
)

// bayesAdmin is what gospamd learn does to a Bayes store: directly when
// it can open the store, through the daemon's admin socket when a running
// daemon owns it.
type bayesAdmin interface {
	learn.Submitter
	DumpMagic(ctx context.Context, sc classifier.Scope, w io.Writer) error
	DumpData(ctx context.Context, sc classifier.Scope, re string, w io.Writer) error
	Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error
	Restore(ctx context.Context, sc classifier.Scope, r io.Reader) error
	Clear(ctx context.Context, sc classifier.Scope) error
	Expire(ctx context.Context, sc classifier.Scope) error
	Close() error
}

// openAdmin opens the store in dbpath, or, when a daemon holds it,
// connects to that daemon.
func openAdmin(ctx context.Context, dbpath string, log *slog.Logger, readOnly bool) (bayesAdmin, error) {
	store, err := openStore(dbpath, log, readOnly)
	if err == nil {
		l := &localAdmin{store: store, params: classifier.DefaultParams()}
		if !readOnly {
			l.writer = learn.NewWriter(store, learn.WriterOptions{Logger: log})
		}
		return l, nil
	}
	if !errors.Is(err, classifier.ErrLocked) {
		return nil, err
	}
	c, derr := admin.Dial(ctx, admin.SocketPath(dbpath))
	if derr != nil {
		log.Debug("no daemon on the admin socket", "err", derr)
		return nil, err
	}
	log.Debug("the daemon owns the store: working through its admin socket")
	return c, nil
}

// localAdmin works on a store this process opened.
type localAdmin struct {
	store  *classifier.Store
	writer *learn.Writer // nil when read-only
	params classifier.Params
}

func (l *localAdmin) Submit(ctx context.Context, op classifier.Op) (<-chan learn.Outcome, error) {
	if l.writer == nil {
		return nil, classifier.ErrReadOnly
	}
	return l.writer.Submit(ctx, op)
}

func (l *localAdmin) DumpMagic(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	return learn.DumpMagic(ctx, w, l.store, sc)
}

func (l *localAdmin) DumpData(ctx context.Context, sc classifier.Scope, expr string, w io.Writer) error {
	var re *regexp.Regexp
	if expr != "" {
		var err error
		if re, err = regexp.Compile(expr); err != nil {
			return fmt.Errorf("invalid dump_tokens regex '%s': %w", expr, err)
		}
	}
	return learn.DumpData(ctx, w, l.store, sc, l.params, re)
}

func (l *localAdmin) Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	return l.store.Backup(ctx, sc, w)
}

func (l *localAdmin) exclusive(ctx context.Context, fn func(context.Context) error) error {
	if l.writer == nil {
		return classifier.ErrReadOnly
	}
	return l.writer.Exclusive(ctx, fn)
}

func (l *localAdmin) Restore(ctx context.Context, sc classifier.Scope, r io.Reader) error {
	return l.exclusive(ctx, func(ctx context.Context) error {
		_, err := l.store.Restore(ctx, sc, r)
		return err
	})
}

func (l *localAdmin) Clear(ctx context.Context, sc classifier.Scope) error {
	return l.exclusive(ctx, func(ctx context.Context) error { return l.store.Clear(ctx, sc) })
}

func (l *localAdmin) Expire(ctx context.Context, sc classifier.Scope) error {
	return l.exclusive(ctx, func(ctx context.Context) error {
		_, err := l.store.Expire(ctx, sc, classifier.ExpireOptions{Force: true, Now: time.Now()})
		return err
	})
}

func (l *localAdmin) Close() error {
	var err error
	if l.writer != nil {
		err = l.writer.Close()
	}
	return errors.Join(err, l.store.Close())
}
