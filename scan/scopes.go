package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
)

// ScopeLister is implemented by stores that can list their scopes
// (*classifier.Store): the service then counts the users' scopes that
// exist against Config.MaxBayesScopes.
type ScopeLister interface {
	Scopes(ctx context.Context) ([]classifier.Scope, error)
}

// ErrBadUser is returned for a user name that could be a path trick (see
// learn.ValidateUserName), and for TELL as a user who has no Bayes scope
// and may not get one (see Config.MaxBayesScopes); front ends answer it
// as "no such user".
var ErrBadUser = errors.New("bad user name")

// userScopes decides which Bayes scope a user's scans and learns use
// under bayes_scope user, so that clients cannot create scopes without
// bound by naming made-up users (see Config.MaxBayesScopes).
//
// It knows the scopes that exist (listed from the store at start, and
// those it granted since); a user with one keeps it. A user without one
// gets one only if known (a directory under the user_prefs directory,
// when one is configured) and while fewer than max exist; anyone else
// is served from the global scope.
type userScopes struct {
	prefsDir string
	max      int
	store    Store
	log      *slog.Logger

	mu      sync.Mutex
	known   map[classifier.Scope]bool // scopes that exist or were granted
	warned  bool                      // the cap was reported
	scanned bool                      // the store's list was read
}

func newUserScopes(prefsDir string, max int, store Store, log *slog.Logger) *userScopes {
	return &userScopes{prefsDir: prefsDir, max: max, store: store, log: log, known: map[classifier.Scope]bool{}}
}

// load reads the scopes the store has, once.
func (u *userScopes) load(ctx context.Context) {
	if u.scanned {
		return
	}
	u.scanned = true
	l, ok := u.store.(ScopeLister)
	if !ok {
		return
	}
	scopes, err := l.Scopes(ctx)
	if err != nil {
		u.log.Warn("cannot list the Bayes scopes", "err", err)
		return
	}
	for _, sc := range scopes {
		if sc != "" {
			u.known[sc] = true
		}
	}
}

// scope returns user's scope: their own when they have one or may get
// one, else the global scope (ok false).
func (u *userScopes) scope(ctx context.Context, user string) (sc classifier.Scope, ok bool) {
	sc = classifier.Scope(user)
	u.mu.Lock()
	u.load(ctx)
	has := u.known[sc]
	u.mu.Unlock()
	if has {
		return sc, true
	}
	if u.store != nil {
		// Made since the list was read (gospamd learn -u through the
		// admin socket).
		if m, err := u.store.Magic(ctx, sc); err == nil && m.NSpam+m.NHam+m.NTokens > 0 {
			u.mu.Lock()
			u.known[sc] = true
			u.mu.Unlock()
			return sc, true
		}
	}
	if u.prefsDir != "" {
		fi, err := os.Stat(filepath.Join(u.prefsDir, user))
		if err != nil || !fi.IsDir() {
			return "", false // not a user of this site
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.known[sc] {
		return sc, true
	}
	if len(u.known) >= u.max {
		if !u.warned {
			u.warned = true
			u.log.Warn("the per-user Bayes scopes reached their limit: users without one are served from the global scope",
				"max_bayes_scopes", u.max)
		}
		return "", false
	}
	u.known[sc] = true
	return sc, true
}

// scopeFor maps a user to its Bayes scope, refusing bad names. own
// reports whether the scope is the user's own: false for the global
// scope, and under bayes_scope user for a user who has no scope and may
// not get one.
func (s *Service) scopeFor(ctx context.Context, user string) (sc classifier.Scope, own bool, err error) {
	if err := validUser(user); err != nil {
		return "", false, err
	}
	if user == "" || !s.cfg.PerUserBayes {
		return "", false, nil
	}
	sc, own = s.scopes.scope(ctx, user)
	return sc, own, nil
}

// validUser refuses user names that could be path tricks.
func validUser(user string) error {
	if user == "" {
		return nil
	}
	if err := learn.ValidateUserName(user); err != nil {
		return fmt.Errorf("%w: %w", ErrBadUser, err)
	}
	return nil
}
