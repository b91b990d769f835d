package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/spamdproto"
	"github.com/gospamd/gospamd/tokenizer"
)

// spamdScanner adapts the rules engine to the spamd server. The policy
// it scans with is swapped whole on reload; a scan uses the one it
// started with.
type spamdScanner struct {
	policy atomic.Pointer[scanPolicy]
	// prefsDir holds per-user preferences as DIR/<user>/user_prefs
	// (spamd's virtual config dir); "" disables them.
	prefsDir string
	log      *slog.Logger
	writer   *learn.Writer // for autolearn
	// seen answers whether a message is learned already, so that
	// autolearn skips tokenizing what the writer would refuse anyway
	// (nil: always ask the writer).
	seen interface {
		Seen(ctx context.Context, sc classifier.Scope, msgid string) (classifier.Class, bool, error)
	}
	perUser  bool // bayes_scope user
	inFlight interface {
		Inc()
		Dec()
	}
}

// scanPolicy is one loaded policy, ready to scan with.
type scanPolicy struct {
	engine      *rules.Engine
	markup      rules.Markup
	learnTokens tokenizer.TokenOptions // the scan's, in learn mode

	mu    sync.Mutex
	users map[string]userEngine // per-user engines built from this policy
}

// userEngine is a user's engine and the user_prefs it was built from.
type userEngine struct {
	engine  *rules.Engine
	modTime time.Time
	size    int64
}

// maxUserEngines bounds the per-user engines kept; past it they are
// rebuilt as needed.
const maxUserEngines = 1000

// engineFor returns the engine for user: the site's, or the one built
// with the user's user_prefs, rebuilt when the file changes. A user_prefs
// that cannot be read or applied is logged and the site engine used.
func (s *spamdScanner) engineFor(pol *scanPolicy, user string) *rules.Engine {
	if s.prefsDir == "" || user == "" {
		return pol.engine
	}
	path := filepath.Join(s.prefsDir, user, "user_prefs")
	fi, err := os.Stat(path)
	if err != nil {
		return pol.engine
	}
	pol.mu.Lock()
	defer pol.mu.Unlock()
	if ue, ok := pol.users[user]; ok && ue.modTime.Equal(fi.ModTime()) && ue.size == fi.Size() {
		return ue.engine
	}
	f, err := os.Open(path)
	if err != nil {
		s.log.Warn("cannot read user_prefs", "user", user, "err", err)
		return pol.engine
	}
	defer f.Close()
	eng, diags, err := pol.engine.ForUser(f, user)
	for _, d := range diags {
		s.log.Info("user_prefs", "user", user, "diagnostic", d.String())
	}
	if err != nil {
		s.log.Warn("user_prefs refused", "user", user, "err", err)
		return pol.engine
	}
	if pol.users == nil || len(pol.users) >= maxUserEngines {
		pol.users = map[string]userEngine{}
	}
	pol.users[user] = userEngine{engine: eng, modTime: fi.ModTime(), size: fi.Size()}
	return eng
}

// userScope maps a request's User to its Bayes scope, refusing names that
// could be path tricks.
func userScope(user string, perUser bool) (classifier.Scope, error) {
	if user == "" {
		return "", nil
	}
	if err := learn.ValidateUserName(user); err != nil {
		return "", &spamdproto.Error{Code: spamdproto.EX_NOUSER, Msg: "bad user name", Err: err}
	}
	sc, _ := learn.ScopeFor(user, perUser)
	return sc, nil
}

func (s *spamdScanner) Scan(ctx context.Context, req *spamdproto.ScanRequest) (spamdproto.ScanResult, error) {
	sc, err := userScope(req.User, s.perUser)
	if err != nil {
		return nil, err
	}
	if s.inFlight != nil {
		s.inFlight.Inc()
		defer s.inFlight.Dec()
	}
	pol := s.policy.Load()
	engine := s.engineFor(pol, req.User)
	m := tokenizer.Parse(req.Message)
	res, err := engine.Check(ctx, m, rules.CheckOptions{Scope: sc})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	s.autolearn(ctx, engine, pol, m, res, sc)
	return &scanResult{res: res, msg: m, raw: req.Message, markup: pol.markup}, nil
}

// RequiredScore is the threshold shown for messages too big to scan.
func (s *spamdScanner) RequiredScore(string) float64 { return s.policy.Load().engine.RequiredScore() }

type scanResult struct {
	res    *rules.Result
	msg    *tokenizer.Message
	raw    []byte
	markup rules.Markup
}

func (r *scanResult) Score() float64     { return r.res.Score }
func (r *scanResult) Threshold() float64 { return r.res.Required }
func (r *scanResult) IsSpam() bool       { return r.res.IsSpam() }
func (r *scanResult) Symbols() []string  { return r.res.Rules() }
func (r *scanResult) Report() string     { return r.markup.Report(r.res, r.msg) }
func (r *scanResult) Rewritten() []byte  { return r.markup.Rewrite(r.raw, r.res, r.msg) }

// spamdTeller learns and forgets for TELL through the single writer.
type spamdTeller struct {
	writer  *learn.Writer
	tokens  tokenizer.TokenOptions
	perUser bool
}

func (t *spamdTeller) Tell(ctx context.Context, req *spamdproto.TellRequest) (spamdproto.TellResult, error) {
	var out spamdproto.TellResult
	sc, err := userScope(req.User, t.perUser)
	if err != nil {
		return out, err
	}
	if req.Set.Remote || req.Remove.Remote {
		return out, &spamdproto.Error{Code: spamdproto.EX_UNAVAILABLE, Msg: "remote reporting is not available",
			Err: errors.New("TELL remote: no collaborative network is configured")}
	}
	op := learn.Prepare(req.Message, t.tokens, time.Now())
	op.Scope = sc
	switch {
	case req.Set.Local:
		op.Class = classifier.Ham
		if req.Class == spamdproto.ClassSpam {
			op.Class = classifier.Spam
		}
		r, err := t.writer.Learn(ctx, op)
		if err != nil {
			return out, fmt.Errorf("tell: learn: %w", err)
		}
		out.DidSet.Local = r == classifier.Learned || r == classifier.Relearned
	case req.Remove.Local:
		op.Forget = true
		r, err := t.writer.Learn(ctx, op)
		if err != nil {
			return out, fmt.Errorf("tell: forget: %w", err)
		}
		out.DidRemove.Local = r == classifier.Forgotten
	}
	return out, nil
}

// autolearn learns the message when the policy's autolearn thresholds
// say so, through the single writer and never flipping a manual
// classification, and records the outcome for the X-Spam-Status header.
func (s *spamdScanner) autolearn(ctx context.Context, engine *rules.Engine, pol *scanPolicy, m *tokenizer.Message, res *rules.Result, sc classifier.Scope) {
	class, ok, status := engine.AutolearnDecision(res)
	res.Autolearn = status
	if !ok || s.writer == nil {
		return
	}
	// Autolearn never relearns (SpamAssassin's no_relearn): a message
	// learned before, as either class, is "unavailable" without a learn.
	if s.seen != nil {
		for _, id := range []string{learn.MessageID(m), learn.AltMessageID(m)} {
			if id == "" {
				continue
			}
			if _, ok, err := s.seen.Seen(ctx, sc, id); err == nil && ok {
				res.Autolearn = rules.AutolearnUnavailable
				return
			}
		}
	}
	op := learn.PrepareMessage(m, pol.learnTokens, time.Now())
	op.Scope, op.Class, op.NoRelearn = sc, class, true
	r, err := s.writer.Learn(ctx, op)
	switch {
	case err != nil:
		res.Autolearn = rules.AutolearnFailed
	case r != classifier.Learned:
		res.Autolearn = rules.AutolearnUnavailable
	}
}
