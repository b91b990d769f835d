package scan

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gospamd/gospamd/rules"
)

// userEngines caches the engines built from one site policy with each
// user's user_prefs. It belongs to one sitePolicy: a reload starts a new,
// empty cache, so no user keeps an engine of the old policy.
type userEngines struct {
	dir string // DIR/<user>/user_prefs; "" disables per-user prefs
	max int

	mu sync.Mutex
	m  map[string]userEngine
}

// userEngine is a user's engine and the user_prefs it was built from.
type userEngine struct {
	engine  *rules.Engine
	modTime time.Time
	size    int64
}

func newUserEngines(dir string, max int) *userEngines {
	return &userEngines{dir: dir, max: max}
}

// get returns the engine for user: site itself when the user has no
// user_prefs, else the one built from site with the user's user_prefs,
// rebuilt when the file changes. A user_prefs that cannot be read or
// applied is logged and the site engine used. The user name must have
// been validated.
func (u *userEngines) get(site *rules.Engine, user string, log *slog.Logger) *rules.Engine {
	if u.dir == "" || user == "" {
		return site
	}
	path := filepath.Join(u.dir, user, "user_prefs")
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return site
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if ue, ok := u.m[user]; ok && ue.modTime.Equal(fi.ModTime()) && ue.size == fi.Size() {
		return ue.engine
	}
	f, err := os.Open(path)
	if err != nil {
		log.Warn("cannot read user_prefs", "user", user, "err", err)
		return site
	}
	defer f.Close()
	eng, diags, err := site.ForUser(f, user)
	for _, d := range diags {
		log.Info("user_prefs", "user", user, "diagnostic", d.String())
	}
	if err != nil {
		log.Warn("user_prefs refused", "user", user, "err", err)
		return site
	}
	if u.m == nil || len(u.m) >= u.max {
		u.m = map[string]userEngine{}
	}
	u.m[user] = userEngine{engine: eng, modTime: fi.ModTime(), size: fi.Size()}
	return eng
}
