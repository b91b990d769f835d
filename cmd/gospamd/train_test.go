package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/scan"
)

// imapUser is a test's IMAP session as one user, to file and count mail.
type imapUser struct {
	t testing.TB
	c *imapclient.Client
}

func loginIMAP(t testing.TB, addr, user, pw string) *imapUser {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	return &imapUser{t, c}
}

// put files n messages of kind ("spam" or "ham") into folder.
func (u *imapUser) put(folder, kind string, n int) {
	u.t.Helper()
	_ = u.c.Create(folder, nil).Wait()
	for i := range n {
		msg := fmt.Sprintf("From: %s%d@example.com\r\nTo: you@example.org\r\nSubject: %s offer %d\r\n"+
			"Message-ID: <%s-%d-%s@example.com>\r\nDate: Mon, 8 Jul 2002 12:00:00 +0000\r\n\r\n"+
			"Hello friend, this is %s message %d, word%d%s.\r\n", kind, i, kind, i, kind, i, folder, kind, i, i, kind)
		cmd := u.c.Append(folder, int64(len(msg)), nil)
		if _, err := cmd.Write([]byte(msg)); err != nil {
			u.t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			u.t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			u.t.Fatalf("append to %s: %v", folder, err)
		}
	}
}

func (u *imapUser) count(folder string) int {
	u.t.Helper()
	st, err := u.c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		u.t.Fatalf("status of %s: %v", folder, err)
	}
	return int(*st.NumMessages)
}

// trainConfigFile writes a daemon config file with the store and an
// [imap] section for the accounts (user → password).
func trainConfigFile(t *testing.T, db, server string, accounts ...[2]string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "[store]\ndbpath = %q\n\n[imap]\nserver = %q\nsecurity = \"none\"\n", db, server)
	for _, a := range accounts {
		pwFile := filepath.Join(dir, a[0]+".password")
		writeFile(t, pwFile, a[1]+"\n")
		fmt.Fprintf(&b, "\n[[imap.accounts]]\nuser = %q\npassword_file = %q\n", a[0], pwFile)
	}
	path := filepath.Join(dir, "gospamd.toml")
	writeFile(t, path, b.String())
	return path
}

// gospamd train --once: one pass, the per-user table on standard output,
// exit 1 while an account fails and 0 once none does; the messages are
// in the store.
func TestTrainOnce(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"}})
	alice := loginIMAP(t, dc.Addr, "alice", "alice-pw")
	alice.put("LearnAsSpam", "spam", 30)
	alice.put("LearnAsHam", "ham", 30)
	db := filepath.Join(t.TempDir(), "bayes")

	conf := trainConfigFile(t, db, dc.Addr, [2]string{"alice", "alice-pw"}, [2]string{"bob", "wrong"})
	out, errOut, code := runCLI(t, "", "train", "--daemon-config", conf, "--once")
	if code != exitFail {
		t.Fatalf("train --once with a wrong password: exit %d, want %d\n%s%s", code, exitFail, out, errOut)
	}
	t.Logf("gospamd train --once:\n%s", out)
	for _, want := range []string{"user  spam  ham", "alice    30   30", "bob: log in as bob: login refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if n := alice.count("LearnAsSpam") + alice.count("LearnAsHam"); n != 0 {
		t.Errorf("%d messages left in alice's learn folders", n)
	}
	magic, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic")
	if !strings.Contains(magic, "         30          0  non-token data: nspam\n") || !strings.Contains(magic, "         30          0  non-token data: nham\n") {
		t.Errorf("magic after train --once:\n%s", magic)
	}

	conf = trainConfigFile(t, db, dc.Addr, [2]string{"alice", "alice-pw"})
	if out, errOut, code := runCLI(t, "", "train", "--daemon-config", conf, "--once"); code != exitOK {
		t.Errorf("train --once, every account fine: exit %d\n%s%s", code, out, errOut)
	}
}

// While the daemon owns the store, gospamd train learns through its
// admin socket.
func TestTrainThroughDaemon(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := loginIMAP(t, dc.Addr, "alice", "alice-pw")
	alice.put("LearnAsSpam", "spam", 5)
	db := filepath.Join(t.TempDir(), "bayes")
	startDaemon(t, false, "--dbpath", db)

	conf := trainConfigFile(t, db, dc.Addr, [2]string{"alice", "alice-pw"})
	out, errOut, code := runCLI(t, "", "train", "--daemon-config", conf, "--once")
	if code != exitOK || !strings.Contains(out, "alice     5    0") {
		t.Fatalf("train --once through the daemon: exit %d\n%s%s", code, out, errOut)
	}
	magic, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic")
	if !strings.Contains(magic, "          5          0  non-token data: nspam\n") {
		t.Errorf("magic through the daemon:\n%s", magic)
	}
}

// The trainer attached to a daemon learns through the daemon's scan
// service and writer, and keeps polling: mail filed after the first pass
// is learned by a later one.
func TestTrainerAttachedToDaemon(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := loginIMAP(t, dc.Addr, "alice", "alice-pw")
	alice.put("LearnAsSpam", "spam", 4)

	ctx := context.Background()
	d, err := openDaemon(ctx, discardLogger(), daemonSettings{store: storeSpec{store: storeConfig{DBPath: filepath.Join(t.TempDir(), "bayes")}}, scan: scan.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := imaptrain.Config{Server: dc.Addr, PollInterval: confval.Duration(time.Second),
		Accounts: []imaptrain.Account{{User: "alice", PasswordFile: filepath.Join(t.TempDir(), "pw")}}}
	writeFile(t, cfg.Accounts[0].PasswordFile, "alice-pw\n")
	if err := d.attachIMAPTrainer(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	nspam := func() int64 {
		m, err := d.store.Magic(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return m.NSpam
	}
	waitFor("the first pass", func() bool { return nspam() == 4 && alice.count("LearnAsSpam") == 0 })
	alice.put("LearnAsHam", "ham", 3)
	waitFor("a later pass", func() bool { return alice.count("LearnAsHam") == 0 })
	if m, _ := d.store.Magic(ctx, ""); m.NSpam != 4 || m.NHam != 3 {
		t.Errorf("store: nspam %d nham %d, want 4 and 3", m.NSpam, m.NHam)
	}
	if err := d.shutdown(ctx); err != nil {
		t.Error(err)
	}
	if err := d.close(); err != nil {
		t.Error(err)
	}
}

// gospamd learn --imap imports an existing folder once (the cold start)
// and leaves it untouched; a second run learns nothing new.
func TestLearnIMAPImport(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := loginIMAP(t, dc.Addr, "alice", "alice-pw")
	alice.put("Old Spam", "spam", 12)
	db := filepath.Join(t.TempDir(), "bayes")
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "alice-pw\n")
	url := "imap://alice@" + dc.Addr + "/Old%20Spam"

	for run, want := range []string{"Learned tokens from 12 message(s) (12 message(s) examined)\n", "Learned tokens from 0 message(s) (12 message(s) examined)\n"} {
		out, errOut, code := runCLI(t, "", "learn", "--dbpath", db, "--spam", "--imap", url, "--password-file", pw)
		if code != exitOK || out != want {
			t.Fatalf("learn --imap, run %d: exit %d, %q, want %q\n%s", run, code, out, want, errOut)
		}
	}
	if n := alice.count("Old Spam"); n != 12 {
		t.Errorf("the imported folder holds %d messages, want all 12", n)
	}
	_, errOut, code := runCLI(t, "", "learn", "--dbpath", db, "--spam", "--imap", url)
	if code != exitUsage || !strings.Contains(errOut, "--password-file") {
		t.Errorf("learn --imap without --password-file: exit %d\n%s", code, errOut)
	}
}

// The [imap] section train reads is checked: a misspelt key or a bad
// value is an error naming it (exit 78), while sections train does not
// read are left to serve.
func TestTrainConfigErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"misspelt key", "[imap]\njunk_retention_dayz = 3\n[[imap.accounts]]\nuser = \"a\"\npassword_file = \"/p\"\n", "imap.junk_retention_dayz: unknown key"},
		{"bad value", "[imap]\nsecurity = \"ssl\"\n[[imap.accounts]]\nuser = \"a\"\npassword_file = \"/p\"\n", "security \"ssl\""},
		{"no accounts", "[imap]\nserver = \"127.0.0.1:143\"\n", "names no accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gospamd.toml")
			writeFile(t, path, tt.doc)
			_, errOut, code := runCLI(t, "", "train", "--daemon-config", path, "--once")
			if code != exitConfig || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, exitConfig, tt.want, errOut)
			}
		})
	}
}

// BenchmarkTrainOnce1000 times gospamd train --once (policy load, store
// open, login, one pass) over 1000 messages in one folder of a local
// Dovecot; the target is 10 s.
func BenchmarkTrainOnce1000(b *testing.B) {
	dc := testpeer.StartDovecot(b, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := loginIMAP(b, dc.Addr, "alice", "alice-pw")
	dir := b.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("alice-pw\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	conf := filepath.Join(dir, "gospamd.toml")
	for i := range b.N {
		b.StopTimer()
		db := filepath.Join(dir, fmt.Sprintf("bayes%d", i))
		doc := fmt.Sprintf("[store]\ndbpath = %q\n[imap]\nserver = %q\nidle = false\n[[imap.accounts]]\nuser = \"alice\"\npassword_file = %q\n", db, dc.Addr, pwFile)
		if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
			b.Fatal(err)
		}
		alice.put("LearnAsSpam", "spam", 1000)
		b.StartTimer()
		start := time.Now()
		var out, errOut strings.Builder
		env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, log: discardLogger()}
		if code := run(context.Background(), env, []string{"train", "--daemon-config", conf, "--once"}); code != exitOK {
			b.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/1000msgs")
		if !strings.Contains(out.String(), "alice  1000") {
			b.Fatalf("report:\n%s", out.String())
		}
	}
}
