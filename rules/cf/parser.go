package cf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Policy is a parsed set of .cf files: rules, settings and lists.
//
// # Immutability
//
// A Policy never changes once returned. Slices, maps and *Rule values
// reached through its methods are shared with other policies (a user's
// Policy shares everything it did not change with the site's); callers
// must not modify them. A Policy is safe for concurrent use.
type Policy struct {
	opt Options

	settings Settings
	rules    []*Rule          // defined rules, in order of first definition
	byName   map[string]*Rule // every name mentioned, defined or not
	// over holds the rules a user-prefs layer changed or added; it takes
	// precedence over byName, which stays shared with the site policy.
	over map[string]*Rule

	addrLists map[string][]AddrEntry // builtin lists by 4.0 name
	enlisted  map[string][]AddrEntry // enlist_addrlist (NAME)
	uriHosts  map[string][]URIHostEntry
	uribls    []URIBLDef
	replace   ReplaceTags
	// setAt is where each setting was last set (see SettingSource).
	setAt map[string]Pos

	loaded  []string // loadplugin/tryplugin module names, in order
	compat  []string // enable_compat flags
	other   []Directive
	unknown []Directive
	files   []string // files read, in order
	layers  []Layer  // what LoadSite read, for lint
}

// Layers returns the layers LoadSite built the policy from, in the
// order read (nil for a policy not built by LoadSite).
func (p *Policy) Layers() []Layer { return p.layers }

// ReplaceTags are the ReplaceTags plugin settings: body rules listed in
// Rules have "<NAME>" tags in their patterns replaced by Tags[NAME]
// (with Pre/Inter/Post tags around and between them) before compiling.
type ReplaceTags struct {
	Start, End       string            // replace_start/replace_end, "<" ">"
	Tags             map[string]string // replace_tag
	Pre, Inter, Post map[string]string // replace_pre/inter/post
	Rules            []string          // replace_rules, in order
}

// Settings returns the options. The slices and maps in it are shared.
func (p *Policy) Settings() Settings { return p.settings }

// Rules returns the defined rules in order of first definition (a
// redefinition replaces the rule in place).
func (p *Policy) Rules() []*Rule { return p.rules }

// Rule returns what is known about name, defined or not (a score or
// describe line alone gives a Rule of KindNone), or nil.
func (p *Policy) Rule(name string) *Rule {
	if r, ok := p.over[name]; ok {
		return r
	}
	return p.byName[name]
}

// Undefined returns names that have a score, describe, tflags or priority
// but no definition, sorted (lint material).
func (p *Policy) Undefined() []*Rule {
	var out []*Rule
	for name, r := range p.byName {
		if _, ok := p.over[name]; !ok && !r.Defined() {
			out = append(out, r)
		}
	}
	for _, r := range p.over {
		if !r.Defined() {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Rule) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AddrList returns a builtin address list by its 4.0 name (List*
// constants).
func (p *Policy) AddrList(name string) []AddrEntry { return p.addrLists[name] }

// Enlisted returns an enlist_addrlist list, e.g. "FREEMAIL" for
// "enlist_addrlist (FREEMAIL) …".
func (p *Policy) Enlisted(name string) []AddrEntry { return p.enlisted[name] }

// EnlistedNames returns the enlist_addrlist list names, sorted.
func (p *Policy) EnlistedNames() []string { return sortedKeys(p.enlisted) }

// URIHostList returns an enlist_uri_host list ("BLOCK" and "WELCOME" for
// blocklist_uri_host and welcomelist_uri_host).
func (p *Policy) URIHostList(name string) []URIHostEntry { return p.uriHosts[name] }

// URIHostListNames returns the URI host list names, sorted.
func (p *Policy) URIHostListNames() []string { return sortedKeys(p.uriHosts) }

// URIBLs returns the URIDNSBL definitions (one per rule name, last wins).
func (p *Policy) URIBLs() []URIBLDef { return p.uribls }

// ReplaceTags returns the ReplaceTags plugin settings.
func (p *Policy) ReplaceTags() ReplaceTags { return p.replace }

// LoadedPlugins returns the modules named by loadplugin/tryplugin lines.
func (p *Policy) LoadedPlugins() []string { return p.loaded }

// PluginEnabled reports whether plugin(name) is true under this policy's
// options.
func (p *Policy) PluginEnabled(name string) bool {
	return slices.Contains(p.opt.KnownPlugins, fullPluginName(name)) ||
		fullPluginName(name) == PluginPrefix+"RaciallyCharged"
}

// Directives returns the kept lines with the given key (lower case), in
// order: directives this package accepts without modelling, such as
// freemail_domains, util_rb_2tld, dns_block_rule, adsp_override.
func (p *Policy) Directives(key string) []Directive {
	var out []Directive
	for _, d := range p.other {
		if d.Key == key {
			out = append(out, d)
		}
	}
	return out
}

// OtherDirectives returns every kept unmodelled line, in order.
func (p *Policy) OtherDirectives() []Directive { return p.other }

// Unknown returns the lines whose keyword is not known, in order (lint:
// SpamAssassin says "failed to parse line" for these).
func (p *Policy) Unknown() []Directive { return p.unknown }

// SettingSource returns where the setting key (lower case, its 4.0
// name: "required_score" also for required_hits, "spam_sensitivity",
// "reject_score", "rewrite_header subject") was last set, and false when
// no line set it (the value is the default). Only settings (Settings'
// fields) are tracked; rules carry their own positions (Rule.Source,
// Rule.ScorePos), list entries theirs (AddrEntry.Pos).
func (p *Policy) SettingSource(key string) (Pos, bool) {
	pos, ok := p.setAt[key]
	return pos, ok
}

// SettingSources returns the tracked settings' keys, sorted.
func (p *Policy) SettingSources() []string { return sortedKeys(p.setAt) }

// Files returns the files read, in order, includes included.
func (p *Policy) Files() []string { return p.files }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func newPolicy(opt Options) *Policy {
	return &Policy{
		opt:       opt,
		settings:  DefaultSettings(),
		byName:    map[string]*Rule{},
		addrLists: map[string][]AddrEntry{},
		enlisted:  map[string][]AddrEntry{},
		uriHosts:  map[string][]URIHostEntry{},
		setAt:     map[string]Pos{},
		replace: ReplaceTags{Start: "<", End: ">", Tags: map[string]string{},
			Pre: map[string]string{}, Inter: map[string]string{}, Post: map[string]string{}},
	}
}

// A Parser reads .cf text into a Policy, one input after another: later
// lines override earlier ones exactly as if all inputs were one file
// (SpamAssassin reads its rules directory and site directory as one text).
//
// A Parser is not safe for concurrent use. Policy may be called at any
// time; parsing may continue afterwards without affecting the Policy
// already returned (copy-on-write).
type Parser struct {
	opt   Options
	pol   *Policy
	own   ownership
	diags []Diagnostic
	user  bool // reading user prefs: privileged lines refused
	// siteTimeLimit is the site's time_limit while reading user prefs,
	// the most a user may ask for (see the time_limit setting).
	siteTimeLimit time.Duration
	// reshaped is set when a definition or tflags line changed what
	// finish computes (meta dependencies, inherited net).
	reshaped bool
	canFn    map[string]bool
	// key is the directive of the line being read, for diagnostics; ""
	// once it is known not to be a directive.
	key string

	// include stack of the input being read, for cycle detection
	stack []string
}

// NewParser returns a Parser with an empty policy (SpamAssassin's built-in
// defaults only).
func NewParser(opt Options) *Parser {
	opt = opt.withDefaults()
	known := make([]string, len(opt.KnownPlugins))
	for i, k := range opt.KnownPlugins {
		known[i] = fullPluginName(k)
	}
	opt.KnownPlugins = known
	p := &Parser{opt: opt, pol: newPolicy(opt), own: ownership{all: true}}
	p.canFn = make(map[string]bool, len(opt.Capabilities))
	for _, c := range opt.Capabilities {
		p.canFn[c] = true
	}
	return p
}

// Diagnostics returns the problems found so far.
func (p *Parser) Diagnostics() []Diagnostic { return slices.Clip(p.diags) }

// Policy returns the policy read so far. It does not change when the
// Parser reads more.
func (p *Parser) Policy() *Policy {
	p.finish()
	out := p.pol
	cp := *out
	p.pol = &cp
	p.own = ownership{}
	return out
}

// ParseFile reads one file from the operating system's file system;
// includes are relative to it. The error is for a file that cannot be read
// or a cancelled ctx; problems inside are Diagnostics.
func (p *Parser) ParseFile(ctx context.Context, name string) error {
	return p.parseTop(ctx, osSource{}, name)
}

// ParseFS reads one file of fsys; includes are relative to it inside fsys
// and may not leave it.
func (p *Parser) ParseFS(ctx context.Context, fsys fs.FS, name string) error {
	return p.parseTop(ctx, fsSource{fsys}, name)
}

// Parse reads .cf text from r, naming it name in diagnostics; includes are
// relative to name's directory in the operating system's file system.
func (p *Parser) Parse(ctx context.Context, r io.Reader, name string) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return p.parseData(ctx, osSource{}, name, data)
}

func (p *Parser) parseTop(ctx context.Context, src source, name string) error {
	data, err := src.read(name)
	if err != nil {
		return fmt.Errorf("read config %s: %w", name, err)
	}
	return p.parseData(ctx, src, name, data)
}

func (p *Parser) parseData(ctx context.Context, src source, name string, data []byte) error {
	p.stack = append(p.stack[:0], src.key(name))
	return p.parseText(ctx, src, name, data)
}

// source reads files for the top-level input and its includes.
type source interface {
	read(name string) ([]byte, error)
	// resolve returns the path of ref included from file from.
	resolve(from, ref string) (string, error)
	key(name string) string
}

type osSource struct{}

func (osSource) read(name string) ([]byte, error) { return os.ReadFile(name) }
func (osSource) resolve(from, ref string) (string, error) {
	if filepath.IsAbs(ref) {
		return filepath.Clean(ref), nil
	}
	return filepath.Join(filepath.Dir(from), ref), nil
}
func (osSource) key(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return "os:" + abs
	}
	return "os:" + filepath.Clean(name)
}

type fsSource struct{ fsys fs.FS }

func (s fsSource) read(name string) ([]byte, error) { return fs.ReadFile(s.fsys, name) }
func (s fsSource) resolve(from, ref string) (string, error) {
	if path.IsAbs(ref) {
		return "", fmt.Errorf("absolute include %q in an embedded file system", ref)
	}
	p := path.Join(path.Dir(from), ref)
	if !fs.ValidPath(p) {
		return "", fmt.Errorf("include %q leaves the file system", ref)
	}
	return p, nil
}
func (s fsSource) key(name string) string { return fmt.Sprintf("fs:%p:%s", s.fsys, path.Clean(name)) }

// condFrame is one open if/ifplugin.
type condFrame struct {
	kind       string
	skipBefore bool // skipping state when the block was opened
	pos        Pos
}

// fileState is the per-file parsing state: conditionals reset at the end
// of every file, included or not.
type fileState struct {
	name  string
	line  int
	conds []condFrame
	skip  bool
}

func (p *Parser) parseText(ctx context.Context, src source, name string, data []byte) error {
	p.pol.files = p.appendFile(name)
	st := &fileState{name: name}
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		st.line++
		if err := p.line(ctx, src, st, string(raw)); err != nil {
			return err
		}
	}
	for _, c := range st.conds {
		p.key = c.kind
		p.diagBrief(c.pos, SeverityError, "unclosed '%s'", c.kind)
	}
	return nil
}

func (p *Parser) appendFile(name string) []string {
	return cowAppend(&p.own, &p.pol.files, name)
}

// diag records a problem with the line being read (p.key is its
// directive, "" when it is not a known one).
func (p *Parser) diag(pos Pos, sev Severity, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Pos: pos, Severity: sev, Msg: fmt.Sprintf(format, args...), Directive: p.key})
}

// diagBrief is diag for a message whose arguments hold nothing from the
// line: the message is also its Redacted form.
func (p *Parser) diagBrief(pos Pos, sev Severity, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.diags = append(p.diags, Diagnostic{Pos: pos, Severity: sev, Msg: msg, Directive: p.key, brief: msg})
}

// stripComment removes a '#' comment not preceded by a backslash and then
// turns every "\#" into "#".
func stripComment(s string) string {
	if !strings.Contains(s, "#") {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] != '\\') {
			s = s[:i]
			break
		}
	}
	return strings.ReplaceAll(s, `\#`, "#")
}

// isSpace is Perl's \s: space, \t, \n, \v, \f, \r.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// splitWord splits s at its first whitespace run: Perl split(/\s+/, s, 2)
// of an already trimmed string.
func splitWord(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			j := i
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			return s[:i], s[j:]
		}
	}
	return s, ""
}

// fields splits on Perl whitespace.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
}

func (p *Parser) line(ctx context.Context, src source, st *fileState, raw string) error {
	pos := Pos{File: st.name, Line: st.line}
	s := trimSpace(stripComment(raw))
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "lang") {
		if w, rest := splitWord(s); w == "lang" && rest != "" {
			lang, rest2 := splitWord(rest)
			if rest2 == "" {
				// "lang xx" with nothing after it is not a lang prefix.
			} else {
				if !strings.HasPrefix(strings.ToLower(p.opt.Lang), strings.ToLower(lang)) {
					return nil
				}
				s = rest2
			}
		}
	}
	key, value := splitWord(s)
	key = strings.ReplaceAll(strings.ToLower(key), "-", "_")
	p.key = key

	switch key {
	case "endif":
		if value != "" {
			p.diag(pos, SeverityError, "'endif' must be standalone")
			return nil
		}
		if len(st.conds) == 0 {
			p.diag(pos, SeverityError, "'endif' without 'if'")
			return nil
		}
		last := st.conds[len(st.conds)-1]
		st.conds = st.conds[:len(st.conds)-1]
		st.skip = last.skipBefore
		return nil
	case "ifplugin", "if":
		if value == "" {
			p.diag(pos, SeverityError, "missing '%s' condition", key)
			return nil
		}
		expr := value
		if key == "ifplugin" {
			expr = "plugin(" + value + ")"
		}
		st.conds = append(st.conds, condFrame{kind: key, skipBefore: st.skip, pos: pos})
		ok, err := p.evalCond(expr, st.name)
		switch {
		case errors.Is(err, ErrNesting):
			// Not quoted: such a condition is a hostile line, not a typo.
			p.diagBrief(pos, SeverityError, "bad '%s' condition: %v", key, err)
		case err != nil:
			p.diag(pos, SeverityError, "bad '%s' condition %q: %v", key, value, err)
		}
		if !ok {
			st.skip = true
		}
		return nil
	case "else":
		if value != "" {
			p.diag(pos, SeverityError, "'else' must be standalone")
			return nil
		}
		if len(st.conds) == 0 {
			p.diag(pos, SeverityError, "'else' without 'if'")
			return nil
		}
		// Skipping anywhere outside keeps skipping (SpamAssassin bug 7848).
		outer := false
		for _, c := range st.conds {
			outer = outer || c.skipBefore
		}
		if outer {
			st.skip = true
		} else {
			st.skip = !st.skip
		}
		return nil
	}
	if st.skip {
		return nil
	}
	switch key {
	case "include":
		return p.include(ctx, src, pos, value)
	case "require_version":
		if value == "" {
			p.diag(pos, SeverityError, "missing 'require_version' value")
			return nil
		}
		if value == "@@VERSION@@" {
			return nil
		}
		if value != fmt.Sprintf("%.6f", p.opt.Version) {
			p.diag(pos, SeverityWarning, "file requires version %s, this is %.6f: rest of file skipped", value, p.opt.Version)
			st.skip = true
		}
		return nil
	}
	p.directive(pos, key, value)
	return nil
}

func (p *Parser) include(ctx context.Context, src source, pos Pos, ref string) error {
	if ref == "" {
		p.diag(pos, SeverityError, "missing 'include' value")
		return nil
	}
	if p.user {
		p.diag(pos, SeverityInfo, "include refused in user prefs")
		return nil
	}
	target, err := src.resolve(pos.File, ref)
	if err != nil {
		p.diag(pos, SeverityError, "include: %v", err)
		return nil
	}
	k := src.key(target)
	if slices.Contains(p.stack, k) {
		p.diag(pos, SeverityError, "include cycle: %s includes %s again", pos.File, target)
		return nil
	}
	if len(p.stack) > p.opt.MaxIncludeDepth {
		p.diag(pos, SeverityError, "includes nested deeper than %d", p.opt.MaxIncludeDepth)
		return nil
	}
	data, err := src.read(target)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			p.diag(pos, SeverityError, "include %s: file not found", target)
		} else {
			p.diag(pos, SeverityError, "include %s: %v", target, err)
		}
		return nil
	}
	p.stack = append(p.stack, k)
	err = p.parseText(ctx, src, target, data)
	p.stack = p.stack[:len(p.stack)-1]
	return err
}

// ownership tracks which parts of the parser's Policy it may write in
// place; the rest is shared with a Policy already handed out and is copied
// on first write.
type ownership struct {
	all bool
	set map[any]bool
}

func (o *ownership) owns(k any) bool { return o.all || o.set[k] }
func (o *ownership) take(k any) {
	if o.all {
		return
	}
	if o.set == nil {
		o.set = map[any]bool{}
	}
	o.set[k] = true
}

// cowAppend appends to *s, copying it first unless owned.
func cowAppend[T any](o *ownership, s *[]T, v ...T) []T {
	if !o.owns(s) {
		*s = slices.Clone(*s)
		o.take(s)
	}
	return append(*s, v...)
}

// cowSlice makes *s writable in place and returns it.
func cowSlice[T any](o *ownership, s *[]T) []T {
	if !o.owns(s) {
		*s = slices.Clone(*s)
		o.take(s)
	}
	return *s
}

// cowMap makes *m writable in place and returns it.
func cowMap[V any](o *ownership, m *map[string]V) map[string]V {
	if *m == nil {
		*m = map[string]V{}
		o.take(m)
	}
	if !o.owns(m) {
		cp := make(map[string]V, len(*m)+1)
		for k, v := range *m {
			cp[k] = v
		}
		*m = cp
		o.take(m)
	}
	return *m
}

// ruleKey marks a *Rule as copied in this layer.
type ruleKey string

// mutRule returns a writable Rule for name, creating a KindNone entry when
// the name is new.
func (p *Parser) mutRule(name string) *Rule {
	r := p.pol.Rule(name)
	if r != nil && p.own.owns(ruleKey(name)) {
		return r
	}
	by := &p.pol.byName
	if p.user {
		// Keep the site's index shared: a small overlay is cheaper than
		// copying thousands of entries per request.
		by = &p.pol.over
	}
	m := cowMap(&p.own, by)
	if r == nil {
		r = &Rule{Name: name}
		r.Scores = defaultScores(name, false)
	} else {
		cp := *r
		r = &cp
		if idx := p.ruleIndex(name); idx >= 0 {
			cowSlice(&p.own, &p.pol.rules)[idx] = r
		}
	}
	m[name] = r
	p.own.take(ruleKey(name))
	return r
}

func (p *Parser) ruleIndex(name string) int {
	// Defined rules are few enough per layer change that a scan is fine
	// for user prefs; the site parse owns everything and never needs it.
	for i, r := range p.pol.rules {
		if r.Name == name {
			return i
		}
	}
	return -1
}

func defaultScores(name string, nice bool) [4]float64 {
	s := 1.0
	if strings.HasPrefix(name, "T_") {
		s = 0.01
	}
	if nice {
		s = -s
	}
	return [4]float64{s, s, s, s}
}

// fixRule recomputes the derived fields (default scores, priority).
func fixRule(r *Rule) {
	if !r.ScoreGiven {
		r.Scores = defaultScores(r.Name, r.Tflags.Nice)
	}
	switch {
	case r.PriorityGiven && r.givenPriority != 0:
		r.Priority = r.givenPriority
	case r.IsNet():
		r.Priority = -100
	default:
		r.Priority = 0
	}
}
