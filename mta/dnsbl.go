package mta

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// The connect-time blocklist checks (dnsbl_reject), after SME Server's
// qpsmtpd dnsbl plugin and RFC 5782: when a client connects, its
// address is looked up in every list at once, under one deadline
// (dnsbl_timeout) counted from the connection, while the client reads
// the greeting and says EHLO. The answer is given at RCPT, so a listed
// client can still reach postmaster (dnsbl_exempt_rcpt), and only then
// does a session wait for lookups still running. What a list found is
// kept apart from what is done with it: a dnsblResult says which list
// listed the client, the session refuses the recipients.

// DNSBLResolver is the DNS client the blocklist checks use
// (*resolver.Resolver, which caches answers for their TTL).
type DNSBLResolver interface {
	// LookupA returns the IPv4 addresses of name: none and no error when
	// it does not exist (not listed); an error when no usable answer
	// came (a timeout, SERVFAIL, ctx done). zone labels the resolver's
	// metrics.
	LookupA(ctx context.Context, name, zone string) ([]netip.Addr, error)
}

// A dnsblCheck is one connection's lookups. done is closed once every
// list has answered or the deadline passed; then listed is the first
// list (in dnsbl_reject order) that listed the client, "" for none,
// and answer its answer.
type dnsblCheck struct {
	ip     netip.Addr
	done   chan struct{}
	cancel context.CancelFunc
	listed string
	answer netip.Addr
}

// startDNSBL starts the lookups of a client connecting from ip; nil
// when there are no lists or ip is exempt. The lookups stop at the
// deadline, when stop is called (the connection closed) or when the
// server closes.
func (s *Server) startDNSBL(ip netip.Addr) *dnsblCheck {
	if len(s.cfg.DNSBLReject) == 0 || s.dnsblExempt(ip) {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.base, time.Duration(s.cfg.DNSBLTimeout))
	c := &dnsblCheck{ip: ip, done: make(chan struct{}), cancel: cancel}
	name := reverseIP(ip)
	hits := make([]netip.Addr, len(s.cfg.DNSBLReject))
	var wg sync.WaitGroup
	for i, zone := range s.cfg.DNSBLReject {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					s.log.Error("smtp: dnsbl lookup panicked", "zone", zone, "client", ip.String(), "panic", p)
				}
			}()
			hits[i] = lookupDNSBL(ctx, s.deps.DNSBL, s.log, ip, name, zone)
		})
	}
	go func() {
		wg.Wait()
		cancel()
		for i, a := range hits {
			if a.IsValid() {
				c.listed, c.answer = s.cfg.DNSBLReject[i], a
				break
			}
		}
		close(c.done)
	}()
	return c
}

// lookupDNSBL asks one list about ip (whose reversed name is name): the
// listing answer, or the zero Addr when not listed, when the list did
// not answer in time or answered with something else than 127.0.0.x.
func lookupDNSBL(ctx context.Context, r DNSBLResolver, log *slog.Logger, ip netip.Addr, name, zone string) netip.Addr {
	addrs, err := r.LookupA(ctx, name+"."+zone, zone)
	if err != nil {
		log.Warn("smtp: dnsbl lookup failed, taken as not listed", "zone", zone, "client", ip.String(), "err", err)
		return netip.Addr{}
	}
	for _, a := range addrs {
		if listingAnswer(a) {
			return a
		}
	}
	if len(addrs) > 0 {
		// 127.255.255.254 and the like: the list refused to answer us
		// (a public resolver, no subscription) or is misconfigured.
		log.Warn("smtp: dnsbl answered outside 127.0.0.0/24, taken as not listed", "zone", zone,
			"client", ip.String(), "answer", fmt.Sprint(addrs))
	}
	return netip.Addr{}
}

// listingAnswer reports whether a is a blocklist's "listed": 127.0.0.x
// (RFC 5782 §2.1).
func listingAnswer(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] == 127 && b[1] == 0 && b[2] == 0
}

// wait returns the list that listed the client, "" for none; it waits
// for lookups still running, at most until their deadline or until ctx
// is done (then the client counts as not listed).
func (c *dnsblCheck) wait(ctx context.Context) (zone string, answer netip.Addr) {
	if c == nil {
		return "", netip.Addr{}
	}
	select {
	case <-c.done:
		return c.listed, c.answer
	case <-ctx.Done():
		return "", netip.Addr{}
	}
}

// stop ends the lookups (the connection closed).
func (c *dnsblCheck) stop() {
	if c != nil {
		c.cancel()
	}
}

// dnsblReply is the answer to a listed client's RCPT, naming the list
// as Postfix's reject_rbl_client does.
func dnsblReply(ip netip.Addr, zone string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "Service unavailable; client host [" + ip.String() + "] blocked using " + zone}
}

// dnsblExempt reports whether ip is never looked up: the first
// dnsbl_exempt_networks entry that contains it decides; else loopback,
// private, link-local and unspecified addresses and the
// header_checks_exempt networks are exempt.
func (s *Server) dnsblExempt(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	for _, r := range s.dnsblNets {
		if r.prefix.Contains(ip) {
			return !r.exclude
		}
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range s.exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// dnsblExemptRcpt reports whether a listed client may write to rcpt.
func (s *Server) dnsblExemptRcpt(rcpt string) bool {
	rcpt = strings.ToLower(rcpt)
	local, _, ok := splitAddress(rcpt)
	if !ok {
		local = rcpt // "<postmaster>" without a domain (RFC 5321 §4.1.1.3)
	}
	for _, e := range s.cfg.DNSBLExemptRcpt {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == rcpt || !strings.Contains(e, "@") && e == local {
			return true
		}
	}
	return false
}

// A netRule is one entry of a first-match network list; exclude is a
// "!" entry.
type netRule struct {
	prefix  netip.Prefix
	exclude bool
}

func parseNetRules(list []string) ([]netRule, error) {
	out := make([]netRule, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		body, exclude := strings.CutPrefix(s, "!")
		nets, err := parseNets([]string{body})
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, netRule{prefix: nets[0], exclude: exclude})
	}
	return out, nil
}

// reverseIP is ip's name under a blocklist zone: the IPv4 octets
// reversed ("4.3.2.1"), an IPv6 address's 32 nibbles reversed (RFC 5782
// §2.4).
func reverseIP(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		return strconv.Itoa(int(b[3])) + "." + strconv.Itoa(int(b[2])) + "." + strconv.Itoa(int(b[1])) + "." + strconv.Itoa(int(b[0]))
	}
	const hex = "0123456789abcdef"
	b := ip.As16()
	out := make([]byte, 0, 63)
	for i := 15; i >= 0; i-- {
		if i < 15 {
			out = append(out, '.')
		}
		out = append(out, hex[b[i]&0xf], '.', hex[b[i]>>4])
	}
	return string(out)
}
