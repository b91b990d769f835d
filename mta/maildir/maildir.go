// Package maildir delivers messages into Maildir and Maildir++ folders
// durably, several copies at a time, all or none.
//
// # The Maildir delivery protocol
//
// A message is written under a unique name into the folder's tmp/
// directory, the file is fsynced and closed, then it is renamed into new/
// and new/ itself is fsynced, so that the rename survives a crash (the
// delivery is "done" only then). A reader never sees a partial message:
// it only looks in new/ and cur/. Unique names follow the Maildir
// specification, "seconds.M<microseconds>P<pid>R<random>.<host>", with
// ",S=<size>" (Maildir++, read by Dovecot and Courier) before the host
// part's end.
//
// # Maildir++ folders
//
// A folder "junkmail" of the Maildir at ROOT is the directory
// ROOT/.junkmail with its own tmp/, new/ and cur/ and an empty
// "maildirfolder" file; the INBOX is ROOT itself. Missing folders (and a
// missing ROOT) are created on first delivery.
//
// # All or none
//
// A Transaction stages copies in the tmp/ directories of their folders
// and Commit moves them all into new/. If any step fails, the copies
// already moved are unlinked again and the staged ones removed: an
// SMTP server answers 451 and the client's retry is the only delivery.
// A crash between two renames of one Commit can leave some copies
// delivered; the client, which got no answer, then sends again: a
// duplicate, never a loss.
package maildir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// A Deliverer names and writes Maildir files. It is safe for concurrent
// use; its counter keeps names unique within the process.
type Deliverer struct {
	host string
	pid  int
	seq  atomic.Uint64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns a Deliverer that names files after host (this host's name
// if empty).
func New(host string) *Deliverer {
	if host == "" {
		host, _ = os.Hostname()
	}
	// The specification asks to replace "/" and ":" in the host part.
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	if host == "" {
		host = "localhost"
	}
	return &Deliverer{host: host, pid: os.Getpid(), Now: time.Now}
}

// FolderPath is the directory of folder in the Maildir at root: root
// itself for "" and "INBOX", else root/.folder (Maildir++; a "/" in an
// IMAP name becomes ".").
func FolderPath(root, folder string) string {
	if folder == "" || strings.EqualFold(folder, "INBOX") {
		return root
	}
	return filepath.Join(root, "."+strings.ReplaceAll(folder, "/", "."))
}

// uniqueName returns a new unique file name for a message of size bytes.
func (d *Deliverer) uniqueName(size int) (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("maildir name: %w", err)
	}
	now := d.Now()
	return fmt.Sprintf("%d.M%dP%dQ%dR%s.%s,S=%d", now.Unix(), now.Nanosecond()/1000, d.pid,
		d.seq.Add(1), hex.EncodeToString(rnd[:]), d.host, size), nil
}

// ensure creates the Maildir (or Maildir++ folder) at dir when missing.
func ensure(dir string, subfolder bool) error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("create maildir: %w", err)
		}
	}
	if subfolder {
		marker := filepath.Join(dir, "maildirfolder")
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			f, err := os.OpenFile(marker, os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("create maildirfolder: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("create maildirfolder: %w", err)
			}
		}
	}
	return nil
}

// A Transaction is a set of copies delivered all or none. It is not safe
// for concurrent use. Stage copies, then Commit; Abort (always safe to
// defer) removes whatever was not committed.
type Transaction struct {
	d      *Deliverer
	staged []staged
	done   bool
}

type staged struct {
	dir, name string
}

// Begin starts a transaction.
func (d *Deliverer) Begin() *Transaction { return &Transaction{d: d} }

// Stage writes msg into the tmp/ directory of folder in the Maildir at
// root (creating them when missing) and fsyncs it. It returns the path
// the message will have in new/ once committed.
func (t *Transaction) Stage(root, folder string, msg []byte) (string, error) {
	if t.done {
		return "", errors.New("maildir: transaction is finished")
	}
	dir := FolderPath(root, folder)
	if err := ensure(dir, dir != root); err != nil {
		return "", err
	}
	name, err := t.d.uniqueName(len(msg))
	if err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("maildir: %w", err)
	}
	_, werr := f.Write(msg)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("maildir: write %s: %w", tmp, werr)
	}
	t.staged = append(t.staged, staged{dir: dir, name: name})
	return filepath.Join(dir, "new", name), nil
}

// Commit renames every staged copy into new/ and fsyncs each new/
// directory. On error nothing of the transaction is left in new/ (as far
// as unlinking what was renamed succeeds) nor in tmp/.
func (t *Transaction) Commit() error {
	if t.done {
		return errors.New("maildir: transaction is finished")
	}
	var moved []staged
	err := func() error {
		for _, s := range t.staged {
			if err := os.Rename(filepath.Join(s.dir, "tmp", s.name), filepath.Join(s.dir, "new", s.name)); err != nil {
				return fmt.Errorf("maildir: deliver into %s: %w", s.dir, err)
			}
			moved = append(moved, s)
		}
		synced := map[string]bool{}
		for _, s := range t.staged {
			if synced[s.dir] {
				continue
			}
			synced[s.dir] = true
			if err := syncDir(filepath.Join(s.dir, "new")); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		for _, s := range moved {
			if rerr := os.Remove(filepath.Join(s.dir, "new", s.name)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("maildir: undo delivery: %w", rerr))
			}
		}
		t.Abort()
		return err
	}
	t.done = true
	return nil
}

// Abort removes the staged copies not yet committed. It does nothing
// after a successful Commit.
func (t *Transaction) Abort() {
	if t.done {
		return
	}
	t.done = true
	for _, s := range t.staged {
		_ = os.Remove(filepath.Join(s.dir, "tmp", s.name))
	}
}

// syncDir fsyncs a directory, making renames into it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("maildir: sync %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("maildir: sync %s: %w", dir, err)
	}
	return nil
}

// Count returns the number of messages in folder's new/ directory (for
// tests and tools).
func Count(root, folder string) (int, error) {
	ents, err := os.ReadDir(filepath.Join(FolderPath(root, folder), "new"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	return len(ents), err
}
