package cf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// ParseFiles reads paths in order as one configuration (later lines
// override earlier ones) and returns the policy and the problems found.
// The error is for an unreadable file or a cancelled ctx.
func ParseFiles(ctx context.Context, paths []string, opt Options) (*Policy, []Diagnostic, error) {
	p := NewParser(opt)
	for _, name := range paths {
		if err := p.ParseFile(ctx, name); err != nil {
			return nil, p.Diagnostics(), err
		}
	}
	return p.Policy(), p.Diagnostics(), nil
}

// SiteOptions configure LoadSite.
type SiteOptions struct {
	Options
	// Defaults are the built-in rules (embedded by the caller): its *.pre
	// and *.cf files at the root are read first. Nil means none.
	Defaults fs.FS
	// RulesDir, when not empty, overrides the rules_dir setting.
	RulesDir string
}

// The layers of a site policy, as LoadSite names them.
const (
	LayerBuiltin  = "built-in"
	LayerRulesDir = "rules_dir"
	LayerSite     = "site"
)

// A Layer is one source of a site policy, for lint to show what was
// loaded.
type Layer struct {
	// Name is LayerBuiltin, LayerRulesDir or LayerSite.
	Name string
	// Dir is the directory read; "" for the built-in rules.
	Dir string
	// Files are the files read from it (*.pre first), in order; for the
	// built-in rules, names inside the embedded tree.
	Files []string
	// Off, when not "", says why the layer was not read (its files are
	// then the ones left out).
	Off string
}

// LoadSite builds the site policy in layers, read as one configuration so
// that later layers override earlier ones:
//
//  1. the *.pre files (loadplugin, enable_compat) of Defaults, of the site
//     directory and of the rules directory;
//  2. Defaults' *.cf files, in name order;
//  3. the rules directory (the rules_dir setting, as found in Defaults or
//     the site directory, or SiteOptions.RulesDir): a SpamAssassin rules
//     directory such as /usr/share/spamassassin, every *.cf in name order;
//  4. the site directory: every *.cf file in name order; a sub-directory
//     named *.cf (SME Server's "local.cf/20localscores" template
//     fragments) is read in its place, its files in name order.
//
// "use_builtin_rules 0" in the site directory leaves Defaults out
// (layers 1 and 2): with rules_dir /usr/share/spamassassin the policy is
// then SpamAssassin's own. The setting is found by reading the site
// directory once before the layers are built; the same line anywhere
// else (the rules directory) has no effect and gets a warning.
//
// An empty siteDir means none (the defaults and rules_dir alone); a
// missing site directory is an error; a missing rules directory is a
// diagnostic. Policy.Layers tells what was read.
func LoadSite(ctx context.Context, siteDir string, opt SiteOptions) (*Policy, []Diagnostic, error) {
	var site siteList
	var err error
	if siteDir != "" {
		if site, err = siteFiles(siteDir); err != nil {
			return nil, nil, err
		}
	}
	var defPre, defCf []string
	if opt.Defaults != nil {
		defPre, defCf, err = fsFiles(opt.Defaults)
		if err != nil {
			return nil, nil, fmt.Errorf("list built-in rules: %w", err)
		}
	}

	// Scout: the site directory alone says whether the built-in rules
	// are wanted, and with them (or alone) where the rules directory is.
	scout := NewParser(opt.Options)
	for _, f := range slices.Concat(site.pre, site.cf) {
		if err := scout.ParseFile(ctx, f); err != nil {
			return nil, nil, err
		}
	}
	builtin := scout.pol.settings.UseBuiltinRules
	rulesDir := opt.RulesDir
	if rulesDir == "" {
		rulesDir = scout.pol.settings.RulesDir
	}
	if rulesDir == "" && builtin && len(defCf) > 0 {
		// The built-in rules may name a rules directory the site did
		// not: read them before the site, as the policy will be.
		scout = NewParser(opt.Options)
		for _, f := range defCf {
			if err := scout.ParseFS(ctx, opt.Defaults, f); err != nil {
				return nil, nil, err
			}
		}
		for _, f := range site.cf {
			if err := scout.ParseFile(ctx, f); err != nil {
				return nil, nil, err
			}
		}
		rulesDir = scout.pol.settings.RulesDir
	}
	var layers []Layer
	if opt.Defaults != nil {
		l := Layer{Name: LayerBuiltin, Files: slices.Concat(defPre, defCf)}
		if !builtin {
			l.Off = "use_builtin_rules 0"
			defPre, defCf = nil, nil
		}
		layers = append(layers, l)
	}

	p := NewParser(opt.Options)
	var rulesPre, rulesCf []string
	if rulesDir != "" {
		rulesPre, rulesCf, err = dirFiles(rulesDir)
		if err != nil {
			p.diag(Pos{File: rulesDir}, SeverityError, "rules_dir: %v", err)
		}
		layers = append(layers, Layer{Name: LayerRulesDir, Dir: rulesDir, Files: slices.Concat(rulesPre, rulesCf)})
	}
	if siteDir != "" {
		layers = append(layers, Layer{Name: LayerSite, Dir: siteDir, Files: slices.Concat(site.pre, site.cf)})
	}
	for _, f := range defPre {
		if err := p.ParseFS(ctx, opt.Defaults, f); err != nil {
			return nil, p.Diagnostics(), err
		}
	}
	for _, f := range slices.Concat(site.pre, rulesPre) {
		if err := p.ParseFile(ctx, f); err != nil {
			return nil, p.Diagnostics(), err
		}
	}
	for _, f := range defCf {
		if err := p.ParseFS(ctx, opt.Defaults, f); err != nil {
			return nil, p.Diagnostics(), err
		}
	}
	for _, f := range slices.Concat(rulesCf, site.cf) {
		if err := p.ParseFile(ctx, f); err != nil {
			return nil, p.Diagnostics(), err
		}
	}
	if p.pol.settings.UseBuiltinRules != builtin {
		p.diag(Pos{File: rulesDir}, SeverityWarning, "use_builtin_rules is read from the site directory only: ignored here")
		p.pol.settings.UseBuiltinRules = builtin
	}
	pol := p.Policy()
	pol.layers = layers
	return pol, p.Diagnostics(), nil
}

type siteList struct{ pre, cf []string }

// siteFiles lists a site directory: *.pre, and *.cf files or *.cf
// directories of fragments, in name order.
func siteFiles(dir string) (siteList, error) {
	var out siteList
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out, fmt.Errorf("read site directory: %w", err)
	}
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		full := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".pre") && isRegular(full):
			out.pre = append(out.pre, full)
		case strings.HasSuffix(name, ".cf") && isDir(full):
			frags, err := os.ReadDir(full)
			if err != nil {
				return out, fmt.Errorf("read fragment directory: %w", err)
			}
			for _, f := range frags {
				fp := filepath.Join(full, f.Name())
				if isFragment(f.Name()) && isRegular(fp) {
					out.cf = append(out.cf, fp)
				}
			}
		case strings.HasSuffix(name, ".cf") && isRegular(full):
			out.cf = append(out.cf, full)
		}
	}
	return out, nil
}

// isFragment skips hidden files and editor/package-manager leftovers.
func isFragment(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return false
	}
	for _, suf := range []string{".bak", ".orig", ".rej", ".swp", ".rpmnew", ".rpmsave", ".dpkg-old", ".dpkg-new", ".dpkg-dist"} {
		if strings.HasSuffix(name, suf) {
			return false
		}
	}
	return true
}

// dirFiles lists a SpamAssassin rules directory: its *.pre and *.cf files.
func dirFiles(dir string) (pre, cf []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		if !isRegular(full) {
			continue
		}
		switch {
		case strings.HasSuffix(e.Name(), ".pre"):
			pre = append(pre, full)
		case strings.HasSuffix(e.Name(), ".cf"):
			cf = append(cf, full)
		}
	}
	return pre, cf, nil
}

func fsFiles(fsys fs.FS) (pre, cf []string, err error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch path.Ext(e.Name()) {
		case ".pre":
			pre = append(pre, e.Name())
		case ".cf":
			cf = append(cf, e.Name())
		}
	}
	return pre, cf, nil
}

func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// WithUserPrefs returns the policy with a user's preferences applied on
// top, as spamd does for the User: of a request. p is not changed; the new
// Policy shares everything the prefs did not touch.
//
// As in spamd, rule definitions and other privileged lines (header, body,
// uri, rawbody, full, meta, mimeheader, askdns, uri*bl*, reuse, tflags,
// priority, replace_*, redirector_pattern, allow_user_rules) are refused
// unless the site set allow_user_rules 1, and administrator settings
// (loadplugin, bayes_path, dns_local_ports_*, util_rb_*, version_tag,
// enable_compat, rbl_timeout, user_scores_*, and our reject_score,
// max_message_size, rules_dir) are always refused; so is a time_limit
// above the site's (or 0, unlimited, under a limited site): a user may
// shorten the scans of their mail, not lengthen them. Each refusal is an
// Info diagnostic and the line is skipped. include is refused too, and
// "if can(…)" is false, as in SpamAssassin. The error is only for a
// failing reader.
func (p *Policy) WithUserPrefs(r io.Reader, name string) (*Policy, []Diagnostic, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read user prefs %s: %w", name, err)
	}
	cp := *p
	ps := &Parser{opt: p.opt, pol: &cp, user: true, canFn: map[string]bool{}, siteTimeLimit: p.settings.TimeLimit}
	for _, c := range p.opt.Capabilities {
		ps.canFn[c] = true
	}
	ps.stack = []string{"user:" + name}
	err = ps.parseText(context.Background(), noIncludes{}, name, data)
	if err != nil {
		return nil, ps.Diagnostics(), err
	}
	if ps.reshaped {
		ps.finish()
	}
	return ps.pol, ps.Diagnostics(), nil
}

// noIncludes is the source of user prefs: nothing can be read.
type noIncludes struct{}

func (noIncludes) read(string) ([]byte, error) { return nil, errors.New("no includes in user prefs") }
func (noIncludes) resolve(_, ref string) (string, error) {
	return "", errors.New("no includes in user prefs")
}
func (noIncludes) key(name string) string { return "user:" + name }

// RuleChanges compares p, a policy WithUserPrefs derived from base, with
// base. same reports whether p defines exactly base's rules, in the same
// order and with the same definitions, tflags and priorities, differing
// at most in their scores and descriptions: then whatever was compiled
// from base's rules serves p too, with changed (p's versions of the
// rules whose score or description differ) read in their place.
func (p *Policy) RuleChanges(base *Policy) (changed []*Rule, same bool) {
	if len(p.rules) != len(base.rules) {
		return nil, false
	}
	for i, r := range p.rules {
		b := base.rules[i]
		if r == b {
			continue
		}
		if !sameDefinition(r, b) {
			return nil, false
		}
		changed = append(changed, r)
	}
	return changed, true
}

// sameDefinition reports whether a and b differ at most in their scores
// and descriptions.
func sameDefinition(a, b *Rule) bool {
	x := *a
	x.Scores, x.ScoreGiven, x.ScoreRelative, x.ScorePos = b.Scores, b.ScoreGiven, b.ScoreRelative, b.ScorePos
	x.Describe = b.Describe
	return reflect.DeepEqual(&x, b)
}
