package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
)

// DefaultAddr is SpamAssassin's default server.
const DefaultAddr = "127.0.0.1:6379"

// SpamAssassin's default TTLs (bayes_token_ttl 3w, bayes_seen_ttl 8d).
const (
	DefaultTokenTTL = 21 * 24 * time.Hour
	DefaultSeenTTL  = 8 * 24 * time.Hour
)

// Options configure Open.
type Options struct {
	// Addr is host:port, [v6]:port, or the absolute path of a UNIX
	// socket; "" means DefaultAddr.
	Addr string
	// Username and Password authenticate (AUTH); empty means none.
	Username, Password string
	// DB is the database index (SELECT).
	DB int
	// TLS connects with TLS; TLSConfig, when set, is its configuration
	// (else the system roots and the host name of Addr).
	TLS       bool
	TLSConfig *tls.Config
	// TokenTTL and SeenTTL are bayes_token_ttl and bayes_seen_ttl: a
	// token or seen entry not counted again for that long expires. Zero
	// or negative means never (bayes_auto_expire 0). Use DefaultTokenTTL
	// and DefaultSeenTTL for SpamAssassin's defaults.
	TokenTTL, SeenTTL time.Duration
	// DialTimeout bounds a connection attempt (default 1 s);
	// CommandTimeout bounds each command's read and write (default 2 s).
	// A scan's own deadline applies too.
	DialTimeout, CommandTimeout time.Duration
	// LearnTimeout bounds the reply to one pipeline of learns (default
	// 30 s): a corpus learn's pipeline of thousands of token updates on
	// a busy server, fsyncing every write, can take well over a
	// CommandTimeout, and giving up on it would only have the retry do
	// it again. The caller's deadline applies too.
	LearnTimeout time.Duration
	// PoolSize is the most connections open, for the scans' uncached
	// lookups and for everything else each (default 10 per CPU); the
	// token cache has one more.
	PoolSize int
	// ReadOnly refuses every write with classifier.ErrReadOnly.
	ReadOnly bool
	Logger   *slog.Logger
	// Metrics observes commits and lookups; if it also has
	// ObserveUnavailable(op string), every call that failed or was
	// refused because the server is unreachable is reported there.
	Metrics classifier.Metrics
}

// unavailableObserver is the optional metrics capability of Options.Metrics.
type unavailableObserver interface {
	ObserveUnavailable(op string)
}

// A Store is a Bayes store on a Redis server; see the package comment
// for its layout and guarantees.
//
// # Concurrency
//
// Every method is safe for concurrent use, writes included, from any
// number of goroutines and processes.
type Store struct {
	client   *redis.Client
	learner  *redis.Client // client with LearnTimeout, for Apply
	opt      Options
	log      *slog.Logger
	metrics  classifier.Metrics
	unavail  unavailableObserver
	addr     string
	tokenTTL int64 // seconds, 0 = none
	seenTTL  int64

	learnScript *redis.Script
	lookups     *rawPool     // connections of the scans' lookups (conn.go)
	cache       *tokenCaches // the global scope's token counts (cache.go); nil for none

	health health
	touch  *toucher // nil without a token TTL or when read-only
}

// Open connects to the server opt names, checks that its database (if
// any) is in SpamAssassin's version 3 layout with token format 2 (as
// SpamAssassin refuses older ones), and initializes an empty one as
// SpamAssassin does. An unreachable server is an error wrapping
// classifier.ErrUnavailable: a daemon may choose to start anyway with
// OpenLazy.
func Open(ctx context.Context, opt Options) (*Store, error) {
	s := OpenLazy(opt)
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// OpenLazy returns a Store without contacting the server: the first call
// connects. The database's version is checked by the first learn (which
// initializes an empty database), not before; scans in the meantime read
// what is there.
func OpenLazy(opt Options) *Store {
	if opt.Addr == "" {
		opt.Addr = DefaultAddr
	}
	if opt.DialTimeout <= 0 {
		opt.DialTimeout = time.Second
	}
	if opt.CommandTimeout <= 0 {
		opt.CommandTimeout = 2 * time.Second
	}
	if opt.LearnTimeout <= 0 {
		opt.LearnTimeout = 30 * time.Second
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	metrics := opt.Metrics
	if metrics == nil {
		metrics = classifier.NopMetrics{}
	}
	ro := &redis.Options{
		Addr:                  opt.Addr,
		Username:              opt.Username,
		Password:              opt.Password,
		DB:                    opt.DB,
		DialTimeout:           opt.DialTimeout,
		ReadTimeout:           opt.CommandTimeout,
		WriteTimeout:          opt.CommandTimeout,
		ContextTimeoutEnabled: true,
		PoolSize:              opt.PoolSize,
		// The store does its own backoff (health); go-redis retrying a
		// learn script could apply it twice.
		MaxRetries: -1,
		// One dial per call: the store's backoff decides when to try
		// again, not a scan waiting on go-redis's dial retries.
		DialerRetries:   1,
		ClientName:      "gospamd",
		DisableIdentity: true,
	}
	if strings.HasPrefix(opt.Addr, "/") {
		ro.Network = "unix"
	}
	if opt.TLS || opt.TLSConfig != nil {
		ro.TLSConfig = opt.TLSConfig
		if ro.TLSConfig == nil {
			host, _, err := net.SplitHostPort(opt.Addr)
			if err != nil {
				host = opt.Addr
			}
			ro.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
	}
	s := &Store{
		client:      redis.NewClient(ro),
		opt:         opt,
		log:         logger,
		metrics:     metrics,
		addr:        opt.Addr,
		tokenTTL:    ttlSeconds(opt.TokenTTL),
		seenTTL:     ttlSeconds(opt.SeenTTL),
		learnScript: redis.NewScript(learnLua),
		lookups:     newRawPool(&opt, ro.Network, ro.TLSConfig),
	}
	s.cache = newTokenCaches(s.lookups, logger, cacheCount())
	s.learner = s.client.WithTimeout(opt.LearnTimeout)
	s.unavail, _ = metrics.(unavailableObserver)
	s.health.init()
	s.startToucher()
	return s
}

func ttlSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return max(int64(d/time.Second), 1)
}

// Addr is the server the store talks to (for logs).
func (s *Store) Addr() string { return s.addr }

// init checks or initializes the global scope's variables.
func (s *Store) init(ctx context.Context) error {
	if err := s.call(ctx, "open", func(ctx context.Context) error {
		return s.checkVersion(ctx, "")
	}); err != nil {
		return err
	}
	return nil
}

// checkVersion refuses a database SpamAssassin would refuse, and
// initializes an empty one (unless read-only).
func (s *Store) checkVersion(ctx context.Context, sc classifier.Scope) error {
	p := prefix(sc)
	vals, err := s.client.MGet(ctx, p+"v:DB_VERSION", p+"v:TOKEN_FORMAT").Result()
	if err != nil {
		return err
	}
	ver, _ := vals[0].(string)
	if ver == "" {
		if s.opt.ReadOnly {
			return nil
		}
		// SpamAssassin's initialization, without clobbering counts a
		// concurrent learner may have just written.
		return s.client.Eval(ctx, initLua, []string{p + "v:DB_VERSION", p + "v:NSPAM", p + "v:NHAM", p + "v:TOKEN_FORMAT"}).Err()
	}
	if ver != strconv.Itoa(classifier.DBVersion) {
		return fmt.Errorf("redis bayes database at %s has db version %q, want %d", s.addr, ver, classifier.DBVersion)
	}
	format, _ := vals[1].(string)
	if n, _ := strconv.Atoi(format); n < 2 {
		return fmt.Errorf("redis bayes database at %s has the old token format %q (SpamAssassin 3.4.0's); back it up and restore it", s.addr, format)
	}
	return nil
}

// Close renews the TTLs scans noted last (see NoteUsed) and closes the
// connections.
func (s *Store) Close() error {
	s.stopToucher()
	s.lookups.close()
	if s.cache != nil {
		s.cache.close()
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close redis bayes store: %w", err)
	}
	return nil
}

// prefix is the key prefix of scope sc: none for the global scope
// (SpamAssassin's keys), "u:<scope>\x00" for a user's.
func prefix(sc classifier.Scope) string {
	if sc == "" {
		return ""
	}
	return "u:" + string(sc) + "\x00"
}

func validScope(sc classifier.Scope) error {
	if strings.IndexByte(string(sc), 0) >= 0 {
		return fmt.Errorf("bayes scope %q contains a NUL byte", sc)
	}
	return nil
}

func (s *Store) checkWritable() error {
	if s.opt.ReadOnly {
		return classifier.ErrReadOnly
	}
	return nil
}

// call runs fn unless the server is known to be down and its backoff
// has not passed, and keeps the health state: an error reaching the
// server is returned wrapping classifier.ErrUnavailable.
func (s *Store) call(ctx context.Context, op string, fn func(context.Context) error) error {
	if !s.health.allow(time.Now()) {
		if s.unavail != nil {
			s.unavail.ObserveUnavailable(op)
		}
		return fmt.Errorf("redis bayes store %s: %s: %w (retrying in the background)", s.addr, op, classifier.ErrUnavailable)
	}
	err := fn(ctx)
	if err == nil {
		if s.health.up() {
			s.log.Info("redis bayes store reachable again", "addr", s.addr)
		}
		return nil
	}
	if !unreachable(ctx, err) {
		// The server answered: it is up, whatever it said.
		if s.health.up() {
			s.log.Info("redis bayes store reachable again", "addr", s.addr)
		}
		return fmt.Errorf("redis bayes store %s: %s: %w", s.addr, op, err)
	}
	if s.unavail != nil {
		s.unavail.ObserveUnavailable(op)
	}
	if s.health.down(time.Now()) {
		s.log.Warn("redis bayes store unreachable: scanning without Bayes, learns fail until it is back",
			"addr", s.addr, "op", op, "err", err)
	}
	return fmt.Errorf("redis bayes store %s: %s: %w: %w", s.addr, op, classifier.ErrUnavailable, err)
}

// unreachable reports whether err (from a call under ctx) means that the
// server could not be reached or did not answer in time, as opposed to
// an answer (a Redis error reply) or the caller giving up.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		// The caller's deadline or cancellation: not the server's fault.
		return false
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed), errors.Is(err, errPoolTimeout),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return transient(err)
}

// transient reports whether err is the error reply of a server loading
// its data set, or of a replica cut off from its master: the server
// cannot answer for now.
func transient(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "MASTERDOWN") || strings.HasPrefix(msg, "TRYAGAIN")
}

// health is the circuit breaker of a Store.
type health struct {
	mu       sync.Mutex
	isDown   bool
	backoff  time.Duration
	nextTry  time.Time
	probing  bool
	probeEnd time.Time
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

func (h *health) init() { h.backoff = minBackoff }

// allow reports whether a call may go to the server now: always while it
// is up; while it is down, one call (the probe) once the backoff passed.
func (h *health) allow(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.isDown {
		return true
	}
	if now.Before(h.nextTry) {
		return false
	}
	if h.probing && now.Before(h.probeEnd) {
		return false
	}
	h.probing, h.probeEnd = true, now.Add(maxBackoff)
	return true
}

// up records a call that reached the server; it reports whether that
// ends an outage.
func (h *health) up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.isDown
	h.isDown, h.probing, h.backoff = false, false, minBackoff
	return was
}

// down records a call that could not reach the server; it reports
// whether that starts an outage.
func (h *health) down(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.isDown
	if was {
		h.backoff = min(h.backoff*2, maxBackoff)
	}
	h.isDown, h.probing = true, false
	h.nextTry = now.Add(h.backoff)
	return !was
}

// Up reports whether the last call reached the server.
func (s *Store) Up() bool {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return !s.health.isDown
}
