package spamdproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// tellDisabledMsg is spamd's answer to TELL without --allow-tell.
const tellDisabledMsg = "TELL commands are not enabled, set the --allow-tell switch."

// handle reads one request from c, runs it and answers.
func (s *Server) handle(ctx context.Context, c net.Conn, ex *exchange) {
	// The clock starts when the connection gets its slot, as spamd's
	// starts when a child accepts: time spent queued is not the client's.
	if s.cfg.ReadTimeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
	}
	r := s.getReader(c)
	defer s.putReader(r)
	req, err := ReadRequestHead(r, s.limits)
	if req != nil {
		ex.verb, ex.user = req.Verb, req.User
	}
	if err != nil {
		s.answerError(c, ex, s.readError(req, err))
		return
	}
	if req.Verb == VerbTell {
		if s.teller == nil {
			s.answerError(c, ex, unavailableError(tellDisabledMsg, errors.New("TELL received but no Teller is configured")))
			return
		}
		if err := req.CheckTell(); err != nil {
			s.answerError(c, ex, AsError(err))
			return
		}
	}
	err = req.ReadBody(r, s.limits)
	ex.bytes = int64(len(req.Message))
	if err != nil {
		s.answerError(c, ex, s.readError(req, err))
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
		wctx, cancel := s.workContext(ctx)
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
