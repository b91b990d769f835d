package scan

import (
	"context"
	"fmt"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
)

// A TellAction is what a Tell does to the Bayes store.
type TellAction int

// The actions of Tell.
const (
	TellSpam   TellAction = iota + 1 // learn as spam (spamc -L spam)
	TellHam                          // learn as ham (spamc -L ham)
	TellForget                       // forget (spamc -L forget)
)

func (a TellAction) String() string {
	switch a {
	case TellSpam:
		return "spam"
	case TellHam:
		return "ham"
	case TellForget:
		return "forget"
	}
	return "unknown"
}

// A TellRequest is one message to learn or forget.
type TellRequest struct {
	User    string
	Message []byte
	Action  TellAction
}

// ErrTellDisabled is returned by Tell when the service has no writer.
var ErrTellDisabled = fmt.Errorf("learning is not available: no Bayes writer")

// Tell learns or forgets one message in the user's Bayes scope through
// the single writer, and returns once the change is committed. The
// markup of an earlier scan is stripped first. The result says what
// changed: learning a message already learned as that class, or
// forgetting one never learned, changes nothing (classifier.Result tells
// which).
func (s *Service) Tell(ctx context.Context, req *TellRequest) (classifier.Result, error) {
	var none classifier.Result
	if s.cfg.Writer == nil {
		return none, ErrTellDisabled
	}
	sc, own, err := s.scopeFor(ctx, req.User)
	if err != nil {
		return none, err
	}
	if s.cfg.PerUserBayes && req.User != "" && !own {
		return none, fmt.Errorf("%w: %s has no Bayes scope and may not get one", ErrBadUser, req.User)
	}
	op := learn.Prepare(req.Message, s.policy.Load().learnTokens, s.cfg.Now())
	op.Scope = sc
	switch req.Action {
	case TellSpam:
		op.Class = classifier.Spam
	case TellHam:
		op.Class = classifier.Ham
	case TellForget:
		op.Forget = true
	default:
		return none, fmt.Errorf("tell: unknown action %d", req.Action)
	}
	r, err := s.cfg.Writer.Learn(ctx, op)
	if err != nil {
		return none, fmt.Errorf("tell %s: %w", req.Action, err)
	}
	return r, nil
}

// Changed reports whether a Tell's result changed the store.
func Changed(a TellAction, r classifier.Result) bool {
	if a == TellForget {
		return r == classifier.Forgotten
	}
	return r == classifier.Learned || r == classifier.Relearned
}
