package spamdproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/gospamd/gospamd/internal/workslot"
)

// tellDisabledMsg is spamd's answer to TELL without --allow-tell.
const tellDisabledMsg = "TELL commands are not enabled, set the --allow-tell switch."

// handle reads one request from c, runs it and answers.
func (s *Server) handle(ctx context.Context, c net.Conn, ex *exchange) {
	mem := &reservation{budget: s.budget}
	defer mem.release() // the message is not used once answered
	req, ok := s.readRequest(c, ex, mem)
	if !ok {
		return
	}
	switch {
	case req.Verb == VerbPing:
		ex.outcome = OutcomePong
		s.setWriteDeadline(c)
		ex.err = WritePong(ex.w)
	case req.Verb == VerbSkip:
		ex.outcome = OutcomeSkip
	case req.Verb == VerbTell:
		s.tell(ctx, c, req, ex)
	default:
		s.scan(ctx, c, req, ex)
	}
}

// readRequest reads the whole request from c, within ReadTimeout of the
// accept, charging its message to mem. On failure it answers and
// returns false.
func (s *Server) readRequest(c net.Conn, ex *exchange, mem *reservation) (*Request, bool) {
	// The clock starts at the accept (spamd's when a child accepts; here
	// every connection is accepted at once): a client has ReadTimeout to
	// send its request, whether or not a slot is free.
	if s.cfg.ReadTimeout > 0 {
		_ = c.SetReadDeadline(ex.start.Add(s.cfg.ReadTimeout))
	}
	r := s.getReader(c)
	defer s.putReader(r)
	req, err := ReadRequestHead(r, s.limits)
	if req != nil {
		ex.verb, ex.user = req.Verb, req.User
	}
	if err != nil {
		s.answerError(c, ex, s.readError(req, err))
		return nil, false
	}
	if req.Verb == VerbTell {
		if s.teller == nil {
			s.answerError(c, ex, unavailableError(tellDisabledMsg, errors.New("TELL received but no Teller is configured")))
			return nil, false
		}
		if err := req.CheckTell(); err != nil {
			s.answerError(c, ex, AsError(err))
			return nil, false
		}
	}
	err = req.readBody(r, s.limits, mem)
	ex.bytes = int64(len(req.Message))
	if err != nil {
		s.answerError(c, ex, s.readError(req, err))
		return nil, false
	}
	return req, true
}

// takeSlot waits up to QueueTimeout for a slot; when none comes free it
// answers EX_TEMPFAIL and returns false. Release a slot taken.
func (s *Server) takeSlot(ctx context.Context, c net.Conn, ex *exchange) bool {
	if s.acquire(ctx) {
		return true
	}
	s.answerError(c, ex, busyError(fmt.Errorf("no free slot of %d within %s", s.cfg.MaxConns, s.cfg.QueueTimeout)))
	return false
}

// readError maps a failure to read the request to its answer: a deadline
// becomes EX_TIMEOUT in spamd's words, everything else is already an
// *Error.
func (s *Server) readError(req *Request, err error) *Error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return AsError(err)
	}
	secs := strconv.FormatFloat(s.cfg.ReadTimeout.Seconds(), 'f', -1, 64)
	msg := "(" + secs + " second socket timeout reading input from client)"
	if req != nil {
		msg = "(" + secs + " second timeout while trying to " + string(req.Verb) + ")"
	}
	return &Error{Code: EX_TIMEOUT, Msg: msg, Err: err}
}

// workContext is the context for Scan and Tell: ScanTimeout from now.
func (s *Server) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.cfg.ScanTimeout > 0 {
		return context.WithTimeout(ctx, s.cfg.ScanTimeout)
	}
	return context.WithCancel(ctx)
}

// workError maps a Scanner or Teller error to its answer.
func (s *Server) workError(verb Verb, err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded):
		secs := strconv.FormatFloat(s.cfg.ScanTimeout.Seconds(), 'f', -1, 64)
		return &Error{Code: EX_TIMEOUT, Msg: "(" + secs + " second timeout while trying to " + string(verb) + ")", Err: err}
	}
	return &Error{Code: EX_SOFTWARE, Err: err}
}

func (s *Server) scan(ctx context.Context, c net.Conn, req *Request, ex *exchange) {
	var res ScanResult
	if req.Oversized {
		res = s.unscanned(req)
		ex.outcome = OutcomeUnscanned
	} else {
		if !s.takeSlot(ctx, c, ex) {
			return
		}
		slot := &heldSlot{s: s, held: true}
		defer slot.done() // after the answer is written
		wctx, cancel := s.workContext(workslot.With(ctx, slot))
		var err error
		res, err = s.scanner.Scan(wctx, &ScanRequest{User: req.User, Message: req.Message})
		cancel()
		if err != nil {
			s.answerError(c, ex, s.workError(req.Verb, fmt.Errorf("scan: %w", err)))
			return
		}
		ex.outcome = OutcomeHam
		if res.IsSpam() {
			ex.outcome = OutcomeSpam
		}
	}
	ex.scanned = true
	ex.score = res.Score()
	ex.tests = SortedSymbols(res)
	s.setWriteDeadline(c)
	ex.err = WriteScanResponse(ex.w, req, res)
}

func (s *Server) tell(ctx context.Context, c net.Conn, req *Request, ex *exchange) {
	if req.Oversized {
		s.answerError(c, ex, tooBigError(fmt.Errorf("TELL message of %d bytes over the %d-byte scan limit",
			len(req.Message), s.limits.MaxMessageSize)))
		return
	}
	if !s.takeSlot(ctx, c, ex) {
		return
	}
	defer s.release()
	wctx, cancel := s.workContext(ctx)
	res, err := s.teller.Tell(wctx, &TellRequest{
		User: req.User, Message: req.Message, Class: req.Class(), Set: req.Set, Remove: req.Remove,
	})
	cancel()
	if err != nil {
		s.answerError(c, ex, s.workError(req.Verb, fmt.Errorf("tell: %w", err)))
		return
	}
	ex.outcome = OutcomeTold
	s.setWriteDeadline(c)
	ex.err = WriteTellResponse(ex.w, res)
}

// unscanned is the answer for a message over MaxMessageSize: ham, score
// 0, no rules, no report, the message unchanged.
func (s *Server) unscanned(req *Request) ScanResult {
	threshold := DefaultRequiredScore
	if rs, ok := s.scanner.(RequiredScorer); ok {
		threshold = rs.RequiredScore(req.User)
	}
	return unscannedResult{threshold: threshold, message: req.Message}
}

type unscannedResult struct {
	threshold float64
	message   []byte
}

func (unscannedResult) Score() float64       { return 0 }
func (u unscannedResult) Threshold() float64 { return u.threshold }
func (unscannedResult) IsSpam() bool         { return false }
func (unscannedResult) Symbols() []string    { return nil }
func (unscannedResult) Report() string       { return "" }
func (u unscannedResult) Rewritten() []byte  { return u.message }
