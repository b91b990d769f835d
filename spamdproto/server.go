package spamdproto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Config is the server's limits and wiring. Zero fields take the
// defaults; a negative duration disables that timeout.
type Config struct {
	// AllowedNets are the client networks served over TCP (spamd -A).
	// Others are logged and closed without a reply. UNIX-socket clients
	// are always served. Default: loopback (127.0.0.0/8, ::1).
	AllowedNets []netip.Prefix
	// MaxMessageSize is the largest message scanned. A larger one is
	// answered without scanning, as ham with score 0 (PROCESS returns it
	// unchanged); a larger TELL is refused with EX_TOOBIG. Default 512000,
	// the size spamc itself refuses to send.
	MaxMessageSize int64
	// MaxBodySize is the hard limit on one request body, compressed or
	// inflated; over it the answer is EX_TOOBIG. Default twice
	// MaxMessageSize, at least 1 MiB (see Limits.MaxBodySize for why).
	MaxBodySize int64
	// ReadTimeout bounds reading the whole request, from the moment the
	// connection is accepted to the last body byte (spamd's
	// --timeout-tcp). Default 30 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing the answer. Default 30 s.
	WriteTimeout time.Duration
	// ScanTimeout is the deadline of the context given to Scan and Tell
	// (spamd's --timeout-child). Default 300 s.
	ScanTimeout time.Duration
	// MaxConns is how many requests scan or learn at once (spamd's
	// --max-children): the slots. A request takes one only once it has
	// been read whole, so slow or idle clients never hold one. Default 10.
	MaxConns int
	// QueueTimeout is how long a request read whole waits for a slot
	// before it is answered EX_TEMPFAIL "server busy". Default 30 s.
	QueueTimeout time.Duration
	// MaxOpenConns bounds the connections open at once, whatever they are
	// doing (sending their request, waiting for a slot, being answered,
	// lingering). One more is answered "SPAMD/1.0 75 Temporary failure:
	// server busy" at once, without reading its request, and closed.
	// Default 4096: an open connection costs a goroutine and, while it
	// sends its request, a 16 KiB read buffer, about 40 KiB with the
	// kernel's socket buffers, so 4096 of them 160 MiB at worst; it needs
	// as many file descriptors (Go raises the soft RLIMIT_NOFILE to the
	// hard one at start).
	MaxOpenConns int
	// MaxConnsPerIP bounds the open connections from one client address
	// (refused as over MaxOpenConns), so that one client cannot take them
	// all. 0 means no limit per address, the default: a site's MTAs often
	// share one address. UNIX-socket clients are never limited per address.
	MaxConnsPerIP int
	// MaxBufferedBytes bounds the message bytes that all requests hold
	// in memory together, from their first body byte until their answer
	// is written: requests being sent, waiting for a slot, being scanned.
	// A request that would take the total over it is answered EX_TEMPFAIL
	// "server busy" at once rather than wait, since requests waiting for
	// memory while holding some could wait for each other. Default 256
	// MiB, and never below twice MaxBodySize (so a compressed message of
	// the largest size, held both compressed and inflated, fits alone).
	// Buffers are charged as they grow (a slow client is charged for what
	// it sent, not what it announced); the Go runtime may hold up to
	// about as much again in garbage between collections (see GOGC and
	// GOMEMLIMIT). A Scanner that keeps a message after Scan returns is
	// not counted.
	MaxBufferedBytes int64
	// Logger gets one line per request and the refused connections.
	// Default: discard.
	Logger *slog.Logger
	// Metrics receives counters. Default: no-op.
	Metrics ServerMetrics
}

// Defaults for Config.
const (
	DefaultReadTimeout  = 30 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultScanTimeout  = 300 * time.Second
	DefaultMaxConns     = 10
	DefaultQueueTimeout = 30 * time.Second
	DefaultMaxOpenConns = 4096

	DefaultMaxBufferedBytes = 256 << 20
)

// lingerTimeout bounds how long a closing connection waits for the
// client's EOF after the answer, and lingerMaxDrain how much of what the
// client still sends it discards (see lingerClose).
const (
	lingerTimeout  = 2 * time.Second
	lingerMaxDrain = 1 << 20
)

// refuseLinger and refuseMaxDrain are the same for a connection refused
// over a limit, shorter so that a flood of them holds little: its
// client gets the line, then at worst a reset.
const (
	refuseLinger   = 250 * time.Millisecond
	refuseMaxDrain = 64 << 10
)

// defaultAllowedNets is spamd's default -A, loopback.
var defaultAllowedNets = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0 // disabled
	}
	return d
}

func (c Config) withDefaults() Config {
	if c.AllowedNets == nil {
		c.AllowedNets = defaultAllowedNets
	}
	c.ReadTimeout = durationOr(c.ReadTimeout, DefaultReadTimeout)
	c.WriteTimeout = durationOr(c.WriteTimeout, DefaultWriteTimeout)
	c.ScanTimeout = durationOr(c.ScanTimeout, DefaultScanTimeout)
	c.QueueTimeout = durationOr(c.QueueTimeout, DefaultQueueTimeout)
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxOpenConns <= 0 {
		c.MaxOpenConns = DefaultMaxOpenConns
	}
	c.MaxConnsPerIP = max(c.MaxConnsPerIP, 0)
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	return c
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("spamd server closed")

// Server answers spamd protocol requests on any number of listeners (TCP
// over IPv4 or IPv6, UNIX sockets), one request per connection.
//
// # Concurrency
//
// Each accepted connection gets a goroutine, which first reads the whole
// request (within Config.ReadTimeout of the accept, bounded by the size
// limits and MaxBufferedBytes) holding no slot. PING, SKIP, errors and
// messages over MaxMessageSize are then answered at once; a scan or TELL
// waits up to QueueTimeout for one of MaxConns slots and holds it while
// the Scanner or Teller runs and the answer is written. So idle and slow
// clients cost a goroutine and a buffer each, bounded by MaxOpenConns and
// MaxConnsPerIP, but never delay another client's scan. A panic in a
// connection goroutine (the Scanner's included) is recovered, counted,
// logged and answered EX_SOFTWARE.
//
// # Refusing connections
//
// A TCP client outside AllowedNets is closed without a word (and counted
// with ServerMetrics.ConnRefused). A connection over MaxOpenConns or
// MaxConnsPerIP gets "SPAMD/1.0 75 Temporary failure: server busy" at
// once, without its request being read, is closed after a short linger
// (250 ms, so the client can read the line) and is counted as a request
// with verb "" and outcome OutcomeConnLimit or OutcomeIPLimit; the log
// gets at most one line a second about them. spamc answers such a line
// as any failure: it passes the message through unscanned, or with -x
// exits with an error so that the MTA tries again later.
//
// # Ending an exchange
//
// After the answer the server half-closes and then reads and discards
// what the client still sends (the Perl client's trailing CRLF) until the
// client's EOF, for at most 2 s, so the kernel never resets a connection
// whose answer the client has not read yet. Both real clients read the
// answer until EOF.
type Server struct {
	cfg     Config
	limits  Limits
	scanner Scanner
	teller  Teller
	log     *slog.Logger
	metrics ServerMetrics
	slots   chan struct{}
	budget  *memBudget
	readers sync.Pool // *bufio.Reader
	shed    shedLog

	// hardStop is cancelled when Shutdown gives up waiting: it cancels
	// the requests still running.
	hardStop     context.Context
	hardStopFunc context.CancelFunc

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	open      int                // connections counted against MaxOpenConns
	perIP     map[netip.Addr]int // open connections per client address, with MaxConnsPerIP
	inflight  sync.WaitGroup
}

// NewServer returns a server that scans with scanner and learns with
// teller (nil disables TELL).
func NewServer(cfg Config, scanner Scanner, teller Teller) *Server {
	cfg = cfg.withDefaults()
	hardStop, cancel := context.WithCancel(context.Background())
	limits := Limits{
		MaxMessageSize: cfg.MaxMessageSize,
		MaxBodySize:    cfg.MaxBodySize,
	}.withDefaults()
	cfg.MaxBufferedBytes = max(cfg.MaxBufferedBytes, 2*limits.MaxBodySize)
	return &Server{
		cfg:          cfg,
		limits:       limits,
		budget:       &memBudget{max: cfg.MaxBufferedBytes},
		perIP:        make(map[netip.Addr]int),
		scanner:      scanner,
		teller:       teller,
		log:          cfg.Logger,
		metrics:      cfg.Metrics,
		slots:        make(chan struct{}, cfg.MaxConns),
		hardStop:     hardStop,
		hardStopFunc: cancel,
		listeners:    make(map[net.Listener]struct{}),
		conns:        make(map[net.Conn]struct{}),
	}
}

// Serve accepts connections on l until Shutdown (then it returns
// ErrServerClosed) or until ctx is done (then it closes l, cancels the
// requests it accepted and returns ctx.Err()). Serve may run on several
// listeners at once; it closes l before returning.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if !s.addListener(l) {
		return ErrServerClosed
	}
	defer s.removeListener(l)
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept on %s: %w", l.Addr(), err)
			}
			// EMFILE and friends: wait and try again, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("spamd accept failed", slog.String("listener", l.Addr().String()),
				slog.Any("err", err), slog.Duration("retry_in", backoff))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		backoff = 0
		if !s.addConn(c) {
			closeConn(s.log, c)
			continue
		}
		go s.serveConn(ctx, c, time.Now())
	}
}

// Shutdown stops accepting on every listener and waits for the requests
// in flight to finish. When ctx ends first it cancels and closes them and
// returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		_ = l.Close() // Serve sees the error and returns ErrServerClosed
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.hardStopFunc()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close() // force: the client sees a reset, as with a killed spamd child
	}
	s.mu.Unlock()
	return fmt.Errorf("spamd shutdown: %w", ctx.Err())
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) addListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) removeListener(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
	_ = l.Close() // usually closed already
}

// addConn registers c as in flight; false once Shutdown has begun.
func (s *Server) addConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.inflight.Add(1)
	return true
}

func (s *Server) removeConn(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.inflight.Done()
}

// clientIP is a TCP client's address, unmapped and without zone; the
// zero Addr for a UNIX-socket client or an address that does not parse.
func clientIP(c net.Conn) netip.Addr {
	if c.LocalAddr().Network() == "unix" {
		return netip.Addr{}
	}
	var ip netip.Addr
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	default:
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			return netip.Addr{}
		}
		ip = ap.Addr()
	}
	return ip.Unmap().WithZone("")
}

// allowed reports whether the client may be served: UNIX-socket clients
// always, TCP clients when their address ip is in AllowedNets.
func (s *Server) allowed(c net.Conn, ip netip.Addr) bool {
	if c.LocalAddr().Network() == "unix" {
		return true
	}
	if !ip.IsValid() {
		return false
	}
	for _, p := range s.cfg.AllowedNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// enter counts a new connection from ip (the zero Addr: not limited per
// address) against MaxOpenConns and MaxConnsPerIP. It returns the
// outcome of the limit the connection is over, or "" when it was counted
// (then call leave).
func (s *Server) enter(ip netip.Addr) Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open >= s.cfg.MaxOpenConns {
		return OutcomeConnLimit
	}
	if ip.IsValid() && s.cfg.MaxConnsPerIP > 0 {
		if s.perIP[ip] >= s.cfg.MaxConnsPerIP {
			return OutcomeIPLimit
		}
		s.perIP[ip]++
	}
	s.open++
	return ""
}

func (s *Server) leave(ip netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if ip.IsValid() && s.cfg.MaxConnsPerIP > 0 {
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
	}
}

// acquire waits for a slot: true when one was taken (release it), false
// after QueueTimeout or when ctx ends.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	var timeout <-chan time.Time
	if s.cfg.QueueTimeout > 0 {
		t := time.NewTimer(s.cfg.QueueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s.slots <- struct{}{}:
		return true
	case <-timeout:
	case <-ctx.Done():
	}
	return false
}

func (s *Server) release() { <-s.slots }

// heldSlot is one scan's slot as workslot sees it: the network tests give
// it back while they wait on DNS answers (see workslot), so that scans
// waiting on a slow list server do not keep others from the CPU. Used by
// the scan's goroutine only.
type heldSlot struct {
	s    *Server
	held bool
}

func (h *heldSlot) Release() {
	if h.held {
		h.s.release()
		h.held = false
	}
}

// Reacquire waits for a slot like a new request, without the queue
// timeout: the scan is already under way and its own deadline bounds it.
func (h *heldSlot) Reacquire(ctx context.Context) bool {
	if h.held {
		return true
	}
	select {
	case h.s.slots <- struct{}{}:
		h.held = true
	case <-ctx.Done():
	}
	return h.held
}

// done releases the slot if the scan holds it.
func (h *heldSlot) done() { h.Release() }
