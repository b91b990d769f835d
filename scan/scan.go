package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/gospamd/gospamd/internal/workslot"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// A Request is one message to scan.
type Request struct {
	// User is the user the message is scanned for (spamc -u, the
	// recipient's local part at SMTP time); "" is the site's policy.
	User string
	// Message is the raw message. The service does not modify it; the
	// Result refers to it.
	Message []byte
	// Envelope is what the SMTP transaction said about the message; zero
	// over spamd, where the MTA has already written it into the headers.
	Envelope Envelope
}

// A Result is one scanned message: what the rules found, the verdict, and
// the markup of the user it was scanned for.
//
// A Result is read-only once returned and safe to render from several
// goroutines.
type Result struct {
	// Rules is what the engine found: score, threshold, hits, Bayes,
	// autolearn status. For an unscanned message the score is 0 and
	// there are no hits.
	Rules *rules.Result
	// Verdict applies the user's tag and reject levels to the score.
	Verdict rules.Verdict
	// Levels are the user's tag and reject levels.
	Levels Levels
	// Unscanned is set for a message over the size limit, returned
	// without a scan (as spamd answers: ham, score 0, unchanged).
	Unscanned bool
	// Message is the message as scanned: the request's bytes, with the
	// envelope's Return-Path and Received lines in front when an
	// envelope was given.
	Message []byte
	// Elapsed is the time the scan took.
	Elapsed time.Duration

	parsed *tokenizer.Message
	markup rules.Markup
}

// IsSpam reports whether the score reaches the tag level (what spamd
// calls spam; the verdict may also say reject).
func (r *Result) IsSpam() bool { return r.Rules.IsSpam() }

// Report is the report text (spamd's REPORT body, X-Spam-Report).
func (r *Result) Report() string {
	if r.Unscanned {
		return ""
	}
	return r.markup.Report(r.Rules, r.parsed)
}

// Rewritten is the message marked up as the user's policy asks: the
// X-Spam-* headers, rewrite_header, and for spam report_safe's wrapping.
// An unscanned message comes back unchanged.
func (r *Result) Rewritten() []byte {
	if r.Unscanned {
		return r.Message
	}
	return r.markup.Rewrite(r.Message, r.Rules, r.parsed)
}

// Headers are the X-Spam-* header fields the markup adds.
func (r *Result) Headers() []rules.HeaderField {
	if r.Unscanned {
		return nil
	}
	return r.markup.Headers(r.Rules, r.parsed)
}

// Scan runs the path of one message (see the package comment). It honours
// ctx: past its deadline (or the policy's time_limit) the rules not yet
// run are skipped and the result carries TIME_LIMIT_EXCEEDED. An error is
// returned for a bad user name (ErrBadUser) or a failing store.
func (s *Service) Scan(ctx context.Context, req *Request) (*Result, error) {
	hold, err := s.cores.enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan: waiting for a core: %w", err)
	}
	if hold != nil {
		defer hold.Release()
		ctx = workslot.Nest(context.WithValue(ctx, coreHoldKey{}, hold), hold)
	}
	start := s.cfg.Now()
	s.cfg.Metrics.ScanStarted()
	res, err := s.scan(ctx, req)
	elapsed := s.cfg.Now().Sub(start)
	if err != nil {
		s.cfg.Metrics.ScanDone("error", elapsed)
		if s.cfg.OnScan != nil {
			s.cfg.OnScan(recordOf(req, start, elapsed, nil, "error"))
		}
		return nil, err
	}
	res.Elapsed = elapsed
	outcome := res.Verdict.String()
	if res.Unscanned {
		outcome = "unscanned"
	}
	s.cfg.Metrics.ScanDone(outcome, elapsed)
	if s.cfg.OnScan != nil {
		s.cfg.OnScan(recordOf(req, start, elapsed, res, outcome))
	}
	return res, nil
}

func (s *Service) scan(ctx context.Context, req *Request) (*Result, error) {
	sc, _, err := s.scopeFor(ctx, req.User)
	if err != nil {
		return nil, err
	}
	pol := s.policy.Load()
	engine := s.engineFor(ctx, pol, req.User)
	raw := req.Message
	if !req.Envelope.IsZero() {
		raw = req.Envelope.Prepend(raw, s.cfg.Hostname, s.cfg.Now())
	}
	levels := Levels{Tag: engine.RequiredScore(), Reject: engine.RejectScore()}
	if pol.maxSize > 0 && int64(len(raw)) > pol.maxSize {
		return &Result{Rules: &rules.Result{Required: levels.Tag}, Verdict: rules.VerdictHam,
			Levels: levels, Unscanned: true, Message: raw}, nil
	}
	m := tokenizer.Parse(raw)
	found, err := engine.Check(ctx, m, rules.CheckOptions{Scope: sc, SeenIDs: s.seenIDs(engine, m)})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	s.noteTimeLimit(req.User, found)
	s.autolearn(ctx, engine, pol, m, found, sc)
	return &Result{
		Rules:   found,
		Verdict: found.Verdict(levels.Reject),
		Levels:  levels,
		Message: raw,
		parsed:  m,
		markup:  rules.MarkupFor(engine.Policy(), s.cfg.Hostname),
	}, nil
}
