package mta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gospamd/gospamd/mta/maildir"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
)

// A pipeline turns an accepted envelope and message into filed copies:
// recipients resolved at RCPT, one scan per user, a filing per
// recipient, and one all-or-none delivery. SMTP sessions and deliver mode
// share it.
type pipeline struct {
	cfg      *Config
	scanner  Scanner
	teller   Teller
	metrics  Metrics
	routes   *routes
	maildir  *maildir.Deliverer
	nextHop  *nextHop
	badFrom  []pattern
	badRcpt  []pattern
	badPairs []pairPattern
	traps    map[string]bool
	now      func() time.Time
	// noJunkSort is Config.NoJunkSort, changeable while running.
	noJunkSort atomic.Bool
}

// userOpts are user's switches, with the global no_junk_sort added.
func (p *pipeline) userOpts(user string) UserOptions {
	o := p.cfg.Users[user]
	o.NoJunkSort = o.NoJunkSort || p.noJunkSort.Load()
	return o
}

func newPipeline(cfg *Config, deps Deps) (*pipeline, error) {
	rt, err := newRoutes(cfg.Routes)
	if err != nil {
		return nil, err
	}
	p := &pipeline{cfg: cfg, scanner: deps.Scanner, teller: deps.Teller, metrics: deps.Metrics, routes: rt,
		maildir: maildir.New(cfg.Hostname), badFrom: compilePatterns(cfg.BadMailFrom),
		badRcpt: compilePatterns(cfg.BadRcptTo), traps: map[string]bool{}, now: time.Now}
	p.noJunkSort.Store(cfg.NoJunkSort)
	for _, s := range cfg.BadMailFromTo {
		if pp, err := newPairPattern(s); err == nil {
			p.badPairs = append(p.badPairs, pp)
		}
	}
	for _, a := range cfg.SpamTraps {
		p.traps[strings.ToLower(a)] = true
	}
	if cfg.NextHop != "" {
		if p.nextHop, err = newNextHop(cfg); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// A rcpt is one accepted recipient.
type rcpt struct {
	addr string
	mb   Mailbox
	trap bool
}

// resolve checks one RCPT TO against the local domains, the pattern
// lists, the spam traps and the routes. A non-empty reason refuses it;
// err is the cause to log (also set, with no reason, for a routes file
// that turned unreadable while the last good table is used).
func (p *pipeline) resolve(from, to string) (rcpt, reason, error) {
	local, domain, ok := splitAddress(to)
	if !ok {
		return rcpt{}, reasonBadAddress, nil
	}
	if !p.cfg.isLocal(domain) {
		return rcpt{}, reasonRelay, nil
	}
	switch {
	case matchAny(p.badFrom, from):
		return rcpt{}, reasonBadMailFrom, nil
	case matchAny(p.badRcpt, to):
		return rcpt{}, reasonBadRcptTo, nil
	}
	for _, pp := range p.badPairs {
		if pp.from.match(from) && pp.to.match(to) {
			return rcpt{}, reasonBadPair, nil
		}
	}
	if p.traps[strings.ToLower(local+"@"+domain)] {
		return rcpt{addr: to, trap: true}, "", nil
	}
	if p.cfg.Routes == "" { // a next hop that knows the users
		base, _, _ := strings.Cut(local, "+")
		return rcpt{addr: to, mb: Mailbox{User: strings.ToLower(base)}}, "", nil
	}
	table, err := p.routes.current(p.now())
	if table == nil {
		return rcpt{}, reasonRoutesFailed, err
	}
	mb, ok := lookup(table, local, domain)
	if !ok {
		return rcpt{}, reasonUnknownUser, err
	}
	return rcpt{addr: to, mb: mb}, "", err
}

// A delivery is one message on its way through the pipeline.
type delivery struct {
	env       scan.Envelope
	msg       []byte
	rcpts     []rcpt
	canReject bool // SMTP: reject-level spam may be refused
	log       *slog.Logger
	// scan scans msg for user.
	scan func(ctx context.Context, user string) (*Scanned, error)
}

// process scans, files and delivers d. It returns "" once every copy is
// durable (or handed to the next hop), else the reason to answer with
// and the cause.
func (p *pipeline) process(ctx context.Context, d *delivery) (reason, error) {
	var traps, mail []rcpt
	for _, r := range d.rcpts {
		if r.trap {
			traps = append(traps, r)
		} else {
			mail = append(mail, r)
		}
	}
	if len(traps) > 0 {
		if err := p.learnTrap(ctx, d); err != nil {
			return reasonLearnFailed, err
		}
	}

	// One scan per user; the user's switches may skip it.
	scanned := map[string]*Scanned{}
	for _, r := range mail {
		user := r.mb.User
		if _, done := scanned[user]; done {
			continue
		}
		if p.cfg.Users[user].NoFilter {
			scanned[user] = &Scanned{Verdict: rules.VerdictHam, Message: p.traced(d)}
			continue
		}
		res, err := d.scan(ctx, user)
		if err != nil {
			return reasonScanFailed, fmt.Errorf("scan for %s: %w", user, err)
		}
		scanned[user] = res
	}

	// Refuse only what every recipient refuses.
	filings := make([]Filing, len(mail))
	allReject := len(mail) > 0
	for i, r := range mail {
		filings[i] = fileFor(scanned[r.mb.User], p.userOpts(r.mb.User), p.cfg.DeleteScore, d.canReject)
		allReject = allReject && filings[i] == FileReject
	}
	if allReject {
		return reasonSpam, fmt.Errorf("score %.1f at or over the reject level", scanned[mail[0].mb.User].Score)
	}
	for i, r := range mail {
		if filings[i] == FileReject {
			filings[i] = fileFor(scanned[r.mb.User], p.userOpts(r.mb.User), p.cfg.DeleteScore, false)
		}
	}

	if err := p.deliver(ctx, d, mail, filings, scanned); err != nil {
		var he *hopError
		if errors.As(err, &he) && he.permanent() {
			return reasonHopRefused, err
		}
		return reasonDelivery, err
	}
	for i, r := range mail {
		s := scanned[r.mb.User]
		d.log.Info("smtp message filed", "from", d.env.MailFrom, "rcpt", r.addr, "user", r.mb.User,
			"filing", filings[i], "verdict", s.Verdict, "score", s.Score)
		if filings[i] == FileDrop {
			d.log.Warn("spam dropped at delete_score", "rcpt", r.addr, "score", s.Score, "delete_score", p.cfg.DeleteScore)
		}
		p.metrics.SMTPFiled(filings[i].String())
	}
	for _, r := range traps {
		d.log.Info("smtp message filed", "from", d.env.MailFrom, "rcpt", r.addr, "filing", FileTrap)
		p.metrics.SMTPFiled(FileTrap.String())
	}
	return "", nil
}

// traced is the message as received with our trace lines in front.
func (p *pipeline) traced(d *delivery) []byte {
	if d.env.IsZero() {
		return d.msg
	}
	return d.env.Prepend(d.msg, p.cfg.Hostname, p.now())
}

// learnTrap learns a spam trap's message as spam through the single
// writer; it is committed before the message is acknowledged.
func (p *pipeline) learnTrap(ctx context.Context, d *delivery) error {
	if p.teller == nil {
		return nil
	}
	if _, err := p.teller.Tell(ctx, &scan.TellRequest{Message: d.msg, Action: scan.TellSpam}); err != nil {
		return fmt.Errorf("learn spam-trap mail: %w", err)
	}
	return nil
}

// deliver writes every copy, all or none: into the Maildirs (one copy
// per mailbox and folder, plus bcc_archive), or to the next hop.
func (p *pipeline) deliver(ctx context.Context, d *delivery, mail []rcpt, filings []Filing, scanned map[string]*Scanned) error {
	tx := p.maildir.Begin()
	defer tx.Abort()
	if p.nextHop != nil {
		return p.forward(ctx, tx, d, mail, filings, scanned)
	}
	seen := map[string]bool{}
	stage := func(root, folder string, msg []byte) error {
		key := maildir.FolderPath(root, folder)
		if seen[key] {
			return nil
		}
		seen[key] = true
		_, err := tx.Stage(root, folder, msg)
		return err
	}
	for i, r := range mail {
		var folder string
		switch filings[i] {
		case FileInbox:
		case FileJunk:
			folder = p.cfg.JunkFolder
		default:
			continue
		}
		if r.mb.Maildir == "" || r.mb.Maildir == "-" {
			return fmt.Errorf("no Maildir for %s", r.addr)
		}
		if err := stage(r.mb.Maildir, folder, scanned[r.mb.User].Message); err != nil {
			return err
		}
	}
	if p.cfg.BccArchive != "" && len(mail) > 0 {
		if err := stage(p.cfg.BccArchive, "", p.traced(d)); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return tx.Commit()
}

// forward hands the copies to the next hop. The bcc_archive copy, a
// Maildir, is staged (durable in tmp/) before and moved into new/ after
// the next hop took the message: a failure then is logged, not answered
// 451, since the recipients have their copies and a retry would give
// them a second one.
func (p *pipeline) forward(ctx context.Context, tx *maildir.Transaction, d *delivery, mail []rcpt, filings []Filing, scanned map[string]*Scanned) error {
	archive := p.cfg.BccArchive != "" && len(mail) > 0
	if archive {
		if _, err := tx.Stage(p.cfg.BccArchive, "", p.traced(d)); err != nil {
			return err
		}
	}
	if err := p.nextHop.forward(ctx, d, mail, filings, scanned); err != nil {
		return err
	}
	if archive {
		if err := tx.Commit(); err != nil {
			d.log.Error("bcc_archive copy lost after the next hop took the message", "err", err)
		}
	}
	return nil
}
