package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// logger is where gospamc's complaints go: standard error with -l,
// otherwise syslog (facility mail), as spamc does. Messages never go to
// standard output, which carries the mail.
type logger struct {
	stderr io.Writer
	syslog io.Writer // nil until first needed; io.Discard if unavailable
}

func newLogger(stderr io.Writer) *logger { return &logger{stderr: stderr} }

func (l *logger) writer(toStderr bool) io.Writer {
	if toStderr {
		return l.stderr
	}
	if l.syslog == nil {
		l.syslog = openSyslog()
	}
	return l.syslog
}

// errorf logs one line.
func (l *logger) errorf(toStderr bool, format string, args ...any) {
	w := l.writer(toStderr)
	msg := fmt.Sprintf(format, args...)
	if toStderr {
		msg = "gospamc: " + msg + "\n"
	}
	_, _ = io.WriteString(w, msg)
}

// slog returns a structured logger for the spamd client on the same
// destination, warnings and worse only.
func (l *logger) slog(toStderr bool) *slog.Logger {
	return slog.New(&lineHandler{w: l.writer(toStderr), prefix: toStderr})
}

// lineHandler writes "gospamc: msg key=value …" lines.
type lineHandler struct {
	w      io.Writer
	prefix bool
	attrs  []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	s := r.Message
	add := func(a slog.Attr) bool {
		s += " " + a.Key + "=" + fmt.Sprint(a.Value.Any())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if h.prefix {
		s = "gospamc: " + s + "\n"
	}
	_, err := io.WriteString(h.w, s)
	return err
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lineHandler{w: h.w, prefix: h.prefix, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
