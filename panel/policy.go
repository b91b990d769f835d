package panel

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gospamd/gospamd/panel/policyedit"
	"github.com/gospamd/gospamd/rules/cf"
)

// The Policy page: SME Server's E-Mail page settings over the site policy
// directory and the daemon config, through policyedit (which owns the
// files: the panel's 50_panel.cf, panel.toml and panel-audit.log). A
// change is linted before it is written and reloaded as SIGHUP reloads;
// a refused one comes back with the lint's message.

// auditShown is how many audit log lines the page shows.
const auditShown = 30

func (s *Server) policyRoutes() {
	s.page("/policy", "Policy", roleAdmin, s.policyPage)
	s.handle("POST /policy", roleAdmin, s.policySave)
}

// policyEditor is the editor over the daemon's files; nil (with the
// reason) when the daemon has no site policy directory.
func (s *Server) policyEditor() (*policyedit.Editor, error) {
	if s.deps.PolicyDir == "" {
		return nil, errors.New("the daemon runs the built-in rules alone: set [policy] dir in the daemon config to change the policy here")
	}
	return policyedit.New(policyedit.Options{
		SiteDir:     s.deps.PolicyDir,
		OverlayPath: policyedit.OverlayPath(s.deps.DaemonConfigFile),
		DaemonBase:  s.deps.PolicyDaemon,
		SMTP:        s.deps.SMTP,
		IMAP:        s.deps.Training != nil,
		DaemonLive:  true,
		Load:        s.deps.PolicyLoad,
		Reload:      s.deps.Reload,
		Now:         s.deps.Now,
	})
}

// policyData is the Policy page.
type policyData struct {
	Unavailable string // why nothing can be shown
	State       *policyedit.State
	Form        policyedit.Change
	Presets     []string
	Lists       []policyList
	Scores      []policyScore
	Welcome     []policyEntry
	Block       []policyEntry
	Overrides   []policyOverride
	Fragment    string // the panel's fragment file
	Overlay     string // the panel's overlay file, "" without a config file
	SMTP, IMAP  bool
	Audit       []policyedit.AuditEntry
	AuditErr    string
	Sources     map[string]string // key → where set, for the template
}

type policyList struct {
	Key, Kind, Zone string
	On              bool
	Source          string
}

type policyScore struct {
	Rule, Score, Source string
}

type policyEntry struct {
	Addr, Source string
}

type policyOverride struct {
	Key, At string
}

func (s *Server) policyPage(w http.ResponseWriter, r *http.Request) {
	d := policyData{Presets: policyedit.Sensitivities, SMTP: s.deps.SMTP, IMAP: s.deps.Training != nil}
	ed, err := s.policyEditor()
	if err != nil {
		d.Unavailable = err.Error()
		s.render(w, r, "policy.html", d)
		return
	}
	st, err := ed.State(r.Context())
	if err != nil {
		d.Unavailable = "The policy could not be read: " + err.Error()
		s.render(w, r, "policy.html", d)
		return
	}
	d.State, d.Form = st, policyedit.ChangeFrom(st.Settings)
	d.Fragment, d.Overlay = ed.FragmentPath(), ed.Options().OverlayPath
	d.Sources = map[string]string{}
	for _, k := range []string{policyedit.KeySensitivity, policyedit.KeyTagScore, policyedit.KeyRejectScore,
		policyedit.KeyRewriteSubject, policyedit.KeyJunkSort, policyedit.KeyJunkRetention,
		policyedit.ScoreKey(policyedit.RuleSPFFail), policyedit.ScoreKey(policyedit.RuleSPFSoftFail)} {
		d.Sources[k] = st.Source(k)
	}
	for _, l := range st.Settings.Lists {
		d.Lists = append(d.Lists, policyList{Key: l.Key(), Kind: l.Kind, Zone: l.Zone, On: l.On, Source: st.Source(l.Key())})
	}
	for _, n := range slices.Sorted(maps.Keys(st.Settings.RuleScores)) {
		d.Scores = append(d.Scores, policyScore{Rule: n, Score: st.Settings.RuleScores[n], Source: st.Source(policyedit.ScoreKey(n))})
	}
	for _, a := range st.Settings.Welcome {
		d.Welcome = append(d.Welcome, policyEntry{a, st.Source(policyedit.ListKey(cf.ListWelcomelistFrom, a))})
	}
	for _, a := range st.Settings.Block {
		d.Block = append(d.Block, policyEntry{a, st.Source(policyedit.ListKey(cf.ListBlocklistFrom, a))})
	}
	for _, o := range st.Overridden {
		d.Overrides = append(d.Overrides, policyOverride{Key: o.Key, At: o.At.String()})
	}
	d.Audit, err = policyedit.ReadAudit(ed.Options().AuditPath, auditShown)
	if err != nil {
		d.AuditErr = err.Error()
	}
	s.render(w, r, "policy.html", d)
}

// changeFromForm reads the Policy form.
func changeFromForm(r *http.Request) policyedit.Change {
	f := r.PostForm
	c := policyedit.Change{
		Sensitivity:    f.Get("sensitivity"),
		TagScore:       f.Get("tag"),
		RejectScore:    f.Get("reject"),
		RewriteSubject: f.Get("rewrite") == "on",
		SubjectText:    f.Get("subject"),
		Lists:          map[string]bool{},
		SPFFail:        f.Get("spf_fail"),
		SPFSoftFail:    f.Get("spf_softfail"),
		RuleScores:     map[string]string{},
		Welcome:        strings.Split(f.Get("welcome"), "\n"),
		Block:          strings.Split(f.Get("block"), "\n"),
		Daemon: policyedit.DaemonChange{
			JunkSort:          f.Get("junk_sort") == "on",
			JunkRetentionDays: f.Get("junk_retention"),
		},
	}
	for _, k := range f["list_shown"] {
		c.Lists[k] = false
	}
	for _, k := range f["list_on"] {
		c.Lists[k] = true
	}
	if zone := strings.ToLower(strings.TrimSpace(f.Get("list_add_zone"))); zone != "" {
		kind := f.Get("list_add_kind")
		switch kind {
		case policyedit.KindRBL, policyedit.KindRHSBL, policyedit.KindURIBL:
		default:
			kind = policyedit.KindRBL
		}
		c.Lists[kind+" "+zone] = true
	}
	names, scores := f["rule_name"], f["rule_score"]
	for i, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || i >= len(scores) {
			continue
		}
		c.RuleScores[n] = strings.TrimSpace(scores[i])
	}
	return c
}

func (s *Server) policySave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.failed(w, r, "/policy", fmt.Errorf("read the form: %w", err))
		return
	}
	ed, err := s.policyEditor()
	if err != nil {
		s.failed(w, r, "/policy", err)
		return
	}
	sess := sessionOf(r)
	who := policyedit.Who{User: "panel@" + clientIP(r)}
	if sess != nil {
		who.Role = sess.role.String()
	}
	_, entries, err := ed.Apply(r.Context(), who, changeFromForm(r))
	var ref *policyedit.RefusedError
	switch {
	case errors.As(err, &ref):
		s.audit(r, "policy change refused", "why", strings.Join(ref.Messages, "; "))
		s.failed(w, r, "/policy", fmt.Errorf("not applied, the running policy is unchanged: %s", strings.Join(ref.Messages, " ")))
		return
	case err != nil:
		s.failed(w, r, "/policy", fmt.Errorf("policy change: %w", err))
		return
	}
	if len(entries) == 0 {
		s.done(w, r, "/policy", "Nothing changed.")
		return
	}
	var what []string
	for _, e := range entries {
		what = append(what, e.Setting+": "+e.Old+" → "+e.New)
	}
	s.audit(r, "policy change", "changes", strings.Join(what, "; "))
	s.done(w, r, "/policy", fmt.Sprintf("Applied and reloaded: %s.", strings.Join(what, "; ")))
}
