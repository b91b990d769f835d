package scan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
)

func (f *fixture) scopes(t *testing.T) []classifier.Scope {
	t.Helper()
	sc, err := f.store.Scopes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func (f *fixture) tell(user string, msg []byte) error {
	_, err := f.svc.Tell(context.Background(), &scan.TellRequest{User: user, Message: msg, Action: scan.TellSpam})
	return err
}

// With bayes_scope user and a user_prefs directory, only the site's
// users (a directory there) get a Bayes scope of their own: 500 made-up
// names create none. A made-up user's mail is scanned and autolearned in
// the global scope (with the site's scores); their TELL is refused as
// "no such user".
func TestScopesOnlyForKnownUsers(t *testing.T) {
	f := newFixture(t, func(c *scan.Config) { c.PerUserBayes = true })
	if err := os.MkdirAll(filepath.Join(f.prefs, "alice"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := f.tell("alice", hamMsg); err != nil {
		t.Fatalf("TELL as alice: %v", err)
	}
	for i := range 500 {
		user := fmt.Sprintf("madeup%d", i)
		if err := f.tell(user, hamMsg); !errors.Is(err, scan.ErrBadUser) {
			t.Fatalf("TELL as %s: %v, want ErrBadUser", user, err)
		}
	}
	res := f.scan(t, "madeup1", spamMsg)
	if res.Rules.Autolearn != rules.AutolearnSpam {
		t.Errorf("made-up user's spam: autolearn=%s, want spam (into the global scope)", res.Rules.Autolearn)
	}
	if got, want := f.scopes(t), []classifier.Scope{"", "alice"}; !slices.Equal(got, want) {
		t.Errorf("scopes %q, want %q", got, want)
	}
	if m := f.magic(t); m.NSpam != 1 {
		t.Errorf("global scope: nspam %d, want the made-up user's autolearned spam", m.NSpam)
	}
}

// Without a user_prefs directory, per-user scopes are capped by
// MaxBayesScopes: past it new names are served from the global scope,
// while users who have a scope keep it, after a restart too.
func TestScopesCapped(t *testing.T) {
	tweak := func(c *scan.Config) { c.PerUserBayes, c.UserPrefsDir, c.MaxBayesScopes = true, "", 3 }
	f := newFixture(t, tweak)
	for i, want := range []bool{true, true, true, false, false} {
		err := f.tell(fmt.Sprintf("u%d", i), hamMsg)
		if (err == nil) != want || err != nil && !errors.Is(err, scan.ErrBadUser) {
			t.Errorf("TELL as u%d: %v, want accepted %v", i, err, want)
		}
	}
	if got, want := f.scopes(t), []classifier.Scope{"u0", "u1", "u2"}; !slices.Equal(got, want) {
		t.Errorf("scopes %q, want %q", got, want)
	}
	// A new service on the same store counts the scopes that exist.
	cfg := scan.Config{Store: f.store, Writer: f.writer, PerUserBayes: true, MaxBayesScopes: 3}
	svc, err := scan.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	if err := f.tell("u0", spamMsg); err != nil {
		t.Errorf("TELL as u0, who has a scope: %v", err)
	}
	if err := f.tell("u9", spamMsg); !errors.Is(err, scan.ErrBadUser) {
		t.Errorf("TELL as a new user past the limit after a restart: %v, want ErrBadUser", err)
	}
}
