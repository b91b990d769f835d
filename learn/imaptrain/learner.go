package imaptrain

import (
	"context"
	"fmt"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/tokenizer"
)

// SubmitLearner is a Learner over a learn.Submitter: the single writer
// (learn.Writer) of the process that owns the store, or admin.Bayes,
// which reaches a running daemon's writer through its admin socket. It
// prepares each message as `gospamd learn` does (markup stripped,
// tokenized with TokenOptions) in the user's scope when PerUser
// (bayes_scope user), and waits for the commit.
type SubmitLearner struct {
	Submitter    learn.Submitter
	TokenOptions tokenizer.TokenOptions
	PerUser      bool
	// Now is the clock for messages without a usable date (default
	// time.Now).
	Now func() time.Time
}

// Learn implements Learner.
func (s *SubmitLearner) Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error) {
	sc, err := learn.ScopeFor(user, s.PerUser)
	if err != nil {
		return 0, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	op := learn.Prepare(raw, s.TokenOptions, now())
	op.Scope, op.Class = sc, class
	ch, err := s.Submitter.Submit(ctx, op)
	if err != nil {
		return 0, fmt.Errorf("learn as %s: %w", class, err)
	}
	select {
	case o := <-ch:
		if o.Err != nil {
			return 0, fmt.Errorf("learn as %s: %w", class, o.Err)
		}
		return o.Result, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for learn: %w", ctx.Err())
	}
}
