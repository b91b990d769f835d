package mta

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// connLimits counts open connections, in total and per client address.
type connLimits struct {
	max, perIP int

	mu    sync.Mutex
	total int
	byIP  map[netip.Addr]int
}

func newConnLimits(max, perIP int) *connLimits {
	return &connLimits{max: max, perIP: perIP, byIP: map[netip.Addr]int{}}
}

// acquire takes a slot for ip, or says which limit is reached.
func (l *connLimits) acquire(ip netip.Addr) (reason, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return reasonConnLimit, false
	}
	if l.byIP[ip] >= l.perIP {
		return reasonIPLimit, false
	}
	l.total++
	l.byIP[ip]++
	return "", true
}

func (l *connLimits) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// limitListener refuses connections beyond the limits with 421 before
// go-smtp sees them, and wraps the others for the early-talker check.
type limitListener struct {
	net.Listener
	s *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if why, ok := l.s.limits.acquire(ip); !ok {
			l.s.log.Info("smtp connection refused", "client", ip.String(), "reason", why)
			go refuse(c, why, time.Duration(l.s.cfg.WriteTimeout))
			continue
		}
		return &limitedConn{Conn: c, s: l.s, ip: ip, greetDelay: time.Duration(l.s.cfg.GreetDelay),
			dnsbl: l.s.startDNSBL(ip)}, nil
	}
}

func refuse(c net.Conn, why reason, timeout time.Duration) {
	e := reply(why)
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	_, _ = c.Write([]byte(smtpLine(e.Code, e.EnhancedCode, e.Message)))
	_ = c.Close()
}

func smtpLine(code int, ec [3]int, msg string) string {
	return fmt.Sprintf("%d %d.%d.%d %s\r\n", code, ec[0], ec[1], ec[2], msg)
}

func remoteIP(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// limitedConn releases its slot on Close and, with a greet delay, holds
// the greeting back and refuses a client that talks first. It carries
// the connection's blocklist lookups (nil without) and stops them on
// Close.
type limitedConn struct {
	net.Conn
	s          *Server
	ip         netip.Addr
	greetDelay time.Duration
	greeted    bool
	closeOnce  sync.Once
	dnsbl      *dnsblCheck
}

var errEarlyTalker = errors.New("client talked before the greeting")

func (c *limitedConn) Write(b []byte) (int, error) {
	if !c.greeted {
		c.greeted = true
		if c.greetDelay > 0 {
			if err := c.Conn.SetReadDeadline(time.Now().Add(c.greetDelay)); err != nil {
				return 0, err
			}
			var one [1]byte
			n, err := c.Conn.Read(one[:])
			if n > 0 {
				c.s.log.Info("smtp connection refused", "client", c.ip.String(), "reason", reasonEarlyTalker)
				e := reply(reasonEarlyTalker)
				_, _ = c.Conn.Write([]byte(smtpLine(e.Code, e.EnhancedCode, e.Message)))
				_ = c.Close()
				return 0, errEarlyTalker
			}
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, err
			}
			if err := c.Conn.SetReadDeadline(time.Time{}); err != nil {
				return 0, err
			}
		}
	}
	return c.Conn.Write(b)
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		c.dnsbl.stop()
		c.s.limits.release(c.ip)
	})
	return err
}
