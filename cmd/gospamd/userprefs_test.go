package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// The site policy's max_message_size is the server's size limit: a larger
// message is answered unscanned (score 0), one under it is scanned;
// --max-size overrides it.
func TestServeMaxMessageSizeFromPolicy(t *testing.T) {
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	if err := os.MkdirAll(site, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(site, "local.cf"), "max_message_size 2000\n")
	gtube := "From: a@example.com\nSubject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n"
	big := gtube + strings.Repeat("padding line of a long message\n", 100)
	for _, tt := range []struct {
		name      string
		args      []string
		wantSmall bool // the small GTUBE is scanned (spam)
		wantBig   bool // the big one is scanned (spam)
	}{
		{"policy limit", nil, true, false},
		{"--max-size overrides", []string{"--max-size", "100000"}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := startDaemon(t, false, append([]string{"--dbpath", filepath.Join(t.TempDir(), "bayes"), "--config", site}, tt.args...)...)
			client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 10 * time.Second}
			for _, c := range []struct {
				msg  string
				want bool
			}{{gtube, tt.wantSmall}, {big, tt.wantBig}} {
				res, err := client.Check(context.Background(), "", []byte(c.msg), false)
				if err != nil {
					t.Fatal(err)
				}
				if res.Spam != c.want {
					t.Errorf("%d-byte GTUBE: spam %v (score %v), want %v", len(c.msg), res.Spam, res.Score, c.want)
				}
			}
		})
	}
}

// A user's own rewrite_header, report_safe and required_score change that
// user's PROCESS answer over spamd, and nobody else's: alice's 4-point
// message is spam with her subject tag and no report_safe wrapping; bob
// gets the site's answer (ham at 5, the message unchanged but for the
// X-Spam headers).
func TestServeUserMarkup(t *testing.T) {
	tmp := t.TempDir()
	site, prefs := filepath.Join(tmp, "site"), filepath.Join(tmp, "users")
	writeFile(t, filepath.Join(site, "local.cf"), "body SITE_FOUR /four point phrase/\nscore SITE_FOUR 4\n")
	writeFile(t, filepath.Join(prefs, "alice", "user_prefs"), "rewrite_header Subject [SPAM]\nreport_safe 0\nrequired_score 3\n")
	d := startDaemon(t, false, "--dbpath", filepath.Join(tmp, "bayes"), "--config", site, "--user-prefs-dir", prefs)
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 10 * time.Second}
	msg := []byte("From: carol@example.org\r\nTo: alice@example.net\r\nSubject: quarterly numbers\r\n" +
		"Message-ID: <q1@example.org>\r\n\r\nThe four point phrase is in here.\r\n")
	for _, tt := range []struct {
		user      string
		spam      bool
		threshold float64
		want      []string // in the PROCESS answer
		wantNot   []string
	}{
		{"alice", true, 3, []string{"Subject: [SPAM] quarterly numbers", "X-Spam-Flag: YES", "SITE_FOUR"},
			[]string{"message/rfc822"}},
		{"bob", false, 5, []string{"Subject: quarterly numbers", "X-Spam-Status: No"},
			[]string{"[SPAM]", "X-Spam-Flag"}},
		{"", false, 5, []string{"Subject: quarterly numbers"}, []string{"[SPAM]", "X-Spam-Flag"}},
	} {
		res, err := client.Process(context.Background(), tt.user, msg, false)
		if err != nil {
			t.Fatalf("PROCESS for %q: %v", tt.user, err)
		}
		if res.Spam != tt.spam || res.Threshold != tt.threshold {
			t.Errorf("PROCESS for %q: spam %v threshold %v, want %v %v", tt.user, res.Spam, res.Threshold, tt.spam, tt.threshold)
		}
		body := string(res.Body)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("PROCESS for %q lacks %q:\n%s", tt.user, w, body)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(body, w) {
				t.Errorf("PROCESS for %q has %q:\n%s", tt.user, w, body)
			}
		}
	}
}

// Hostile user_prefs over spamd: an if nested 100,000 deep (once a
// stack overflow that killed the daemon), a FIFO (once a hang of every
// scan) and a link to a secret file are refused; the daemon answers
// those users with the site's threshold, and everyone else with theirs,
// and the secret never reaches the log.
func TestServeHostileUserPrefs(t *testing.T) {
	tmp := t.TempDir()
	prefs := filepath.Join(tmp, "users")
	for _, u := range []string{"deep", "fifo", "link", "bob"} {
		if err := os.MkdirAll(filepath.Join(prefs, u), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(prefs, "deep", "user_prefs"),
		"if "+strings.Repeat("(", 100_000)+"1"+strings.Repeat(")", 100_000)+"\nrequired_score 1\nendif\n")
	if err := syscall.Mkfifo(filepath.Join(prefs, "fifo", "user_prefs"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(tmp, "shadow")
	writeFile(t, secret, "required_score 1\nroot:S3CR3T-HASH:19700:0:99999:7:::\n")
	if err := os.Symlink(secret, filepath.Join(prefs, "link", "user_prefs")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(prefs, "bob", "user_prefs"), "required_score 3\n")
	d := startDaemon(t, false, "--dbpath", filepath.Join(tmp, "bayes"), "--user-prefs-dir", prefs)
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 20 * time.Second}
	msg := []byte("From: a@example.com\nSubject: x\n\nhello\n")
	for round := range 2 {
		for user, want := range map[string]float64{"deep": 5, "fifo": 5, "link": 5, "bob": 3, "": 5} {
			res, err := client.Check(context.Background(), user, msg, false)
			if err != nil || res.Threshold != want {
				t.Errorf("round %d: %q: %+v, %v; want threshold %v", round, user, res, err, want)
			}
		}
	}
	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	logs := d.logs.String()
	if strings.Contains(logs, "S3CR3T") {
		t.Errorf("the secret reached the log:\n%s", logs)
	}
	for _, w := range []string{"deep/user_prefs:1: error: bad 'if' condition: expression nested deeper than 100 levels",
		"not a regular file (a FIFO)", "a symbolic link"} {
		if !strings.Contains(logs, w) {
			t.Errorf("the log lacks %q:\n%.3000s", w, logs)
		}
	}
}
