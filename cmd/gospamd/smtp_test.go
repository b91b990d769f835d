package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/mta/maildir"
	"github.com/gospamd/gospamd/scan"
	"github.com/gospamd/gospamd/spamdproto"
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

// runSMTPDaemon opens the daemon in dir and serves spamd and SMTP until
// ctx ends; ready gets the two addresses.
func runSMTPDaemon(ctx context.Context, log *slog.Logger, dir string, cfg mta.Config, ready func(smtpAddr, spamdAddr string)) error {
	d, err := openDaemon(ctx, log, daemonSettings{dbpath: filepath.Join(dir, "bayes"), scan: scan.Config{
		PolicyDir: filepath.Join(dir, "site"), UserPrefsDir: filepath.Join(dir, "prefs"), Hostname: "mx.example.com"}})
	if err != nil {
		return err
	}
	defer d.close()
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	d.attachSpamd(spamdproto.Config{MaxMessageSize: d.service.MaxMessageSize()}, false, sl)
	cfg.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		return err
	}
	ml, err := listenSMTP(ctx, cfg)
	if err != nil {
		return err
	}
	if err := d.attachSMTP(cfg, ml); err != nil {
		_ = ml.Close()
		return err
	}
	ready(ml.Addr().String(), sl.Addr().String())
	err = d.wait(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(err, d.shutdown(sctx))
}

func startSMTPDaemon(t *testing.T, tweak func(*mta.Config)) *smtpDaemon {
	t.Helper()
	dir := t.TempDir()
	writePolicy(t, dir)
	cfg, alice, bob := smtpTestConfig(t, dir)
	if tweak != nil {
		tweak(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &smtpDaemon{dir: dir, alice: alice, bob: bob, logs: &syncBuffer{b: new(strings.Builder)}, cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(d.logs, nil))
	ready := make(chan [2]string, 1)
	go func() {
		d.done <- runSMTPDaemon(ctx, log, dir, cfg, func(a, b string) { ready <- [2]string{a, b} })
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

var swaksReply = regexp.MustCompile(`(?m)^<(?:-|\*\*) +([0-9]{3})[ -]`)

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
