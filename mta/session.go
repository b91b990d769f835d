package mta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gospamd/gospamd/scan"
)

// A session is one SMTP connection after HELO/EHLO. Its ctx is made in
// NewSession and cancelled in Logout (go-smtp passes no context); every
// scan and delivery of the session runs under it.
type session struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	ip     netip.Addr
	helo   string
	log    *slog.Logger
	// dnsbl is the connection's blocklist lookups, nil without.
	dnsbl *dnsblCheck

	from  string
	rcpts []rcpt
}

func (ss *session) Reset() {
	ss.from, ss.rcpts = "", nil
}

func (ss *session) Logout() error {
	ss.cancel()
	return nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if max := ss.s.cfg.MaxLoad; max > 0 {
		load, err := ss.s.deps.LoadAvg()
		if err != nil {
			ss.log.Warn("smtp: cannot read the load average", "err", err)
		} else if load > max {
			ss.log.Info("smtp mail deferred", "reason", reasonLoad, "load", load, "max_load", max)
			return reply(reasonLoad)
		}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.dnsbl != nil && !ss.s.dnsblExemptRcpt(to) {
		if zone, answer := ss.dnsbl.wait(ss.ctx); zone != "" {
			ss.log.Info("smtp recipient refused", "from", ss.from, "rcpt", to, "reason", reasonDNSBL,
				"zone", zone, "answer", answer.String())
			return dnsblReply(ss.ip, zone)
		}
	}
	r, why, err := ss.s.p.resolve(ss.from, to)
	if why != "" {
		ss.log.Info("smtp recipient refused", "from", ss.from, "rcpt", to, "reason", why, "err", err)
		return reply(why)
	}
	if err != nil {
		ss.log.Warn("smtp recipient", "rcpt", to, "err", err)
	}
	ss.rcpts = append(ss.rcpts, r)
	return nil
}

// Data reads the message, checks its headers, and hands it to the
// pipeline; the answer is 250 only once every copy is durable.
func (ss *session) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if errors.Is(err, smtp.ErrDataTooLarge) {
		ss.log.Info("smtp message refused", "from", ss.from, "reason", reasonTooBig, "max_size", ss.s.cfg.MaxSize)
		ss.s.deps.Metrics.SMTPMessage("rejected", string(reasonTooBig))
		return reply(reasonTooBig)
	}
	if err != nil {
		ss.log.Warn("smtp: reading DATA", "err", err)
		return reply(reasonDelivery)
	}
	if !ss.exempt() && !hasHeaders(msg, "From", "Date") {
		ss.log.Info("smtp message refused", "from", ss.from, "reason", reasonHeaders)
		ss.s.deps.Metrics.SMTPMessage("rejected", string(reasonHeaders))
		return reply(reasonHeaders)
	}
	env := scan.Envelope{ClientIP: ss.ip, HELO: ss.helo, MailFrom: ss.from}
	for _, r := range ss.rcpts {
		env.RcptTo = append(env.RcptTo, r.addr)
	}
	ctx, cancel := context.WithTimeout(ss.ctx, time.Duration(ss.s.cfg.ScanTimeout+ss.s.cfg.DeliveryTimeout))
	defer cancel()
	why, err := ss.s.p.process(ctx, &delivery{
		env: env, msg: msg, rcpts: ss.rcpts, canReject: true, log: ss.log,
		scan: func(ctx context.Context, user string) (*Scanned, error) {
			sctx, cancel := context.WithTimeout(ctx, time.Duration(ss.s.cfg.ScanTimeout))
			defer cancel()
			res, err := ss.s.deps.Scanner.Scan(sctx, &scan.Request{User: user, Message: msg, Envelope: env})
			if err != nil {
				return nil, err
			}
			return FromResult(res), nil
		},
	})
	if why == "" {
		ss.s.deps.Metrics.SMTPMessage("accepted", "")
		return nil
	}
	e := reply(why)
	result := "rejected"
	if e.Temporary() {
		result = "deferred"
		ss.log.Warn("smtp message deferred", "from", ss.from, "reason", why, "err", err)
	} else {
		ss.log.Info("smtp message refused", "from", ss.from, "reason", why, "err", err)
	}
	ss.s.deps.Metrics.SMTPMessage(result, string(why))
	return e
}

// exempt reports whether the client's network skips the header checks.
func (ss *session) exempt() bool {
	for _, p := range ss.s.exempt {
		if p.Contains(ss.ip) {
			return true
		}
	}
	return false
}

// hasHeaders reports whether the message's header block has every one
// of the named fields (case-insensitive names).
func hasHeaders(msg []byte, names ...string) bool {
	end := bytes.Index(msg, []byte("\n\r\n"))
	if e2 := bytes.Index(msg, []byte("\n\n")); e2 >= 0 && (end < 0 || e2 < end) {
		end = e2
	}
	head := msg
	if end >= 0 {
		head = msg[:end+1]
	}
	found := 0
	for _, name := range names {
		for line := range bytes.Lines(head) {
			if len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], []byte(name)) {
				found++
				break
			}
		}
	}
	return found == len(names)
}
