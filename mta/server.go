package mta

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/mta/maildir"
	"github.com/gospamd/gospamd/scan"
)

// Scanner is the scan service as the front end uses it
// (*scan.Service).
type Scanner interface {
	Scan(ctx context.Context, req *scan.Request) (*scan.Result, error)
}

// Teller learns spam-trap mail through the single writer
// (*scan.Service); nil leaves trap mail unlearned (still undelivered).
type Teller interface {
	Tell(ctx context.Context, req *scan.TellRequest) (classifier.Result, error)
}

// Metrics receives the front end's outcomes; nil records none.
type Metrics interface {
	// SMTPMessage counts one finished DATA: result is "accepted",
	// "rejected" or "deferred"; reason one of the reason constants ("" when
	// accepted).
	SMTPMessage(result, reason string)
	// SMTPFiled counts one recipient's copy by Filing.
	SMTPFiled(filing string)
}

type nopMetrics struct{}

func (nopMetrics) SMTPMessage(string, string) {}
func (nopMetrics) SMTPFiled(string)           {}

// Deps are what a Server uses besides its Config.
type Deps struct {
	Scanner Scanner
	Teller  Teller
	Logger  *slog.Logger
	Metrics Metrics
	// LoadAvg returns the 1-minute load average (default: read
	// /proc/loadavg); used with max_load.
	LoadAvg func() (float64, error)
	// DNSBL looks up dnsbl_reject; needed when that is set, else unused.
	DNSBL DNSBLResolver
}

// A Server is the SMTP front end: it accepts mail for the local domains,
// scans it with the scan service and files it by the verdict (see the
// package comment).
//
// # Lifetime
//
// Serve runs on one or more listeners; Shutdown stops accepting and
// waits for the sessions in flight (their messages are scanned and
// delivered or refused as usual) until its context ends, then cancels
// them. A Server is safe for concurrent use.
type Server struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	smtp   *smtp.Server
	p      *pipeline
	exempt []netip.Prefix
	limits *connLimits
	// dnsblNets are dnsbl_exempt_networks, parsed.
	dnsblNets []netRule

	base   context.Context // sessions' parent; cancelled by Close
	cancel context.CancelFunc
}

// NewServer validates cfg and builds the server. The routes file is read
// now and reread when it changes.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Scanner == nil {
		return nil, errors.New("smtp: no scanner")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = nopMetrics{}
	}
	if deps.LoadAvg == nil {
		deps.LoadAvg = loadAvg
	}
	if len(cfg.DNSBLReject) > 0 && deps.DNSBL == nil {
		return nil, errors.New("smtp: dnsbl_reject needs a DNS resolver (the daemon config's [dns] section)")
	}
	if cfg.DNSBLTimeout == 0 {
		cfg.DNSBLTimeout = confval.Duration(DefaultDNSBLTimeout)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	p, err := newPipeline(&cfg, deps)
	if err != nil {
		return nil, err
	}
	exempt, _ := parseNets(cfg.HeaderChecksExempt)         // checked by Validate
	dnsblNets, _ := parseNetRules(cfg.DNSBLExemptNetworks) // likewise
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, p: p, exempt: exempt, dnsblNets: dnsblNets,
		limits: newConnLimits(cfg.MaxConnections, cfg.MaxConnectionsPerIP)}
	s.base, s.cancel = context.WithCancel(context.Background())

	srv := smtp.NewServer(backend{s})
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxSize
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout = time.Duration(cfg.ReadTimeout)
	srv.WriteTimeout = time.Duration(cfg.WriteTimeout)
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogPrintf{deps.Logger}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("smtp: tls_cert/tls_key: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.smtp = srv
	return s, nil
}

// Config is the validated configuration, defaults filled in (its
// NoJunkSort as it was at the start).
func (s *Server) Config() Config { return s.cfg }

// SetNoJunkSort changes Config.NoJunkSort for the messages filed from now
// on (a reload of the daemon config overlay).
func (s *Server) SetNoJunkSort(v bool) { s.p.noJunkSort.Store(v) }

// NoJunkSort is the current Config.NoJunkSort.
func (s *Server) NoJunkSort() bool { return s.p.noJunkSort.Load() }

// Serve accepts connections on l until Shutdown or Close. It returns nil
// after those, else the listener's error.
func (s *Server) Serve(l net.Listener) error {
	err := s.smtp.Serve(&limitListener{Listener: l, s: s})
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for the open sessions until ctx
// ends; then it cancels what is still running and closes it.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		s.cancel()
		cerr := s.smtp.Close()
		if errors.Is(cerr, smtp.ErrServerClosed) {
			cerr = nil
		}
		return errors.Join(err, cerr)
	}
	s.cancel()
	return nil
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.cancel()
	err := s.smtp.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

type backend struct{ s *Server }

// NewSession starts the session's context (go-smtp has none): it ends in
// Logout, or when the server closes. go-smtp calls it at HELO/EHLO (and
// again after STARTTLS); the connection's blocklist lookups, started at
// connect, come with it.
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := b.s
	ctx, cancel := context.WithCancel(s.base)
	conn := c.Conn()
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	var dnsbl *dnsblCheck
	if lc, ok := conn.(*limitedConn); ok {
		dnsbl = lc.dnsbl
	}
	ip := remoteIP(conn)
	return &session{
		s:      s,
		ctx:    ctx,
		cancel: cancel,
		ip:     ip,
		helo:   c.Hostname(),
		log:    s.log.With("client", ip.String(), "helo", c.Hostname()),
		dnsbl:  dnsbl,
	}, nil
}

// loadAvg reads the 1-minute load average from /proc/loadavg.
func loadAvg() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("empty /proc/loadavg")
	}
	return strconv.ParseFloat(f[0], 64)
}

// slogPrintf gives go-smtp's logger interface to slog.
type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, v ...any) {
	p.l.Warn("smtp server", "msg", fmt.Sprintf(format, v...))
}
func (p slogPrintf) Println(v ...any) { p.l.Warn("smtp server", "msg", fmt.Sprint(v...)) }

var _ = maildir.New
