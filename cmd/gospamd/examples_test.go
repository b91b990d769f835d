package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// buildGospamd builds the gospamd command into a test directory, for
// peers that run it as a program (maildrop's xfilter).
func buildGospamd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gospamd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestMaildropExample runs etc/examples/maildrop.mailfilter with Debian's
// maildrop against the daemon: xfilter "gospamd filter" marks the
// message up, and the junk rule files tagged spam into .junkmail
// (creating it the first time) and the rest into the INBOX. Two lines
// are adapted to the test: gospamd's path and spamd address, and the
// Maildir (maildrop takes $HOME from the password file).
func TestMaildropExample(t *testing.T) {
	maildrop := testpeer.Program(t, "maildrop")
	testpeer.Program(t, "maildirmake")
	d := startSMTPDaemon(t, nil)
	bin := buildGospamd(t)
	example, err := os.ReadFile(filepath.Join("..", "..", "etc", "examples", "maildrop.mailfilter"))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(d.dir, "home", "carl")
	maildir := filepath.Join(home, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(maildir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	filter := string(example)
	for old, new := range map[string]string{
		`/usr/bin/gospamd filter`: bin + " filter --spamd " + d.spamdAddr,
		`MAILDIR="$HOME/Maildir"`: fmt.Sprintf("MAILDIR=%q", maildir),
	} {
		if !strings.Contains(filter, old) {
			t.Fatalf("the example has no %q", old)
		}
		filter = strings.ReplaceAll(filter, old, new)
	}
	file := filepath.Join(d.dir, "mailfilter")
	if err := os.WriteFile(file, []byte(filter), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		msg         string
		inbox, junk int // counts after the step
	}{
		{"ham to the INBOX", mdaMessage("lunch", "noon?"), 1, 0},
		{"tag-level spam to a new .junkmail", mdaMessage("offer", "a six point phrase"), 1, 1},
		{"and again, .junkmail exists", mdaMessage("offer2", "a six point phrase"), 1, 2},
		{"reject-level spam to .junkmail too: already accepted", mdaMessage("offer3", "a twenty point phrase"), 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, maildrop, file)
			cmd.Stdin = strings.NewReader(tc.msg)
			cmd.Env = append(os.Environ(), "LOGNAME=carl")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("maildrop: %v\n%s", err, out)
			}
			if got := [2]int{mustCount(t, maildir, ""), mustCount(t, maildir, "junkmail")}; got != [2]int{tc.inbox, tc.junk} {
				t.Fatalf("INBOX, .junkmail = %v, want %v", got, [2]int{tc.inbox, tc.junk})
			}
		})
	}
	if got := newest(t, maildir, "junkmail"); !strings.Contains(string(got), "X-Spam-Flag: YES") {
		t.Errorf("junk copy not marked up:\n%s", got)
	}
}
