package main

// The web panel's browser-test harness: a real `gospamd serve` with a
// [panel] section on 127.0.0.1 ports, a headless Debian chromium driven
// through the DevTools protocol (chromedp), and screenshots kept after the
// test. The Status/Bayes/Training tests (panel_browser_test.go) and the
// Policy tests use it:
//
//	pd := startPanelDaemon(t, panelDaemonOptions{})  // daemon, site dir, passwords
//	b := newBrowser(t)                                // skips without chromium
//	pd.browserLogin(t, b, pd.adminPassword)
//	b.do(t, chromedp.Navigate(pd.url+"/policy"))
//	b.screenshot(t, "policy")                         // $GOSPAMD_SCREENSHOTS or ./screenshots
//
// Screenshots go to $GOSPAMD_SCREENSHOTS when set, else to the screenshots
// directory of this package (cmd/gospamd/screenshots, gitignored), so
// that a person can look at them after `go test`; each run overwrites
// the files of the same name.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/spamdproto"
)

// panelDaemonOptions shape the daemon startPanelDaemon runs.
type panelDaemonOptions struct {
	// DBPath is the Bayes store; default a new one in a temporary
	// directory (a store trained beforehand with gospamd learn can be
	// given).
	DBPath string
	// PolicyFiles are written into the site policy directory ([policy]
	// dir) before the daemon starts: name → content.
	PolicyFiles map[string]string
	// Extra is TOML appended to the daemon config (sections other than
	// [store], [spamd], [policy] and [panel], e.g. [imap]).
	Extra string
	// PolicyExtra is TOML keys appended to the [policy] section.
	PolicyExtra string
}

// A panelDaemon is a gospamd serve with its web panel.
type panelDaemon struct {
	*testDaemon
	url              string // http://127.0.0.1:PORT of the panel
	dbPath           string
	policyDir        string // [policy] dir, the site policy directory
	configFile       string // the daemon config file
	adminPassword    string
	readonlyPassword string
}

// startPanelDaemon starts gospamd serve with a [panel] section (admin and
// read-only passwords), a site policy directory, TELL allowed, and the
// spamd port on 127.0.0.1.
func startPanelDaemon(t testing.TB, opt panelDaemonOptions) *panelDaemon {
	t.Helper()
	dir := t.TempDir()
	pd := &panelDaemon{
		dbPath:           opt.DBPath,
		policyDir:        filepath.Join(dir, "site"),
		configFile:       filepath.Join(dir, "gospamd.toml"),
		adminPassword:    "admin-secret",
		readonlyPassword: "readonly-secret",
	}
	if pd.dbPath == "" {
		pd.dbPath = filepath.Join(dir, "bayes")
	}
	if err := os.MkdirAll(pd.policyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range opt.PolicyFiles {
		if err := os.WriteFile(filepath.Join(pd.policyDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hashFile := func(name, password string) string {
		h, err := panel.HashPassword([]byte(password))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	panelAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	pd.url = "http://" + panelAddr
	doc := fmt.Sprintf("[store]\ndbpath = %q\n\n[spamd]\nallow_tell = true\n\n[policy]\ndir = %q\n%s\n"+
		"[panel]\nlisten = %q\npassword_file = %q\nreadonly_password_file = %q\n\n%s",
		pd.dbPath, pd.policyDir, opt.PolicyExtra, panelAddr,
		hashFile("admin.hash", pd.adminPassword), hashFile("readonly.hash", pd.readonlyPassword), opt.Extra)
	if err := os.WriteFile(pd.configFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	pd.testDaemon = startDaemon(t, false, "--daemon-config", pd.configFile)
	// The panel listens just after spamd: wait for it.
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(pd.url + "/login")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("panel does not answer on %s: %v\n%s", pd.url, err, pd.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return pd
}

// scanCorpus scans files through the daemon's spamd port (as a mail
// server's spamc would), each for the user users[i%len(users)] ("" is
// the site), n at a time.
func (pd *panelDaemon) scanCorpus(t testing.TB, files []string, users ...string) {
	t.Helper()
	if len(users) == 0 {
		users = []string{""}
	}
	client := &spamdproto.Client{Hosts: []string{pd.addr()}, Timeout: 60 * time.Second}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for i, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := client.Check(context.Background(), users[i%len(users)], raw, false); err != nil {
				errs <- fmt.Errorf("scan %s: %w", f, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// httpClient is a plain HTTP client logged in to the panel with
// password (a cookie jar; redirects not followed). It returns the
// client and the CSRF token of the session.
func (pd *panelDaemon) httpClient(t testing.TB, password string) (*http.Client, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, token := pd.getPage(t, c, "/login")
	resp, err := c.PostForm(pd.url+"/login", url.Values{"csrf_token": {token}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over HTTP: %d, want 303", resp.StatusCode)
	}
	_, token = pd.getPage(t, c, "/")
	return c, token
}

var csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// getPage fetches path and returns the body and its first CSRF token.
func (pd *panelDaemon) getPage(t testing.TB, c *http.Client, path string) (string, string) {
	t.Helper()
	resp, err := c.Get(pd.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	token := ""
	if m := csrfFieldRE.FindSubmatch(body); m != nil {
		token = string(m[1])
	}
	return string(body), token
}

// A browser is one headless chromium tab.
type browser struct {
	ctx context.Context
}

// chromiumPath finds Debian's chromium (make test-deps installs it).
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testpeer.Missing(t, "chromium not found on PATH")
	return ""
}

// newBrowser starts a headless chromium for the test (closed at its end).
func newBrowser(t testing.TB) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start it now, so that a broken install fails here, clearly. The
	// first run must be on ctx itself: the browser lives as long as the
	// context of that run (later runs may use shorter ones).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return &browser{ctx: ctx}
}

// do runs actions with a generous deadline, failing the test on error.
func (b *browser) do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// text is the text of the element matching the CSS selector sel.
func (b *browser) text(t testing.TB, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// waitText waits until the element matching sel contains want. It
// survives the navigation a click starts (an evaluation during it fails
// and is tried again).
func (b *browser) waitText(t testing.TB, sel, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if strings.Contains(b.textOr(sel), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s never contained %q:\n%s", sel, want, b.textOr("main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// textOr is the text of the first element matching sel, "" when there
// is none.
func (b *browser) textOr(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		return ""
	}
	return s
}

// reloadUntil loads u again and again until ok holds (for work the
// daemon does in the background), failing after a minute.
func (b *browser) reloadUntil(t testing.TB, u, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		b.do(t, chromedp.Navigate(u))
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s never showed %s:\n%s", u, what, b.textOr("main"))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// browserLogin logs the browser in with password and waits for the
// Status page.
func (pd *panelDaemon) browserLogin(t testing.TB, b *browser, password string) {
	t.Helper()
	b.do(t,
		chromedp.Navigate(pd.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	b.waitText(t, "h1", "Status")
}

// screenshotDir is where screenshots go: $GOSPAMD_SCREENSHOTS, else
// ./screenshots (this package's directory, gitignored).
func screenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("GOSPAMD_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

// screenshot saves the whole page as NAME.png in screenshotDir and logs
// its path.
func (b *browser) screenshot(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
