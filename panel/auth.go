package panel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// A role is what a session may do.
type role int

const (
	roleNone     role = iota
	roleReadonly      // sees status, Bayes figures, training; changes nothing
	roleAdmin         // everything
)

func (r role) String() string {
	switch r {
	case roleReadonly:
		return "readonly"
	case roleAdmin:
		return "admin"
	}
	return "none"
}

// Session and login cookie names, and lifetimes.
const (
	sessionCookie = "gospamd_session"
	loginCookie   = "gospamd_login" // the login form's CSRF token (double submit)
	csrfField     = "csrf_token"
	sessionIdle   = 2 * time.Hour
	sessionMax    = 12 * time.Hour
	maxSessions   = 1000
)

// A session is one logged-in browser.
type session struct {
	id       string
	role     role
	csrf     string
	created  time.Time
	lastSeen time.Time
	flash    string // shown once on the next page
	flashErr string
}

// sessions are the logged-in browsers, in memory: a restart logs
// everyone out.
type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: make(map[string]*session)}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) create(r role) *session {
	now := ss.now()
	s := &session{id: randomToken(), role: r, csrf: randomToken(), created: now, lastSeen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.pruneLocked(now)
	if len(ss.m) >= maxSessions {
		// Drop the least recently seen, so that logins cannot grow memory.
		var oldest *session
		for _, o := range ss.m {
			if oldest == nil || o.lastSeen.Before(oldest.lastSeen) {
				oldest = o
			}
		}
		delete(ss.m, oldest.id)
	}
	ss.m[s.id] = s
	return s
}

func (ss *sessions) pruneLocked(now time.Time) {
	for id, s := range ss.m {
		if !s.valid(now) {
			delete(ss.m, id)
		}
	}
}

func (s *session) valid(now time.Time) bool {
	return now.Sub(s.lastSeen) < sessionIdle && now.Sub(s.created) < sessionMax
}

// get returns the live session of id, touching it; nil when there is none.
func (ss *sessions) get(id string) *session {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if !s.valid(now) {
		delete(ss.m, id)
		return nil
	}
	s.lastSeen = now
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// setFlash stores a message for the session's next page.
func (ss *sessions) setFlash(s *session, msg string, isErr bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if isErr {
		s.flashErr = msg
	} else {
		s.flash = msg
	}
}

// popFlash takes the session's messages.
func (ss *sessions) popFlash(s *session) (msg, errMsg string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	msg, errMsg = s.flash, s.flashErr
	s.flash, s.flashErr = "", ""
	return msg, errMsg
}

type sessionKey struct{}

// sessionOf is the request's session, set by authorize; nil on the
// login page.
func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// authorize is the session check every registered route goes through: a
// live session of role min or above, and for anything but GET and HEAD
// the session's CSRF token in the form field csrf_token (or the
// X-CSRF-Token header). A GET without a session is sent to the login
// page; anything else is refused.
func (s *Server) authorize(min role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess *session
		if c, err := r.Cookie(sessionCookie); err == nil {
			sess = s.sessions.get(c.Value)
		}
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		if sess == nil {
			if safe {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "Forbidden: not logged in (or the session expired).", http.StatusForbidden)
			return
		}
		if !safe {
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				// FormValue parses a multipart body too, within the
				// handler's limits (ParseMultipartForm's default memory).
				r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
				token = r.FormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) != 1 {
				s.log.Warn("panel: POST refused: missing or wrong CSRF token", "path", r.URL.Path, "client", clientIP(r))
				http.Error(w, "Forbidden: missing or wrong CSRF token; reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		if sess.role < min {
			http.Error(w, "Forbidden: the "+sess.role.String()+" role may not do this.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	})
}

// maxUpload bounds a POST body: a restore file or a message.
const maxUpload = 512 << 20

func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.TLS(),
	}
}

type loginView struct {
	CSRF    string
	Error   string
	Message string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "")
}

// renderLogin shows the login form with a fresh login token.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	token := randomToken()
	http.SetCookie(w, s.cookie(loginCookie, token, time.Hour))
	msg := ""
	if r.URL.Query().Get("out") == "1" {
		msg = "Logged out."
	}
	s.renderStatus(w, r, status, "login.html", loginView{CSRF: token, Error: errMsg, Message: msg})
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ip := clientIP(r)
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		s.log.Warn("panel: login refused: missing or wrong CSRF token", "client", ip)
		s.renderLogin(w, r, http.StatusForbidden, "The form expired; please try again.")
		return
	}
	if wait := s.limiter.wait(ip); wait > 0 {
		s.log.Warn("panel: login refused: locked out", "client", ip, "retry_in", wait.Round(time.Second))
		s.renderLogin(w, r, http.StatusTooManyRequests,
			"Too many failed logins from your address; try again in "+wait.Round(time.Second).String()+".")
		return
	}
	password := []byte(r.PostFormValue("password"))
	got := s.check(password)
	if got == roleNone {
		wait := s.limiter.failed(ip)
		s.log.Warn("panel: login failed", "client", ip, "locked_for", wait.Round(time.Second))
		s.renderLogin(w, r, http.StatusUnauthorized, "Wrong password.")
		return
	}
	s.limiter.succeeded(ip)
	sess := s.sessions.create(got)
	http.SetCookie(w, s.cookie(sessionCookie, sess.id, sessionMax))
	http.SetCookie(w, s.cookie(loginCookie, "", -time.Second))
	s.log.Info("panel: login", "role", got.String(), "client", ip)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// check returns the role whose password this is, roleNone for none. The
// files are reread each time, so that a new hash applies at once.
func (s *Server) check(password []byte) role {
	if len(password) == 0 {
		return roleNone
	}
	for _, c := range []struct {
		file string
		role role
	}{{s.cfg.PasswordFile, roleAdmin}, {s.cfg.ReadonlyPasswordFile, roleReadonly}} {
		if c.file == "" {
			continue
		}
		hash, err := readHash(c.file)
		if err != nil {
			s.log.Error("panel: cannot check a login", "err", err)
			continue
		}
		if bcrypt.CompareHashAndPassword(hash, password) == nil {
			return c.role
		}
	}
	return roleNone
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	s.sessions.remove(sess.id)
	http.SetCookie(w, s.cookie(sessionCookie, "", -time.Second))
	s.log.Info("panel: logout", "role", sess.role.String(), "client", clientIP(r))
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}

// clientIP is the request's peer address (the panel does not trust
// X-Forwarded-For: behind a proxy all clients share its address, which
// makes the lock-out stricter, never looser).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// A loginLimiter slows password guessing: per client address, the first
// freeFailures failures within failureWindow cost nothing more than
// bcrypt's time; each one after that locks the address out for a delay
// that doubles, from lockBase up to lockMax. A success clears the
// address's record.
type loginLimiter struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*failures
}

type failures struct {
	count int
	last  time.Time
	until time.Time // locked out until
}

const (
	freeFailures  = 5
	failureWindow = 15 * time.Minute
	lockBase      = 10 * time.Second
	lockMax       = 15 * time.Minute
	maxTracked    = 10000
)

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, m: make(map[string]*failures)}
}

// wait is how long ip must wait before its next attempt (0: it may try).
func (l *loginLimiter) wait(ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[ip]
	if f == nil {
		return 0
	}
	return max(0, f.until.Sub(l.now()))
}

// failed records a failure and returns the lock-out it earned.
func (l *loginLimiter) failed(ip string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= maxTracked {
		for k, f := range l.m {
			if now.Sub(f.last) > failureWindow && now.After(f.until) {
				delete(l.m, k)
			}
		}
	}
	f := l.m[ip]
	if f == nil || (now.Sub(f.last) > failureWindow && now.After(f.until)) {
		f = &failures{}
		l.m[ip] = f
	}
	f.count++
	f.last = now
	if f.count <= freeFailures {
		return 0
	}
	d := lockBase << min(f.count-freeFailures-1, 20)
	d = min(d, lockMax)
	f.until = now.Add(d)
	return d
}

func (l *loginLimiter) succeeded(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, ip)
}
