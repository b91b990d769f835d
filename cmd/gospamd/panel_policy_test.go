package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// policySiteRules give a message a known score: "six point phrase"
// weighs 6.
const policySiteRules = "body SITE_SIX /\\bsix point phrase\\b/\nscore SITE_SIX 6\ndescribe SITE_SIX Six points\n"

const (
	policySixMsg = "From: carol@example.net\nTo: alice@example.com\nSubject: an offer\nDate: Mon, 7 Dec 2026 04:00:00 +0000\n" +
		"Message-ID: <six@example.net>\n\nHere is a six point phrase for you.\n"
	policySpammerMsg = "From: Someone <x@spammer.example>\nTo: alice@example.com\nSubject: hello\nDate: Mon, 7 Dec 2026 04:00:00 +0000\n" +
		"Message-ID: <bl@spammer.example>\n\nJust saying hello.\n"
)

// spamcCheck runs the real spamc -c against the daemon: its answer
// ("score/threshold") and exit code (1: spam).
func spamcCheck(t *testing.T, spamc, addr, msg string) (string, int) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(spamc, "-c", "-d", host, "-p", port)
	cmd.Stdin = strings.NewReader(msg)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("spamc: %v", err)
	}
	return strings.TrimSpace(string(out)), code
}

var spamcAnswer = regexp.MustCompile(`^(-?[0-9.]+)/([0-9.]+)$`)

// checkVerdict is the front ends' verdict gospamd check --summary gives
// msg under the daemon's config (no Bayes: the daemon owns the store).
func checkVerdict(t *testing.T, pd *panelDaemon, msg string) string {
	t.Helper()
	out, errOut, code := runCLI(t, msg, "check", "--summary", "--daemon-config", pd.configFile,
		"--dbpath", filepath.Join(t.TempDir(), "none"))
	if code != 0 {
		t.Fatalf("gospamd check: exit %d\n%s\n%s", code, out, errOut)
	}
	first, _, _ := strings.Cut(out, "\n")
	return first
}

// TestPolicyPageInBrowser: the Policy page in a real browser over a real
// daemon. Changing the tag level changes spamc -c's answer; the reject
// level changes gospamd check's verdict; a sender added to the black
// list scores past the reject level; a broken value is refused with the
// lint's message; a hand file read later overrides the panel, is never
// written, and gospamd lint shows both, as it shows the same change
// made by hand.
func TestPolicyPageInBrowser(t *testing.T) {
	spamc := testpeer.Program(t, "spamc")
	b := newBrowser(t)
	pd := startPanelDaemon(t, panelDaemonOptions{PolicyFiles: map[string]string{"10_local.cf": policySiteRules}})
	pd.browserLogin(t, b, pd.adminPassword)

	save := func(t *testing.T, wantFlash string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		b.do(t, chromedp.Navigate(pd.url+"/policy"), chromedp.WaitVisible(chromedp.CSS("#save")))
		b.do(t, actions...)
		b.do(t, chromedp.Click(chromedp.CSS("#save")))
		sel := ".flash"
		if !strings.HasPrefix(wantFlash, "Applied") && wantFlash != "Nothing changed." {
			sel = ".error"
		}
		b.waitText(t, sel, wantFlash)
	}

	t.Run("tag level changes spamc's answer", func(t *testing.T) {
		ans, code := spamcCheck(t, spamc, pd.addr(), policySixMsg)
		m := spamcAnswer.FindStringSubmatch(ans)
		if m == nil || m[2] != "5.0" || code != 1 {
			t.Fatalf("spamc -c before: %q exit %d, want spam at threshold 5.0", ans, code)
		}
		b.do(t, chromedp.Navigate(pd.url+"/policy"), chromedp.WaitVisible(chromedp.CSS("#tag")))
		b.screenshot(t, "policy")
		save(t, "Applied and reloaded", chromedp.SetValue(chromedp.CSS("#sensitivity"), "custom"),
			chromedp.SetValue(chromedp.CSS("#tag"), "9"))
		ans, code = spamcCheck(t, spamc, pd.addr(), policySixMsg)
		if m := spamcAnswer.FindStringSubmatch(ans); m == nil || m[2] != "9.0" || code != 0 {
			t.Errorf("spamc -c after the tag level 9: %q exit %d, want ham at threshold 9.0", ans, code)
		}
		if src := b.text(t, "#src-tag"); !strings.Contains(src, filepath.Join(pd.policyDir, "50_panel.cf")) {
			t.Errorf("tag level set in %q, want the panel's fragment", src)
		}
	})

	t.Run("reject level changes gospamd check's verdict", func(t *testing.T) {
		if got := checkVerdict(t, pd, policySixMsg); !strings.Contains(got, " ham") {
			t.Fatalf("check before: %q, want ham (6 under the tag level 9)", got)
		}
		save(t, "Applied and reloaded", chromedp.SetValue(chromedp.CSS("#tag"), "4"),
			chromedp.SetValue(chromedp.CSS("#reject"), "6"))
		if got := checkVerdict(t, pd, policySixMsg); !strings.Contains(got, " reject (reject at 6.0)") {
			t.Errorf("check after reject level 6: %q, want reject", got)
		}
		save(t, "Applied and reloaded", chromedp.SetValue(chromedp.CSS("#reject"), "12"))
		if got := checkVerdict(t, pd, policySixMsg); !strings.Contains(got, " tag (reject at 12.0)") {
			t.Errorf("check after reject level 12: %q, want tag", got)
		}
	})

	t.Run("black-listed sender scores past the reject level", func(t *testing.T) {
		ans, _ := spamcCheck(t, spamc, pd.addr(), policySpammerMsg)
		if m := spamcAnswer.FindStringSubmatch(ans); m == nil || atof(t, m[1]) >= 12 {
			t.Fatalf("spamc -c before the black list: %q", ans)
		}
		save(t, "Applied and reloaded", chromedp.SetValue(chromedp.CSS("#block"), "*@spammer.example\n"))
		ans, code := spamcCheck(t, spamc, pd.addr(), policySpammerMsg)
		if m := spamcAnswer.FindStringSubmatch(ans); m == nil || atof(t, m[1]) < 12 || code != 1 {
			t.Errorf("spamc -c after black-listing *@spammer.example: %q exit %d, want past the reject level 12", ans, code)
		}
		if got := checkVerdict(t, pd, policySpammerMsg); !strings.Contains(got, " reject ") {
			t.Errorf("check: %q, want reject", got)
		}
		if entries := b.text(t, "#entries"); !strings.Contains(entries, "*@spammer.example") || !strings.Contains(entries, "50_panel.cf") {
			t.Errorf("list entries:\n%s", entries)
		}
	})

	t.Run("broken value refused with the lint message", func(t *testing.T) {
		save(t, "required_score", chromedp.SetValue(chromedp.CSS("#tag"), "four"))
		msg := b.text(t, ".error")
		for _, want := range []string{"not applied, the running policy is unchanged", filepath.Join(pd.policyDir, "50_panel.cf") + ":", "error: required_score"} {
			if !strings.Contains(msg, want) {
				t.Errorf("refusal %q lacks %q", msg, want)
			}
		}
		b.screenshot(t, "policy-refused")
		if ans, _ := spamcCheck(t, spamc, pd.addr(), policySixMsg); !strings.HasSuffix(ans, "/4.0") {
			t.Errorf("spamc -c after a refused change: %q, want the running tag level 4.0", ans)
		}
		frag, _ := os.ReadFile(filepath.Join(pd.policyDir, "50_panel.cf"))
		if strings.Contains(string(frag), "four") {
			t.Errorf("refused value written:\n%s", frag)
		}
	})

	t.Run("hand edit wins, is never written, and lint shows both", func(t *testing.T) {
		hand := filepath.Join(pd.policyDir, "90_hand.cf")
		const handText = "# a person's own file\nreject_score 20\n"
		if err := os.WriteFile(hand, []byte(handText), 0o600); err != nil {
			t.Fatal(err)
		}
		// The page says who wins.
		b.do(t, chromedp.Navigate(pd.url+"/policy"), chromedp.WaitVisible(chromedp.CSS("#overrides")))
		if o := b.text(t, "#overrides"); !strings.Contains(o, "reject_score") || !strings.Contains(o, hand+":2") {
			t.Errorf("overrides:\n%s", o)
		}
		if src := b.text(t, "#src-reject"); src != hand+":2" {
			t.Errorf("reject level in force from %q, want %s:2", src, hand)
		}
		b.screenshot(t, "policy-overridden")
		// A panel change after the hand edit leaves the hand file alone.
		save(t, "Applied and reloaded", chromedp.SetValue(chromedp.CSS("#subject"), "[SPAM]"),
			chromedp.Click(chromedp.CSS("#rewrite")))
		if got, _ := os.ReadFile(hand); string(got) != handText {
			t.Errorf("hand file rewritten:\n%s", got)
		}
		if got := checkVerdict(t, pd, policySixMsg); !strings.Contains(got, "(reject at 20.0)") {
			t.Errorf("check: %q, want the hand file's reject level 20", got)
		}
		if a := b.text(t, "#audit"); !strings.Contains(a, "required_score") || !strings.Contains(a, "blocklist_from *@spammer.example") ||
			!strings.Contains(a, "rewrite_header subject") {
			t.Errorf("audit table:\n%s", a)
		}

		values, where := lintSettings(t, pd.policyDir)
		want := map[string]string{
			"required_score = 4":                        "50_panel.cf",
			"reject_score = 20":                         "90_hand.cf",
			"rewrite_header subject = [SPAM]":           "50_panel.cf",
			"blocklist_from *@spammer.example = listed": "50_panel.cf",
		}
		for i, v := range values {
			if f, ok := want[v]; ok {
				if !strings.Contains(where[i], f) {
					t.Errorf("lint: %s from %s, want %s", v, where[i], f)
				}
				delete(want, v)
			}
		}
		if len(want) > 0 {
			t.Errorf("lint does not show %v:\n%v", want, values)
		}
		// The same policy made by hand alone: lint shows the same values.
		handSite := filepath.Join(t.TempDir(), "site")
		writeFile(t, filepath.Join(handSite, "10_local.cf"), policySiteRules)
		writeFile(t, filepath.Join(handSite, "60_mine.cf"),
			"required_score 4\nreject_score 20\nrewrite_header Subject [SPAM]\nblacklist_from *@spammer.example\n")
		handValues, _ := lintSettings(t, handSite)
		if strings.Join(values, "\n") != strings.Join(handValues, "\n") {
			t.Errorf("panel+hand policy and hand-only policy differ in lint:\n%s\n---\n%s",
				strings.Join(values, "\n"), strings.Join(handValues, "\n"))
		}
	})

	t.Run("policy POST without CSRF token refused", func(t *testing.T) {
		c, _ := pd.httpClient(t, pd.adminPassword)
		resp, err := c.PostForm(pd.url+"/policy", url.Values{"tag": {"1"}, "sensitivity": {"custom"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /policy without csrf_token: %d, want 403", resp.StatusCode)
		}
		ro, _ := pd.httpClient(t, pd.readonlyPassword)
		body, _ := pd.getPage(t, ro, "/policy")
		if strings.Contains(body, `id="save"`) || strings.Contains(body, `action="/policy"`) {
			t.Errorf("the read-only role sees the policy form")
		}
	})
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}
