package panel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gospamd/gospamd/classifier"
)

// The typed confirmation the reset (clear) form asks for.
const resetConfirmation = "RESET"

// maxLearnMessage bounds a message learned from the panel.
const maxLearnMessage = 32 << 20

func (s *Server) bayesRoutes() {
	s.page("/bayes", "Bayes", roleReadonly, s.bayesPage)
	s.handle("GET /bayes/backup", roleAdmin, s.bayesBackup)
	s.handle("POST /bayes/learn", roleAdmin, s.bayesLearn)
	s.handle("POST /bayes/restore", roleAdmin, s.bayesRestore)
	s.handle("POST /bayes/expire", roleAdmin, s.bayesExpire)
	s.handle("POST /bayes/clear", roleAdmin, s.bayesClear)
}

// bayesData is the Bayes page.
type bayesData struct {
	Scope        string   // the scope shown, "" for the global one
	Scopes       []string // the users' scopes, with PerUserBayes
	PerUser      bool
	Magic        classifier.Magic
	MagicErr     string
	Dump         string // sa-learn --dump magic
	Confirmation string
}

// scopeOf is the scope a Bayes request is about: the form's or query's
// "scope" (only with per-user Bayes).
func (s *Server) scopeOf(r *http.Request) classifier.Scope {
	if !s.deps.PerUserBayes {
		return ""
	}
	return classifier.Scope(strings.TrimSpace(r.FormValue("scope")))
}

// bayesURL is the Bayes page of sc.
func bayesURL(sc classifier.Scope) string {
	if sc == "" {
		return "/bayes"
	}
	return "/bayes?scope=" + url.QueryEscape(string(sc))
}

func (s *Server) bayesPage(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r)
	d := bayesData{Scope: string(sc), PerUser: s.deps.PerUserBayes, Confirmation: resetConfirmation}
	d.Magic, d.MagicErr = s.magic(r.Context(), sc)
	if d.MagicErr == "" {
		var b bytes.Buffer
		if err := classifier.FormatMagic(&b, d.Magic); err == nil {
			d.Dump = b.String()
		}
	}
	if d.PerUser && s.deps.Store != nil {
		scopes, err := s.deps.Store.Scopes(r.Context())
		if err != nil {
			s.log.Error("panel: list Bayes scopes", "err", err)
		}
		for _, sc := range scopes {
			if sc != "" {
				d.Scopes = append(d.Scopes, string(sc))
			}
		}
		slices.Sort(d.Scopes)
	}
	s.render(w, r, "bayes.html", d)
}

func (s *Server) bayesLearn(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r)
	back := bayesURL(sc)
	var class classifier.Class
	switch r.FormValue("class") {
	case "spam":
		class = classifier.Spam
	case "ham":
		class = classifier.Ham
	default:
		s.failed(w, r, back, errors.New("choose spam or ham"))
		return
	}
	raw, err := formMessage(r)
	if err != nil {
		s.failed(w, r, back, err)
		return
	}
	if s.deps.Learner == nil {
		s.failed(w, r, back, errors.New("learning is not available"))
		return
	}
	res, err := s.deps.Learner.Learn(r.Context(), string(sc), class, raw)
	if err != nil {
		s.failed(w, r, back, fmt.Errorf("learn as %s: %w", class, err))
		return
	}
	s.audit(r, "bayes learn", "scope", string(sc), "class", class.String(), "result", res.String(), "bytes", len(raw))
	var msg string
	switch res {
	case classifier.Learned:
		msg = "Learned the message as " + class.String() + "."
	case classifier.Relearned:
		msg = "Relearned the message as " + class.String() + " (it was learned as the other class)."
	case classifier.AlreadyLearned:
		msg = "The message was already learned as " + class.String() + "; nothing changed."
	default:
		msg = "Learn: " + res.String() + "."
	}
	s.done(w, r, back, msg)
}

// formMessage is the message of a learn form: the uploaded file if one
// was chosen, else the pasted text.
func formMessage(r *http.Request) ([]byte, error) {
	if f, _, err := r.FormFile("file"); err == nil {
		defer f.Close()
		raw, err := io.ReadAll(io.LimitReader(f, maxLearnMessage+1))
		if err != nil {
			return nil, fmt.Errorf("read the uploaded message: %w", err)
		}
		if len(raw) > maxLearnMessage {
			return nil, fmt.Errorf("the message is larger than %d MiB", maxLearnMessage>>20)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			return raw, nil
		}
	}
	text := r.FormValue("message")
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("paste a message or choose a file")
	}
	return []byte(text), nil
}

func (s *Server) bayesBackup(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r)
	name := "gospamd-bayes"
	if sc != "" {
		name += "-" + safeFileName(string(sc))
	}
	name += "-" + s.deps.Now().UTC().Format("20060102-150405") + ".txt"
	// Write into memory first, so that a failure is an error page and not
	// a truncated download that looks complete.
	var b bytes.Buffer
	if err := s.deps.Store.Backup(r.Context(), sc, &b); err != nil {
		s.log.Error("panel: Bayes backup", "err", err)
		http.Error(w, "Backup failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.audit(r, "bayes backup", "scope", string(sc), "bytes", b.Len())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = b.WriteTo(w)
}

// safeFileName keeps letters, digits, dot, dash and underscore.
func safeFileName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, s)
}

// exclusive runs fn with the single writer paused.
func (s *Server) exclusive(ctx context.Context, fn func(context.Context) error) error {
	if s.deps.Exclusive == nil {
		return fn(ctx)
	}
	return s.deps.Exclusive(ctx, fn)
}

func (s *Server) bayesRestore(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r)
	back := bayesURL(sc)
	f, _, err := r.FormFile("file")
	if err != nil {
		s.failed(w, r, back, errors.New("choose a backup file (sa-learn --backup format)"))
		return
	}
	defer f.Close()
	var st classifier.RestoreStats
	err = s.exclusive(r.Context(), func(ctx context.Context) error {
		var err error
		st, err = s.deps.Store.Restore(ctx, sc, f)
		return err
	})
	if err != nil {
		s.failed(w, r, back, fmt.Errorf("restore refused, the store is unchanged: %w", err))
		return
	}
	s.audit(r, "bayes restore", "scope", string(sc), "nspam", st.NSpam, "nham", st.NHam, "tokens", st.Tokens)
	s.done(w, r, back, fmt.Sprintf("Restored %d spam, %d ham, %d tokens, %d seen messages (%d lines skipped).",
		st.NSpam, st.NHam, st.Tokens, st.Seen, st.Skipped))
}

func (s *Server) bayesExpire(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r)
	back := bayesURL(sc)
	var st classifier.ExpireStats
	err := s.exclusive(r.Context(), func(ctx context.Context) error {
		var err error
		st, err = s.deps.Store.Expire(ctx, sc, classifier.ExpireOptions{Force: true, Now: s.deps.Now()})
		return err
	})
	if err != nil {
		s.failed(w, r, back, fmt.Errorf("expire: %w", err))
		return
	}
	s.audit(r, "bayes expire", "scope", string(sc), "deleted", st.Deleted, "kept", st.Kept)
	msg := fmt.Sprintf("Expired %d tokens, kept %d.", st.Deleted, st.Kept)
	if st.Skipped != "" {
		msg += " " + st.Skipped
	}
	s.done(w, r, back, msg)
}

func (s *Server) bayesClear(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r)
	back := bayesURL(sc)
	if strings.TrimSpace(r.FormValue("confirm")) != resetConfirmation {
		s.failed(w, r, back, fmt.Errorf("not reset: type %s to confirm", resetConfirmation))
		return
	}
	start := time.Now()
	if err := s.exclusive(r.Context(), func(ctx context.Context) error { return s.deps.Store.Clear(ctx, sc) }); err != nil {
		s.failed(w, r, back, fmt.Errorf("reset: %w", err))
		return
	}
	s.audit(r, "bayes reset", "scope", string(sc), "took", time.Since(start).Round(time.Millisecond))
	s.done(w, r, back, "The Bayes database was reset: every token and count is gone.")
}
