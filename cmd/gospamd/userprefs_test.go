package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// spamc -u USER scans with that user's user_prefs (here a stricter
// required_score), other users get the site's, a changed user_prefs is
// picked up, and a user name that could walk a path is refused.
func TestServeUserPrefs(t *testing.T) {
	tmp := t.TempDir()
	prefs := filepath.Join(tmp, "users")
	if err := os.MkdirAll(filepath.Join(prefs, "alice@example.com"), 0o700); err != nil {
		t.Fatal(err)
	}
	alice := filepath.Join(prefs, "alice@example.com", "user_prefs")
	writeFile(t, alice, "required_score 9.0\nbody ALICE_RULE /hello/\n") // the rule is refused: no allow_user_rules
	d := startDaemon(t, false, "--dbpath", filepath.Join(tmp, "bayes"), "--user-prefs-dir", prefs)
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 10 * time.Second}
	msg := []byte("From: a@example.com\nSubject: x\n\nhello\n")
	check := func(user string) (*spamdproto.Result, error) {
		return client.Check(context.Background(), user, msg, false)
	}
	if res, err := check("alice@example.com"); err != nil || res.Threshold != 9 {
		t.Errorf("alice: %+v, %v; want threshold 9", res, err)
	}
	if res, err := check("bob"); err != nil || res.Threshold != 5 {
		t.Errorf("bob: %+v, %v; want the site's 5", res, err)
	}
	sym, err := client.Symbols(context.Background(), "alice@example.com", msg, false)
	if err != nil || strings.Contains(string(sym.Body), "ALICE_RULE") {
		t.Errorf("a user rule ran without allow_user_rules: %q %v", sym.Body, err)
	}
	time.Sleep(10 * time.Millisecond) // a new modification time
	writeFile(t, alice, "required_score 7.0\n")
	if res, err := check("alice@example.com"); err != nil || res.Threshold != 7 {
		t.Errorf("alice after editing user_prefs: %+v, %v; want 7", res, err)
	}
	_, err = check("../alice@example.com")
	var perr *spamdproto.Error
	if !errors.As(err, &perr) || perr.Code != spamdproto.EX_NOUSER {
		t.Errorf("path-trick user: %v, want EX_NOUSER", err)
	}
	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
}
