package scan

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gospamd/gospamd/rules"
)

// MaxUserPrefsSize is the largest user_prefs file read: a larger one is
// refused whole (the user is served with the site policy). SpamAssassin's
// own user_prefs are a few lines.
const MaxUserPrefsSize = 256 << 10

// maxLoggedDiagnostics bounds the diagnostics logged per user_prefs
// read; the rest are counted.
const maxLoggedDiagnostics = 10

// userEngines caches the engines built from one site policy with each
// user's user_prefs. It belongs to one sitePolicy: a reload starts a new,
// empty cache, so no user keeps an engine of the old policy.
//
// # Untrusted files
//
// A user_prefs is the user's file, not the administrator's: it is opened
// without following a symbolic link and without blocking (a FIFO cannot
// hang a scan), must be a regular file of at most MaxUserPrefsSize
// bytes, and its diagnostics are logged redacted (file:line and the
// directive), so that nothing of its content reaches the log. A refused
// file serves the user with the site policy.
//
// # Concurrency
//
// The cache's lock is held only to look up and update the map, never
// while a file is read or an engine built: scans for other users never
// wait for a build, and concurrent scans for the same user wait for the
// one build under way (a per-user single flight).
//
// # Bounds
//
// At most maxEntries users' engines and about maxBytes of them (see
// rules.Engine.UserCost) are kept; past either the least recently used
// are dropped.
type userEngines struct {
	dir        string // DIR/<user>/user_prefs; "" disables per-user prefs
	maxEntries int
	maxBytes   int64
	log        *slog.Logger

	mu    sync.Mutex
	m     map[string]*userEntry
	lru   list.List // of *userEntry, most recently used first; built entries only
	bytes int64     // sum of the cost of the entries in lru
}

// userEntry is a user's engine and the user_prefs it was built from, or
// the build under way.
type userEntry struct {
	user  string
	ready chan struct{} // closed once engine and stamp are set
	elem  *list.Element // in lru, once built

	engine *rules.Engine // the site's engine when the file was refused
	stamp  prefsStamp
	cost   int64
}

// prefsStamp identifies one version of a user_prefs file.
type prefsStamp struct {
	ino, dev uint64
	mode     fs.FileMode
	size     int64
	modTime  time.Time
	ctime    int64 // status change, ns: catches a rewrite keeping the mtime
}

func stampOf(fi fs.FileInfo) prefsStamp {
	s := prefsStamp{mode: fi.Mode(), size: fi.Size(), modTime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino, s.dev = st.Ino, st.Dev
		s.ctime = st.Ctim.Nano()
	}
	return s
}

func newUserEngines(dir string, maxEntries int, maxBytes int64, log *slog.Logger) *userEngines {
	return &userEngines{dir: dir, maxEntries: maxEntries, maxBytes: maxBytes, log: log, m: map[string]*userEntry{}}
}

// get returns the engine for user: site itself when the user has no
// user_prefs or it is refused, else the one built from site with the
// user's user_prefs, rebuilt when the file changes. The user name must
// have been validated. A scan waiting for another scan's build of the
// same user's engine gives up when ctx is done, with the site engine.
func (u *userEngines) get(ctx context.Context, site *rules.Engine, user string) *rules.Engine {
	if u.dir == "" || user == "" {
		return site
	}
	path := filepath.Join(u.dir, user, "user_prefs")
	fi, err := os.Lstat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			u.log.Warn("cannot read user_prefs", "user", user, "err", err)
		}
		u.forget(user)
		return site
	}
	stamp := stampOf(fi)
	for {
		u.mu.Lock()
		e, ok := u.m[user]
		if ok {
			select {
			case <-e.ready:
				if e.stamp == stamp {
					u.lru.MoveToFront(e.elem)
					u.mu.Unlock()
					return e.engine
				}
				// Changed since: build again (below).
				u.lru.Remove(e.elem)
				u.bytes -= e.cost
			default:
				u.mu.Unlock()
				select {
				case <-e.ready:
					continue
				case <-ctx.Done():
					return site
				}
			}
		}
		e = &userEntry{user: user, ready: make(chan struct{})}
		u.m[user] = e
		u.mu.Unlock()
		u.build(e, site, path, stamp)
		return e.engine
	}
}

// build reads the user_prefs at path and builds e's engine, then
// publishes e in the cache.
func (u *userEngines) build(e *userEntry, site *rules.Engine, path string, stamp prefsStamp) {
	e.engine, e.stamp = site, stamp
	defer func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		close(e.ready)
		if u.m[e.user] != e {
			return // replaced or forgotten meanwhile
		}
		e.elem = u.lru.PushFront(e)
		u.bytes += e.cost
		u.evict()
	}()
	data, stamp, err := readUserPrefs(path)
	e.stamp = stamp
	if err != nil {
		u.log.Warn("user_prefs refused", "user", e.user, "path", path, "err", err)
		return
	}
	eng, diags, err := site.ForUser(bytes.NewReader(data), path)
	for i, d := range diags {
		if i == maxLoggedDiagnostics {
			u.log.Info("user_prefs", "user", e.user, "more_diagnostics", len(diags)-i)
			break
		}
		u.log.Info("user_prefs", "user", e.user, "diagnostic", d.Redacted())
	}
	if err != nil {
		u.log.Warn("user_prefs refused", "user", e.user, "path", path, "err", err)
		return
	}
	e.engine, e.cost = eng, eng.UserCost(site)
}

// evict drops the least recently used entries while the cache is over
// its bounds. Called with u.mu held.
func (u *userEngines) evict() {
	for u.lru.Len() > 1 && (u.lru.Len() > u.maxEntries || u.maxBytes > 0 && u.bytes > u.maxBytes) {
		old := u.lru.Remove(u.lru.Back()).(*userEntry)
		u.bytes -= old.cost
		if u.m[old.user] == old {
			delete(u.m, old.user)
		}
	}
}

// forget drops user's entry (the file is gone).
func (u *userEngines) forget(user string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.m[user]
	if !ok || e.elem == nil {
		return // none, or a build under way that will publish itself
	}
	u.lru.Remove(e.elem)
	u.bytes -= e.cost
	delete(u.m, user)
}

// errNotRegular refuses a user_prefs that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// readUserPrefs reads a user_prefs file as untrusted input: never
// through a symbolic link (O_NOFOLLOW), never blocking on a FIFO or a
// device (O_NONBLOCK), only a regular file (checked on the opened file,
// so a swap after the caller's Lstat changes nothing), and at most
// MaxUserPrefsSize bytes. The stamp is the opened file's.
func readUserPrefs(path string) ([]byte, prefsStamp, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = errors.New("a symbolic link")
		}
		// The stamp of what Lstat saw: an unchanged link is refused
		// once, not at every scan.
		fi, lerr := os.Lstat(path)
		if lerr != nil {
			return nil, prefsStamp{}, err
		}
		return nil, stampOf(fi), err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, prefsStamp{}, fmt.Errorf("stat user_prefs: %w", err)
	}
	stamp := stampOf(fi)
	switch {
	case !fi.Mode().IsRegular():
		return nil, stamp, fmt.Errorf("%w (%s)", errNotRegular, fileType(fi.Mode()))
	case fi.Size() > MaxUserPrefsSize:
		return nil, stamp, fmt.Errorf("%d bytes, over the %d-byte limit", fi.Size(), MaxUserPrefsSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxUserPrefsSize+1))
	if err != nil {
		return nil, stamp, fmt.Errorf("read user_prefs: %w", err)
	}
	if len(data) > MaxUserPrefsSize {
		return nil, stamp, fmt.Errorf("over the %d-byte limit", MaxUserPrefsSize)
	}
	return data, stamp, nil
}

// fileType names a non-regular file's type for the log.
func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "type " + m.Type().String()
}
