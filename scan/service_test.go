package scan_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
)

// siteRules are a site policy on top of the built-in rules: two rules
// that put a message clearly over the autolearn spam threshold (with
// enough header and body points), and one worth 4 points.
const siteRules = `
header   SITE_SPAM_HEAD  Subject =~ /\bwinner announcement\b/
score    SITE_SPAM_HEAD  10
body     SITE_SPAM_BODY  /\bclaim your prize now\b/
score    SITE_SPAM_BODY  10
body     SITE_FOUR       /\bfour point phrase\b/
score    SITE_FOUR       4
`

func message(subject, body string) []byte {
	return []byte("From: Alice Example <alice@example.org>\r\nTo: bob@example.net\r\n" +
		"Subject: " + subject + "\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.org>\r\n" +
		"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\n" + body + "\r\n")
}

var (
	spamMsg = message("winner announcement", "Dear friend, claim your prize now at our office.")
	hamMsg  = message("minutes of the meeting", "Hi Bob,\r\n\r\nthe minutes are attached as promised.\r\n\r\nAlice")
	fourMsg = message("a four pointer", "This mail has the four point phrase in it.")
)

type fixture struct {
	svc    *scan.Service
	store  *classifier.Store
	writer *learn.Writer
	site   string
	prefs  string
}

// newFixture builds a service on a fresh Pebble store with a single
// writer, the site rules above and a user_prefs directory.
func newFixture(t *testing.T, tweak func(*scan.Config)) *fixture {
	t.Helper()
	tmp := t.TempDir()
	f := &fixture{site: filepath.Join(tmp, "site"), prefs: filepath.Join(tmp, "users")}
	writeFile(t, filepath.Join(f.site, "local.cf"), siteRules)
	var err error
	f.store, err = classifier.Open(filepath.Join(tmp, "bayes"), classifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.writer = learn.NewWriter(f.store, learn.WriterOptions{})
	t.Cleanup(func() {
		if err := errors.Join(f.writer.Close(), f.store.Close()); err != nil {
			t.Error(err)
		}
	})
	cfg := scan.Config{PolicyDir: f.site, UserPrefsDir: f.prefs, Hostname: "mx.example.net", Store: f.store, Writer: f.writer}
	if tweak != nil {
		tweak(&cfg)
	}
	f.svc, err = scan.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) scan(t *testing.T, user string, msg []byte) *scan.Result {
	t.Helper()
	res, err := f.svc.Scan(context.Background(), &scan.Request{User: user, Message: msg})
	if err != nil {
		t.Fatalf("scan for %q: %v", user, err)
	}
	return res
}

func (f *fixture) magic(t *testing.T) classifier.Magic {
	t.Helper()
	m, err := f.store.Magic(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Autolearn learns a clear spam and a clear ham through the single
// writer, says so in X-Spam-Status, never learns the same message twice,
// and leaves a message between the thresholds alone.
func TestAutolearn(t *testing.T) {
	f := newFixture(t, nil)
	for _, step := range []struct {
		name        string
		msg         []byte
		want        string
		nspam, nham int64
	}{
		{"clear spam", spamMsg, rules.AutolearnSpam, 1, 0},
		{"the same spam again", spamMsg, rules.AutolearnUnavailable, 1, 0},
		{"clear ham", hamMsg, rules.AutolearnHam, 1, 1},
		{"between the thresholds", fourMsg, rules.AutolearnNo, 1, 1},
	} {
		res := f.scan(t, "", step.msg)
		if res.Rules.Autolearn != step.want {
			t.Errorf("%s: autolearn=%q (score %.1f, hits %v), want %q", step.name, res.Rules.Autolearn, res.Rules.Score, res.Rules.Rules(), step.want)
		}
		if !bytes.Contains(res.Rewritten(), []byte("autolearn="+step.want)) {
			t.Errorf("%s: the markup does not say autolearn=%s:\n%s", step.name, step.want, res.Rewritten())
		}
		if m := f.magic(t); m.NSpam != step.nspam || m.NHam != step.nham {
			t.Errorf("%s: store has nspam %d nham %d, want %d %d", step.name, m.NSpam, m.NHam, step.nspam, step.nham)
		}
	}
}

// Autolearn is off when the policy turns it off, and without a writer
// (gospamd check) nothing is learned.
func TestAutolearnOff(t *testing.T) {
	f := newFixture(t, nil)
	writeFile(t, filepath.Join(f.site, "zz-off.cf"), "bayes_auto_learn 0\n")
	if err := f.svc.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := f.scan(t, "", spamMsg); res.Rules.Autolearn != rules.AutolearnDisabled {
		t.Errorf("bayes_auto_learn 0: autolearn=%q, want disabled", res.Rules.Autolearn)
	}
	g := newFixture(t, func(c *scan.Config) { c.Writer = nil })
	g.scan(t, "", spamMsg)
	if m := g.magic(t); m.NSpam+m.NHam != 0 {
		t.Errorf("a service without a writer learned: %+v", m)
	}
}

// TELL learns, relearns as the other class, and forgets, reporting what
// changed as spamc expects; a path-trick user is refused.
func TestTell(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, step := range []struct {
		action      scan.TellAction
		changed     bool
		nspam, nham int64
	}{
		{scan.TellSpam, true, 1, 0},
		{scan.TellSpam, false, 1, 0}, // already learned
		{scan.TellHam, true, 0, 1},   // relearned as ham
		{scan.TellForget, true, 0, 0},
		{scan.TellForget, false, 0, 0}, // never learned now
	} {
		r, err := f.svc.Tell(ctx, &scan.TellRequest{Message: hamMsg, Action: step.action})
		if err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		if got := scan.Changed(step.action, r); got != step.changed {
			t.Errorf("%s: changed=%v (%v), want %v", step.action, got, r, step.changed)
		}
		if m := f.magic(t); m.NSpam != step.nspam || m.NHam != step.nham {
			t.Errorf("after %s: nspam %d nham %d, want %d %d", step.action, m.NSpam, m.NHam, step.nspam, step.nham)
		}
	}
	// A message with an earlier scan's markup is learned as the original.
	marked := f.scan(t, "", fourMsg).Rewritten()
	if _, err := f.svc.Tell(ctx, &scan.TellRequest{Message: marked, Action: scan.TellHam}); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.Tell(ctx, &scan.TellRequest{Message: fourMsg, Action: scan.TellHam}); scan.Changed(scan.TellHam, r) {
		t.Error("the unmarked original was learned again after its marked-up copy: markup not stripped")
	}
	for _, user := range []string{"../etc", "a/b", "bad\x00name"} {
		if _, err := f.svc.Tell(ctx, &scan.TellRequest{User: user, Message: hamMsg, Action: scan.TellHam}); !errors.Is(err, scan.ErrBadUser) {
			t.Errorf("Tell for user %q: %v, want ErrBadUser", user, err)
		}
		if _, err := f.svc.Scan(ctx, &scan.Request{User: user, Message: hamMsg}); !errors.Is(err, scan.ErrBadUser) {
			t.Errorf("Scan for user %q: %v, want ErrBadUser", user, err)
		}
	}
	g := newFixture(t, func(c *scan.Config) { c.Writer = nil })
	if _, err := g.svc.Tell(ctx, &scan.TellRequest{Message: hamMsg, Action: scan.TellSpam}); !errors.Is(err, scan.ErrTellDisabled) {
		t.Errorf("Tell without a writer: %v, want ErrTellDisabled", err)
	}
}

// A user's own required_score, rewrite_header and report_safe change that
// user's answer and nobody else's.
func TestUserMarkup(t *testing.T) {
	f := newFixture(t, nil)
	writeFile(t, filepath.Join(f.prefs, "alice", "user_prefs"),
		"required_score 3\nrewrite_header Subject [SPAM]\nreport_safe 0\n")
	alice := f.scan(t, "alice", fourMsg)
	bob := f.scan(t, "bob", fourMsg)
	if alice.Levels.Tag != 3 || !alice.IsSpam() || alice.Verdict != rules.VerdictTag {
		t.Errorf("alice: tag level %v, spam %v, verdict %v; want 3, spam, tag", alice.Levels.Tag, alice.IsSpam(), alice.Verdict)
	}
	if bob.Levels.Tag != 5 || bob.IsSpam() || bob.Verdict != rules.VerdictHam {
		t.Errorf("bob: tag level %v, spam %v, verdict %v; want 5, ham", bob.Levels.Tag, bob.IsSpam(), bob.Verdict)
	}
	out := string(alice.Rewritten())
	if !strings.Contains(out, "Subject: [SPAM] a four pointer") || !strings.Contains(out, "X-Spam-Flag: YES") ||
		strings.Contains(out, "Content-Type: multipart/mixed") {
		t.Errorf("alice's PROCESS answer lacks her markup (subject rewritten, report_safe 0):\n%s", out)
	}
	if out := string(bob.Rewritten()); strings.Contains(out, "[SPAM]") || strings.Contains(out, "X-Spam-Flag: YES") {
		t.Errorf("bob got alice's markup:\n%s", out)
	}
	// Over the site's level (5), bob gets the site's report_safe 1 (the
	// original wrapped as an attachment), alice her report_safe 0.
	wrapped := string(f.scan(t, "bob", spamMsg).Rewritten())
	if !strings.Contains(wrapped, "message/rfc822") || strings.Contains(wrapped, "[SPAM]") {
		t.Errorf("bob's spam is not wrapped by the site's report_safe 1:\n%s", wrapped)
	}
	if own := string(f.scan(t, "alice", spamMsg).Rewritten()); strings.Contains(own, "message/rfc822") {
		t.Errorf("alice's spam is wrapped despite her report_safe 0:\n%s", own)
	}
	if lv, err := f.svc.LevelsFor("alice"); err != nil || lv.Tag != 3 {
		t.Errorf("LevelsFor(alice) = %+v, %v; want tag 3", lv, err)
	}
}

// A site reject_score gives the reject verdict; a user may not raise it
// past the site's by user_prefs, but the tag level is theirs.
func TestVerdictLevels(t *testing.T) {
	f := newFixture(t, nil)
	writeFile(t, filepath.Join(f.site, "zz-levels.cf"), "required_score 4\nreject_score 12\n")
	if err := f.svc.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		msg  []byte
		want rules.Verdict
	}{{hamMsg, rules.VerdictHam}, {fourMsg, rules.VerdictTag}, {spamMsg, rules.VerdictReject}} {
		res := f.scan(t, "", tt.msg)
		if res.Verdict != tt.want || res.Levels != (scan.Levels{Tag: 4, Reject: 12}) {
			t.Errorf("score %.1f: verdict %v levels %+v, want %v with 4/12", res.Rules.Score, res.Verdict, res.Levels, tt.want)
		}
	}
}

// A message over the size limit comes back unscanned and unchanged; the
// envelope's trace lines are put in front of what is scanned.
func TestSizeLimitAndEnvelope(t *testing.T) {
	f := newFixture(t, func(c *scan.Config) { c.MaxMessageSize = 300 })
	big := message("winner announcement", strings.Repeat("claim your prize now ", 40))
	res := f.scan(t, "", big)
	if !res.Unscanned || res.Rules.Score != 0 || !bytes.Equal(res.Rewritten(), big) || res.Report() != "" {
		t.Errorf("oversized message: unscanned %v score %v, rewritten changed %v", res.Unscanned, res.Rules.Score, !bytes.Equal(res.Rewritten(), big))
	}
	g := newFixture(t, nil)
	env := scan.Envelope{HELO: "mail.example.org", MailFrom: "alice@example.org", RcptTo: []string{"bob@example.net"}}
	env.ClientIP = mustAddr(t, "192.0.2.7")
	r, err := g.svc.Scan(context.Background(), &scan.Request{Message: hamMsg, Envelope: env})
	if err != nil {
		t.Fatal(err)
	}
	want := "Return-Path: <alice@example.org>\r\nReceived: from mail.example.org (unknown [192.0.2.7])\r\n\tby mx.example.net (gospamd) with ESMTP\r\n\tfor <bob@example.net>; "
	if !bytes.HasPrefix(r.Message, []byte(want)) || !bytes.HasSuffix(r.Message, hamMsg) {
		t.Errorf("scanned message does not start with the envelope's trace lines:\n%s", r.Message)
	}
}

// Reload swaps the policy; a broken one is refused and the old one kept.
func TestReload(t *testing.T) {
	f := newFixture(t, nil)
	writeFile(t, filepath.Join(f.site, "zz.cf"), "required_score 7\n")
	if err := f.svc.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := f.scan(t, "", hamMsg); res.Levels.Tag != 7 {
		t.Errorf("after reload: tag level %v, want 7", res.Levels.Tag)
	}
	writeFile(t, filepath.Join(f.site, "zz.cf"), "required_score seven\nbody BROKEN /(/\n")
	if err := f.svc.Reload(context.Background()); err == nil {
		t.Error("a broken policy was accepted")
	}
	if res := f.scan(t, "", hamMsg); res.Levels.Tag != 7 {
		t.Errorf("after a refused reload: tag level %v, want the old 7", res.Levels.Tag)
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
