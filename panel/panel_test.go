package panel

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/tokenizer"
)

const (
	adminPassword    = "correct horse"
	readonlyPassword = "battery staple"
)

// writerLearner learns through the real single writer, as the daemon's
// scan service does (without the markup stripping policy details).
type writerLearner struct{ w *learn.Writer }

func (l writerLearner) Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error) {
	op := learn.Prepare(raw, tokenizer.TokenOptions{}, time.Now())
	op.Scope, op.Class = classifier.Scope(user), class
	return l.w.Learn(ctx, op)
}

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testPanel struct {
	srv   *Server
	http  *httptest.Server
	store *classifier.Store
	clock *testClock
}

// newTestPanel serves a panel over a real Pebble store and writer in a
// temporary directory, with an admin and a read-only password.
func newTestPanel(t *testing.T, mod func(*Config)) *testPanel {
	t.Helper()
	dir := t.TempDir()
	writeHash := func(name, password string) string {
		h, err := HashPassword([]byte(password))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg := Config{PasswordFile: writeHash("admin.hash", adminPassword), ReadonlyPasswordFile: writeHash("ro.hash", readonlyPassword)}
	if mod != nil {
		mod(&cfg)
	}
	store, err := classifier.Open(filepath.Join(dir, "bayes"), classifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := learn.NewWriter(store, learn.WriterOptions{})
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	clock := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	srv, err := New(cfg, Deps{Version: "test", Started: clock.now().Add(-time.Hour), Store: store, Exclusive: w.Exclusive,
		Learner: writerLearner{w}, Scans: NewScanLog(0), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testPanel{srv: srv, http: hs, store: store, clock: clock}
}

// client is a browser-like client: a cookie jar, no redirects followed.
func (p *testPanel) client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches path and returns the status, body and the page's CSRF token.
func (p *testPanel) get(t *testing.T, c *http.Client, path string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(p.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	token := ""
	if m := csrfInput.FindSubmatch(body); m != nil {
		token = string(m[1])
	}
	return resp.StatusCode, string(body), token
}

func (p *testPanel) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(p.http.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// login logs c in with password and returns the login answer.
func (p *testPanel) login(t *testing.T, c *http.Client, password string) (*http.Response, string) {
	t.Helper()
	_, _, token := p.get(t, c, "/login")
	if token == "" {
		t.Fatal("login page has no csrf_token field")
	}
	return p.post(t, c, "/login", url.Values{"csrf_token": {token}, "password": {password}})
}

func TestLogin(t *testing.T) {
	p := newTestPanel(t, nil)
	tests := []struct {
		password   string
		wantStatus int
		wantRole   string
	}{
		{adminPassword, http.StatusSeeOther, "admin"},
		{readonlyPassword, http.StatusSeeOther, "readonly"},
		{"wrong", http.StatusUnauthorized, ""},
		{"", http.StatusUnauthorized, ""},
		{adminPassword + " ", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			c := p.client(t)
			resp, body := p.login(t, c, tt.password)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("login: %d, want %d\n%s", resp.StatusCode, tt.wantStatus, body)
			}
			status, page, _ := p.get(t, c, "/")
			if tt.wantRole == "" {
				if !strings.Contains(body, "Wrong password.") {
					t.Errorf("refused login page does not say why:\n%s", body)
				}
				if status != http.StatusSeeOther {
					t.Errorf("status page without a session: %d, want a redirect to the login", status)
				}
				return
			}
			if status != http.StatusOK || !strings.Contains(page, `class="role role-`+tt.wantRole+`"`) {
				t.Errorf("after login the status page is %d and does not show role %s", status, tt.wantRole)
			}
			var sess *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == sessionCookie {
					sess = c
				}
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure without TLS", sess)
			}
		})
	}
}

func TestLoginWithoutFormTokenRefused(t *testing.T) {
	p := newTestPanel(t, nil)
	c := p.client(t)
	p.get(t, c, "/login")
	resp, _ := p.post(t, c, "/login", url.Values{"password": {adminPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without csrf_token: %d, want 403", resp.StatusCode)
	}
}

func TestLoginLockOut(t *testing.T) {
	p := newTestPanel(t, nil)
	c := p.client(t)
	for i := range freeFailures {
		if resp, _ := p.login(t, c, "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	// The next failure locks the address out; even the right password
	// is refused until the delay has passed, and the delay doubles.
	p.login(t, c, "guess")
	resp, body := p.login(t, c, adminPassword)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "try again in 10s") {
		t.Fatalf("login while locked out: %d, want 429 saying 10s\n%s", resp.StatusCode, body)
	}
	p.clock.add(lockBase + time.Second)
	p.login(t, c, "guess")
	resp, body = p.login(t, c, adminPassword)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "try again in 20s") {
		t.Fatalf("second lock-out: %d, want 429 saying 20s\n%s", resp.StatusCode, body)
	}
	p.clock.add(2*lockBase + time.Second)
	if resp, _ := p.login(t, c, adminPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login after the delay: %d, want 303", resp.StatusCode)
	}
	// A success clears the record.
	c2 := p.client(t)
	if resp, _ := p.login(t, c2, "guess"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("failure after a success: %d, want 401 (not locked)", resp.StatusCode)
	}
}

func TestPostChecks(t *testing.T) {
	p := newTestPanel(t, nil)
	admin := p.client(t)
	p.login(t, admin, adminPassword)
	_, _, adminToken := p.get(t, admin, "/bayes")
	ro := p.client(t)
	p.login(t, ro, readonlyPassword)
	_, roPage, roToken := p.get(t, ro, "/bayes")
	if strings.Contains(roPage, `action="/bayes/learn"`) {
		t.Error("the read-only Bayes page offers the learn form")
	}
	anon := p.client(t)
	spam := "From: a@example.com\nSubject: cheap pills\nMessage-ID: <1@example.com>\n\nbuy cheap pills now\n"
	tests := []struct {
		name   string
		client *http.Client
		form   url.Values
		want   int
	}{
		{"no session", anon, url.Values{"csrf_token": {adminToken}, "class": {"spam"}, "message": {spam}}, http.StatusForbidden},
		{"no token", admin, url.Values{"class": {"spam"}, "message": {spam}}, http.StatusForbidden},
		{"wrong token", admin, url.Values{"csrf_token": {roToken}, "class": {"spam"}, "message": {spam}}, http.StatusForbidden},
		{"readonly", ro, url.Values{"csrf_token": {roToken}, "class": {"spam"}, "message": {spam}}, http.StatusForbidden},
		{"admin", admin, url.Values{"csrf_token": {adminToken}, "class": {"spam"}, "message": {spam}}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := p.nspam(t)
			resp, body := p.post(t, tt.client, "/bayes/learn", tt.form)
			if resp.StatusCode != tt.want {
				t.Fatalf("POST /bayes/learn: %d, want %d\n%s", resp.StatusCode, tt.want, body)
			}
			want := before
			if tt.want == http.StatusSeeOther {
				want++
			}
			if got := p.nspam(t); got != want {
				t.Errorf("nspam %d after the POST, want %d", got, want)
			}
		})
	}
	// The read-only role may log out (it ends only its own session).
	if resp, _ := p.post(t, ro, "/logout", url.Values{"csrf_token": {roToken}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("read-only logout: %d, want 303", resp.StatusCode)
	}
	if status, _, _ := p.get(t, ro, "/bayes"); status != http.StatusSeeOther {
		t.Errorf("Bayes page after logout: %d, want a redirect to the login", status)
	}
}

func (p *testPanel) nspam(t *testing.T) int64 {
	t.Helper()
	m, err := p.store.Magic(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return m.NSpam
}

func TestBayesLearnBackupResetRestore(t *testing.T) {
	p := newTestPanel(t, nil)
	c := p.client(t)
	p.login(t, c, adminPassword)
	_, _, token := p.get(t, c, "/bayes")
	for i, class := range []string{"spam", "spam", "ham"} {
		msg := "From: a@example.com\nSubject: message " + class + "\nMessage-ID: <" + string(rune('a'+i)) + "@example.com>\n\nsome words for " + class + " number " + string(rune(0x30+i)) + "\n"
		if resp, _ := p.post(t, c, "/bayes/learn", url.Values{"csrf_token": {token}, "class": {class}, "message": {msg}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("learn: %d", resp.StatusCode)
		}
	}
	_, page, _ := p.get(t, c, "/bayes")
	if !strings.Contains(page, "Learned the message as ham.") || !regexp.MustCompile(`id="nspam">2<`).MatchString(page) {
		t.Errorf("Bayes page after learning 2 spam and 1 ham lacks the flash or nspam 2")
	}
	status, backup, _ := p.get(t, c, "/bayes/backup")
	if status != http.StatusOK || !strings.Contains(backup, "v\t3\tdb_version") || !strings.Contains(backup, "v\t2\tnum_spam") {
		t.Fatalf("backup: %d\n%.300s", status, backup)
	}
	// A reset without the typed confirmation changes nothing.
	p.post(t, c, "/bayes/clear", url.Values{"csrf_token": {token}, "confirm": {"reset"}})
	if n := p.nspam(t); n != 2 {
		t.Fatalf("nspam %d after an unconfirmed reset, want 2", n)
	}
	p.post(t, c, "/bayes/clear", url.Values{"csrf_token": {token}, "confirm": {"RESET"}})
	if m, _ := p.store.Magic(context.Background(), ""); m.NSpam != 0 || m.NHam != 0 || m.NTokens != 0 {
		t.Fatalf("after reset: %+v, want nothing", m)
	}
	// Restore the backup through a multipart upload.
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", token)
	fw, _ := mw.CreateFormFile("file", "backup.txt")
	_, _ = io.WriteString(fw, backup)
	_ = mw.Close()
	resp, err := c.Post(p.http.URL+"/bayes/restore", mw.FormDataContentType(), strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if m, _ := p.store.Magic(context.Background(), ""); resp.StatusCode != http.StatusSeeOther || m.NSpam != 2 || m.NHam != 1 {
		t.Fatalf("after restore: %d %+v, want nspam 2 nham 1", resp.StatusCode, m)
	}
}

func TestSecureCookieUnderTLS(t *testing.T) {
	p := newTestPanel(t, func(c *Config) { c.TLSCert, c.TLSKey = "cert.pem", "key.pem" })
	c := p.client(t)
	resp, _ := p.login(t, c, adminPassword)
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && !ck.Secure {
			t.Errorf("session cookie under TLS is not Secure")
		}
	}
}

func TestNewRefusesBadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("plain-text-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{{}, {PasswordFile: filepath.Join(dir, "missing")}, {PasswordFile: bad}} {
		if _, err := New(cfg, Deps{}); err == nil {
			t.Errorf("New(%+v) accepted a missing or bad password file", cfg)
		}
	}
}

// postMultipart posts fields and one file (field "file") as a browser's
// multipart form.
func (p *testPanel) postMultipart(t *testing.T, c *http.Client, path string, fields map[string]string, file string) *http.Response {
	t.Helper()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "message.eml")
	_, _ = io.WriteString(fw, file)
	_ = mw.Close()
	resp, err := c.Post(p.http.URL+path, mw.FormDataContentType(), strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// With bayes_scope user, the Bayes page works on the chosen user's
// database: an uploaded message learned for alice counts in alice's
// scope only, the page lists her scope, and expiry runs on it.
func TestBayesPerUserScope(t *testing.T) {
	p := newTestPanel(t, nil)
	p.srv.deps.PerUserBayes = true
	c := p.client(t)
	p.login(t, c, adminPassword)
	_, _, token := p.get(t, c, "/bayes")
	msg := "From: a@example.com\nSubject: for alice\nMessage-ID: <alice-1@example.com>\n\nan uploaded spam for alice\n"
	resp := p.postMultipart(t, c, "/bayes/learn", map[string]string{"csrf_token": token, "scope": "alice", "class": "spam"}, msg)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/bayes?scope=alice" {
		t.Fatalf("learn for alice: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	alice, _ := p.store.Magic(context.Background(), "alice")
	global, _ := p.store.Magic(context.Background(), "")
	if alice.NSpam != 1 || global.NSpam != 0 {
		t.Errorf("nspam alice %d, global %d; want 1 and 0", alice.NSpam, global.NSpam)
	}
	_, page, _ := p.get(t, c, "/bayes?scope=alice")
	if !strings.Contains(page, `<option value="alice" selected>alice</option>`) || !strings.Contains(page, `id="nspam">1<`) {
		t.Errorf("alice's Bayes page does not show her scope selected with nspam 1")
	}
	resp, _ = p.post(t, c, "/bayes/expire", url.Values{"csrf_token": {token}, "scope": {"alice"}})
	_, page, _ = p.get(t, c, "/bayes?scope=alice")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(page, "Expired ") {
		t.Errorf("expire for alice: %d, page lacks the expiry message", resp.StatusCode)
	}
}
