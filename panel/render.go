package panel

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// A view is what every page template sees.
type view struct {
	Title   string
	Nav     []navEntry // the entries the session's role may open
	Current string     // the path of the page shown
	Role    string     // "admin" or "readonly"
	Admin   bool       // the session may change things
	CSRF    string     // the session's token, posted as csrf_token
	Flash   string     // a message from the last POST
	Error   string     // an error from the last POST
	Version string
	Data    any // the page's own data
}

// templateFuncs are the helpers page templates may use.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"ago":      ago,
		"duration": fmtDuration,
		"unix":     func(sec int64) time.Time { return time.Unix(sec, 0) },
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.Format("2006-01-02 15:04:05")
		},
		"score": func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"add":   func(a, b int) int { return a + b },
	}
}

// parseTemplates parses the layout with every page file: one template
// set per page, so that each page's "content" block is its own.
func (s *Server) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("panel templates: %w", err)
	}
	s.base = base
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("panel templates: %w", err)
	}
	for _, f := range files {
		name := path.Base(f)
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return fmt.Errorf("panel template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// render writes the page file name inside the layout with data as .Data.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t := s.pages[name]
	if t == nil {
		s.log.Error("panel: no such template", "name", name)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	v := view{Current: r.URL.Path, Version: s.deps.Version, Data: data}
	if sess := sessionOf(r); sess != nil {
		v.Role, v.Admin, v.CSRF = sess.role.String(), sess.role >= roleAdmin, sess.csrf
		v.Flash, v.Error = s.sessions.popFlash(sess)
		for _, e := range s.nav {
			if sess.role >= e.Role {
				v.Nav = append(v.Nav, e)
			}
			if e.Path == r.URL.Path {
				v.Title = e.Title
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("panel: render", "template", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// done ends a POST that succeeded: msg is shown on the page redirected to.
func (s *Server) done(w http.ResponseWriter, r *http.Request, to, msg string) {
	if sess := sessionOf(r); sess != nil && msg != "" {
		s.sessions.setFlash(sess, msg, false)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// failed ends a POST that failed: err is logged and shown on the page
// redirected to.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, to string, err error) {
	s.log.Error("panel: request failed", "path", r.URL.Path, "err", err)
	if sess := sessionOf(r); sess != nil {
		s.sessions.setFlash(sess, err.Error(), true)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ago is how long before now t was, roughly ("3 min ago").
func ago(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "never"
	}
	d := time.Since(t).Round(time.Second)
	if d > 30*24*time.Hour {
		// Token times are the messages' dates, often long ago.
		return fmt.Sprintf("%s (%d days ago)", t.Format("2006-01-02"), d/(24*time.Hour))
	}
	return fmtDuration(d) + " ago"
}

// fmtDuration writes d in the largest two units ("2d 3h", "5m 10s",
// "12ms").
func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDuration(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	parts := []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var b strings.Builder
	n := 0
	for _, p := range parts {
		if d >= p.unit && n < 2 {
			fmt.Fprintf(&b, "%d%s ", d/p.unit, p.name)
			d %= p.unit
			n++
		} else if n > 0 {
			n++
		}
	}
	return strings.TrimSpace(b.String())
}
