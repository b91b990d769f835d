package imaptrain

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// watch keeps an IDLE connection on one learn folder of l's account and
// sends on wake whenever messages arrive there, so that a pass follows a
// user's move within seconds instead of at the next poll. It returns
// when ctx is done, when the server has no IDLE, or when the login is
// refused (polling goes on regardless); a broken connection is reopened
// with backoff.
func (t *Trainer) watch(ctx context.Context, l login, folder string, wake chan<- struct{}) {
	delay := t.opt.RetryDelay
	for {
		err := t.idle(ctx, l, folder, wake)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errNoIdle):
			t.log.Info("imap server has no IDLE: polling only", "user", l.user)
			return
		case errors.Is(err, ErrLogin):
			return // the pass reports it
		}
		t.log.Debug("imap IDLE connection lost, reconnecting", "user", l.user, "folder", folder, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Minute)
	}
}

var errNoIdle = errors.New("server has no IDLE")

// idle runs one IDLE connection until it breaks or ctx is done.
func (t *Trainer) idle(ctx context.Context, l login, folder string, wake chan<- struct{}) error {
	pw, err := readPassword(l.passwordFile)
	if err != nil {
		return err
	}
	// The server counts the folder's messages in EXISTS; expunges lower
	// the count. Only a count above the last one known means new mail.
	var mu sync.Mutex
	known := uint32(0)
	ready := false
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	handler := &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) {
			mu.Lock()
			if known > 0 {
				known--
			}
			mu.Unlock()
		},
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages == nil {
				return
			}
			mu.Lock()
			more := ready && *d.NumMessages > known
			known = *d.NumMessages
			mu.Unlock()
			if more {
				notify()
			}
		},
	}
	c, err := Dial(ctx, DialOptions{Server: t.cfg.Server, Security: t.cfg.Security, ServerName: t.cfg.ServerName,
		Login: l.name, Password: pw, Handler: handler})
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.c.Caps().Has(imap.CapIdle) && !c.c.Caps().Has(imap.CapIMAP4rev2) {
		return errNoIdle
	}
	sel, err := c.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return c.wrap("examine "+folder, err)
	}
	mu.Lock()
	known, ready = sel.NumMessages, true
	mu.Unlock()
	if sel.NumMessages > 0 {
		// Mail that came while this watcher was away.
		notify()
	}
	cmd, err := c.c.Idle()
	if err != nil {
		return c.wrap("idle", err)
	}
	select {
	case <-ctx.Done():
	case <-c.c.Closed():
	}
	_ = cmd.Close()
	return c.wrap("idle", cmd.Wait())
}
