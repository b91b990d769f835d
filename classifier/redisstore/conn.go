package redisstore

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// The lookup connections: a scan's read is one pipeline of plain
// commands (read.go), written in one write and read back without
// allocating, on connections of the store's own rather than go-redis's
// (whose per-command objects and reply values cost a scan of a thousand
// tokens more CPU than the rest of its Bayes work). Everything else goes
// through go-redis.

// errPoolTimeout is a lookup that waited its whole deadline for a
// connection: every one is busy with a server that does not answer.
var errPoolTimeout = errors.New("redis lookup: no connection free in time")

// A rawConn is one lookup connection.
type rawConn struct {
	nc  net.Conn
	rr  respReader
	buf []byte // the request being written, reused
}

// rawPool keeps the lookup connections: at most size open, the idle
// ones for reuse.
type rawPool struct {
	network, addr      string
	tls                *tls.Config // nil for none
	username, password string
	db                 int
	dialTimeout        time.Duration
	cmdTimeout         time.Duration

	slots chan struct{} // one per open connection allowed

	mu     sync.Mutex
	idle   []*rawConn
	closed bool
}

func newRawPool(opt *Options, network string, tlsConfig *tls.Config) *rawPool {
	size := opt.PoolSize
	if size <= 0 {
		size = 10 * runtime.GOMAXPROCS(0)
	}
	if network == "" {
		network = "tcp"
	}
	return &rawPool{
		network: network, addr: opt.Addr, tls: tlsConfig,
		username: opt.Username, password: opt.Password, db: opt.DB,
		dialTimeout: opt.DialTimeout, cmdTimeout: opt.CommandTimeout,
		slots: make(chan struct{}, size),
	}
}

// do sends the request write appends (one write) and reads its replies
// with read, on an idle connection or a new one, within ctx and the
// command timeout. read must read every reply of the request, even
// after an error reply (which it returns as a serverError), so that the
// connection can be reused. A connection that failed after sitting idle
// (the server restarted or closed it meanwhile) is replaced by a new one
// once, with the other idle ones, which are as likely stale; the request
// must be safe to send twice.
func (p *rawPool) do(ctx context.Context, write func([]byte) []byte, read func(*respReader) error) error {
	select {
	case p.slots <- struct{}{}:
	default:
		t := time.NewTimer(p.cmdTimeout)
		select {
		case p.slots <- struct{}{}:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			return errPoolTimeout
		}
	}
	defer func() { <-p.slots }()
	c := p.popIdle()
	reused := c != nil
	for {
		if c == nil {
			var err error
			if c, err = p.dial(ctx); err != nil {
				return err
			}
		}
		err := p.roundTrip(ctx, c, write, read)
		if err == nil || isServerError(err) {
			p.putIdle(c)
			return err
		}
		c.nc.Close()
		c = nil
		if !reused || ctx.Err() != nil || isTimeout(err) {
			return err
		}
		reused = false
		p.dropIdle()
	}
}

func isServerError(err error) bool {
	var se serverError
	return errors.As(err, &se)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// roundTrip is one request and its replies on c.
func (p *rawPool) roundTrip(ctx context.Context, c *rawConn, write func([]byte) []byte, read func(*respReader) error) (err error) {
	deadline := time.Now().Add(p.cmdTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if ctx.Done() != nil {
		// A cancellation without a deadline interrupts the I/O too.
		stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() && err == nil {
				// Cancelled just as the reply came: the connection's
				// deadline is in the past now; do not reuse it.
				err = ctx.Err()
			}
		}()
	}
	c.buf = write(c.buf[:0])
	if _, err := c.nc.Write(c.buf); err != nil {
		return ctxErr(ctx, err)
	}
	if cap(c.buf) > 1<<20 {
		c.buf = nil // do not keep a huge message's request
	}
	return ctxErr(ctx, read(&c.rr))
}

// ctxErr is err, or ctx's error when ctx ended (the I/O error is then
// merely its consequence). The connection's deadline may pass a moment
// before ctx's timer fires: an I/O timeout at ctx's deadline waits for it.
func ctxErr(ctx context.Context, err error) error {
	if err == nil || isServerError(err) {
		return err
	}
	if d, ok := ctx.Deadline(); ok && isTimeout(err) && !time.Now().Before(d) {
		<-ctx.Done()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// dial opens a connection (connect) and sends AUTH and SELECT as the
// options say.
func (p *rawPool) dial(ctx context.Context) (*rawConn, error) {
	c, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	n := 1
	err = p.roundTrip(ctx, c, func(b []byte) []byte {
		if p.password != "" {
			n++
			if p.username != "" {
				b = appendCommand(b, "AUTH", p.username, p.password)
			} else {
				b = appendCommand(b, "AUTH", p.password)
			}
		}
		if p.db != 0 {
			n++
			b = appendCommand(b, "SELECT", strconv.Itoa(p.db))
		}
		return appendCommand(b, "CLIENT", "SETNAME", "gospamd")
	}, func(r *respReader) error {
		var first error
		for range n {
			if err := r.expectStatus(); err != nil {
				if !isServerError(err) {
					return err
				}
				if first == nil {
					first = err
				}
			}
		}
		return first
	})
	if err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("redis connection setup: %w", err)
	}
	return c, nil
}

// connect opens a connection, TCP or UNIX, with TLS if configured.
func (p *rawPool) connect(ctx context.Context) (*rawConn, error) {
	d := net.Dialer{Timeout: p.dialTimeout}
	nc, err := d.DialContext(ctx, p.network, p.addr)
	if err != nil {
		return nil, err
	}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		hctx, cancel := context.WithTimeout(ctx, p.dialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	return &rawConn{nc: nc, rr: respReader{br: bufio.NewReaderSize(nc, respBufSize)}}, nil
}

func (p *rawPool) popIdle() *rawConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		return nil
	}
	c := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return c
}

func (p *rawPool) putIdle(c *rawConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.nc.Close()
		return
	}
	p.idle = append(p.idle, c)
}

// dropIdle closes the idle connections.
func (p *rawPool) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// close closes the idle connections and, as they come back, the busy
// ones.
func (p *rawPool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.dropIdle()
}
