package cf

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadSiteLayers checks the order defaults → rules_dir → site, with
// an SME-style local.cf/ fragment directory.
func TestLoadSiteLayers(t *testing.T) {
	root := t.TempDir()
	rulesDir := filepath.Join(root, "sa-rules")
	siteDir := filepath.Join(root, "site")
	writeFiles(t, rulesDir, map[string]string{
		"init.pre":          "loadplugin Mail::SpamAssassin::Plugin::MIMEHeader\nenable_compat welcomelist_blocklist\n",
		"20_adult.cf":       "body SARE_ADULT2 /adult/\nscore SARE_ADULT2 3.0\nbody RULES_DIR_ONLY /r/\nbody OVERRIDDEN /rules/\n",
		"50_scores.cf":      "score RULES_DIR_ONLY 1.5\nscore OVERRIDDEN 2\nif can(Mail::SpamAssassin::Conf::compat_welcomelist_blocklist)\nbody COMPAT_SEEN /c/\nendif\n",
		"README":            "not a cf file\n",
		"disabled.cf.bak":   "body NEVER /x/\n",
		"sub.cf/ignored.cf": "body NEVER2 /x/\n",
	})
	writeFiles(t, siteDir, map[string]string{
		"gospamd.cf":                 "rules_dir " + rulesDir + "\nrequired_score 6\nscore OVERRIDDEN 4\n",
		"local.cf/10rewrite":         "rewrite_header Subject [SPAM]\nrequired_score 4\n",
		"local.cf/20localscores":     "score SARE_ADULT2 20.000\n",
		"local.cf/.hidden":           "score SARE_ADULT2 99\n",
		"local.cf/20localscores~":    "score SARE_ADULT2 98\n",
		"zz_last.cf":                 "score OVERRIDDEN 5\n",
		"notes.txt":                  "score OVERRIDDEN 77\n",
		"local.cf.d-ignored/x.cf":    "score OVERRIDDEN 66\n",
		"site.pre":                   "loadplugin Mail::SpamAssassin::Plugin::Bayes\n",
		"zz_ifplugin.cf":             "ifplugin Mail::SpamAssassin::Plugin::MIMEHeader\nmimeheader SITE_MIME Content-Type =~ /pdf/\nendif\n",
		"zz_defaults_override.cf":    "score DEFAULT_RULE 0.5\n",
		"zz_welcome.cf":              "whitelist_from boss@example.com\n",
		"zz_welcome_later.cf":        "unwelcomelist_from nobody@example.com\n",
		"local.cf/30user_rules_pref": "allow_user_rules 0\n",
	})
	defaults := fstest.MapFS{
		"00_defaults.cf":  {Data: []byte("body DEFAULT_RULE /d/\nscore DEFAULT_RULE 2\nbody OVERRIDDEN /defaults/\nscore OVERRIDDEN 1\nrequired_score 5\n")},
		"00_defaults.pre": {Data: []byte("loadplugin Mail::SpamAssassin::Plugin::Check\n")},
		"notes.md":        {Data: []byte("score DEFAULT_RULE 99\n")},
	}
	pol, diags, err := LoadSite(context.Background(), siteDir, SiteOptions{
		Options:  Options{KnownPlugins: DebianDefaultPlugins},
		Defaults: defaults,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := CountErrors(diags); n != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	score := func(name string) float64 {
		r := pol.Rule(name)
		if r == nil {
			t.Fatalf("%s missing", name)
		}
		return r.Scores[3]
	}
	for _, tc := range []struct {
		rule string
		want float64
	}{
		{"SARE_ADULT2", 20},     // site fragment overrides the rules dir
		{"RULES_DIR_ONLY", 1.5}, // rules dir read
		{"OVERRIDDEN", 5},       // defaults 1 → rules dir 2 → gospamd.cf 4 → zz_last.cf 5
		{"DEFAULT_RULE", 0.5},   // site overrides embedded defaults
	} {
		if got := score(tc.rule); got != tc.want {
			t.Errorf("score %s = %v, want %v", tc.rule, got, tc.want)
		}
	}
	// The rules dir's redefinition of OVERRIDDEN replaces the default's.
	if r := pol.Rule("OVERRIDDEN"); r.Pattern.Expr != "rules" {
		t.Errorf("OVERRIDDEN pattern = %q, want the rules dir's", r.Pattern.Expr)
	}
	for _, name := range []string{"NEVER", "NEVER2"} {
		if pol.Rule(name) != nil {
			t.Errorf("%s read from a non-.cf file", name)
		}
	}
	for _, name := range []string{"COMPAT_SEEN", "SITE_MIME"} {
		if r := pol.Rule(name); r == nil || !r.Defined() {
			t.Errorf("%s not defined (.pre files must come first)", name)
		}
	}
	s := pol.Settings()
	// gospamd.cf (6) < local.cf (4): "local.cf" sorts after "gospamd.cf".
	if s.RequiredScore != 4 || s.RewriteSubject != "[SPAM]" {
		t.Errorf("required_score %v rewrite %q, want 4 and [SPAM]", s.RequiredScore, s.RewriteSubject)
	}
	if got := pol.AddrList(ListWelcomelistFrom); len(got) != 1 || got[0].Addr != "boss@example.com" {
		t.Errorf("welcomelist_from = %v", got)
	}
	wantPlugins := []string{PluginPrefix + "Check", PluginPrefix + "Bayes", PluginPrefix + "MIMEHeader"}
	if got := pol.LoadedPlugins(); !slices.Equal(got, wantPlugins) {
		t.Errorf("loaded plugins = %v, want %v", got, wantPlugins)
	}
	var order []string
	for _, f := range pol.Files() {
		order = append(order, strings.TrimPrefix(f, root+"/"))
	}
	wantOrder := []string{
		"00_defaults.pre", "site/site.pre", "sa-rules/init.pre", "00_defaults.cf",
		"sa-rules/20_adult.cf", "sa-rules/50_scores.cf",
		"site/gospamd.cf", "site/local.cf/10rewrite", "site/local.cf/20localscores", "site/local.cf/30user_rules_pref",
		"site/zz_defaults_override.cf", "site/zz_ifplugin.cf", "site/zz_last.cf", "site/zz_welcome.cf", "site/zz_welcome_later.cf",
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("files read:\n%q\nwant\n%q", order, wantOrder)
	}
}

func TestLoadSiteMissing(t *testing.T) {
	if _, _, err := LoadSite(context.Background(), filepath.Join(t.TempDir(), "nope"), SiteOptions{}); err == nil {
		t.Error("LoadSite of a missing site directory: no error")
	}
	site := t.TempDir()
	writeFiles(t, site, map[string]string{"local.cf": "rules_dir /nonexistent/rules\n"})
	_, diags, err := LoadSite(context.Background(), site, SiteOptions{})
	if err != nil || CountErrors(diags) != 1 {
		t.Errorf("missing rules_dir: err %v diags %v, want one diagnostic", err, diags)
	}
}

const sitePrefsCf = `
body SITE_RULE /site/
score SITE_RULE 2
describe SITE_RULE Site rule
body DEFAULT_SCORED /d/
required_score 5
welcomelist_from site@example.com
bayes_ignore_header X-Site
add_header all Status _YESNO_
`

func TestWithUserPrefs(t *testing.T) {
	for _, allow := range []bool{false, true} {
		site := sitePrefsCf
		if allow {
			site += "allow_user_rules 1\n"
		}
		base, _ := parseString(t, site, Options{})
		user := `
required_score 8
score SITE_RULE (1.5)
score DEFAULT_SCORED (2)
describe SITE_RULE Mine
welcomelist_from friend@example.com
blacklist_from foe@example.com
bayes_ignore_header X-User
rewrite_header Subject [spam]
body USER_RULE /user/
header USER_HDR Subject =~ /u/
meta USER_META USER_RULE
tflags SITE_RULE nice
priority SITE_RULE 5
allow_user_rules 1
loadplugin Mail::SpamAssassin::Plugin::Foo
bayes_path /tmp/stolen
reject_score 1
max_message_size 1
rules_dir /tmp
include /etc/passwd
if can(Mail::SpamAssassin::Conf::feature_bug6558_free)
score SITE_RULE 100
endif
`
		got, diags, err := base.WithUserPrefs(strings.NewReader(user), "alice/user_prefs")
		if err != nil {
			t.Fatal(err)
		}
		if n := CountErrors(diags); n != 0 {
			t.Errorf("allow=%v: errors %v", allow, diags)
		}
		refused := map[string]bool{}
		for _, d := range diags {
			if d.Severity == SeverityInfo {
				refused[strings.Fields(strings.TrimPrefix(d.Msg, "not parsing, "))[0]] = true
			}
		}
		s := got.Settings()
		if s.RequiredScore != 8 || s.RewriteSubject != "[spam]" || s.BayesPath != DefaultSettings().BayesPath ||
			s.RejectScore != 0 || s.MaxMessageSize != 512000 || s.RulesDir != "" {
			t.Errorf("allow=%v: user settings %+v", allow, s)
		}
		if r := got.Rule("SITE_RULE"); r.Scores[0] != 3.5 || r.Describe != "Mine" {
			t.Errorf("allow=%v: SITE_RULE = %v %q, want 3.5 and Mine (and no if-can score)", allow, r.Scores, r.Describe)
		}
		if r := got.Rule("DEFAULT_SCORED"); r.Scores[0] != 3 {
			t.Errorf("allow=%v: relative score on a default-scored site rule = %v, want 3", allow, r.Scores)
		}
		if got := got.AddrList(ListWelcomelistFrom); len(got) != 2 {
			t.Errorf("allow=%v: welcomelist = %v", allow, got)
		}
		if got := got.AddrList(ListBlocklistFrom); len(got) != 1 {
			t.Errorf("allow=%v: blocklist = %v", allow, got)
		}
		for _, name := range []string{"USER_RULE", "USER_HDR", "USER_META"} {
			r := got.Rule(name)
			if defined := r != nil && r.Defined(); defined != allow {
				t.Errorf("allow_user_rules %v: %s defined = %v", allow, name, defined)
			} else if defined && !r.User {
				t.Errorf("%s not marked as a user rule", name)
			}
		}
		if tf := got.Rule("SITE_RULE").Tflags; tf.Nice != allow {
			t.Errorf("allow_user_rules %v: tflags applied = %v", allow, tf.Nice)
		}
		admin := 0
		for _, d := range diags {
			if strings.Contains(d.Msg, "administrator setting") {
				admin++
			}
		}
		if admin != 5 { // loadplugin bayes_path reject_score max_message_size rules_dir
			t.Errorf("%d administrator refusals, want 5: %v", admin, diags)
		}
		if !allow && !refused["allow_user_rules"] {
			t.Errorf("no allow_user_rules refusal logged: %v", diags)
		}
		if !refused["include"] {
			t.Errorf("include not refused: %v", diags)
		}

		// The site policy is untouched.
		bs := base.Settings()
		if bs.RequiredScore != 5 || bs.RewriteSubject != "" || len(bs.BayesIgnoreHeaders) != 1 {
			t.Errorf("site settings changed: %+v", bs)
		}
		if r := base.Rule("SITE_RULE"); r.Scores[0] != 2 || r.Describe != "Site rule" || r.Tflags.Nice {
			t.Errorf("site rule changed: %+v", r)
		}
		if base.Rule("USER_RULE") != nil || len(base.AddrList(ListWelcomelistFrom)) != 1 || len(base.AddrList(ListBlocklistFrom)) != 0 {
			t.Errorf("site lists or rules changed")
		}
		if len(HeaderFields(base.Settings().HeaderOps, true)) != 1 {
			t.Errorf("site header ops changed")
		}
	}
}

func BenchmarkWithUserPrefs(b *testing.B) {
	pol, _ := stockPolicy(b)
	prefs := "required_score 6\nscore BAYES_99 4\nwelcomelist_from a@example.com\n"
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := pol.WithUserPrefs(strings.NewReader(prefs), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStockRules(b *testing.B) {
	for b.Loop() {
		stockPolicy(b)
	}
}

// time_limit is SpamAssassin's duration (seconds unless a unit is
// given, 0 unlimited, never negative). User prefs may shorten the
// site's limit but not lengthen it or lift it.
func TestTimeLimit(t *testing.T) {
	tests := []struct {
		name, site, user string
		want             time.Duration
		refused          bool // an Info diagnostic for the user's line
		siteErr          bool
	}{
		{name: "default", want: 300 * time.Second},
		{name: "site seconds", site: "time_limit 2", want: 2 * time.Second},
		{name: "site fraction", site: "time_limit 0.5", want: 500 * time.Millisecond},
		{name: "site minutes", site: "time_limit 1m", want: time.Minute},
		{name: "site unlimited", site: "time_limit 0", want: 0},
		{name: "site negative", site: "time_limit -1", want: 300 * time.Second, siteErr: true},
		{name: "user shortens", site: "time_limit 60", user: "time_limit 10", want: 10 * time.Second},
		{name: "user lengthens", site: "time_limit 60", user: "time_limit 600", want: time.Minute, refused: true},
		{name: "user lifts the limit", site: "time_limit 60", user: "time_limit 0", want: time.Minute, refused: true},
		{name: "user under an unlimited site", site: "time_limit 0", user: "time_limit 900", want: 900 * time.Second},
		{name: "user shortens, then asks for the site's", site: "time_limit 60", user: "time_limit 10\ntime_limit 60", want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewParser(Options{})
			if err := p.Parse(context.Background(), strings.NewReader(tt.site+"\n"), "site.cf"); err != nil {
				t.Fatal(err)
			}
			if n := CountErrors(p.Diagnostics()); (n > 0) != tt.siteErr {
				t.Fatalf("site diagnostics %v, want an error: %v", p.Diagnostics(), tt.siteErr)
			}
			pol := p.Policy()
			if tt.user != "" {
				var diags []Diagnostic
				var err error
				pol, diags, err = pol.WithUserPrefs(strings.NewReader(tt.user+"\n"), "alice")
				if err != nil {
					t.Fatal(err)
				}
				refused := len(diags) > 0 && diags[0].Severity == SeverityInfo && strings.Contains(diags[0].Msg, "time_limit")
				if refused != tt.refused || len(diags) > 1 {
					t.Errorf("user diagnostics %v, want a refusal: %v", diags, tt.refused)
				}
			}
			if got := pol.Settings().TimeLimit; got != tt.want {
				t.Errorf("TimeLimit = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUseBuiltinRules: "use_builtin_rules 0" in the site directory leaves
// the built-in rules out, so that a site on rules_dir scans with those
// rules alone; anywhere else (rules_dir, user prefs) it changes nothing.
func TestUseBuiltinRules(t *testing.T) {
	defaults := fstest.MapFS{
		"00_defaults.pre": {Data: []byte("loadplugin Mail::SpamAssassin::Plugin::Check\n")},
		"10_defaults.cf":  {Data: []byte("body BUILTIN_RULE /b/\nscore BUILTIN_RULE 2\nrequired_score 7\n")},
	}
	tests := []struct {
		name      string
		site      string // zz.cf of the site directory; "rules_dir X" is added
		rulesDir  string // 50_rules.cf of the rules directory
		builtin   bool   // BUILTIN_RULE defined
		required  float64
		warning   bool
		layersOff string
	}{
		{name: "default: built-in rules under rules_dir", site: "", builtin: true, required: 7},
		{name: "on, said so", site: "use_builtin_rules 1\n", builtin: true, required: 7},
		{name: "off: rules_dir alone", site: "use_builtin_rules 0\n", builtin: false, required: 5, layersOff: "use_builtin_rules 0"},
		{name: "off, as no", site: "use_builtin_rules no\n", builtin: false, required: 5, layersOff: "use_builtin_rules 0"},
		{name: "off in rules_dir: ignored", rulesDir: "use_builtin_rules 0\n", builtin: true, required: 7, warning: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			rulesDir, siteDir := filepath.Join(root, "rules"), filepath.Join(root, "site")
			writeFiles(t, rulesDir, map[string]string{"20_rules.cf": "body SA_RULE /s/\nscore SA_RULE 1\n", "50_rules.cf": tc.rulesDir})
			writeFiles(t, siteDir, map[string]string{"zz.cf": "rules_dir " + rulesDir + "\n" + tc.site})
			pol, diags, err := LoadSite(context.Background(), siteDir, SiteOptions{Defaults: defaults})
			if err != nil {
				t.Fatal(err)
			}
			if got := pol.Rule("BUILTIN_RULE") != nil && pol.Rule("BUILTIN_RULE").Defined(); got != tc.builtin {
				t.Errorf("built-in rule defined: %v, want %v", got, tc.builtin)
			}
			if r := pol.Rule("SA_RULE"); r == nil || !r.Defined() {
				t.Error("rules_dir rule missing")
			}
			if got := pol.Settings().RequiredScore; got != tc.required {
				t.Errorf("required_score %v, want %v", got, tc.required)
			}
			if got := pol.Settings().UseBuiltinRules; got != tc.builtin {
				t.Errorf("UseBuiltinRules %v, want %v", got, tc.builtin)
			}
			warned := slices.ContainsFunc(diags, func(d Diagnostic) bool {
				return d.Severity == SeverityWarning && strings.Contains(d.Msg, "use_builtin_rules")
			})
			if warned != tc.warning {
				t.Errorf("warning about use_builtin_rules: %v, want %v (%v)", warned, tc.warning, diags)
			}
			layers := pol.Layers()
			if len(layers) != 3 || layers[0].Name != LayerBuiltin || layers[1].Name != LayerRulesDir || layers[2].Name != LayerSite {
				t.Fatalf("layers %+v", layers)
			}
			if layers[0].Off != tc.layersOff || len(layers[0].Files) != 2 || layers[1].Dir != rulesDir || len(layers[2].Files) != 1 {
				t.Errorf("layers %+v", layers)
			}
		})
	}
}

// TestUseBuiltinRulesUserPrefs: a user cannot turn the built-in rules
// off (or on) for their mail: the line is an administrator setting.
func TestUseBuiltinRulesUserPrefs(t *testing.T) {
	pol, _, err := LoadSite(context.Background(), "", SiteOptions{Defaults: fstest.MapFS{"10.cf": {Data: []byte("body B /b/\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	up, diags, err := pol.WithUserPrefs(strings.NewReader("use_builtin_rules 0\n"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !up.Settings().UseBuiltinRules || len(diags) != 1 || !strings.Contains(diags[0].Msg, "administrator setting") {
		t.Errorf("user prefs turned built-in rules off: %v %v", up.Settings().UseBuiltinRules, diags)
	}
}
