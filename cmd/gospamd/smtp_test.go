package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/mta/maildir"
)

// smtpSiteRules put a message between the tag level (5) and the reject
// level (12), or past the reject level.
const smtpSiteRules = `
reject_score 12
body     SITE_SIX     /\bsix point phrase\b/
score    SITE_SIX     6
body     SITE_TWENTY  /\btwenty point phrase\b/
score    SITE_TWENTY  20
`

// smtpDaemon is a daemon as serve builds it, with the spamd and SMTP
// front ends attached, on 127.0.0.1:0.
type smtpDaemon struct {
	dir, alice, bob string
	smtpAddr        string
	spamdAddr       string
	logs            *syncBuffer
	cancel          context.CancelFunc
	done            chan error
}

func smtpTestConfig(t testing.TB, dir string) (mta.Config, string, string) {
	t.Helper()
	alice, bob := filepath.Join(dir, "mail", "alice"), filepath.Join(dir, "mail", "bob")
	routes := filepath.Join(dir, "routes")
	if err := os.WriteFile(routes, fmt.Appendf(nil, "alice example.com %s\nbob example.com %s\n", alice, bob), 0o600); err != nil {
		t.Fatal(err)
	}
	return mta.Config{Hostname: "mx.example.com", Domains: []string{"example.com"}, Routes: routes}, alice, bob
}

func writePolicy(t testing.TB, dir string) string {
	t.Helper()
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(site, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(smtpSiteRules), 0o600); err != nil {
		t.Fatal(err)
	}
	return site
}

// runSMTPDaemon runs "gospamd serve --daemon-config FILE" with a config
// file whose [smtp] section is cfg (listening on port 0, beside a spamd
// listener on port 0), the store, policy and user_prefs in dir, until
// ctx ends; ready gets the two addresses. The daemon logs to logs.
func runSMTPDaemon(ctx context.Context, logs io.Writer, dir string, cfg mta.Config, ready func(smtpAddr, spamdAddr string)) error {
	return runSMTPDaemonWith(ctx, logs, dir, "", cfg, ready)
}

// runSMTPDaemonWith is runSMTPDaemon with more sections in the file
// (extra, such as a [dns] section).
func runSMTPDaemonWith(ctx context.Context, logs io.Writer, dir, extra string, cfg mta.Config, ready func(smtpAddr, spamdAddr string)) error {
	cfg.Listen = "127.0.0.1:0"
	smtpSection, err := toml.Marshal(cfg)
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "gospamd.toml")
	doc := fmt.Sprintf("[store]\ndbpath = %q\n\n[spamd]\nlisten = [\"127.0.0.1:0\"]\n\n"+
		"[policy]\ndir = %q\nuser_prefs_dir = %q\n\n[daemon]\nhostname = \"mx.example.com\"\n\n%s\n[smtp]\n%s",
		filepath.Join(dir, "bayes"), filepath.Join(dir, "site"), filepath.Join(dir, "prefs"), extra, smtpSection)
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		return err
	}
	var addrs []string
	env := &cliEnv{stdin: strings.NewReader(""), stdout: logs, stderr: logs, onListen: func(a net.Addr) {
		addrs = append(addrs, a.String())
		if len(addrs) == 2 { // spamd's first, then SMTP's
			ready(addrs[1], addrs[0])
		}
	}}
	if code := run(ctx, env, []string{"serve", "--daemon-config", file}); code != exitOK {
		return fmt.Errorf("gospamd serve exited %d", code)
	}
	return nil
}

func startSMTPDaemon(t *testing.T, tweak func(*mta.Config)) *smtpDaemon {
	t.Helper()
	return startSMTPDaemonWith(t, "", tweak)
}

// startSMTPDaemonWith is startSMTPDaemon with more sections in the
// daemon config (see runSMTPDaemonWith).
func startSMTPDaemonWith(t *testing.T, extra string, tweak func(*mta.Config)) *smtpDaemon {
	t.Helper()
	dir := t.TempDir()
	writePolicy(t, dir)
	cfg, alice, bob := smtpTestConfig(t, dir)
	if tweak != nil {
		tweak(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &smtpDaemon{dir: dir, alice: alice, bob: bob, logs: &syncBuffer{b: new(strings.Builder)}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan [2]string, 1)
	go func() {
		d.done <- runSMTPDaemonWith(ctx, d.logs, dir, extra, cfg, func(a, b string) { ready <- [2]string{a, b} })
	}()
	select {
	case a := <-ready:
		d.smtpAddr, d.spamdAddr = a[0], a[1]
	case err := <-d.done:
		t.Fatalf("daemon: %v\n%s", err, d.logs)
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-d.done; err != nil {
			t.Errorf("daemon: %v\n%s", err, d.logs)
		}
	})
	return d
}

var swaksReply = regexp.MustCompile(`(?m)^<(?:-|\*\*|~|~\*) +([0-9]{3})[ -]`) // <~ and <~* after STARTTLS

// swaks runs swaks against addr and returns the code of the server's
// last reply and the transcript.
func swaks(t *testing.T, bin, addr string, args ...string) (int, string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--server", host, "--port", port, "--helo", "client.example.net",
		"--from", "carol@example.net", "--hide-informational", "--suppress-data"}, args...)...)
	out, _ := cmd.CombinedOutput()
	m := swaksReply.FindAllSubmatch(out, -1)
	last := 0
	for _, s := range m {
		c := 0
		_, _ = fmt.Sscanf(string(s[1]), "%d", &c)
		if c >= 400 { // the first refusal stands
			return c, string(out)
		}
		if c != 221 {
			last = c
		}
	}
	return last, string(out)
}

// TestSMTPWithSwaks: the "what it must show" for the SMTP front
// end, with Debian's swaks against the daemon.
func TestSMTPWithSwaks(t *testing.T) {
	bin := testpeer.Program(t, "swaks")
	d := startSMTPDaemon(t, nil)
	big := filepath.Join(d.dir, "big.eml")
	var b bytes.Buffer
	b.WriteString("From: carol@example.net\r\nTo: alice@example.com\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nSubject: big\r\n\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < 25<<20 {
		b.WriteString(line)
	}
	if err := os.WriteFile(big, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		args            []string
		want            int
		inbox, junk     int // alice's counts after the step (cumulative)
		bobInbox        int
		headerWantInNew string
	}{
		{"ham to the inbox", []string{"--to", "alice@example.com", "--header", "Subject: lunch", "--body", "See you at noon."}, 250, 1, 0, 0, ""},
		{"tag-level spam to .junkmail", []string{"--to", "alice@example.com", "--header", "Subject: offer", "--body", "a six point phrase"}, 250, 1, 1, 0, "X-Spam-Flag: YES"},
		{"reject-level spam refused", []string{"--to", "alice@example.com", "--header", "Subject: offer", "--body", "a twenty point phrase"}, 554, 1, 1, 0, ""},
		{"unknown user", []string{"--to", "nobody@example.com"}, 550, 1, 1, 0, ""},
		{"plussed user to the inbox", []string{"--to", "alice+anything@example.com", "--body", "plus"}, 250, 2, 1, 0, ""},
		{"relaying denied", []string{"--to", "someone@elsewhere.net"}, 554, 2, 1, 0, ""},
		{"missing Date refused", []string{"--to", "bob@example.com", "--data", "From: carol@example.net\r\nSubject: no date\r\n\r\nbody\r\n"}, 554, 2, 1, 0, ""},
		{"25 MB message", []string{"--to", "bob@example.com", "--data", big}, 552, 2, 1, 0, ""},
		{"ham to bob", []string{"--to", "bob@example.com", "--body", "hello bob"}, 250, 2, 1, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out := swaks(t, bin, d.smtpAddr, tc.args...)
			if got != tc.want {
				t.Fatalf("answer %d, want %d:\n%s", got, tc.want, out)
			}
			counts := [3]int{mustCount(t, d.alice, ""), mustCount(t, d.alice, "junkmail"), mustCount(t, d.bob, "")}
			if want := [3]int{tc.inbox, tc.junk, tc.bobInbox}; counts != want {
				t.Fatalf("alice inbox, alice junk, bob inbox = %v, want %v", counts, want)
			}
			if tc.headerWantInNew != "" {
				if !bytes.Contains(newest(t, d.alice, "junkmail"), []byte(tc.headerWantInNew)) {
					t.Errorf("junk copy lacks %q", tc.headerWantInNew)
				}
			}
		})
	}
	if t.Failed() {
		t.Log(d.logs)
	}
}

func mustCount(t testing.TB, root, folder string) int {
	t.Helper()
	n, err := maildir.Count(root, folder)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newest(t testing.TB, root, folder string) []byte {
	t.Helper()
	dir := filepath.Join(maildir.FolderPath(root, folder), "new")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("%s: %v", dir, err)
	}
	var best os.DirEntry
	var bt time.Time
	for _, e := range ents {
		fi, err := e.Info()
		if err == nil && !fi.ModTime().Before(bt) {
			best, bt = e, fi.ModTime()
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, best.Name()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
