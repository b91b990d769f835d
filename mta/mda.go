package mta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ScanFunc scans msg for user in deliver mode: through the running
// daemon's spamd, or a scan service opened on the store read-only.
type ScanFunc func(ctx context.Context, user string, msg []byte) (*Scanned, error)

// A DeliverRequest is one message handed over by an MTA (Postfix's
// mailbox_command, maildrop, procmail) for one user.
type DeliverRequest struct {
	User    string
	Message []byte
	// Maildir is the user's Maildir; "" looks the user up in the routes
	// file (the first route whose user is User).
	Maildir string
}

// Errors of Deliver, for the exit codes (sysexits) of gospamd deliver.
var (
	// ErrNoMailbox: the user has no Maildir (EX_NOUSER).
	ErrNoMailbox = errors.New("no Maildir for the user")
	// ErrTemporary wraps every failure the MTA should retry (EX_TEMPFAIL):
	// scanning or delivery failed, nothing was delivered.
	ErrTemporary = errors.New("temporary failure")
)

// Deliver is deliver mode: it scans req.Message for req.User and files
// it as the SMTP front end would, except that reject-level spam, which
// the MTA has already accepted, goes to the junk folder (or is dropped at
// delete_score). It returns the filing once the copy is durable. cfg
// needs only JunkFolder, DeleteScore, Users, BccArchive, Hostname and,
// without req.Maildir, Routes; Domains are not checked.
func Deliver(ctx context.Context, cfg Config, req DeliverRequest, scan ScanFunc, log *slog.Logger) (Filing, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.JunkFolder == "" {
		cfg.JunkFolder = DefaultJunkFolder
	}
	p, err := newPipeline(&cfg, Deps{Metrics: nopMetrics{}})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	mb := Mailbox{User: req.User, Maildir: req.Maildir}
	if mb.Maildir == "" {
		if mb, err = p.mailboxOf(req.User); err != nil {
			return 0, err
		}
	}
	var filing Filing
	d := &delivery{msg: req.Message, rcpts: []rcpt{{addr: req.User, mb: mb}}, log: log,
		scan: func(ctx context.Context, user string) (*Scanned, error) {
			s, err := scan(ctx, user, req.Message)
			if err == nil {
				filing = fileFor(s, p.userOpts(user), cfg.DeleteScore, false)
			}
			return s, err
		}}
	if why, err := p.process(ctx, d); why != "" {
		return 0, fmt.Errorf("%w: %s: %w", ErrTemporary, why, err)
	}
	return filing, nil
}

// mailboxOf finds user's Maildir in the routes file.
func (p *pipeline) mailboxOf(user string) (Mailbox, error) {
	if p.cfg.Routes == "" {
		return Mailbox{}, fmt.Errorf("%w: %s (no --maildir and no routes file)", ErrNoMailbox, user)
	}
	table, err := p.routes.current(p.now())
	if table == nil {
		return Mailbox{}, fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	for _, mb := range table {
		if strings.EqualFold(mb.User, user) && mb.Maildir != "" && mb.Maildir != "-" {
			return mb, nil
		}
	}
	return Mailbox{}, fmt.Errorf("%w: %s", ErrNoMailbox, user)
}
