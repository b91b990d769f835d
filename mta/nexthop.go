package mta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// A nextHop forwards accepted mail to an SMTP or LMTP server (next_hop)
// instead of writing Maildirs: the server behind us (Dovecot's LMTP, a
// Postfix on another port) stores it and files it, e.g. into the junk
// folder by a Sieve rule on X-Spam-Flag. We add only the markup.
//
// # Copies and transactions
//
// Each recipient's copy carries that user's markup. Recipients whose
// copies are byte-identical share one transaction; the others go as
// separate transactions, one after the other on one connection. The
// Return-Path line our trace put in front is dropped, since the final
// delivery writes its own (RFC 5321 §4.4); the Received line stays.
//
// # Answers
//
// forward returns nil only when the next hop accepted every copy: over
// LMTP each recipient's own reply after DATA counts, over SMTP the reply
// to DATA. Anything else is a *hopError and the SMTP client is answered
// 4xx (5xx only when every recipient was refused permanently), so a
// message is never answered 250 while some recipient lacks its copy. A
// retry after a partial failure gives the recipients already served a
// second copy; duplicates are the price of never losing mail, as with
// any MTA that splits a message into several transactions.
//
// A nextHop holds no connection between messages and is safe for
// concurrent use.
type nextHop struct {
	lmtp    bool
	network string
	addr    string
	host    string        // our name in LHLO/EHLO
	timeout time.Duration // for one message, all its transactions
}

func newNextHop(cfg *Config) (*nextHop, error) {
	proto, addr, err := parseNextHop(cfg.NextHop)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(cfg.DeliveryTimeout)
	if timeout <= 0 {
		timeout = DefaultDeliveryTimeout
	}
	host := cfg.Hostname
	if host == "" {
		host = "localhost"
	}
	return &nextHop{lmtp: proto == "lmtp", network: addr[0], addr: addr[1], host: host, timeout: timeout}, nil
}

func (h *nextHop) String() string {
	proto := "smtp"
	if h.lmtp {
		proto = "lmtp"
	}
	if h.network == "unix" {
		return proto + ":unix:" + h.addr
	}
	return proto + ":" + h.addr
}

// A hopCopy is one message as it goes to the next hop and the
// recipients it goes to in one transaction.
type hopCopy struct {
	msg   []byte
	rcpts []string
}

// A hopError says which recipients the next hop did not take, and why.
type hopError struct {
	hop      string
	refused  map[string]error // by recipient; the error is an *smtp.SMTPError when the hop answered
	accepted int
	skipped  int // recipients that were not to be forwarded (dropped spam)
}

func (e *hopError) Error() string {
	rcpts := make([]string, 0, len(e.refused))
	for r := range e.refused {
		rcpts = append(rcpts, r)
	}
	slices.Sort(rcpts)
	parts := make([]string, len(rcpts))
	for i, r := range rcpts {
		parts[i] = fmt.Sprintf("<%s>: %v", r, e.refused[r])
	}
	return fmt.Sprintf("next hop %s: %d of %d copies not accepted: %s", e.hop, len(rcpts),
		len(rcpts)+e.accepted, strings.Join(parts, "; "))
}

func (e *hopError) Unwrap() []error {
	out := make([]error, 0, len(e.refused))
	for _, err := range e.refused {
		out = append(out, err)
	}
	return out
}

// permanent reports whether the whole message may be refused for good:
// the next hop refused every recipient with a 5xx and took none.
func (e *hopError) permanent() bool {
	if e.accepted > 0 || e.skipped > 0 || len(e.refused) == 0 {
		return false
	}
	for _, err := range e.refused {
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code < 500 {
			return false
		}
	}
	return true
}

// copies groups the recipients filed for delivery by the copy they get.
func copies(mail []rcpt, filings []Filing, scanned map[string]*Scanned) (out []hopCopy, skipped int) {
	seen := map[string]bool{}
	for i, r := range mail {
		if filings[i] != FileInbox && filings[i] != FileJunk {
			skipped++
			continue
		}
		key := strings.ToLower(r.addr)
		if seen[key] {
			continue
		}
		seen[key] = true
		msg := withoutReturnPath(scanned[r.mb.User].Message)
		j := slices.IndexFunc(out, func(c hopCopy) bool { return bytes.Equal(c.msg, msg) })
		if j < 0 {
			out = append(out, hopCopy{msg: msg})
			j = len(out) - 1
		}
		out[j].rcpts = append(out[j].rcpts, r.addr)
	}
	return out, skipped
}

// forward hands every recipient's copy to the next hop (see nextHop).
func (h *nextHop) forward(ctx context.Context, d *delivery, mail []rcpt, filings []Filing, scanned map[string]*Scanned) error {
	cps, skipped := copies(mail, filings, scanned)
	if len(cps) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	dialer := net.Dialer{Timeout: min(h.timeout, defaultNextHopDialLimit)}
	conn, err := dialer.DialContext(ctx, h.network, h.addr)
	if err != nil {
		return fmt.Errorf("next hop %s: %w", h, err)
	}
	// go-smtp's client takes no context: closing the connection when ctx
	// ends unblocks whatever it is waiting for.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var c *smtp.Client
	if h.lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = h.timeout, h.timeout
	defer func() {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			d.log.Debug("next hop: close", "next_hop", h.String(), "err", err)
		}
	}()
	if err := c.Hello(h.host); err != nil {
		return fmt.Errorf("next hop %s: hello: %w", h, err)
	}

	he := &hopError{hop: h.String(), refused: map[string]error{}, skipped: skipped}
	for i, cp := range cps {
		refused, err := h.send(c, d.env.MailFrom, cp)
		for _, r := range cp.rcpts {
			if e, bad := refused[r]; bad {
				he.refused[r] = e
				d.log.Warn("next hop did not take a copy", "next_hop", h.String(), "rcpt", r, "err", e)
			} else {
				he.accepted++
			}
		}
		if err != nil {
			// The connection is unusable: the copies not sent yet fail
			// with it.
			for _, later := range cps[i+1:] {
				for _, r := range later.rcpts {
					he.refused[r] = err
				}
			}
			return he
		}
	}
	if err := c.Quit(); err != nil {
		d.log.Debug("next hop: quit", "next_hop", h.String(), "err", err)
	}
	if len(he.refused) > 0 {
		return he
	}
	return nil
}

// send runs one transaction for cp. refused has an entry for every
// recipient of cp whose copy the next hop did not accept. err is set
// when the connection cannot be used any more.
func (h *nextHop) send(c *smtp.Client, from string, cp hopCopy) (refused map[string]error, err error) {
	refused = map[string]error{}
	rest := func(cause error) {
		for _, r := range cp.rcpts {
			if _, ok := refused[r]; !ok {
				refused[r] = cause
			}
		}
	}
	opts := &smtp.MailOptions{Size: int64(len(cp.msg)), UTF8: !isASCII(from) || slices.ContainsFunc(cp.rcpts, func(r string) bool { return !isASCII(r) })}
	if ok, _ := c.Extension("SMTPUTF8"); opts.UTF8 && !ok {
		// Dovecot's LMTP, for one, has no SMTPUTF8: a refusal for good,
		// not a retry that can never succeed.
		rest(&smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
			Message: "the next hop does not take internationalized addresses"})
		return refused, nil
	}
	if err := c.Mail(from, opts); err != nil {
		rest(err)
		return refused, h.reset(c, err)
	}
	var taken []string
	for _, r := range cp.rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			refused[r] = err
			if !isReply(err) {
				rest(err)
				return refused, err
			}
			continue
		}
		taken = append(taken, r)
	}
	if len(taken) == 0 {
		return refused, h.reset(c, nil)
	}
	w, err := c.Data()
	if err != nil {
		rest(err)
		return refused, h.reset(c, err)
	}
	if _, err := w.Write(cp.msg); err != nil {
		rest(err)
		return refused, err
	}
	if !h.lmtp {
		if err := w.Close(); err != nil {
			rest(err)
			if !isReply(err) {
				return refused, err
			}
		}
		return refused, nil
	}
	// LMTP: one reply per recipient taken at RCPT.
	resp, err := w.CloseWithLMTPResponse()
	var per smtp.LMTPDataError
	errors.As(err, &per)
	for _, r := range taken {
		switch {
		case resp[r] != nil:
		case per[r] != nil:
			refused[r] = per[r]
		default:
			refused[r] = fmt.Errorf("no reply for this recipient: %w", err)
		}
	}
	if _, only := err.(smtp.LMTPDataError); err != nil && !only {
		return refused, err
	}
	return refused, nil
}

// reset ends a transaction the next hop refused part of; cause is the
// refusal. It returns an error when the connection cannot be used any
// more.
func (h *nextHop) reset(c *smtp.Client, cause error) error {
	if cause != nil && !isReply(cause) {
		return cause
	}
	if err := c.Reset(); err != nil {
		return fmt.Errorf("RSET: %w", err)
	}
	return nil
}

// isReply reports whether err is the server's answer (the connection
// still works) rather than a failure of the connection.
func isReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// withoutReturnPath drops a leading Return-Path field: the trace we put
// in front for the scan has one, and the final delivery writes its own.
func withoutReturnPath(msg []byte) []byte {
	const name = "return-path:"
	if len(msg) < len(name) || !bytes.EqualFold(msg[:len(name)], []byte(name)) {
		return msg
	}
	i := bytes.IndexByte(msg, '\n')
	for i >= 0 && i+1 < len(msg) && (msg[i+1] == ' ' || msg[i+1] == '\t') { // folded
		j := bytes.IndexByte(msg[i+1:], '\n')
		if j < 0 {
			return msg
		}
		i += 1 + j
	}
	if i < 0 {
		return msg
	}
	return msg[i+1:]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
