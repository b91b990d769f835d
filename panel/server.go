// Package panel is gospamd's web panel: the administrator's pages over the
// running daemon (status, Bayes, IMAP training, policy), served by
// `gospamd serve` when the daemon config has a [panel] section. It is
// server-rendered with html/template; its stylesheet is embedded (no CDN,
// nothing fetched at run time), so it works on a host without internet.
// It never scores mail: it shows the daemon's figures and calls the
// daemon's parts through Deps.
//
// # Security
//
// The panel is off unless configured and listens on loopback by default.
// A login (one password per role, bcrypt hashes in files) is rate
// limited per client address, with a lock-out delay that doubles with
// each failure past a few. Sessions live in memory; their cookie is
// HttpOnly, SameSite=Strict, and Secure under TLS. Every form carries the
// session's CSRF token, and every POST goes through one middleware that
// re-checks the session and the token before any handler runs. The
// read-only role sees the Status and Bayes figures and the Training
// table; every POST except logout refuses it. No page and no log line
// holds a password or a message body.
//
// # Adding a page
//
// A page is a handler, a template and a line in routes (routes.go). The
// Policy page, for example:
//
//	s.page("/policy", "Policy", roleAdmin, s.policyPage) // GET, listed in the nav
//	s.handle("POST /policy", roleAdmin, s.policySave)    // any other route
//
// page registers "GET /path" and adds a nav entry shown to the roles that
// may open it (the nav lists registered pages only, so a page appears
// when its part is configured and registered). handle registers any
// pattern of net/http.ServeMux; for POST the CSRF and session checks have
// already passed when the handler runs, and a read-only session never
// gets there. Both wrap the handler in the session check: a request
// without a valid session is sent to the login page (GET) or refused
// (POST, 403).
//
// A handler renders with
//
//	s.render(w, r, "policy.html", data)
//
// which executes the page file templates/policy.html inside the layout
// (templates/layout.html). A page file defines {{define "content"}}; it
// sees a view (see type view): .Data is the handler's data, .CSRF the
// session's token, .Flash and .Error the messages to show, .Role the
// session's role. Every form posts the token as the field csrf_token;
// {{template "csrf" .}} writes that hidden field. After a POST, redirect
// with s.done(w, r, "/policy", "Saved.") (flash shown once on the next
// page) or s.failed(w, r, "/policy", err) (error shown, logged).
//
// Where things are: s.deps.PolicyDir is the site policy directory ("" when
// the daemon runs the built-in rules alone), s.deps.DaemonConfigFile the
// daemon config file ("" when none was read), and s.deps.Reload(ctx)
// reloads as SIGHUP does, returning the error of a refused policy (the
// running one is kept). s.audit(r, what, attrs...) logs who did what.
//
// Browser tests run a real `gospamd serve` with a [panel] and a headless
// chromium: see the harness in cmd/gospamd/panelharness_test.go
// (startPanelDaemon, newBrowser, browserLogin, screenshot).
package panel

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// A Server is the panel. Build it with New, serve it with Serve.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	mux      *http.ServeMux
	base     *template.Template // the layout and the shared blocks
	pages    map[string]*template.Template
	nav      []navEntry
	sessions *sessions
	limiter  *loginLimiter

	// training: a pass started from the panel is running.
	trainMu      sync.Mutex
	trainRunning bool
	runCtx       context.Context // the Serve context, for work outliving a request
}

type navEntry struct {
	Path, Title string
	Role        role
}

// New builds the panel. It checks the password files now, so that a
// daemon with a broken [panel] does not start.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("[panel]: %w", err)
	}
	if _, err := readHash(cfg.PasswordFile); err != nil {
		return nil, fmt.Errorf("[panel] password_file: %w", err)
	}
	if cfg.ReadonlyPasswordFile != "" {
		if _, err := readHash(cfg.ReadonlyPasswordFile); err != nil {
			return nil, fmt.Errorf("[panel] readonly_password_file: %w", err)
		}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Logger.With("component", "panel"),
		mux:      http.NewServeMux(),
		pages:    make(map[string]*template.Template),
		sessions: newSessions(deps.Now),
		limiter:  newLoginLimiter(deps.Now),
		runCtx:   context.Background(),
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("panel assets: %w", err)
	}
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.loginPost)
	s.handle("POST /logout", roleReadonly, s.logout)
	s.routes()
	return s, nil
}

// Handler is the panel's HTTP handler (tests serve it themselves).
func (s *Server) Handler() http.Handler { return s.secure(s.mux) }

// Serve serves the panel on l until ctx is done, then shuts down,
// letting requests in flight finish for a few seconds. Under TLS, l is
// wrapped in the configured certificate.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.runCtx = ctx
	if s.cfg.TLS() {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("panel TLS certificate: %w", err)
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a restore upload
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	s.log.Info("panel listening", "addr", l.Addr().String(), "tls", s.cfg.TLS())
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return fmt.Errorf("panel: %w", err)
}

// page registers a GET page listed in the nav for the roles at or above
// min.
func (s *Server) page(path, title string, min role, h http.HandlerFunc) {
	s.nav = append(s.nav, navEntry{Path: path, Title: title, Role: min})
	pattern := "GET " + path
	if path == "/" {
		pattern = "GET /{$}" // "/" alone would match every path
	}
	s.handle(pattern, min, h)
}

// handle registers h for pattern behind the session check: the request
// needs a session of role min or above, and a POST (any method but GET
// and HEAD) also the session's CSRF token and the admin role, whatever
// min says, except for logout.
func (s *Server) handle(pattern string, min role, h http.HandlerFunc) {
	method, _, _ := strings.Cut(pattern, " ")
	if method != "GET" && method != "HEAD" && pattern != "POST /logout" {
		min = roleAdmin
	}
	s.mux.Handle(pattern, s.authorize(min, h))
}

// secure sets the headers every answer carries.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "no-store")
		}
		if s.cfg.TLS() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// audit logs a change made through the panel, with the session's role
// and the client address.
func (s *Server) audit(r *http.Request, what string, attrs ...any) {
	sess := sessionOf(r)
	role := "none"
	if sess != nil {
		role = sess.role.String()
	}
	s.log.Info("panel: "+what, append([]any{"role", role, "client", clientIP(r)}, attrs...)...)
}
