package spamdproto

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// closeWriter is a connection that can half-close: TCP, UNIX, TLS.
type closeWriter interface{ CloseWrite() error }

// resolvedHost is one entry of Client.Hosts with its addresses.
type resolvedHost struct {
	name  string   // as configured, for logs
	addrs []string // "ip:port"
}

// connect opens a connection to the server as the type comment
// describes, TLS included.
func (c *Client) connect(ctx context.Context) (net.Conn, error) {
	var conn net.Conn
	var err error
	if c.UnixSocket != "" {
		conn, err = c.dialOne(ctx, "unix", c.UnixSocket)
		if err != nil {
			c.logger().Warn("spamd connect failed", slog.String("socket", c.UnixSocket), slog.Any("err", err))
			return nil, &Error{Code: connectCode(err), Err: fmt.Errorf("connect to spamd socket %s: %w", c.UnixSocket, err)}
		}
	} else {
		conn, err = c.connectTCP(ctx)
		if err != nil {
			return nil, err
		}
	}
	conn = &idleConn{Conn: conn, timeout: c.timeout()}
	if c.TLS == nil {
		return conn, nil
	}
	tc := tls.Client(conn, c.TLS)
	hctx := ctx
	if t := c.timeout(); t > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = conn.Close()
		return nil, &Error{Code: EX_UNAVAILABLE, Err: fmt.Errorf("TLS handshake with spamd: %w", err)}
	}
	return &tlsConn{Conn: tc, raw: conn}, nil
}

// connectTCP runs spamc's connect loop over the resolved hosts.
func (c *Client) connectTCP(ctx context.Context) (net.Conn, error) {
	hosts, err := c.resolve(ctx)
	if err != nil {
		return nil, err
	}
	attempts := c.Retries
	if attempts <= 0 {
		attempts = DefaultConnectRetries
	}
	sleep := durationOr(c.RetrySleep, DefaultRetrySleep)
	var lastErr error
	for k := range attempts {
		h := hosts[k%len(hosts)]
		innocent := false
		for _, addr := range h.addrs {
			conn, err := c.dialOne(ctx, "tcp", addr)
			if err == nil {
				return conn, nil
			}
			lastErr = err
			// A refused connection with another host left to try is
			// failover at work, not worth a pause (or a warning).
			innocent = errors.Is(err, syscall.ECONNREFUSED) && k+1 < len(hosts)
			level := slog.LevelWarn
			if innocent {
				level = slog.LevelDebug
			}
			c.logger().Log(ctx, level, "spamd connect failed", slog.String("host", h.name), slog.String("addr", addr),
				slog.Int("attempt", k+1), slog.Int("attempts", attempts), slog.Any("err", err))
		}
		if ctx.Err() != nil {
			break
		}
		if k+1 < attempts && !innocent && sleep > 0 {
			t := time.NewTimer(sleep)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
	if ctx.Err() != nil {
		return nil, &Error{Code: EX_UNAVAILABLE, Err: fmt.Errorf("connect to spamd: %w", errors.Join(ctx.Err(), lastErr))}
	}
	return nil, &Error{Code: connectCode(lastErr),
		Err: fmt.Errorf("connect to spamd: gave up after %d attempts: %w", attempts, lastErr)}
}

// dialOne makes one connection attempt within ConnectTimeout.
func (c *Client) dialOne(ctx context.Context, network, addr string) (net.Conn, error) {
	if t := c.connectTimeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	dial := c.Dialer
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return dial(ctx, network, addr)
}

// resolve looks up every host, keeping those with addresses of the
// configured family.
func (c *Client) resolve(ctx context.Context) ([]resolvedHost, error) {
	hosts := c.Hosts
	if len(hosts) == 0 {
		hosts = []string{net.JoinHostPort("localhost", DefaultPort)}
	}
	lookup := c.LookupHost
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	var out []resolvedHost
	temporary := false
	var lastErr error
	for _, hp := range hosts {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			lastErr = fmt.Errorf("spamd address %q: %w", hp, err)
			continue
		}
		var ips []string
		if _, err := netip.ParseAddr(host); err == nil {
			ips = []string{host}
		} else if ips, err = lookup(ctx, host); err != nil {
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && (dnsErr.IsTemporary || dnsErr.IsTimeout) {
				temporary = true
			}
			lastErr = fmt.Errorf("look up spamd host %s: %w", host, err)
			c.logger().Debug("spamd host lookup failed", slog.String("host", host), slog.Any("err", err))
			continue
		}
		rh := resolvedHost{name: hp}
		for _, ip := range ips {
			if c.familyAllows(ip) {
				rh.addrs = append(rh.addrs, net.JoinHostPort(ip, port))
			}
		}
		if len(rh.addrs) == 0 {
			if lastErr == nil || len(ips) > 0 {
				lastErr = fmt.Errorf("spamd host %s has no %s address", host, c.Network)
			}
			continue
		}
		out = append(out, rh)
	}
	if len(out) > 0 {
		return out, nil
	}
	if temporary {
		return nil, &Error{Code: EX_TEMPFAIL, Err: fmt.Errorf("could not resolve any spamd host: %w", lastErr)}
	}
	return nil, &Error{Code: EX_NOHOST, Err: fmt.Errorf("could not resolve any spamd host: %w", lastErr)}
}

func (c *Client) familyAllows(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	switch c.Network {
	case "tcp4":
		return a.Unmap().Is4()
	case "tcp6":
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// connectCode maps a failed connect to spamc's status: refused, timed
// out by the kernel or network unreachable is EX_UNAVAILABLE, EACCES is
// EX_NOPERM, the rest (a missing socket file, our own connect timeout,
// which spamc sees as EINTR) is EX_SOFTWARE.
func connectCode(err error) int {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.ENETUNREACH):
		return EX_UNAVAILABLE
	case errors.Is(err, syscall.EACCES):
		return EX_NOPERM
	}
	return EX_SOFTWARE
}

// idleConn bounds every Read and Write by timeout, like spamc's alarm
// around each read(2).
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Write(p)
}

// CloseWrite half-closes when the connection can; otherwise the server
// relies on Content-length.
func (c *idleConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

// tlsConn half-closes like spamc does after a request over TLS: a TLS
// close_notify, then a TCP shutdown of the write side.
type tlsConn struct {
	*tls.Conn
	raw net.Conn
}

func (c *tlsConn) CloseWrite() error {
	if err := c.Conn.CloseWrite(); err != nil {
		return fmt.Errorf("send TLS close_notify: %w", err)
	}
	if cw, ok := c.raw.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}
