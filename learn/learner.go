package learn

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
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

// A Learner learns or forgets many messages through a Submitter, parsing
// and tokenizing on several goroutines while the writer commits.
type Learner struct {
	Writer       Submitter
	TokenOptions tokenizer.TokenOptions
	// Workers parse and tokenize in parallel (default GOMAXPROCS).
	Workers int
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

	raws := make(chan []byte, 4*workers)
	pending := make(chan (<-chan Outcome), 4096)
	var stats Stats
	var srcErr error
	var wg sync.WaitGroup

	go func() {
		defer close(raws)
		srcErr = src(ctx, func(_ string, raw []byte) error {
			select {
			case raws <- raw:
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
			for raw := range raws {
				op := Prepare(raw, l.TokenOptions, now())
				op.Scope, op.Class, op.Forget, op.NoRelearn = req.Scope, req.Class, req.Forget, req.NoRelearn
				ch, err := l.Writer.Submit(ctx, op)
				if err != nil {
					cancel(err)
					continue
				}
				pending <- ch
			}
		}()
	}
	go func() {
		wg.Wait()
		close(pending)
	}()

	var firstErr error
	for ch := range pending {
		o := <-ch
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
