package learn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gospamd/gospamd/classifier"
)

// Store is the write side of the token store that a Writer owns.
type Store interface {
	Apply(ctx context.Context, ops []classifier.Op) ([]classifier.Result, error)
}

// WriterMetrics receives one observation per committed batch. Wire a
// Prometheus implementation in the daemon; the zero Writer uses none.
type WriterMetrics interface {
	ObserveBatch(ops int, results []classifier.Result, d time.Duration, err error)
}

// WriterOptions configure a Writer.
type WriterOptions struct {
	// MaxBatch bounds the learns committed together (default 512); a
	// group from SubmitBatch is committed whole even when larger.
	MaxBatch int
	// QueueLength bounds the learns waiting for the writer (default 4096);
	// Submit blocks while the queue is full.
	QueueLength int
	Logger      *slog.Logger
	Metrics     WriterMetrics
}

// ErrWriterClosed is returned for work submitted after Close.
var ErrWriterClosed = errors.New("learn writer is closed")

// A Writer is the single writer of a token store.
//
// # Batching
//
// One goroutine takes queued learns, as many as are waiting (up to
// MaxBatch), and applies them to the store in one synced commit. Nothing
// waits to fill a batch: a lone learn is committed at once, and under load
// batches grow by themselves (group commit). A bulk learner that has many
// messages at hand submits them as one group (SubmitBatch), which is
// always committed together: larger batches write a token shared by their
// messages once instead of once per commit.
//
// # Acknowledgement
//
// A learn's outcome is delivered only after its batch is committed, so an
// acknowledged learn survives a crash and an unacknowledged one may or may
// not have been applied (it never is applied twice: the seen index makes
// a repeat a no-op).
//
// # Exclusive work
//
// Operations that rewrite a store wholesale (restore, clear, expire) run
// through Exclusive, on the writer goroutine, between batches.
//
// A Writer is safe for concurrent use.
type Writer struct {
	store    Store
	maxBatch int
	log      *slog.Logger
	metrics  WriterMetrics

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *job
	done   chan struct{}
}

// An Outcome is what became of one submitted learn.
type Outcome struct {
	Result classifier.Result
	Err    error
}

type job struct {
	ctx    context.Context
	ops    []classifier.Op             // learns, committed together
	fn     func(context.Context) error // exclusive work, when non-nil
	result chan Outcome                // buffered: one Outcome per op (one for fn)
}

// NewWriter starts the writer goroutine for store. Close stops it.
func NewWriter(store Store, opt WriterOptions) *Writer {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 512
	}
	if opt.QueueLength <= 0 {
		opt.QueueLength = 4096
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		store:    store,
		maxBatch: opt.MaxBatch,
		log:      opt.Logger,
		metrics:  opt.Metrics,
		queue:    make(chan *job, opt.QueueLength),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// Submit queues op and returns the channel its Outcome will arrive on.
// It blocks while the queue is full, until ctx is done.
func (w *Writer) Submit(ctx context.Context, op classifier.Op) (<-chan Outcome, error) {
	return w.SubmitBatch(ctx, []classifier.Op{op})
}

// SubmitBatch queues ops to be committed together, in one batch, and
// returns the channel their Outcomes will arrive on, one per op in the
// order of ops, all at once after the commit. The writer keeps ops until
// then: the caller must not change them. It blocks while the queue is
// full, until ctx is done.
func (w *Writer) SubmitBatch(ctx context.Context, ops []classifier.Op) (<-chan Outcome, error) {
	if len(ops) == 0 {
		return nil, errors.New("learn writer: empty batch")
	}
	j := &job{ctx: ctx, ops: ops, result: make(chan Outcome, len(ops))}
	if err := w.enqueue(ctx, j); err != nil {
		return nil, err
	}
	return j.result, nil
}

// Learn applies op and returns once it is committed.
func (w *Writer) Learn(ctx context.Context, op classifier.Op) (classifier.Result, error) {
	ch, err := w.Submit(ctx, op)
	if err != nil {
		return 0, err
	}
	select {
	case o := <-ch:
		return o.Result, o.Err
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for learn: %w", ctx.Err())
	}
}

// Exclusive runs fn on the writer goroutine, with no batch in progress,
// and returns its error.
func (w *Writer) Exclusive(ctx context.Context, fn func(context.Context) error) error {
	j := &job{ctx: ctx, fn: fn, result: make(chan Outcome, 1)}
	if err := w.enqueue(ctx, j); err != nil {
		return err
	}
	select {
	case o := <-j.result:
		return o.Err
	case <-ctx.Done():
		return fmt.Errorf("wait for store operation: %w", ctx.Err())
	}
}

func (w *Writer) enqueue(ctx context.Context, j *job) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrWriterClosed
	}
	select {
	case w.queue <- j:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queue learn: %w", ctx.Err())
	}
}

// Close stops accepting work, lets the writer finish what is queued, and
// returns when it has.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

func (w *Writer) run() {
	defer close(w.done)
	var carry *job
	batch := make([]*job, 0, w.maxBatch)
	for {
		j := carry
		carry = nil
		if j == nil {
			var ok bool
			if j, ok = <-w.queue; !ok {
				return
			}
		}
		if j.fn != nil {
			w.runExclusive(j)
			continue
		}
		batch = append(batch[:0], j)
		ops := len(j.ops)
	fill:
		for ops < w.maxBatch {
			select {
			case next, ok := <-w.queue:
				if !ok {
					break fill
				}
				if next.fn != nil {
					carry = next
					break fill
				}
				batch = append(batch, next)
				ops += len(next.ops)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

func (w *Writer) runExclusive(j *job) {
	if err := j.ctx.Err(); err != nil {
		j.result <- Outcome{Err: fmt.Errorf("store operation: %w", err)}
		return
	}
	err := w.safely(func() error { return j.fn(j.ctx) })
	j.result <- Outcome{Err: err}
}

// commit applies the live jobs of batch in one store commit and delivers
// their outcomes.
func (w *Writer) commit(batch []*job) {
	live := batch[:0:0]
	var ops []classifier.Op
	if len(batch) == 1 {
		ops = batch[0].ops // a bulk learner's group: no copy
	}
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			for range j.ops {
				j.result <- Outcome{Err: fmt.Errorf("learn: %w", err)}
			}
			continue
		}
		live = append(live, j)
		if len(batch) > 1 {
			ops = append(ops, j.ops...)
		}
	}
	if len(live) == 0 {
		return
	}
	start := time.Now()
	var results []classifier.Result
	err := w.safely(func() error {
		var err error
		// The batch is applied on the writer's behalf, not any one
		// caller's: a caller giving up must not abort the others' learns.
		results, err = w.store.Apply(context.Background(), ops)
		if err == nil && len(results) != len(ops) {
			err = fmt.Errorf("store returned %d results for %d learns", len(results), len(ops))
		}
		return err
	})
	d := time.Since(start)
	if w.metrics != nil {
		w.metrics.ObserveBatch(len(ops), results, d, err)
	}
	if err != nil {
		err = fmt.Errorf("commit learn batch of %d: %w", len(ops), err)
		w.log.Error("learn batch failed", slog.Int("ops", len(ops)), slog.Any("err", err))
	} else {
		w.log.Debug("learn batch committed", slog.Int("ops", len(ops)), slog.Duration("took", d))
	}
	i := 0
	for _, j := range live {
		for range j.ops {
			if err != nil {
				j.result <- Outcome{Err: err}
			} else {
				j.result <- Outcome{Result: results[i]}
			}
			i++
		}
	}
}

// safely runs fn, turning a panic into an error so that one bad learn
// cannot kill the writer and strand every later caller.
func (w *Writer) safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("learn writer: panic: %v", r)
			w.log.Error("learn writer recovered from panic", slog.Any("panic", r))
		}
	}()
	return fn()
}
