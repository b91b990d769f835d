package learn

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// Prepare turns a raw message into the store operation that learns it:
// markup of an earlier scan stripped, parsed, tokenized into distinct
// keys, with its seen-index ids and receive time. Scope, Class, Forget and
// NoRelearn are left for the caller to set.
func Prepare(raw []byte, opt tokenizer.TokenOptions, now time.Time) classifier.Op {
	m := tokenizer.Parse(StripMarkup(raw))
	return PrepareMessage(m, opt, now)
}

// PrepareMessage is Prepare for a message already parsed (and stripped).
func PrepareMessage(m *tokenizer.Message, opt tokenizer.TokenOptions, now time.Time) classifier.Op {
	return classifier.Op{
		MsgID:    MessageID(m),
		AltMsgID: AltMessageID(m),
		Tokens:   tokenizer.TokenKeys(m, opt),
		Atime:    m.ReceiveTime(now).Unix(),
	}
}

// A Source yields raw messages: fn is called once per message, in order,
// and an error from fn stops the source and is returned.
type Source func(ctx context.Context, fn func(path string, raw []byte) error) error

// A Request says what a bulk run does with every message of its sources.
type Request struct {
	Scope  classifier.Scope
	Class  classifier.Class // for learns
	Forget bool
	// NoRelearn leaves messages learned as the other class alone.
	NoRelearn bool
}

// Stats count a bulk run's messages the way sa-learn reports them.
type Stats struct {
	Examined int // messages read
	Changed  int // messages learned, relearned or forgotten
}

// A Submitter takes learns and delivers their outcomes once committed:
// the Writer in the process that owns the store, or the admin client of
// a running daemon that owns it.
type Submitter interface {
	Submit(ctx context.Context, op classifier.Op) (<-chan Outcome, error)
}

// A BatchSubmitter also takes many learns at once, committed together
// (the Writer, and admin.Local over one); their outcomes arrive in order
// on the channel, one per op.
type BatchSubmitter interface {
	Submitter
	SubmitBatch(ctx context.Context, ops []classifier.Op) (<-chan Outcome, error)
}

// A Learner learns or forgets many messages through a Submitter, parsing
// and tokenizing on several goroutines while the writer commits.
//
// # Batches
//
// When the Submitter is a BatchSubmitter, the learns are committed in
// groups of up to BatchSize messages, one synced commit each: the next
// group is parsed while the last one is written, and a token shared by
// the messages of a group is read and written once. A group is also sent
// when the source pauses (no message for BatchIdle while none it has
// read waits to be parsed), so a slow source is not held back; a
// message slow to parse does not count as a pause, since the messages
// read after it are certain to follow (sending the group at hand then
// made many small groups, each rewriting the tokens they share). Once the source has yielded its last message, the
// group at hand is also sent whenever the writer has nothing left to
// commit: the writer works through the last messages while the final
// few are parsed, instead of taking them all in one commit at the end,
// alone. Otherwise each message is submitted alone and the
// writer's group commit does what it can.
type Learner struct {
	Writer       Submitter
	TokenOptions tokenizer.TokenOptions
	// Workers parse and tokenize in parallel (default GOMAXPROCS).
	Workers int
	// BatchSize bounds the messages of one group (default 256; 1 submits
	// every message alone).
	BatchSize int
	// BatchIdle is how long a partial group waits for the next message
	// (default 20 ms).
	BatchIdle time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Progress, if set, is called once per message whose outcome is known.
	Progress func(o Outcome)
}

// Run learns (or forgets) every message of src as req says and returns
// once every learn is committed. A store error stops the run; messages
// acknowledged before it stay learned.
func (l *Learner) Run(ctx context.Context, src Source, req Request) (Stats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := l.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}

	// The source reads ahead of the parsers by up to 64 messages, so
	// that it is done (and the last groups go early, see Batches) while
	// there are still messages to parse.
	raws := make(chan seqRaw, max(4*workers, 64))
	batcher, _ := l.Writer.(BatchSubmitter)
	batchSize := l.BatchSize
	if batchSize <= 0 {
		batchSize = 256
	}
	if batchSize == 1 {
		batcher = nil
	}
	prepared := make(chan seqOp, 4*workers)
	pending := make(chan submitted, 4096)
	if batcher != nil {
		// One group committing and one or two waiting keep the writer
		// busy; more would only hold parsed messages in memory.
		pending = make(chan submitted, 2)
	}
	var stats Stats
	var srcErr error
	var wg sync.WaitGroup
	// srcDone is set once the source has returned; inflight counts the
	// groups submitted whose outcomes have not all arrived.
	var srcDone atomic.Bool
	var inflight atomic.Int32

	go func() {
		defer close(raws)
		defer srcDone.Store(true)
		seq := 0
		srcErr = src(ctx, func(_ string, raw []byte) error {
			select {
			case raws <- seqRaw{seq, raw}:
				seq++
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range raws {
				op := Prepare(r.raw, l.TokenOptions, now())
				op.Scope, op.Class, op.Forget, op.NoRelearn = req.Scope, req.Class, req.Forget, req.NoRelearn
				if batcher != nil {
					prepared <- seqOp{r.seq, op}
					continue
				}
				ch, err := l.Writer.Submit(ctx, op)
				if err != nil {
					cancel(err)
					continue
				}
				pending <- submitted{ch, 1}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(prepared)
	}()
	if batcher != nil {
		idle := l.BatchIdle
		if idle <= 0 {
			idle = 20 * time.Millisecond
		}
		go func() {
			defer close(pending)
			writerIdle := func() bool { return srcDone.Load() && inflight.Load() == 0 }
			sourceAhead := func() bool { return len(raws) > 0 }
			groupOps(ctx, inOrder(prepared, 4*workers), batchSize, idle, writerIdle, sourceAhead, func(ops []classifier.Op) {
				ch, err := batcher.SubmitBatch(ctx, ops)
				if err != nil {
					cancel(err)
					return
				}
				inflight.Add(1)
				pending <- submitted{ch, len(ops)}
			})
		}()
	} else {
		go func() {
			for range prepared {
			}
			close(pending)
		}()
	}

	var firstErr error
	for sub := range pending {
		for range sub.n {
			o := <-sub.ch
			stats.Examined++
			if o.Err != nil {
				if firstErr == nil {
					firstErr = o.Err
					cancel(o.Err)
				}
				continue
			}
			switch o.Result {
			case classifier.Learned, classifier.Relearned, classifier.Forgotten:
				stats.Changed++
			}
			if l.Progress != nil {
				l.Progress(o)
			}
		}
		if batcher != nil {
			inflight.Add(-1)
		}
	}
	if firstErr != nil {
		return stats, firstErr
	}
	if srcErr != nil && !errors.Is(srcErr, context.Canceled) {
		return stats, fmt.Errorf("read messages: %w", srcErr)
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return stats, err
	}
	return stats, ctx.Err()
}

// seqRaw and seqOp are a message and its op with the message's place
// in the source.
type (
	seqRaw struct {
		seq int
		raw []byte
	}
	seqOp struct {
		seq int
		op  classifier.Op
	}
)

// inOrder passes on the ops of in in the order of their places in the
// source, holding those that come early, and closes the channel it
// returns after in is closed. The parsers finish in any order; the
// groups are committed in the source's, as sa-learn learns files in
// order: of two messages with one Message-ID the first is learned, and
// the same learn gives the same store every time.
func inOrder(in <-chan seqOp, buf int) <-chan classifier.Op {
	out := make(chan classifier.Op, buf)
	go func() {
		defer close(out)
		held := map[int]classifier.Op{}
		next := 0
		for so := range in {
			held[so.seq] = so.op
			for {
				op, ok := held[next]
				if !ok {
					break
				}
				delete(held, next)
				next++
				out <- op
			}
		}
	}()
	return out
}

// submitted is a channel that n outcomes will arrive on.
type submitted struct {
	ch <-chan Outcome
	n  int
}

// groupOps reads in until it is closed and calls submit with groups of
// up to size ops: a group is sent when full, when no op has come for
// idle unless ahead() reports true (more ops are sure to come), when an
// op makes it minEarly or more while early() reports true, and at the
// end. Each call gets a new slice.
func groupOps(ctx context.Context, in <-chan classifier.Op, size int, idle time.Duration, early, ahead func() bool, submit func([]classifier.Op)) {
	minEarly := max(size/32, 1)
	group := make([]classifier.Op, 0, size)
	send := func() {
		if len(group) == 0 {
			return
		}
		if ctx.Err() == nil {
			submit(group)
		}
		group = make([]classifier.Op, 0, size)
	}
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for {
		select {
		case op, ok := <-in:
			if !ok {
				send()
				return
			}
			group = append(group, op)
			if len(group) >= size || (len(group) >= minEarly && early()) {
				send()
			}
			timer.Reset(idle)
		case <-timer.C:
			if len(group) > 0 && ahead() {
				timer.Reset(idle)
				continue
			}
			send()
		}
	}
}
