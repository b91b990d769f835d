package spamdproto

import (
	"context"
	"errors"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/scan"
)

// Backend is the spamd front end of a scan.Service: it translates the
// server's requests into calls of the service and the service's answers
// back. It is a Scanner, a RequiredScorer and a Teller (pass it as the
// Teller only when TELL is allowed).
type Backend struct {
	Service *scan.Service
}

// Scan scans one message with the service.
func (b Backend) Scan(ctx context.Context, req *ScanRequest) (ScanResult, error) {
	res, err := b.Service.Scan(ctx, &scan.Request{User: req.User, Message: req.Message})
	if err != nil {
		return nil, serviceError(err)
	}
	return scanResult{res}, nil
}

// RequiredScore is the user's tag level, for messages too big to scan.
func (b Backend) RequiredScore(user string) float64 {
	lv, err := b.Service.LevelsFor(user)
	if err != nil {
		return DefaultRequiredScore
	}
	return lv.Tag
}

// Tell learns or forgets through the service's single writer. Remote
// reporting (Razor, Pyzor, DCC) is not available: as spamd does when no
// reporting plugin is loaded, the local part is done and only it is
// reported in DidSet/DidRemove (spamc then says it could not report
// remotely, and exits 0).
func (b Backend) Tell(ctx context.Context, req *TellRequest) (TellResult, error) {
	var out TellResult
	var action scan.TellAction
	switch {
	case req.Set.Local && req.Class == ClassSpam:
		action = scan.TellSpam
	case req.Set.Local:
		action = scan.TellHam
	case req.Remove.Local:
		action = scan.TellForget
	default:
		return out, nil
	}
	r, err := b.Service.Tell(ctx, &scan.TellRequest{User: req.User, Message: req.Message, Action: action})
	if err != nil {
		return out, serviceError(err)
	}
	changed := scan.Changed(action, r)
	if action == scan.TellForget {
		out.DidRemove.Local = changed
	} else {
		out.DidSet.Local = changed
	}
	return out, nil
}

// serviceError gives the service's errors their spamd codes: a Bayes
// store that cannot be reached (a Redis server down) is EX_TEMPFAIL,
// which tells the client (spamc -L exits 75, an MTA's learn hook) to
// try again later.
func serviceError(err error) error {
	switch {
	case errors.Is(err, scan.ErrBadUser):
		return &Error{Code: EX_NOUSER, Msg: "bad user name", Err: err}
	case errors.Is(err, classifier.ErrUnavailable):
		return &Error{Code: EX_TEMPFAIL, Msg: "Bayes store unavailable, try again later", Err: err}
	}
	return err
}

// scanResult is a scan.Result as the server renders it.
type scanResult struct{ r *scan.Result }

func (s scanResult) Score() float64     { return s.r.Rules.Score }
func (s scanResult) Threshold() float64 { return s.r.Levels.Tag }
func (s scanResult) IsSpam() bool       { return s.r.IsSpam() }
func (s scanResult) Symbols() []string  { return s.r.Rules.Rules() }
func (s scanResult) Report() string     { return s.r.Report() }
func (s scanResult) Rewritten() []byte  { return s.r.Rewritten() }
