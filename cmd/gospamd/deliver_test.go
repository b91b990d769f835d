package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

var boundary = regexp.MustCompile(`=_[0-9A-F]{8}\.[0-9A-F]{8}`)

func mdaMessage(subject, body string) string {
	return "From: Carol <carol@example.net>\nTo: alice@example.com\nSubject: " + subject +
		"\nDate: Mon, 07 Dec 2026 10:00:00 +0000\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.net>\n\n" + body + "\n"
}

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestDeliver: gospamd deliver files by the verdict through the running
// daemon's spamd, exits 75 with nothing in new/ when the Maildir is
// broken, 67 for a user without a Maildir, and scans by itself when no
// daemon answers.
func TestDeliver(t *testing.T) {
	d := startSMTPDaemon(t, nil)
	closedPort := "127.0.0.1:1" // nothing listens on port 1 here
	broken := filepath.Join(d.dir, "broken")
	if err := os.MkdirAll(broken, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	routes := filepath.Join(d.dir, "routes")
	for _, tc := range []struct {
		name       string
		args       []string
		msg        string
		want       int
		inbox, jnk int // alice's counts after the step
	}{
		{"ham", []string{"--spamd", d.spamdAddr, "-u", "alice", "--routes", routes}, mdaMessage("lunch", "noon?"), 0, 1, 0},
		{"tag-level spam to junk", []string{"--spamd", d.spamdAddr, "--user", "alice", "--maildir", d.alice}, mdaMessage("offer", "a six point phrase"), 0, 1, 1},
		{"reject-level spam to junk: already accepted", []string{"--spamd", d.spamdAddr, "-u", "alice", "--maildir", d.alice}, mdaMessage("offer", "a twenty point phrase"), 0, 1, 2},
		{"broken Maildir: 75", []string{"--spamd", d.spamdAddr, "-u", "alice", "--maildir", broken}, mdaMessage("x", "y"), 75, 1, 2},
		{"no Maildir for the user: 67", []string{"--spamd", d.spamdAddr, "-u", "nobody", "--routes", routes}, mdaMessage("x", "y"), 67, 1, 2},
		{"no daemon: scanned here", []string{"--spamd", closedPort, "--dbpath", filepath.Join(d.dir, "none"), "--config", filepath.Join(d.dir, "site"),
			"-u", "alice", "--maildir", d.alice}, mdaMessage("offer2", "a six point phrase"), 0, 1, 3},
		{"no daemon, store locked by a daemon not on that port: 75", []string{"--spamd", closedPort, "--dbpath", filepath.Join(d.dir, "bayes"),
			"-u", "alice", "--maildir", d.alice}, mdaMessage("x", "y"), 75, 1, 3},
		{"routes from the daemon config's [smtp]: deliver --user alone", []string{"--daemon-config", filepath.Join(d.dir, "gospamd.toml"),
			"--spamd", d.spamdAddr, "--user", "alice"}, mdaMessage("lunch again", "noon?"), 0, 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.msg, append([]string{"deliver"}, tc.args...)...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			if got := [2]int{mustCount(t, d.alice, ""), mustCount(t, d.alice, "junkmail")}; got != [2]int{tc.inbox, tc.jnk} {
				t.Fatalf("alice inbox, junk = %v, want %v", got, [2]int{tc.inbox, tc.jnk})
			}
		})
	}
	if n := mustCount(t, broken, ""); n != 0 {
		t.Errorf("broken Maildir has %d messages", n)
	}
}

// TestFilterMatchesSpamc: gospamd filter writes byte for byte what spamc
// gets from gospamd's spamd for the same message and user, and passes
// the message through unchanged when it cannot scan.
func TestFilterMatchesSpamc(t *testing.T) {
	spamc := testpeer.Program(t, "spamc")
	d := startSMTPDaemon(t, nil)
	host, port, _ := strings.Cut(d.spamdAddr, ":")
	for _, msg := range []string{mdaMessage("lunch", "noon?"), mdaMessage("offer", "a six point phrase"), mdaMessage("offer", "a twenty point phrase")} {
		cmd := exec.Command(spamc, "-d", host, "-p", port, "-u", "alice")
		cmd.Stdin = strings.NewReader(msg)
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("spamc: %v", err)
		}
		code, got, stderr := runCmd(t, msg, "filter", "--spamd", d.spamdAddr, "-u", "alice")
		// report_safe's MIME boundary is random, as SpamAssassin's: two
		// spamc runs differ there too.
		if code != 0 || boundary.ReplaceAllString(got, "=_B") != boundary.ReplaceAllString(string(want), "=_B") {
			t.Errorf("filter exit %d, output differs from spamc's:\n--- filter\n%s\n--- spamc\n%s\n%s", code, got, want, stderr)
		}
		if !strings.Contains(got, "X-Spam-Status:") {
			t.Errorf("filter output not marked up:\n%s", got)
		}
	}
	// Cannot scan (no daemon, store locked by the running one): unchanged.
	msg := mdaMessage("lunch", "noon?")
	code, got, _ := runCmd(t, msg, "filter", "--spamd", "127.0.0.1:1", "--dbpath", filepath.Join(d.dir, "bayes"), "-u", "alice")
	if code != 0 || got != msg {
		t.Errorf("filter without a scanner: exit %d, output changed:\n%s", code, got)
	}
}
