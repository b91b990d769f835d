package corpus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// A MassCheck scores every message of a labelled corpus with the scan
// engine, either against one trained store or by k-fold cross-validation
// with a fresh store per fold.
type MassCheck struct {
	Ham, Spam []string // corpus paths (files, directories, Maildirs, mboxes)
	Walk      WalkOptions
	// Folds > 1 runs cross-validation: the messages are split into Folds
	// stratified parts; each part is scored by a store trained on all
	// the others.
	Folds int
	// Seed fixes the fold split.
	Seed int64
	// TempDir holds the per-fold stores (default os.TempDir()).
	TempDir string
	// Engine builds the scan engine over a Bayes store.
	Engine func(bayes rules.BayesReader) (*rules.Engine, error)
	// TokenOptions must match the engine's, for training the folds.
	TokenOptions tokenizer.TokenOptions
	Workers      int
	Logger       *slog.Logger
	// Progress, if set, is called as messages are loaded and scored.
	Progress func(stage string, done, total int)
	// Now is the clock used for receive times (default time.Now).
	Now func() time.Time
}

type corpusMessage struct {
	path  string
	label Label
	msg   *tokenizer.Message
}

// Run scores the corpus. With Folds <= 1 it scans with store, which must
// already be trained (or be nil for no Bayes).
func (mc *MassCheck) Run(ctx context.Context, store rules.BayesReader) ([]Scored, error) {
	msgs, err := mc.load(ctx)
	if err != nil {
		return nil, err
	}
	if mc.Folds <= 1 {
		var bayes rules.BayesReader
		if store != nil {
			bayes = store
		}
		out := make([]Scored, len(msgs))
		idx := make([]int, len(msgs))
		for i := range idx {
			idx[i] = i
		}
		if err := mc.score(ctx, mc.Engine, bayes, msgs, idx, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return mc.crossValidate(ctx, msgs)
}

func (mc *MassCheck) workers() int {
	if mc.Workers > 0 {
		return mc.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (mc *MassCheck) progress(stage string, done, total int) {
	if mc.Progress != nil {
		mc.Progress(stage, done, total)
	}
}

// load reads and parses every message once.
func (mc *MassCheck) load(ctx context.Context) ([]corpusMessage, error) {
	type raw struct {
		i    int
		item Item
	}
	var items []corpusMessage
	var raws []raw
	for _, set := range []struct {
		label Label
		paths []string
	}{{Ham, mc.Ham}, {Spam, mc.Spam}} {
		for _, p := range set.paths {
			err := Walk(ctx, p, mc.Walk, func(it Item) error {
				raws = append(raws, raw{len(items), it})
				items = append(items, corpusMessage{path: it.Path, label: set.label})
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read %s corpus: %w", set.label, err)
			}
		}
	}
	if len(items) == 0 {
		return nil, errors.New("mass-check: the corpus has no messages")
	}
	var wg sync.WaitGroup
	next := make(chan raw)
	var mu sync.Mutex
	done := 0
	for range mc.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				items[r.i].msg = tokenizer.Parse(r.item.Data)
				mu.Lock()
				done++
				mc.progress("parse", done, len(items))
				mu.Unlock()
			}
		}()
	}
	for _, r := range raws {
		next <- r
	}
	close(next)
	wg.Wait()
	return items, nil
}

// score scans msgs[idx...] with an engine build makes over bayes,
// writing out[i].
func (mc *MassCheck) score(ctx context.Context, build func(rules.BayesReader) (*rules.Engine, error), bayes rules.BayesReader, msgs []corpusMessage, idx []int, out []Scored) error {
	eng, err := build(bayes)
	if err != nil {
		return fmt.Errorf("build scan engine: %w", err)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	done := 0
	for range mc.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m := msgs[i]
				res, err := eng.Check(ctx, m.msg, rules.CheckOptions{})
				if err != nil {
					select {
					case errs <- fmt.Errorf("scan %s: %w", m.path, err):
					default:
					}
					cancel()
					continue
				}
				out[i] = Scored{Label: m.label, Score: res.Score, Bayes: res.Bayes, HasBayes: res.BayesRan, Path: m.path, Tests: res.Rules()}
				mu.Lock()
				done++
				mc.progress("scan", done, len(idx))
				mu.Unlock()
			}
		}()
	}
feed:
	for _, i := range idx {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

func (mc *MassCheck) crossValidate(ctx context.Context, msgs []corpusMessage) ([]Scored, error) {
	labels := make([]Label, len(msgs))
	for i, m := range msgs {
		labels[i] = m.label
	}
	folds := StratifiedFolds(labels, mc.Folds, mc.Seed)
	ops := mc.prepare(msgs)
	out := make([]Scored, len(msgs))
	inFold := make([]int, len(msgs))
	for f, fold := range folds {
		for _, i := range fold {
			inFold[i] = f
		}
	}
	for f, fold := range folds {
		var train []int
		for i := range msgs {
			if inFold[i] != f {
				train = append(train, i)
			}
		}
		err := mc.withStore(ctx, fmt.Sprintf("fold %d", f+1), ops, train, func(store *classifier.Store) error {
			return mc.score(ctx, mc.Engine, store, msgs, fold, out)
		})
		if err != nil {
			return nil, fmt.Errorf("fold %d of %d: %w", f+1, len(folds), err)
		}
	}
	return out, nil
}

// prepare turns every message into its learn operation, once.
func (mc *MassCheck) prepare(msgs []corpusMessage) []classifier.Op {
	now := time.Now
	if mc.Now != nil {
		now = mc.Now
	}
	ops := make([]classifier.Op, len(msgs))
	for i, m := range msgs {
		ops[i] = learn.PrepareMessage(m.msg, mc.TokenOptions, now())
		ops[i].Class = classifier.Ham
		if m.label == Spam {
			ops[i].Class = classifier.Spam
		}
	}
	return ops
}

// withStore trains a fresh store in a temporary directory on ops[train...]
// and calls fn with it; the store is removed afterwards.
func (mc *MassCheck) withStore(ctx context.Context, name string, ops []classifier.Op, train []int, fn func(*classifier.Store) error) (err error) {
	dir, err := os.MkdirTemp(mc.TempDir, "gospamd-masscheck-")
	if err != nil {
		return fmt.Errorf("make store directory: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = fmt.Errorf("remove store: %w", rerr)
		}
	}()
	store, err := classifier.Open(filepath.Join(dir, "bayes"), classifier.Options{Logger: mc.Logger})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	w := learn.NewWriter(store, learn.WriterOptions{Logger: mc.Logger})
	pending := make([]<-chan learn.Outcome, 0, len(train))
	for _, i := range train {
		ch, err := w.Submit(ctx, ops[i])
		if err != nil {
			_ = w.Close()
			return fmt.Errorf("train %s: %w", name, err)
		}
		pending = append(pending, ch)
	}
	for _, ch := range pending {
		if o := <-ch; o.Err != nil {
			_ = w.Close()
			return fmt.Errorf("train %s: %w", name, o.Err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("train %s: %w", name, err)
	}
	mc.progress(name+" trained", len(pending), len(pending))
	return fn(store)
}
