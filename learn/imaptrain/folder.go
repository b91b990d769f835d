package imaptrain

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// A FolderURL names one folder of one account for a one-shot import:
// imap://USER@HOST:PORT/FOLDER, or imaps:// for TLS from the first byte.
type FolderURL struct {
	User, Server, Folder string
	Security             Security // "" for imap://: the caller decides
}

// ParseFolderURL parses imap://USER@HOST[:PORT]/FOLDER (port 143, or 993
// for imaps://). The folder is the path without its leading slash,
// percent-decoded ("Junk%20Mail", "Archive/2024").
func ParseFolderURL(s string) (FolderURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return FolderURL{}, fmt.Errorf("imap URL: %w", err)
	}
	var f FolderURL
	port := "143"
	switch u.Scheme {
	case "imap":
	case "imaps":
		port, f.Security = "993", SecurityTLS
	default:
		return f, fmt.Errorf("imap URL %q: want imap://USER@HOST:PORT/FOLDER or imaps://", s)
	}
	if u.User == nil || u.User.Username() == "" {
		return f, fmt.Errorf("imap URL %q names no user", s)
	}
	if _, set := u.User.Password(); set {
		return f, fmt.Errorf("imap URL %q: give the password in a file (--password-file), not in the URL", s)
	}
	f.User = u.User.Username()
	if u.Port() != "" {
		port = u.Port()
	}
	if u.Hostname() == "" {
		return f, fmt.Errorf("imap URL %q names no host", s)
	}
	f.Server = net.JoinHostPort(u.Hostname(), port)
	f.Folder = strings.TrimPrefix(u.Path, "/")
	if f.Folder == "" {
		return f, fmt.Errorf("imap URL %q names no folder", s)
	}
	return f, nil
}

// A Folder is one folder opened read-only (EXAMINE) for a one-shot
// import: its messages are read with BODY.PEEK[], so nothing in the
// folder changes, not even \Seen. It is not safe for concurrent use.
type Folder struct {
	conn  *Conn
	uids  []imap.UID
	batch int
}

// OpenFolder logs in with opt and examines folder. The connection is
// closed when ctx is done; Close logs out.
func OpenFolder(ctx context.Context, opt DialOptions, folder string) (*Folder, error) {
	c, err := Dial(ctx, opt)
	if err != nil {
		return nil, err
	}
	if _, err := c.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		c.Close()
		return nil, c.wrap("examine "+folder, err)
	}
	data, err := c.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		c.Close()
		return nil, c.wrap("list messages of "+folder, err)
	}
	return &Folder{conn: c, uids: data.AllUIDs(), batch: DefaultBatchSize}, nil
}

// Len is the number of messages in the folder when it was opened.
func (f *Folder) Len() int { return len(f.uids) }

// Each calls fn with every message, oldest first; an error from fn
// stops it and is returned. It has the shape of learn.Source (path is
// "uid N").
func (f *Folder) Each(ctx context.Context, fn func(path string, raw []byte) error) error {
	for uids := f.uids; len(uids) > 0; {
		n := min(f.batch, len(uids))
		var ferr error
		err := f.conn.Fetch(ctx, uids[:n], func(uid imap.UID, raw []byte) {
			if ferr == nil {
				ferr = fn(fmt.Sprintf("uid %d", uid), raw)
			}
		})
		if err != nil {
			return err
		}
		if ferr != nil {
			return ferr
		}
		uids = uids[n:]
	}
	return nil
}

// Close logs out.
func (f *Folder) Close() error { return f.conn.Logout() }
