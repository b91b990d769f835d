package policyedit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
)

// LoadFunc loads a site policy directory as the daemon does (see
// rules.LoadPolicy): the policy read, its diagnostics, and an error when
// it has errors (the policy is then still returned, for lint) or could
// not be read.
type LoadFunc func(ctx context.Context, siteDir string) (*cf.Policy, []cf.Diagnostic, error)

// Options configure an Editor.
type Options struct {
	// SiteDir is the site policy directory ([policy] dir). Required.
	SiteDir string
	// OverlayPath is the daemon config overlay (see OverlayPath); "" when
	// the daemon has no config file: the daemon settings are then shown
	// but cannot be changed.
	OverlayPath string
	// AuditPath is the audit log; default panel-audit.log beside the
	// overlay, else in SiteDir's parent directory.
	AuditPath string
	// DaemonBase are the daemon settings of the daemon config without
	// the overlay.
	DaemonBase Daemon
	// SMTP and IMAP say whether the daemon config has those front ends,
	// for the page to say where a daemon setting has no effect.
	SMTP, IMAP bool
	// DaemonLive says the daemon settings take effect at a reload;
	// false: at the next start.
	DaemonLive bool
	// Load loads a policy; default rules.LoadPolicy.
	Load LoadFunc
	// Reload asks the daemon to reload the policy and the overlay as on
	// SIGHUP; an error (the daemon refused the new policy) undoes the
	// change. Nil: nothing to reload (tests, a daemon that rereads).
	Reload func(ctx context.Context) error
	// Now is the clock of the audit log; default time.Now.
	Now func() time.Time
}

// An Editor reads and changes the Policy page's settings.
//
// # Concurrency
//
// An Editor is safe for concurrent use; changes are applied one at a
// time. It does not lock against a person editing the files at the same
// moment: their file is theirs, and the next reading shows what won.
type Editor struct {
	opt Options
	mu  sync.Mutex
}

// New returns an Editor over opt.
func New(opt Options) (*Editor, error) {
	if opt.SiteDir == "" {
		return nil, errors.New("policy editor: no site policy directory ([policy] dir)")
	}
	if opt.Load == nil {
		opt.Load = rules.LoadPolicy
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.AuditPath == "" {
		dir := filepath.Dir(filepath.Clean(opt.SiteDir))
		if opt.OverlayPath != "" {
			dir = filepath.Dir(opt.OverlayPath)
		}
		opt.AuditPath = filepath.Join(dir, AuditName)
	}
	return &Editor{opt: opt}, nil
}

// Options returns the editor's options, defaults filled in.
func (e *Editor) Options() Options { return e.opt }

// FragmentPath is the panel's fragment in the site directory.
func (e *Editor) FragmentPath() string { return filepath.Join(e.opt.SiteDir, FragmentName) }

// A State is what the Policy page shows.
type State struct {
	// Settings are the values in force (the site directory as the daemon
	// loads it, the daemon config with the overlay).
	Settings Settings
	// Sources say where each setting in force was set (keys: Key*,
	// ScoreKey, ListKey, NetList.Key); a setting at its built-in default
	// has none. Daemon settings are named by the file that set them.
	Sources map[string]cf.Pos
	// PanelSets are the keys the panel's fragment and overlay set.
	PanelSets map[string]bool
	// Overridden are the panel's settings that a file read after the
	// fragment sets again: the value in force is that file's.
	Overridden []Override
	// Errors are the current files' errors: while there are any the
	// daemon keeps its last good policy and no change can be applied.
	Errors []string
}

// An Override is a panel setting a later file overrides.
type Override struct {
	Key string
	At  cf.Pos // where the value in force was set
}

// Source says where a setting in force came from, for the page: the
// file and line, "built-in default", or the daemon config file.
func (s *State) Source(key string) string {
	p, ok := s.Sources[key]
	if !ok {
		return "default"
	}
	return p.String()
}

// IsOverridden reports whether the panel sets key but a later file wins.
func (s *State) IsOverridden(key string) bool {
	return slices.ContainsFunc(s.Overridden, func(o Override) bool { return o.Key == key })
}

// State reads the settings in force.
func (e *Editor) State(ctx context.Context) (*State, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state(ctx)
}

func (e *Editor) state(ctx context.Context) (*State, error) {
	frag, err := e.fragmentPolicy(ctx)
	if err != nil {
		return nil, err
	}
	pol, diags, err := e.opt.Load(ctx, e.opt.SiteDir)
	if pol == nil {
		return nil, fmt.Errorf("read site policy: %w", err)
	}
	st := &State{PanelSets: map[string]bool{}}
	st.Errors = errorLines(diags, "", "")
	var extra []string
	if frag != nil {
		extra = panelRuleScores(frag)
	}
	st.Settings, st.Sources = readSettings(pol, extra)
	if frag != nil {
		for _, k := range panelKeys(frag) {
			st.PanelSets[k] = true
			if at, ok := st.Sources[k]; ok && at.File != e.FragmentPath() {
				st.Overridden = append(st.Overridden, Override{Key: k, At: at})
			}
		}
	}
	ov, err := e.overlay()
	if err != nil {
		return nil, err
	}
	st.Settings.Daemon = ov.Apply(e.opt.DaemonBase)
	if ov.SMTP.NoJunkSort != nil {
		st.Sources[KeyJunkSort] = cf.Pos{File: e.opt.OverlayPath}
		st.PanelSets[KeyJunkSort] = true
	}
	if ov.IMAP.JunkRetentionDays != nil {
		st.Sources[KeyJunkRetention] = cf.Pos{File: e.opt.OverlayPath}
		st.PanelSets[KeyJunkRetention] = true
	}
	return st, nil
}

func (e *Editor) overlay() (Overlay, error) {
	if e.opt.OverlayPath == "" {
		return Overlay{}, nil
	}
	return ReadOverlay(e.opt.OverlayPath)
}

// fragmentPolicy parses the panel's fragment alone (nil when there is
// none), to know what the panel sets.
func (e *Editor) fragmentPolicy(ctx context.Context) (*cf.Policy, error) {
	if _, ok, err := readOptional(e.FragmentPath()); err != nil || !ok {
		return nil, err
	}
	pol, _, err := cf.ParseFiles(ctx, []string{e.FragmentPath()}, cf.Options{KnownPlugins: rules.KnownPlugins()})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.FragmentPath(), err)
	}
	return pol, nil
}

// panelKeys are the setting keys a fragment sets.
func panelKeys(frag *cf.Policy) []string {
	var keys []string
	for _, k := range []string{KeySensitivity, KeyTagScore, KeyRejectScore, KeyRewriteSubject} {
		if _, ok := frag.SettingSource(k); ok {
			keys = append(keys, k)
		}
	}
	for _, r := range frag.Rules() {
		if r.ScoreGiven {
			keys = append(keys, ScoreKey(r.Name))
		}
	}
	for _, n := range frag.Undefined() {
		if n.ScoreGiven {
			keys = append(keys, ScoreKey(n.Name))
		}
	}
	for _, l := range netLists(frag, map[string]cf.Pos{}) {
		if len(l.Rules) > 0 {
			keys = append(keys, l.Key())
		}
	}
	for _, list := range []string{cf.ListWelcomelistFrom, cf.ListBlocklistFrom} {
		for _, a := range frag.AddrList(list) {
			keys = append(keys, ListKey(list, a.Addr))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// panelRuleScores are the rules a fragment scores besides the SPF rules
// and the list rules: its custom rule scores.
func panelRuleScores(frag *cf.Policy) []string {
	listRule := map[string]bool{}
	for _, l := range netLists(frag, map[string]cf.Pos{}) {
		for _, r := range l.Rules {
			listRule[r] = true
		}
	}
	var out []string
	for _, k := range panelKeys(frag) {
		name, ok := strings.CutPrefix(k, "score ")
		if !ok || name == RuleSPFFail || name == RuleSPFSoftFail || listRule[name] ||
			strings.HasPrefix(name, "RBL_") || strings.HasPrefix(name, "RHSBL_") || strings.HasPrefix(name, "URIBL_") {
			continue
		}
		out = append(out, name)
	}
	return out
}

// errorLines are the error diagnostics as lint prints them, with the
// temporary directory tmp named as the site directory site.
func errorLines(diags []cf.Diagnostic, tmp, site string) []string {
	var out []string
	for _, d := range diags {
		if d.Severity != cf.SeverityError {
			continue
		}
		s := d.String()
		if tmp != "" {
			s = strings.ReplaceAll(s, tmp, site)
		}
		out = append(out, s)
	}
	return out
}

// A RefusedError is a change that was not applied: its lint messages (or
// why the daemon refused it). The files and the running policy are as
// they were.
type RefusedError struct {
	Messages []string
}

func (e *RefusedError) Error() string {
	return "change refused: " + strings.Join(e.Messages, "; ")
}

func refused(format string, a ...any) error {
	return &RefusedError{Messages: []string{fmt.Sprintf(format, a...)}}
}

// Who made a change, for the audit log.
type Who struct {
	User string
	Role string
}

// Apply lints c and, when it is clean, writes it, has the daemon reload
// and logs it. It returns the new state and the audit entries written
// (none when c changed nothing). A change that does not lint, or that
// the daemon refuses, returns a *RefusedError and leaves everything as
// it was.
func (e *Editor) Apply(ctx context.Context, who Who, c Change) (*State, []AuditEntry, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	before, err := e.state(ctx)
	if err != nil {
		return nil, nil, err
	}

	tmp, err := os.MkdirTemp("", "gospamd-panel-lint-*")
	if err != nil {
		return nil, nil, fmt.Errorf("lint: %w", err)
	}
	defer os.RemoveAll(tmp)
	tmpSite := filepath.Join(tmp, "site")
	if err := copySite(e.opt.SiteDir, tmpSite, FragmentName); err != nil {
		return nil, nil, fmt.Errorf("lint: copy site directory: %w", err)
	}
	// The policy of every file but the panel's: what the fragment is
	// written against.
	basePol, diags, err := e.opt.Load(ctx, tmpSite)
	if basePol == nil {
		return nil, nil, fmt.Errorf("read site policy: %w", err)
	}
	rulesScored := slices.Collect(maps.Keys(c.RuleScores))
	rulesScored = append(rulesScored, slices.Collect(maps.Keys(before.Settings.RuleScores))...)
	base, _ := readSettings(basePol, rulesScored)
	if msgs := errorLines(diags, tmpSite, e.opt.SiteDir); len(msgs) > 0 {
		return nil, nil, &RefusedError{Messages: msgs}
	}
	frag, err := renderFragment(base, c)
	if err != nil {
		return nil, nil, refused("%v", err)
	}
	// Lint: the candidate directory, fragment in place.
	if err := os.WriteFile(filepath.Join(tmpSite, FragmentName), frag, 0o600); err != nil {
		return nil, nil, fmt.Errorf("lint: %w", err)
	}
	if _, diags, err := e.opt.Load(ctx, tmpSite); err != nil {
		msgs := errorLines(diags, tmpSite, e.opt.SiteDir)
		if len(msgs) == 0 {
			msgs = []string{strings.ReplaceAll(err.Error(), tmpSite, e.opt.SiteDir)}
		}
		return nil, nil, &RefusedError{Messages: msgs}
	}
	ov, err := e.overlayFor(c.Daemon)
	if err != nil {
		return nil, nil, err
	}

	undo, err := e.write(frag, ov)
	if err != nil {
		return nil, nil, errors.Join(err, undo())
	}
	if e.opt.Reload != nil {
		if err := e.opt.Reload(ctx); err != nil {
			if uerr := undo(); uerr != nil {
				return nil, nil, errors.Join(refused("the daemon refused the new policy: %v", err), uerr)
			}
			// Back to the policy that ran before.
			_ = e.opt.Reload(ctx)
			return nil, nil, refused("the daemon refused the new policy: %v", err)
		}
	}
	after, err := e.state(ctx)
	if err != nil {
		return nil, nil, err
	}
	entries := diffSettings(before.Settings, after.Settings)
	now := e.opt.Now().UTC().Truncate(time.Second)
	for i := range entries {
		entries[i].Time, entries[i].User, entries[i].Role = now, who.User, who.Role
	}
	if err := appendAudit(e.opt.AuditPath, entries); err != nil {
		return after, nil, err
	}
	return after, entries, nil
}

// overlayFor is the overlay that gives the daemon settings d over the
// daemon config: a key only where d differs from it.
func (e *Editor) overlayFor(d DaemonChange) (Overlay, error) {
	days, err := strconv.Atoi(strings.TrimSpace(d.JunkRetentionDays))
	if err != nil || days < 0 {
		return Overlay{}, refused("junk retention days %q: want a whole number of days, 0 to keep junk", d.JunkRetentionDays)
	}
	var ov Overlay
	base := e.opt.DaemonBase
	if d.JunkSort != base.JunkSort {
		noSort := !d.JunkSort
		ov.SMTP.NoJunkSort = &noSort
	}
	if days != base.JunkRetentionDays {
		ov.IMAP.JunkRetentionDays = &days
	}
	if !ov.IsZero() && e.opt.OverlayPath == "" {
		return Overlay{}, refused("junk sorting and retention live in the daemon config, and this daemon runs without a config file")
	}
	return ov, nil
}

// write replaces the fragment and the overlay (a fragment or overlay
// that sets nothing is removed) and returns how to put the old ones
// back.
func (e *Editor) write(frag []byte, ov Overlay) (undo func() error, err error) {
	type saved struct {
		path string
		data []byte
		ok   bool
	}
	var olds []saved
	undo = func() error {
		var errs []error
		for _, s := range olds {
			if s.ok {
				errs = append(errs, writeAtomic(s.path, s.data, 0o644))
			} else {
				errs = append(errs, removeFile(s.path))
			}
		}
		return errors.Join(errs...)
	}
	put := func(path string, data []byte, empty bool) error {
		old, ok, err := readOptional(path)
		if err != nil {
			return err
		}
		olds = append(olds, saved{path, old, ok})
		if empty {
			return removeFile(path)
		}
		return writeAtomic(path, data, 0o644)
	}
	if err := put(e.FragmentPath(), frag, string(frag) == fragmentHeader); err != nil {
		return undo, err
	}
	if e.opt.OverlayPath != "" {
		doc, err := ov.encode()
		if err != nil {
			return undo, err
		}
		if err := put(e.opt.OverlayPath, doc, ov.IsZero()); err != nil {
			return undo, err
		}
	}
	return undo, nil
}
