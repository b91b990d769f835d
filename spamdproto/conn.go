package spamdproto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"
)

// exchange is one connection's request as it is logged: filled in as the
// request is read and answered.
type exchange struct {
	start   time.Time
	remote  string
	verb    Verb
	user    string
	bytes   int64 // message bytes received (inflated)
	scanned bool
	score   float64
	tests   string
	outcome Outcome
	code    int
	err     error // cause, for the log

	w *countingWriter
}

// countingWriter remembers whether any answer byte went out, so that a
// recovered panic adds an error line only to an unanswered request.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}

// serveConn runs one connection from accept (at accepted) to close.
func (s *Server) serveConn(ctx context.Context, c net.Conn, accepted time.Time) {
	defer s.removeConn(c)
	ip := clientIP(c)
	if !s.allowed(c, ip) {
		s.metrics.ConnRefused()
		s.log.Warn("spamd refused connection", slog.String("remote", c.RemoteAddr().String()),
			slog.String("reason", "not in allowed networks"))
		closeConn(s.log, c)
		return
	}
	if limit := s.enter(ip); limit != "" {
		s.refuse(c, limit, accepted)
		return
	}
	defer s.leave(ip)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.hardStop, cancel)
	defer stop()

	ex := &exchange{start: accepted, remote: c.RemoteAddr().String(), w: &countingWriter{w: c}}
	defer s.finish(c, ex) // runs last: log, count, close
	defer s.recoverPanic(c, ex)
	s.handle(ctx, c, ex)
}

// refuse answers a connection over a connection limit without reading
// its request, and closes it.
func (s *Server) refuse(c net.Conn, limit Outcome, accepted time.Time) {
	e := busyError(fmt.Errorf("connection over the %s", limit))
	_ = c.SetWriteDeadline(time.Now().Add(refuseLinger))
	err := WriteError(c, e)
	s.metrics.RequestDone("", limit, time.Since(accepted))
	s.shed.note(s.log, c.RemoteAddr().String(), limit, err)
	lingerClose(s.log, c, refuseLinger, refuseMaxDrain)
}

// shedLog logs connections refused over a limit, at most one line a
// second, so that a flood of connections does not flood the log too: the
// line carries how many were refused since the last one. Safe for
// concurrent use.
type shedLog struct {
	mu      sync.Mutex
	last    time.Time
	unnoted int
}

func (l *shedLog) note(log *slog.Logger, remote string, limit Outcome, err error) {
	l.mu.Lock()
	l.unnoted++
	now := time.Now()
	if now.Sub(l.last) < time.Second {
		l.mu.Unlock()
		return
	}
	n := l.unnoted
	l.last, l.unnoted = now, 0
	l.mu.Unlock()
	attrs := []any{slog.String("remote", remote), slog.String("reason", string(limit)), slog.Int("refused_since_last_line", n)}
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
	}
	log.Warn("spamd refused connection over a limit", attrs...)
}

// recoverPanic turns a panic in the connection goroutine into EX_SOFTWARE.
func (s *Server) recoverPanic(c net.Conn, ex *exchange) {
	r := recover()
	if r == nil {
		return
	}
	s.metrics.PanicRecovered()
	s.log.Error("spamd panic in connection", slog.String("remote", ex.remote),
		slog.String("verb", string(ex.verb)), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
	ex.outcome = OutcomePanic
	if ex.w.n == 0 {
		s.answerError(c, ex, &Error{Code: EX_SOFTWARE, Err: fmt.Errorf("panic: %v", r)})
	}
}

// answerError sends e's line (within WriteTimeout) and records it.
func (s *Server) answerError(c net.Conn, ex *exchange, e *Error) {
	ex.code = e.Code
	ex.err = e
	if ex.outcome == "" {
		switch e.Code {
		case EX_TIMEOUT:
			ex.outcome = OutcomeTimeout
		case EX_TEMPFAIL:
			ex.outcome = OutcomeBusy
		default:
			ex.outcome = OutcomeError
		}
	}
	s.setWriteDeadline(c)
	if err := WriteError(ex.w, e); err != nil {
		ex.err = errors.Join(ex.err, err)
	}
}

func (s *Server) setWriteDeadline(c net.Conn) {
	if s.cfg.WriteTimeout > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	}
}

// finish logs the request, counts it and closes the connection.
func (s *Server) finish(c net.Conn, ex *exchange) {
	elapsed := time.Since(ex.start)
	s.metrics.RequestDone(ex.verb, ex.outcome, elapsed)
	attrs := []slog.Attr{
		slog.String("verb", string(ex.verb)),
		slog.String("user", ex.user),
		slog.String("verdict", string(ex.outcome)),
		slog.Int64("ms", elapsed.Milliseconds()),
		slog.Int64("bytes", ex.bytes),
		slog.String("remote", ex.remote),
		slog.Int("code", ex.code),
	}
	if ex.scanned {
		attrs = append(attrs, slog.Float64("score", ex.score), slog.String("tests", ex.tests))
	}
	level := slog.LevelInfo
	if ex.err != nil {
		attrs = append(attrs, slog.Any("err", ex.err))
		if ex.code != EX_PROTOCOL {
			level = slog.LevelWarn
		}
	}
	s.log.LogAttrs(context.Background(), level, "spamd request", attrs...)
	lingerClose(s.log, c, lingerTimeout, lingerMaxDrain)
}

// lingerClose half-closes c, discards what the client still sends until
// its EOF (for at most timeout and maxDrain bytes), then closes. Closing
// a socket with unread input makes the kernel send a reset, and a reset
// can destroy an answer the client has not read yet.
func lingerClose(log *slog.Logger, c net.Conn, timeout time.Duration, maxDrain int64) {
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		if err := hc.CloseWrite(); err == nil {
			_ = c.SetReadDeadline(time.Now().Add(timeout))
			_, _ = io.CopyN(io.Discard, c, maxDrain) // whatever happens, we close next
		}
	}
	closeConn(log, c)
}

func closeConn(log *slog.Logger, c net.Conn) {
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Debug("spamd close connection", slog.String("remote", c.RemoteAddr().String()), slog.Any("err", err))
	}
}

// getReader returns a pooled request reader on c. Nothing read through
// it outlives handle: the message is copied out of it.
func (s *Server) getReader(c net.Conn) *bufio.Reader {
	if r, ok := s.readers.Get().(*bufio.Reader); ok {
		r.Reset(c)
		return r
	}
	return bufio.NewReaderSize(c, 16<<10)
}

func (s *Server) putReader(r *bufio.Reader) {
	r.Reset(nil)
	s.readers.Put(r)
}
