package spamdproto

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Client talks to a spamd server: one connection per request, as spamc
// does. Its zero value connects to localhost:783 over TCP.
//
// # Connecting
//
// With UnixSocket set the client makes one attempt on that socket.
// Otherwise every entry of Hosts is resolved first (unresolvable ones are
// dropped; when none resolves the error is EX_NOHOST, or EX_TEMPFAIL when
// a lookup failed temporarily), then the client makes Retries connection
// attempts: attempt k goes to host k mod len(Hosts) and tries each of its
// addresses in turn. Between attempts it sleeps RetrySleep, except after
// a refused connection when another host remains to be tried. This is
// spamc's -d failover. A connection that cannot be made is EX_UNAVAILABLE
// (refused, timed out by the kernel, network unreachable), EX_NOPERM
// (EACCES) or EX_SOFTWARE (anything else, including ConnectTimeout, which
// is what spamc answers when its connect alarm fires).
//
// # Errors
//
// Every error a method returns is an *Error whose Code is a sysexits.h
// status. When the server answered with an error status line, Code is the
// server's code, Msg its detail, and the error wraps ErrServerStatus.
// Otherwise the client detected the failure: EX_IOERR (the connection
// failed or timed out while reading, or the answer ended early),
// EX_PROTOCOL (the answer is malformed, lacks a header its verb needs, or
// its body does not match Content-length), EX_TOOBIG (the body exceeds
// MaxResponseBody), or a connect status above. A cancelled ctx closes the
// connection and the error wraps ctx.Err().
//
// Whenever the status line was read, the returned *Result is non-nil,
// even together with an error.
//
// # Concurrency
//
// A Client is not modified by its methods; one Client may serve many
// goroutines as long as nobody changes its fields meanwhile.
type Client struct {
	// Hosts are "host:port" addresses tried in order (spamc -d and -p).
	// Default "localhost:783".
	Hosts []string
	// UnixSocket is the path of spamd's UNIX socket (spamc -U); when set,
	// Hosts is not used.
	UnixSocket string
	// Network restricts TCP addresses to one family: "tcp4" or "tcp6"
	// (spamc -4 and -6). Default "tcp", both.
	Network string
	// TLS, when set, makes every connection TLS from the first byte
	// (spamc -S, spamd --ssl).
	TLS *tls.Config
	// Timeout bounds each read and each write on the connection, and the
	// TLS handshake (spamc -t). Default 600 s; negative disables.
	Timeout time.Duration
	// ConnectTimeout bounds each connect attempt (spamc -n). Default
	// Timeout.
	ConnectTimeout time.Duration
	// Retries is the number of connection attempts over Hosts (spamc
	// --connect-retries). Default 3.
	Retries int
	// RetrySleep is the pause between connection attempts (spamc
	// --retry-sleep). Default 1 s; negative means no pause.
	RetrySleep time.Duration
	// MaxResponseBody bounds the answer's body; a longer one is
	// EX_TOOBIG. Default 64 MiB.
	MaxResponseBody int64
	// Dialer opens connections. Addresses it gets are numeric
	// ("127.0.0.1:783", "[::1]:783") or a socket path for "unix".
	// Default a net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// LookupHost resolves a host name to addresses. Default
	// net.DefaultResolver.LookupHost. It is not called for IP literals.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Logger gets one line per failed connection attempt. Default:
	// discard.
	Logger *slog.Logger
}

// Client defaults.
const (
	DefaultClientTimeout   = 600 * time.Second
	DefaultConnectRetries  = 3
	DefaultRetrySleep      = time.Second
	DefaultMaxResponseBody = 64 << 20
	DefaultPort            = "783"
)

// ErrServerStatus is wrapped by the *Error a Client returns when the
// server answered with a non-zero status (an error line such as
// "SPAMD/1.0 76 Bad header line: …").
var ErrServerStatus = errors.New("spamd answered with an error status")

// ClientProtocolVersion is the protocol version the client sends, the
// one spamc 4.x sends.
const ClientProtocolVersion = "1.5"

// Result is a parsed answer.
type Result struct {
	Version string // after "SPAMD/" on the status line, e.g. "1.1"
	Code    int    // status code, EX_OK on success
	Status  string // text after the code: "EX_OK", "PONG", or the error

	// HasSpam reports whether the answer carried a Spam header; the
	// fields below it are zero otherwise.
	HasSpam bool
	// Spam is the verdict: the Spam header says True, or Yes for
	// REPORT_IFSPAM (any case).
	Spam bool
	// SpamFlag, ScoreText and ThresholdText are the Spam header's words
	// as sent ("True", "1000.0", "5.0").
	SpamFlag, ScoreText, ThresholdText string
	Score, Threshold                   float64

	// ContentLength is the Content-length header, -1 when absent.
	ContentLength int64
	// Body is the answer's body: rule names (SYMBOLS), report text
	// (REPORT, REPORT_IFSPAM), the rewritten message (PROCESS) or its
	// header part (HEADERS). Nil for CHECK, PING and TELL.
	Body []byte

	// DidSet and DidRemove are what a TELL changed.
	DidSet, DidRemove Targets
}

// Check asks whether msg is spam (spamc -c): the verdict, score and
// threshold, no body.
func (c *Client) Check(ctx context.Context, user string, msg []byte, compress bool) (*Result, error) {
	return c.scan(ctx, VerbCheck, user, msg, compress)
}

// Symbols returns the names of the rules msg hits, comma-separated, in
// Body (spamc -y).
func (c *Client) Symbols(ctx context.Context, user string, msg []byte, compress bool) (*Result, error) {
	return c.scan(ctx, VerbSymbols, user, msg, compress)
}

// Report returns the report text in Body (spamc -R).
func (c *Client) Report(ctx context.Context, user string, msg []byte, compress bool) (*Result, error) {
	return c.scan(ctx, VerbReport, user, msg, compress)
}

// ReportIfSpam returns the report text in Body if msg is spam, an empty
// Body otherwise (spamc -r).
func (c *Client) ReportIfSpam(ctx context.Context, user string, msg []byte, compress bool) (*Result, error) {
	return c.scan(ctx, VerbReportIfSpam, user, msg, compress)
}

// Process returns the rewritten message in Body (spamc's default).
func (c *Client) Process(ctx context.Context, user string, msg []byte, compress bool) (*Result, error) {
	return c.scan(ctx, VerbProcess, user, msg, compress)
}

// Headers returns the rewritten message's header part, up to and
// including the empty line, in Body (spamc --headers).
func (c *Client) Headers(ctx context.Context, user string, msg []byte, compress bool) (*Result, error) {
	return c.scan(ctx, VerbHeaders, user, msg, compress)
}

// Ping checks that the server answers (spamc -K). A healthy server says
// "SPAMD/1.5 0 PONG": Code EX_OK, Status "PONG".
func (c *Client) Ping(ctx context.Context) (*Result, error) {
	head := "PING SPAMC/" + ClientProtocolVersion + "\r\n\r\n"
	return c.exchange(ctx, VerbPing, []byte(head), nil)
}

// Tell learns or forgets req.Message (spamc -L and -C): req.Set with
// req.Class learns (local) or reports (remote), req.Remove forgets
// (local) or revokes (remote). The Message-class header is sent when
// req.Class is not empty. The answer's DidSet and DidRemove say what
// the server changed: nothing when the message was already learned.
func (c *Client) Tell(ctx context.Context, req *TellRequest, compress bool) (*Result, error) {
	var h strings.Builder
	if req.Class != "" {
		h.WriteString("Message-class: " + string(req.Class) + "\r\n")
	}
	if req.Set.Any() {
		h.WriteString("Set: " + req.Set.String() + "\r\n")
	}
	if req.Remove.Any() {
		h.WriteString("Remove: " + req.Remove.String() + "\r\n")
	}
	head, body, err := messageRequest(VerbTell, h.String(), req.User, req.Message, compress)
	if err != nil {
		return nil, err
	}
	return c.exchange(ctx, VerbTell, head, body)
}

func (c *Client) scan(ctx context.Context, verb Verb, user string, msg []byte, compress bool) (*Result, error) {
	head, body, err := messageRequest(verb, "", user, msg, compress)
	if err != nil {
		return nil, err
	}
	return c.exchange(ctx, verb, head, body)
}

// messageRequest builds the request line and headers (in spamc's order:
// verb-specific headers, User, Compress, Content-length) and the body,
// deflated at spamc's level 3 when compress is set.
func messageRequest(verb Verb, extra, user string, msg []byte, compress bool) (head, body []byte, err error) {
	if strings.ContainsAny(user, "\r\n") {
		return nil, nil, &Error{Code: EX_USAGE, Msg: "user name contains a line break"}
	}
	body = msg
	if compress {
		var z bytes.Buffer
		zw, err := zlib.NewWriterLevel(&z, 3)
		if err != nil {
			return nil, nil, &Error{Code: EX_SOFTWARE, Err: fmt.Errorf("start zlib: %w", err)}
		}
		if _, err := zw.Write(msg); err != nil {
			return nil, nil, &Error{Code: EX_SOFTWARE, Err: fmt.Errorf("deflate message: %w", err)}
		}
		if err := zw.Close(); err != nil {
			return nil, nil, &Error{Code: EX_SOFTWARE, Err: fmt.Errorf("finish zlib: %w", err)}
		}
		body = z.Bytes()
	}
	var h strings.Builder
	h.WriteString(string(verb) + " SPAMC/" + ClientProtocolVersion + "\r\n")
	h.WriteString(extra)
	if user != "" {
		h.WriteString("User: " + user + "\r\n")
	}
	if compress {
		h.WriteString("Compress: zlib\r\n")
	}
	h.WriteString("Content-length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	return []byte(h.String()), body, nil
}

// exchange sends one request on a new connection and reads the answer.
func (c *Client) exchange(ctx context.Context, verb Verb, head, body []byte) (*Result, error) {
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	// The answer is complete or has already failed when we close.
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	// A write error is not final: a server that refuses a request early
	// has still answered it, and the answer says more than EPIPE.
	werr := writeRequest(conn, head, body)
	res, err := readResponse(bufio.NewReader(conn), verb, c.maxResponseBody())
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		e := AsError(err)
		return res, &Error{Code: e.Code, Msg: e.Msg, Err: errors.Join(ctx.Err(), e.Err)}
	}
	if werr != nil {
		if e := AsError(err); e.Code == EX_IOERR {
			return res, &Error{Code: e.Code, Msg: e.Msg, Err: errors.Join(werr, e.Err)}
		}
	}
	return res, err
}

func writeRequest(conn net.Conn, head, body []byte) error {
	bufs := net.Buffers{head, body}
	if _, err := bufs.WriteTo(conn); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	if cw, ok := conn.(closeWriter); ok {
		if err := cw.CloseWrite(); err != nil {
			return fmt.Errorf("half-close after request: %w", err)
		}
	}
	return nil
}

func (c *Client) maxResponseBody() int64 {
	if c.MaxResponseBody > 0 {
		return c.MaxResponseBody
	}
	return DefaultMaxResponseBody
}

func (c *Client) timeout() time.Duration { return durationOr(c.Timeout, DefaultClientTimeout) }

func (c *Client) connectTimeout() time.Duration {
	if c.ConnectTimeout == 0 {
		return c.timeout()
	}
	return durationOr(c.ConnectTimeout, 0)
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
