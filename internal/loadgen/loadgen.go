// Package loadgen is the load generator of the peer benchmark (make
// bench): it sends mail to a spam filter daemon from a number of
// concurrent clients and measures messages per second and the latency of
// each request.
//
// Every request has its own TCP connection, as spamc opens one per
// message: dial, write the whole request, read the whole answer until the
// server closes, check its status line. Two wire formats are spoken, the
// ones the peers are driven with:
//
//   - SpamdSymbols: "SYMBOLS SPAMC/1.5" to SpamAssassin's spamd or
//     gospamd serve (the answer is "SPAMD/1.x 0 EX_OK" and the rule names).
//   - RspamdCheckV2: "POST /checkv2 HTTP/1.1" to rspamd's normal worker
//     (the answer is "HTTP/1.x 200" and a JSON document).
//
// The generator is deliberately lean (no HTTP client, no spamc client
// library, one buffer a client reused from request to request) so that
// what is measured is the server. It does not parse the answers beyond
// their status.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A Protocol is the wire format of the requests.
type Protocol int

// The protocols, see the package comment.
const (
	SpamdSymbols Protocol = iota
	RspamdCheckV2
)

func (p Protocol) String() string {
	switch p {
	case SpamdSymbols:
		return "spamd SYMBOLS"
	case RspamdCheckV2:
		return "rspamd /checkv2"
	}
	return "protocol(" + strconv.Itoa(int(p)) + ")"
}

// Options say what load to send where.
type Options struct {
	Addr     string // host:port
	Protocol Protocol
	// Clients send requests concurrently (default 8).
	Clients int
	// Messages are sent in order, cycling; Requests is how many are sent
	// in all (default len(Messages)).
	Messages [][]byte
	Requests int
	// Timeout bounds one request, connection included (default 60 s).
	Timeout time.Duration
	// Match, when not empty, is looked for in every successful answer
	// (a rule name, to see that a feature such as Bayes answered).
	Match []byte
}

// A Result is what one Run measured.
type Result struct {
	Requests int           // answered, successfully or not
	Failed   int           // of which failed (connection, timeout, status)
	FirstErr error         // the first failure, if any
	Elapsed  time.Duration // wall time of the whole run
	Matched  int           // successful answers containing Options.Match
	// Latencies of the successful requests, sorted.
	Latencies []time.Duration
}

// PerSecond is the successful requests per second of wall time.
func (r *Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which the fraction p (0 to 1) of
// the successful requests fall (nearest rank), or 0 with none.
func (r *Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(p*float64(n)+0.999999) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// Run sends the load and returns when every request is answered or ctx is
// done. Failed requests are counted, not fatal; the error is only for
// options that make no sense or a cancelled ctx.
func Run(ctx context.Context, opt Options) (*Result, error) {
	if len(opt.Messages) == 0 {
		return nil, errors.New("loadgen: no messages")
	}
	if opt.Addr == "" {
		return nil, errors.New("loadgen: no address")
	}
	clients := opt.Clients
	if clients <= 0 {
		clients = 8
	}
	total := opt.Requests
	if total <= 0 {
		total = len(opt.Messages)
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	host, _, err := net.SplitHostPort(opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: address %q: %w", opt.Addr, err)
	}
	// Requests are built before the clock starts.
	reqs := make([][]byte, len(opt.Messages))
	for i, m := range opt.Messages {
		reqs[i] = BuildRequest(opt.Protocol, host, m)
	}

	var (
		next     atomic.Int64
		mu       sync.Mutex
		failed   int
		matched  atomic.Int64
		firstErr error
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, clients)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := client{addr: opt.Addr, proto: opt.Protocol, timeout: timeout}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				t0 := time.Now()
				if err := cl.do(ctx, reqs[i%len(reqs)]); err != nil {
					mu.Lock()
					failed++
					if firstErr == nil {
						firstErr = fmt.Errorf("request %d: %w", i, err)
					}
					mu.Unlock()
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
				if len(opt.Match) > 0 && bytes.Contains(cl.buf.Bytes(), opt.Match) {
					matched.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	r := &Result{Elapsed: time.Since(start), Failed: failed, FirstErr: firstErr, Latencies: slices.Concat(lat...), Matched: int(matched.Load())}
	slices.Sort(r.Latencies)
	r.Requests = len(r.Latencies) + failed
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("loadgen: %w", err)
	}
	return r, nil
}

// BuildRequest returns the bytes of one request carrying msg.
func BuildRequest(p Protocol, host string, msg []byte) []byte {
	var b bytes.Buffer
	switch p {
	case RspamdCheckV2:
		fmt.Fprintf(&b, "POST /checkv2 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", host, len(msg))
	default:
		fmt.Fprintf(&b, "SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\n\r\n", len(msg))
	}
	b.Write(msg)
	return b.Bytes()
}

// client is one of the concurrent senders; its buffer is reused.
type client struct {
	addr    string
	proto   Protocol
	timeout time.Duration
	dialer  net.Dialer
	buf     bytes.Buffer
}

// do sends one request on a new connection and reads the whole answer.
func (c *client) do(ctx context.Context, req []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("set deadline: %w", err)
		}
	}
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	if tc, ok := conn.(*net.TCPConn); ok && c.proto == SpamdSymbols {
		// spamc half-closes after the body; spamd reads to Content-length
		// all the same, but some servers wait for it.
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("half-close: %w", err)
		}
	}
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(conn); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read answer: %w", err)
	}
	return CheckAnswer(c.proto, c.buf.Bytes())
}

// CheckAnswer returns an error unless answer is a complete, successful
// answer to a request of protocol p.
func CheckAnswer(p Protocol, answer []byte) error {
	line, rest, ok := bytes.Cut(answer, []byte("\r\n"))
	if !ok {
		return fmt.Errorf("answer without a status line (%d bytes)", len(answer))
	}
	f := bytes.Fields(line)
	switch p {
	case RspamdCheckV2:
		if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/")) || string(f[1]) != "200" {
			return fmt.Errorf("answer %q", line)
		}
	default:
		if len(f) < 3 || !bytes.HasPrefix(f[0], []byte("SPAMD/")) || string(f[1]) != "0" {
			return fmt.Errorf("answer %q", line)
		}
	}
	head, body, ok := bytes.Cut(rest, []byte("\r\n\r\n"))
	if !ok {
		return fmt.Errorf("answer %q: headers not ended", line)
	}
	for _, h := range bytes.Split(head, []byte("\r\n")) {
		name, val, _ := bytes.Cut(h, []byte(":"))
		if !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-length")) {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
		if err != nil {
			return fmt.Errorf("answer %q: Content-length %q", line, val)
		}
		if len(body) < n {
			return fmt.Errorf("answer %q: body cut at %d of %d bytes", line, len(body), n)
		}
	}
	return nil
}
