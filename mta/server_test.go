package mta_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/mta/maildir"
	"github.com/gospamd/gospamd/scan"
)

// siteRules: a phrase worth 6 points (between the tag level 5 and the
// reject level 12) and one worth 20.
const siteRules = `
reject_score 12
body     SITE_SIX     /\bsix point phrase\b/
score    SITE_SIX     6
body     SITE_TWENTY  /\btwenty point phrase\b/
score    SITE_TWENTY  20
`

// env is a test server: a real scan.Service on a fresh Pebble store,
// Maildirs for alice and bob, listening on 127.0.0.1:0.
type env struct {
	addr    string
	dir     string
	alice   string
	bob     string
	archive string
	svc     *scan.Service
	store   *classifier.Store
	srv     *mta.Server
}

func newScanService(t testing.TB, dir string) (*scan.Service, *classifier.Store) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "site", "local.cf"), siteRules)
	store, err := classifier.Open(filepath.Join(dir, "bayes"), classifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	writer := learn.NewWriter(store, learn.WriterOptions{})
	t.Cleanup(func() {
		if err := errors.Join(writer.Close(), store.Close()); err != nil {
			t.Error(err)
		}
	})
	svc, err := scan.New(context.Background(), scan.Config{PolicyDir: filepath.Join(dir, "site"),
		UserPrefsDir: filepath.Join(dir, "prefs"), Hostname: "mx.example.com", Store: store, Writer: writer})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func newEnv(t testing.TB, tweak func(*mta.Config)) *env {
	t.Helper()
	return newEnvDeps(t, tweak, nil)
}

func newEnvDeps(t testing.TB, tweak func(*mta.Config), tweakDeps func(*mta.Deps)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{dir: dir, alice: filepath.Join(dir, "mail", "alice"), bob: filepath.Join(dir, "mail", "bob"),
		archive: filepath.Join(dir, "archive")}
	e.svc, e.store = newScanService(t, dir)
	routes := filepath.Join(dir, "routes")
	writeFile(t, routes, fmt.Sprintf("# user domain maildir\nalice example.com %s\nbob example.com %s\nbob example.org %s\nalice+lists example.com %s\n",
		e.alice, e.bob, e.bob, filepath.Join(dir, "mail", "alice-lists")))
	cfg := mta.Config{Hostname: "mx.example.com", Domains: []string{"example.com", "Example.ORG"}, Routes: routes}
	if tweak != nil {
		tweak(&cfg)
	}
	deps := mta.Deps{Scanner: e.svc, Teller: e.svc}
	if tweakDeps != nil {
		tweakDeps(&deps)
	}
	srv, err := mta.NewServer(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return e
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func message(subject, body string) []byte {
	return []byte("From: Carol <carol@example.net>\r\nTo: alice@example.com\r\nSubject: " + subject +
		"\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") +
		"@example.net>\r\n\r\n" + body + "\r\n")
}

// send runs one SMTP transaction and returns the first error (an
// *smtp.SMTPError for a refusal).
func send(t testing.TB, addr, from string, to []string, msg []byte) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	return transact(c, from, to, msg)
}

// transact runs one SMTP transaction on c and closes it.
func transact(c *smtp.Client, from string, to []string, msg []byte) error {
	defer c.Close()
	if err := c.Hello("client.example.net"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return -1
	}
	return 250
}

// only returns the one file in root/folder's new/, failing unless there
// is exactly one.
func only(t *testing.T, root, folder string) []byte {
	t.Helper()
	dir := filepath.Join(maildir.FolderPath(root, folder), "new")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("%s: %d files, %v; want 1", dir, len(ents), err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(t *testing.T, root, folder string) int {
	t.Helper()
	n, err := maildir.Count(root, folder)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVerdicts: every answer the issue lists, each on a fresh server.
func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		from      string
		to        []string
		msg       []byte
		tweak     func(*mta.Config)
		deps      func(*mta.Deps)
		wantCode  int
		wantInbox string // Maildir whose INBOX gets the one copy
		wantJunk  string // Maildir whose junk folder gets it
		contains  []string
	}{
		{name: "ham to the inbox", to: []string{"alice@example.com"}, msg: message("lunch", "See you at noon."),
			wantCode: 250, wantInbox: "alice", contains: []string{"X-Spam-Status: No", "Return-Path: <carol@example.net>", "Received: from client.example.net"}},
		{name: "tagged spam to junk", to: []string{"alice@example.com"}, msg: message("offer", "a six point phrase here"),
			wantCode: 250, wantJunk: "alice", contains: []string{"X-Spam-Flag: YES", "SITE_SIX"}},
		{name: "reject-level spam refused", to: []string{"alice@example.com"}, msg: message("offer", "a twenty point phrase"),
			wantCode: 554},
		{name: "GTUBE refused", to: []string{"alice@example.com"},
			msg: message("gtube", "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"), wantCode: 554},
		{name: "unknown user", to: []string{"nobody@example.com"}, msg: message("x", "y"), wantCode: 550},
		{name: "plussed user to the base user", to: []string{"alice+anything@example.com"}, msg: message("plus", "hello"),
			wantCode: 250, wantInbox: "alice"},
		{name: "exact plussed route wins", to: []string{"alice+lists@example.com"}, msg: message("list", "hello"),
			wantCode: 250, wantInbox: "alice-lists"},
		{name: "second domain, case-insensitive", to: []string{"Bob@EXAMPLE.org"}, msg: message("hi bob", "hello"),
			wantCode: 250, wantInbox: "bob"},
		{name: "relaying denied", to: []string{"someone@elsewhere.net"}, msg: message("relay", "x"), wantCode: 554},
		{name: "missing Date", to: []string{"alice@example.com"}, wantCode: 554,
			msg: []byte("From: carol@example.net\r\nSubject: no date\r\n\r\nbody\r\n")},
		{name: "missing Date from an exempt network", to: []string{"alice@example.com"}, wantCode: 250, wantInbox: "alice",
			msg:   []byte("From: carol@example.net\r\nSubject: no date\r\n\r\nbody\r\n"),
			tweak: func(c *mta.Config) { c.HeaderChecksExempt = []string{"127.0.0.0/8"} }},
		{name: "oversize", to: []string{"alice@example.com"}, wantCode: 552,
			msg:   message("big", strings.Repeat("0123456789abcdef\r\n", 2000)),
			tweak: func(c *mta.Config) { c.MaxSize = 10000 }},
		{name: "badmailfrom answered as unknown user", from: "spammer@bad.example", to: []string{"alice@example.com"},
			msg: message("x", "y"), wantCode: 550, tweak: func(c *mta.Config) { c.BadMailFrom = []string{"@bad.example"} }},
		{name: "badrcptto", to: []string{"bob@example.com"}, msg: message("x", "y"), wantCode: 550,
			tweak: func(c *mta.Config) { c.BadRcptTo = []string{"bob@*"} }},
		{name: "badmailfromto pair", from: "ex@old.example", to: []string{"alice@example.com"}, msg: message("x", "y"), wantCode: 550,
			tweak: func(c *mta.Config) { c.BadMailFromTo = []string{"ex@old.example alice@example.com"} }},
		{name: "no junk sorting for the user", to: []string{"alice@example.com"}, msg: message("offer", "a six point phrase"),
			wantCode: 250, wantInbox: "alice", contains: []string{"X-Spam-Flag: YES"},
			tweak: func(c *mta.Config) { c.Users = map[string]mta.UserOptions{"alice": {NoJunkSort: true}} }},
		{name: "no junk sorting for anyone", to: []string{"alice@example.com"}, msg: message("offer", "a six point phrase"),
			wantCode: 250, wantInbox: "alice", contains: []string{"X-Spam-Flag: YES"},
			tweak: func(c *mta.Config) { c.NoJunkSort = true }},
		{name: "no filtering for the user", to: []string{"alice@example.com"}, msg: message("offer", "a twenty point phrase"),
			wantCode: 250, wantInbox: "alice",
			tweak: func(c *mta.Config) { c.Users = map[string]mta.UserOptions{"alice": {NoFilter: true}} }},
		{name: "max_load defers", to: []string{"alice@example.com"}, msg: message("x", "y"), wantCode: 451,
			tweak: func(c *mta.Config) { c.MaxLoad = 4 },
			deps:  func(d *mta.Deps) { d.LoadAvg = func() (float64, error) { return 50, nil } }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvDeps(t, tc.tweak, tc.deps)
			from := tc.from
			if from == "" {
				from = "carol@example.net"
			}
			err := send(t, e.addr, from, tc.to, tc.msg)
			if got := code(err); got != tc.wantCode {
				t.Fatalf("answer %d (%v), want %d", got, err, tc.wantCode)
			}
			total := 0
			for _, who := range []string{"alice", "bob", "alice-lists"} {
				root := filepath.Join(e.dir, "mail", who)
				for _, folder := range []string{"", "junkmail"} {
					n := count(t, root, folder)
					total += n
					want := 0
					if (folder == "" && tc.wantInbox == who) || (folder == "junkmail" && tc.wantJunk == who) {
						want = 1
					}
					if n != want {
						t.Errorf("%s %q: %d messages, want %d", who, folder, n, want)
					}
				}
			}
			if total == 0 {
				return
			}
			root, folder := filepath.Join(e.dir, "mail", tc.wantInbox), ""
			if tc.wantJunk != "" {
				root, folder = filepath.Join(e.dir, "mail", tc.wantJunk), "junkmail"
			}
			got := only(t, root, folder)
			for _, s := range tc.contains {
				if !bytes.Contains(got, []byte(s)) {
					t.Errorf("delivered message lacks %q:\n%s", s, got)
				}
			}
		})
	}
}

// TestSetNoJunkSort: junk sorting turned off and on while the server
// runs applies to the next message.
func TestSetNoJunkSort(t *testing.T) {
	e := newEnvDeps(t, nil, nil)
	spam := message("offer", "a six point phrase")
	for i, sort := range []bool{true, false, true} {
		e.srv.SetNoJunkSort(!sort)
		if got := e.srv.NoJunkSort(); got != !sort {
			t.Fatalf("NoJunkSort() %v after SetNoJunkSort(%v)", got, !sort)
		}
		if err := send(t, e.addr, "carol@example.net", []string{"alice@example.com"}, spam); err != nil {
			t.Fatal(err)
		}
		inbox, junk := count(t, e.alice, ""), count(t, e.alice, "junkmail")
		wantJunk := 1
		if i == 2 {
			wantJunk = 2
		}
		if sort && junk != wantJunk || !sort && inbox != 1 {
			t.Errorf("message %d (junk sorting %v): inbox %d, junk %d", i, sort, inbox, junk)
		}
	}
}
