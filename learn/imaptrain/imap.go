package imaptrain

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// A Mailbox is the IMAP side of one account's pass: the calls the
// trainer makes, each taking the pass's ctx. *Conn is the real one.
type Mailbox interface {
	// Ensure creates and subscribes the folders that do not exist yet.
	Ensure(ctx context.Context, folders ...string) error
	// Select opens a folder for changes and returns the UIDs of its
	// messages, oldest first.
	Select(ctx context.Context, folder string) ([]imap.UID, error)
	// Fetch reads whole messages (BODY.PEEK[], which leaves \Seen alone)
	// of the selected folder and calls fn for each.
	Fetch(ctx context.Context, uids []imap.UID, fn func(uid imap.UID, raw []byte)) error
	// Remove takes messages out of the selected folder: moved to archive
	// when it is set, else flagged \Deleted and expunged, and only those.
	Remove(ctx context.Context, uids []imap.UID, archive string) error
	// OlderThan returns the selected folder's messages that arrived
	// (INTERNALDATE) before the day of t.
	OlderThan(ctx context.Context, t time.Time) ([]imap.UID, error)
	// Counts returns a folder's number of messages and of unseen ones,
	// with no folder selected.
	Counts(ctx context.Context, folder string) (messages, unseen uint32, err error)
}

// Conn is an IMAP connection logged in to one account, over go-imap v2's
// client.
//
// # Context
//
// go-imap's commands take no context: Dial arranges for the connection
// to be closed when ctx is done, which makes the command in flight (and
// every later one) fail; the methods then return ctx's error.
//
// A Conn is not safe for concurrent use.
type Conn struct {
	c    *imapclient.Client
	stop func() bool // unregisters the close-on-ctx hook
	ctx  context.Context
}

// DialOptions say how to reach and log in to an IMAP server.
type DialOptions struct {
	Server     string
	Security   Security
	ServerName string
	TLSConfig  *tls.Config // default: verify ServerName
	Login      string
	Password   string
	// Handler receives what the server says unprompted (new messages,
	// expunges); nil ignores it.
	Handler *imapclient.UnilateralDataHandler
}

// ErrLogin marks a refused login, which is not retried (a wrong password
// stays wrong, and Dovecot makes every failure cost seconds).
var ErrLogin = errors.New("login refused")

// Dial connects, secures and logs in. The connection is closed when ctx
// is done; call Logout (or Close) when finished.
func Dial(ctx context.Context, opt DialOptions) (*Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", opt.Server)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", opt.Server, err)
	}
	// Until the client exists, ctx closes the socket itself.
	stopRaw := context.AfterFunc(ctx, func() { raw.Close() })
	tlsConf := opt.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: opt.ServerName, MinVersion: tls.VersionTLS12}
	}
	copt := &imapclient.Options{TLSConfig: tlsConf, UnilateralDataHandler: opt.Handler}
	var c *imapclient.Client
	switch opt.Security {
	case SecurityTLS:
		tc := tls.Client(raw, tlsConf)
		if err = tc.HandshakeContext(ctx); err == nil {
			c = imapclient.New(tc, copt)
		}
	case SecurityStartTLS:
		c, err = imapclient.NewStartTLS(raw, copt)
	default:
		c = imapclient.New(raw, copt)
	}
	if err == nil {
		err = c.WaitGreeting()
	}
	stopRaw()
	if err != nil {
		raw.Close()
		return nil, ctxErr(ctx, fmt.Errorf("connect to %s: %w", opt.Server, err))
	}
	conn := &Conn{c: c, ctx: ctx, stop: context.AfterFunc(ctx, func() { c.Close() })}
	if ctx.Err() != nil {
		conn.Close()
		return nil, ctx.Err()
	}
	if err := c.Login(opt.Login, opt.Password).Wait(); err != nil {
		conn.Close()
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("log in as %s: %w: %s", opt.Login, ErrLogin, ie.Text)
		}
		return nil, ctxErr(ctx, fmt.Errorf("log in as %s: %w", opt.Login, err))
	}
	return conn, nil
}

// ctxErr prefers ctx's error to the one a closed connection gives.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (c *Conn) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return ctxErr(c.ctx, fmt.Errorf("%s: %w", what, err))
}

// Close closes the connection without logging out.
func (c *Conn) Close() error {
	c.stop()
	return c.c.Close()
}

// Logout logs out and closes the connection.
func (c *Conn) Logout() error {
	err := c.c.Logout().Wait()
	return errors.Join(c.wrap("logout", err), c.Close())
}

// Ensure implements Mailbox.
func (c *Conn) Ensure(_ context.Context, folders ...string) error {
	list, err := c.c.List("", "*", nil).Collect()
	if err != nil {
		return c.wrap("list folders", err)
	}
	have := map[string]bool{}
	for _, l := range list {
		have[l.Mailbox] = true
	}
	for _, f := range folders {
		if f == "" || have[f] {
			continue
		}
		if err := c.c.Create(f, nil).Wait(); err != nil {
			return c.wrap("create folder "+f, err)
		}
		if err := c.c.Subscribe(f).Wait(); err != nil {
			return c.wrap("subscribe to folder "+f, err)
		}
	}
	return nil
}

// Select implements Mailbox.
func (c *Conn) Select(_ context.Context, folder string) ([]imap.UID, error) {
	sel, err := c.c.Select(folder, nil).Wait()
	if err != nil {
		return nil, c.wrap("select "+folder, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	data, err := c.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return nil, c.wrap("list messages of "+folder, err)
	}
	return data.AllUIDs(), nil
}

// Fetch implements Mailbox.
func (c *Conn) Fetch(_ context.Context, uids []imap.UID, fn func(imap.UID, []byte)) error {
	body := &imap.FetchItemBodySection{Peek: true}
	cmd := c.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}})
	msgs, err := cmd.Collect()
	if err != nil {
		return c.wrap("fetch messages", err)
	}
	for _, m := range msgs {
		if m.UID == 0 {
			continue
		}
		raw := m.FindBodySection(body)
		if raw == nil {
			continue // the caller reports what did not arrive
		}
		fn(m.UID, raw)
	}
	return nil
}

// Remove implements Mailbox.
func (c *Conn) Remove(_ context.Context, uids []imap.UID, archive string) error {
	if len(uids) == 0 {
		return nil
	}
	set := imap.UIDSetNum(uids...)
	if archive != "" {
		if _, err := c.c.Move(set, archive).Wait(); err != nil {
			return c.wrap("move to "+archive, err)
		}
		return nil
	}
	del := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.c.Store(set, del, nil).Close(); err != nil {
		return c.wrap("flag \\Deleted", err)
	}
	if c.c.Caps().Has(imap.CapUIDPlus) {
		return c.wrap("expunge", c.c.UIDExpunge(set).Close())
	}
	// Without UIDPLUS, EXPUNGE removes every \Deleted message of the
	// folder: take the flag off the others first, so that none leaves
	// unlearned.
	sel, err := c.c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return c.wrap("search \\Deleted", err)
	}
	mine := map[imap.UID]bool{}
	for _, u := range uids {
		mine[u] = true
	}
	var others []imap.UID
	for _, u := range sel.AllUIDs() {
		if !mine[u] {
			others = append(others, u)
		}
	}
	if len(others) > 0 {
		undel := &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
		if err := c.c.Store(imap.UIDSetNum(others...), undel, nil).Close(); err != nil {
			return c.wrap("unflag \\Deleted", err)
		}
	}
	return c.wrap("expunge", c.c.Expunge().Close())
}

// OlderThan implements Mailbox.
func (c *Conn) OlderThan(_ context.Context, t time.Time) ([]imap.UID, error) {
	data, err := c.c.UIDSearch(&imap.SearchCriteria{Before: t}, nil).Wait()
	if err != nil {
		return nil, c.wrap("search old messages", err)
	}
	return data.AllUIDs(), nil
}

// Counts implements Mailbox.
func (c *Conn) Counts(_ context.Context, folder string) (uint32, uint32, error) {
	if c.c.Mailbox() != nil {
		if err := c.c.Unselect().Wait(); err != nil {
			return 0, 0, c.wrap("unselect", err)
		}
	}
	st, err := c.c.Status(folder, &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil {
		return 0, 0, c.wrap("status of "+folder, err)
	}
	var n, unseen uint32
	if st.NumMessages != nil {
		n = *st.NumMessages
	}
	if st.NumUnseen != nil {
		unseen = *st.NumUnseen
	}
	return n, unseen, nil
}

// missingFolder reports whether err is a server's answer that a folder
// does not exist.
func missingFolder(err error) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return false
	}
	return ie.Code == imap.ResponseCodeNonExistent || strings.Contains(strings.ToLower(ie.Text), "exist")
}
