// Package admin is the local administration socket of a running gospamd:
// the way `gospamd learn` trains, dumps, backs up, restores, clears and
// expires the Bayes store while the daemon owns it (Pebble lets only one
// process open a store, and the daemon's single writer must apply every
// learn).
//
// The socket is a UNIX socket inside the store directory (SocketPath),
// so only users who may read the store itself can reach it. It speaks
// HTTP/1.1 with a small JSON/text API under /v1/; learns travel already
// tokenized (classifier.Op), so the daemon only commits them.
package admin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/tokenizer"
)

// SocketPath is where the daemon owning the store in dbpath listens.
func SocketPath(dbpath string) string { return filepath.Join(dbpath, "admin.sock") }

// maxRequestBody bounds what one admin request may send (a restore file).
const maxRequestBody = 1 << 30

// opJSON is a classifier.Op on the wire.
type opJSON struct {
	Scope     string   `json:"scope,omitempty"`
	MsgID     string   `json:"msgid"`
	AltMsgID  string   `json:"alt_msgid,omitempty"`
	Class     string   `json:"class,omitempty"` // "s" or "h"
	Forget    bool     `json:"forget,omitempty"`
	NoRelearn bool     `json:"no_relearn,omitempty"`
	Tokens    []string `json:"tokens"` // hex keys
	Atime     int64    `json:"atime"`
}

func encodeOp(op classifier.Op) opJSON {
	j := opJSON{Scope: string(op.Scope), MsgID: op.MsgID, AltMsgID: op.AltMsgID, Forget: op.Forget,
		NoRelearn: op.NoRelearn, Atime: op.Atime, Tokens: make([]string, len(op.Tokens))}
	if op.Class != 0 {
		j.Class = string(rune(op.Class))
	}
	for i, k := range op.Tokens {
		j.Tokens[i] = hex.EncodeToString(k[:])
	}
	return j
}

func (j opJSON) decode() (classifier.Op, error) {
	op := classifier.Op{Scope: classifier.Scope(j.Scope), MsgID: j.MsgID, AltMsgID: j.AltMsgID,
		Forget: j.Forget, NoRelearn: j.NoRelearn, Atime: j.Atime, Tokens: make([]tokenizer.Key, len(j.Tokens))}
	switch j.Class {
	case "s":
		op.Class = classifier.Spam
	case "h":
		op.Class = classifier.Ham
	case "":
	default:
		return op, fmt.Errorf("unknown class %q", j.Class)
	}
	for i, t := range j.Tokens {
		k, ok := tokenizer.ParseKey(t)
		if !ok {
			return op, fmt.Errorf("bad token key %q", t)
		}
		op.Tokens[i] = k
	}
	return op, nil
}

type resultJSON struct {
	Result string `json:"result"`
}

func parseResult(name string) (classifier.Result, bool) {
	for r := classifier.Learned; r <= classifier.NotLearned; r++ {
		if r.String() == name {
			return r, true
		}
	}
	return 0, false
}

// Service is the daemon's side: it applies what clients send through the
// daemon's writer and reads from its store.
type Service struct {
	Store  Store
	Writer *learn.Writer
	Params classifier.Params
	Logger *slog.Logger
}

// Serve answers admin requests on l until ctx is done.
func (s *Service) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin socket: %w", err)
	}
	return nil
}

func (s *Service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong\n") })
	mux.HandleFunc("POST /v1/apply", s.apply)
	mux.HandleFunc("GET /v1/dump/magic", s.text(func(ctx context.Context, sc classifier.Scope, w io.Writer, r *http.Request) error {
		return learn.DumpMagic(ctx, w, s.Store, sc)
	}))
	mux.HandleFunc("GET /v1/dump/data", s.text(func(ctx context.Context, sc classifier.Scope, w io.Writer, r *http.Request) error {
		var re *regexp.Regexp
		if expr := r.URL.Query().Get("regexp"); expr != "" {
			var err error
			if re, err = regexp.Compile(expr); err != nil {
				return err
			}
		}
		return learn.DumpData(ctx, w, s.Store, sc, s.Params, re)
	}))
	mux.HandleFunc("GET /v1/backup", s.text(func(ctx context.Context, sc classifier.Scope, w io.Writer, r *http.Request) error {
		return s.Store.Backup(ctx, sc, w)
	}))
	mux.HandleFunc("POST /v1/restore", s.exclusive(func(ctx context.Context, sc classifier.Scope, r *http.Request) error {
		_, err := s.Store.Restore(ctx, sc, http.MaxBytesReader(nil, r.Body, maxRequestBody))
		return err
	}))
	mux.HandleFunc("POST /v1/clear", s.exclusive(func(ctx context.Context, sc classifier.Scope, r *http.Request) error {
		return s.Store.Clear(ctx, sc)
	}))
	mux.HandleFunc("POST /v1/expire", s.exclusive(func(ctx context.Context, sc classifier.Scope, r *http.Request) error {
		_, err := s.Store.Expire(ctx, sc, classifier.ExpireOptions{Force: r.URL.Query().Get("force") == "1", Now: time.Now()})
		return err
	}))
	return mux
}

func (s *Service) fail(w http.ResponseWriter, what string, err error) {
	if s.Logger != nil {
		s.Logger.Error("admin request failed", "op", what, "err", err)
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func (s *Service) apply(w http.ResponseWriter, r *http.Request) {
	var j opJSON
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&j); err != nil {
		http.Error(w, "bad learn request: "+err.Error(), http.StatusBadRequest)
		return
	}
	op, err := j.decode()
	if err != nil {
		http.Error(w, "bad learn request: "+err.Error(), http.StatusBadRequest)
		return
	}
	res, err := s.Writer.Learn(r.Context(), op)
	if err != nil {
		s.fail(w, "learn", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resultJSON{Result: res.String()})
}

func (s *Service) text(fn func(ctx context.Context, sc classifier.Scope, w io.Writer, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// A failure after the first bytes cannot change the status any
		// more; the client notices the missing trailer line instead.
		if err := fn(r.Context(), classifier.Scope(r.URL.Query().Get("scope")), w, r); err != nil {
			s.fail(w, r.URL.Path, err)
			return
		}
		io.WriteString(w, endOfText)
	}
}

// endOfText ends every text answer, so that a client can tell a complete
// dump from one cut short by an error.
const endOfText = "\x00end\n"

func (s *Service) exclusive(fn func(ctx context.Context, sc classifier.Scope, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sc := classifier.Scope(r.URL.Query().Get("scope"))
		err := s.Writer.Exclusive(r.Context(), func(ctx context.Context) error { return fn(ctx, sc, r) })
		if err != nil {
			s.fail(w, r.URL.Path, err)
			return
		}
		io.WriteString(w, "ok\n")
	}
}
