package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

// The web panel in a real browser, over a daemon that learned part of the
// shared corpus and scanned 200 more of its messages through spamd: the
// Status page shows those scans; a wrong password is refused; a message
// learned as spam in the Bayes page makes nspam grow; a reset brings nspam
// and nham to 0. Over plain HTTP, a POST without the CSRF token and any
// POST of the read-only role are refused. Every page is saved as a
// screenshot (see screenshotDir).
func TestPanelInBrowser(t *testing.T) {
	spam := testpeer.CorpusFiles(t, "spam")
	ham := testpeer.CorpusFiles(t, "easy_ham")
	b := newBrowser(t)
	db := filepath.Join(t.TempDir(), "bayes")
	for _, step := range []struct {
		class string
		files []string
	}{{"--spam", spam[:150]}, {"--ham", ham[:150]}} {
		if out, errOut, code := runCLI(t, "", append([]string{"learn", "--dbpath", db, step.class}, step.files...)...); code != 0 {
			t.Fatalf("learn: %d %s %s", code, out, errOut)
		}
	}
	// Two DNS lists on a local server: one answers, one never does (its
	// queries time out after the [dns] timeout).
	dnsSrv := dnstest.Start(t, "2.0.0.127.bl.test. 300 IN A 127.0.0.2")
	dnsSrv.Silent("dead.test.")
	pd := startPanelDaemon(t, panelDaemonOptions{DBPath: db,
		PolicyFiles: map[string]string{"local.cf": "rbl_timeout 2\n" +
			"header RCVD_IN_TESTBL eval:check_rbl('testbl', 'bl.test.')\ntflags RCVD_IN_TESTBL net\nscore RCVD_IN_TESTBL 0 3.0 0 3.0\n" +
			"header RCVD_IN_DEAD eval:check_rbl('dead', 'dead.test.')\ntflags RCVD_IN_DEAD net\nscore RCVD_IN_DEAD 0 1.0 0 1.0\n"},
		Extra: fmt.Sprintf("[dns]\nservers = [%q]\ntimeout = \"200ms\"\n", dnsSrv.Addr)})
	// 200 unseen messages, mixed, for the site and two users.
	var scans []string
	for i := range 100 {
		scans = append(scans, spam[200+i], ham[200+i])
	}
	pd.scanCorpus(t, scans, "", "alice", "bob")

	t.Run("login page and wrong password", func(t *testing.T) {
		b.do(t, chromedp.Navigate(pd.url+"/login"), chromedp.WaitVisible(chromedp.CSS("#password")))
		b.screenshot(t, "login")
		b.do(t,
			chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		)
		b.waitText(t, ".login .error", "Wrong password.")
		b.screenshot(t, "login-refused")
		if status, _ := httpStatus(t, pd.url+"/"); status != http.StatusSeeOther {
			t.Errorf("status page without login: %d, want a redirect", status)
		}
	})

	pd.browserLogin(t, b, pd.adminPassword)

	t.Run("status shows the scans", func(t *testing.T) {
		b.do(t, chromedp.Navigate(pd.url+"/"), chromedp.WaitVisible(chromedp.CSS("#recent")))
		if got := b.text(t, "#scans-total"); got != "200" {
			t.Errorf("scans since start: %s, want 200", got)
		}
		// 150 learned, and spam autolearned during the scans.
		if got := atoi(t, b.text(t, "#nspam")); got < 150 {
			t.Errorf("Status nspam: %d, want 150 or more", got)
		}
		recent := b.text(t, "#recent")
		for _, want := range []string{"alice", "bob", "site", "ham", "tag"} {
			if !strings.Contains(recent, want) {
				t.Errorf("last scans lack %q:\n%s", want, recent)
			}
		}
		if !regexp.MustCompile(`[A-Z_]{4,} -?\d+\.\d`).MatchString(recent) {
			t.Errorf("last scans list no rule with its score:\n%s", recent)
		}
		dns := b.text(t, "#dns")
		if !regexp.MustCompile(`bl\.test\S*\s+[1-9]\d*\s+0\s`).MatchString(dns) || !regexp.MustCompile(`dead\.test\S*\s+([1-9]\d*)\s+[1-9]`).MatchString(dns) {
			t.Errorf("DNS health: want queries to both lists and timeouts for dead.test only:\n%s", dns)
		}
		if p50 := b.text(t, "#p50"); !regexp.MustCompile(`^\d+(\.\d)?(µs|ms|s)$`).MatchString(p50) {
			t.Errorf("scan time p50 %q, want a duration", p50)
		}
		b.screenshot(t, "status")
	})

	t.Run("learn a message as spam", func(t *testing.T) {
		b.do(t, chromedp.Navigate(pd.url+"/bayes"), chromedp.WaitVisible(chromedp.CSS("#nspam")))
		before := atoi(t, b.text(t, "#nspam"))
		b.screenshot(t, "bayes")
		msg, err := os.ReadFile(spam[400])
		if err != nil {
			t.Fatal(err)
		}
		b.do(t,
			chromedp.SetValue(chromedp.CSS("#message"), string(msg)),
			chromedp.Click(chromedp.CSS("#learn-spam")),
		)
		b.waitText(t, ".flash", "Learned the message as spam.")
		if after := atoi(t, b.text(t, "#nspam")); after != before+1 {
			t.Errorf("nspam %d after learning one spam, was %d", after, before)
		}
		b.screenshot(t, "bayes-learned")
	})

	t.Run("POST without CSRF token refused", func(t *testing.T) {
		c, _ := pd.httpClient(t, pd.adminPassword)
		resp, err := c.PostForm(pd.url+"/bayes/clear", url.Values{"confirm": {"RESET"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /bayes/clear without csrf_token: %d, want 403", resp.StatusCode)
		}
		if got := b.nspamNow(t, pd); got == 0 {
			t.Errorf("the refused reset cleared the store")
		}
	})

	t.Run("readonly role cannot POST", func(t *testing.T) {
		c, token := pd.httpClient(t, pd.readonlyPassword)
		if token == "" {
			t.Fatal("the read-only session's page has no CSRF token")
		}
		page, _ := pd.getPage(t, c, "/bayes")
		if strings.Contains(page, `action="/bayes/learn"`) || strings.Contains(page, `action="/bayes/clear"`) {
			t.Error("the read-only Bayes page offers forms that change the store")
		}
		for _, path := range []string{"/bayes/learn", "/bayes/clear", "/bayes/expire"} {
			resp, err := c.PostForm(pd.url+path, url.Values{"csrf_token": {token}, "confirm": {"RESET"},
				"class": {"spam"}, "message": {"Subject: x\n\nx\n"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("read-only POST %s: %d, want 403", path, resp.StatusCode)
			}
		}
		if resp, err := c.Get(pd.url + "/bayes/backup"); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("read-only backup download: %v %v, want 403", resp.StatusCode, err)
		}
		if got := b.nspamNow(t, pd); got == 0 {
			t.Errorf("a read-only POST cleared the store")
		}
	})

	t.Run("readonly pages", func(t *testing.T) {
		ro := newBrowser(t)
		pd.browserLogin(t, ro, pd.readonlyPassword)
		ro.screenshot(t, "status-readonly")
		ro.do(t, chromedp.Navigate(pd.url+"/bayes"), chromedp.WaitVisible(chromedp.CSS("#nspam")))
		ro.screenshot(t, "bayes-readonly")
	})

	t.Run("reset Bayes", func(t *testing.T) {
		b.do(t,
			chromedp.Navigate(pd.url+"/bayes"),
			chromedp.SendKeys(chromedp.CSS("#confirm"), "RESET"),
			chromedp.Click(chromedp.CSS("#reset")),
		)
		b.waitText(t, ".flash", "was reset")
		if nspam, nham := b.text(t, "#nspam"), b.text(t, "#nham"); nspam != "0" || nham != "0" {
			t.Errorf("after reset nspam %s nham %s, want 0 and 0", nspam, nham)
		}
		b.screenshot(t, "bayes-reset")
	})
}

// nspamNow reads nspam from the Bayes page in the browser.
func (b *browser) nspamNow(t *testing.T, pd *panelDaemon) int {
	t.Helper()
	b.do(t, chromedp.Navigate(pd.url+"/bayes"), chromedp.WaitVisible(chromedp.CSS("#nspam")))
	return atoi(t, b.text(t, "#nspam"))
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// httpStatus GETs u without following redirects.
func httpStatus(t testing.TB, u string) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// The Training page of a daemon with [imap]: the first pass's per-user
// table, and a pass run from the page's button.
func TestPanelTrainingInBrowser(t *testing.T) {
	b := newBrowser(t)
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"}})
	alice := loginIMAP(t, dc.Addr, "alice", "alice-pw")
	alice.put("LearnAsSpam", "spam", 6)
	alice.put("LearnAsHam", "ham", 4)
	dir := t.TempDir()
	var imap strings.Builder
	fmt.Fprintf(&imap, "[imap]\nserver = %q\nsecurity = \"none\"\nidle = false\npoll_interval = \"1h\"\n", dc.Addr)
	for _, a := range [][2]string{{"alice", "alice-pw"}, {"bob", "bob-pw"}} {
		pw := filepath.Join(dir, a[0])
		writeFile(t, pw, a[1]+"\n")
		fmt.Fprintf(&imap, "[[imap.accounts]]\nuser = %q\npassword_file = %q\n", a[0], pw)
	}
	pd := startPanelDaemon(t, panelDaemonOptions{Extra: imap.String()})
	pd.browserLogin(t, b, pd.adminPassword)
	// The first pass runs when the daemon starts; reload until it shows.
	b.reloadUntil(t, pd.url+"/training", "the first pass's report", func() bool {
		return strings.Contains(b.textOr("table.pass"), "alice")
	})
	first := b.text(t, "table.pass")
	if !strings.Contains(first, "bob") || !regexp.MustCompile(`alice\s+6\s+4\s`).MatchString(first) {
		t.Errorf("first pass: want alice with 6 spam and 4 ham learned, and bob:\n%s", first)
	}
	alice.put("LearnAsSpam", "spam2", 3)
	b.do(t, chromedp.Click(chromedp.CSS("#run-pass button")))
	b.waitText(t, ".flash", "pass has started")
	b.reloadUntil(t, pd.url+"/training", "the second pass's report", func() bool {
		return strings.Count(b.textOr("main"), "Pass of") >= 2
	})
	if newest := b.text(t, "table.pass"); !regexp.MustCompile(`alice\s+3\s+0\s`).MatchString(newest) {
		t.Errorf("the pass run from the page: want alice with 3 spam learned:\n%s", newest)
	}
	b.screenshot(t, "training")
	// The read-only role sees the table and no button.
	c, _ := pd.httpClient(t, pd.readonlyPassword)
	page, _ := pd.getPage(t, c, "/training")
	if !strings.Contains(page, "alice") || strings.Contains(page, `action="/training/run"`) {
		t.Errorf("read-only Training page: want the table without the run button")
	}
}
