package classifier

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The store holds every token learned and the Message-ID of every message
// seen: it is private to the user running the daemon, whatever the umask
// and whatever modes the directory had before.
const (
	privateDirMode  fs.FileMode = 0o700
	privateFileMode fs.FileMode = 0o600
)

// makePrivate gives dir mode 0700 and everything already in it 0600
// (directories 0700), without following symbolic links. It runs before
// Pebble opens anything, so once it returns no other user can reach the
// files Pebble then creates, even in the moment before privateFS narrows
// their modes.
func makePrivate(dir string) error {
	if err := os.Chmod(dir, privateDirMode); err != nil {
		return fmt.Errorf("make bayes store directory private: %w", err)
	}
	// Another process may hold the store and rotate its files while this
	// walks (Open then reports it as locked): a file that vanished needs
	// no narrowing.
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("make bayes store private: %w", err)
		}
		if path == dir {
			return nil
		}
		var mode fs.FileMode
		switch {
		case d.IsDir():
			mode = privateDirMode
		case d.Type().IsRegular(), d.Type()&fs.ModeSocket != 0:
			mode = privateFileMode
		default:
			return nil // a symbolic link is not followed; nothing else is Pebble's
		}
		if err := os.Chmod(path, mode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make bayes store private: %w", err)
		}
		return nil
	})
}

// privateFS is the file system Pebble writes the store through: the
// operating system's, except that every file it creates is made 0600 and
// every directory 0700, whatever the umask (Pebble itself creates files
// 0666 and lets the umask decide).
//
// Files are narrowed right after they are created (by path: the
// directory is already 0700 by then, see makePrivate, so no one else can
// open a file in between or swap it).
type privateFS struct{ vfs.FS }

func (p privateFS) Unwrap() vfs.FS { return p.FS }

func (p privateFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := p.FS.Create(name, category)
	return narrow(name, f, err)
}

func (p privateFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := p.FS.OpenReadWrite(name, category, opts...)
	return narrow(name, f, err)
}

func (p privateFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := p.FS.ReuseForWrite(oldname, newname, category)
	return narrow(newname, f, err)
}

func (p privateFS) MkdirAll(dir string, _ os.FileMode) error {
	if err := p.FS.MkdirAll(dir, privateDirMode); err != nil {
		return err
	}
	return os.Chmod(dir, privateDirMode)
}

func (p privateFS) Lock(name string) (io.Closer, error) {
	c, err := p.FS.Lock(name)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(name, privateFileMode); err != nil {
		return nil, errors.Join(fmt.Errorf("make lock file private: %w", err), c.Close())
	}
	return c, nil
}

// narrow gives the file f, just opened as name, mode 0600.
func narrow(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(name, privateFileMode); err != nil {
		return nil, errors.Join(fmt.Errorf("make bayes store file private: %w", err), f.Close())
	}
	return f, nil
}
