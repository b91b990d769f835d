package cf

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// parseString parses text as one file with the Debian plugin list.
func parseString(t *testing.T, text string, opt Options) (*Policy, []Diagnostic) {
	t.Helper()
	if opt.KnownPlugins == nil {
		opt.KnownPlugins = DebianDefaultPlugins
	}
	p := NewParser(opt)
	if err := p.Parse(context.Background(), strings.NewReader(text), "test.cf"); err != nil {
		t.Fatal(err)
	}
	return p.Policy(), p.Diagnostics()
}

func TestIfExpressions(t *testing.T) {
	tests := []struct {
		expr string
		want bool
		err  bool
	}{
		{"version >= 3.004000", true, false},
		{"(version >= 4.000002)", false, false},
		{"version == 4.000001", true, false},
		{"!(version < 4)", true, false},
		{"plugin(Mail::SpamAssassin::Plugin::Bayes)", true, false},
		{"plugin(Bayes)", true, false}, // short names are accepted too
		{"plugin(Mail::SpamAssassin::Plugin::DCC)", false, false},
		{"!plugin(Mail::SpamAssassin::Plugin::DCC) && plugin(Mail::SpamAssassin::Plugin::SPF)", true, false},
		{"plugin(Mail::SpamAssassin::Plugin::DCC) || version > 3", true, false},
		{"plugin(Mail::SpamAssassin::Plugin::Dmarc)", true, false},
		{"plugin(Mail::SpamAssassin::Plugin::WhiteListSubject)", true, false},
		{"can(Mail::SpamAssassin::Conf::feature_bug6558_free)", true, false},
		{"can(Mail::SpamAssassin::Conf::feature_does_not_exist)", false, false},
		{"can(Mail::SpamAssassin::Plugin::DecodeShortURLs::has_short_url_redir)", false, false},
		{"has(Mail::SpamAssassin::Plugin::SPF::has_check_for_spf_errors)", true, false},
		{"!(!plugin(Mail::SpamAssassin::Plugin::DKIM))", true, false},
		{"perl_version >= 5.010000", true, false},
		{"local_tests_only", false, false},
		{"1 + 2 * 3 == 7", true, false},
		{"2 ^ 3 == 1", true, false}, // Perl: == binds tighter than ^
		{"0 ? 1 : 0", false, false},
		{"(1", false, true},
		{"plugin()", false, true},
		{"version >=", false, true},
		{"1 / 0", false, true},
		{"foo bar", false, true},
		{"$x", false, true},
	}
	for _, tc := range tests {
		p := NewParser(Options{KnownPlugins: DebianDefaultPlugins})
		got, err := p.evalCond(tc.expr, "test.cf")
		if (err != nil) != tc.err {
			t.Errorf("if %s: err = %v, want error %v", tc.expr, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("if %s = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestElseUnderSkippedOuter(t *testing.T) {
	// SpamAssassin bug 7848: an else inside a skipped block stays skipped.
	pol, diags := parseString(t, `
ifplugin Mail::SpamAssassin::Plugin::DCC
  ifplugin Mail::SpamAssassin::Plugin::Bayes
    body A /a/
  else
    body B /b/
  endif
else
  body C /c/
endif
`, Options{})
	if n := CountErrors(diags); n != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	var got []string
	for _, r := range pol.Rules() {
		got = append(got, r.Name)
	}
	if !slices.Equal(got, []string{"C"}) {
		t.Errorf("rules = %v, want [C]", got)
	}
}

func TestLang(t *testing.T) {
	text := "body R /x/\nlang de describe R Deutsch\nlang pt_BR describe R Portugues\ndescribe R English\nlang de describe R Deutsch2\n"
	for _, tc := range []struct{ lang, want string }{
		{"", "English"},
		{"de_DE", "Deutsch2"},
		{"pt_BR", "English"}, // the English line comes after the pt_BR one
		{"PT_br.UTF-8", "English"},
	} {
		pol, _ := parseString(t, text, Options{Lang: tc.lang})
		if got := pol.Rule("R").Describe; got != tc.want {
			t.Errorf("Lang %q: describe = %q, want %q", tc.lang, got, tc.want)
		}
	}
	pol, _ := parseString(t, "body R /x/\nlang pt describe R Portugues\n", Options{Lang: "pt_BR"})
	if got := pol.Rule("R").Describe; got != "Portugues" {
		t.Errorf("lang pt under pt_BR: describe = %q, want Portugues", got)
	}
}

func TestParsePattern(t *testing.T) {
	tests := []struct {
		src, expr, flags, err string
	}{
		{src: "/foo/", expr: "foo"},
		{src: "/foo/is", expr: "foo", flags: "is"},
		{src: `/a\/b/`, expr: `a\/b`},
		{src: `/a\\/`, expr: `a\\`},
		{src: "m{a{1,3}}", expr: "a{1,3}"},
		{src: "m(a)x", expr: "a", flags: "x"},
		{src: "m<a>", expr: "a"},
		{src: "m[a]", expr: "a"},
		{src: "m!a/b!i", expr: "a/b", flags: "i"},
		{src: "qr/x/", expr: "x"},
		{src: "m,a,", expr: "a"},
		{src: "foo", err: "missing regexp delimiters"},
		{src: "mfoof", err: "missing regexp delimiters"},
		{src: `m\a\`, err: "backslash delimiter not allowed"},
		{src: "/a/b/", err: "unquoted delimiter"},
		{src: "/a", err: "invalid end delimiter"},
		{src: "/a/e", err: "invalid end delimiter"},
		{src: "/a/I", err: "invalid end delimiter"},
		{src: "/(??{x})/", err: "eval"},
	}
	for _, tc := range tests {
		p, err := ParsePattern(tc.src)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePattern(%q) err = %v, want %q", tc.src, err, tc.err)
			}
			continue
		}
		if err != nil || p.Expr != tc.expr || p.Flags != tc.flags || p.Source != tc.src {
			t.Errorf("ParsePattern(%q) = %+v, %v; want expr %q flags %q", tc.src, p, err, tc.expr, tc.flags)
		}
	}
}

func TestParseEval(t *testing.T) {
	tests := []struct {
		src  string
		fn   string
		args []string
		err  bool
	}{
		{src: "check_bayes('0.99', '1.00')", fn: "check_bayes", args: []string{"0.99", "1.00"}},
		{src: "check_no_relays()", fn: "check_no_relays", args: []string{}},
		{src: "check_rbl('zen-lastexternal', 'zen.spamhaus.org.', '^127\\.0\\.0\\.1[01]$')", fn: "check_rbl",
			args: []string{"zen-lastexternal", "zen.spamhaus.org.", `^127\.0\.0\.1[01]$`}},
		{src: `html_range("max_size", 6, inf)`, fn: "html_range", args: []string{"max_size", "6", "inf"}},
		{src: "f(127.0.0.2, ::1)", fn: "f", args: []string{"127.0.0.2", "::1"}},
		{src: "f('it's', 'x')", fn: "f", args: []string{"it's", "x"}},
		{src: "f('a',)", fn: "f", args: []string{"a"}},
		{src: "f(a_b)", err: true},
		{src: "f('a' 'b')", fn: "f", args: []string{"a' 'b"}}, // Perl's lazy match reaches the last quote
		{src: "f('a' b)", err: true},
		{src: "f(", err: true},
		{src: "(x)", err: true},
	}
	for _, tc := range tests {
		call, err := parseEval(tc.src)
		if (err != nil) != tc.err {
			t.Errorf("parseEval(%q) err = %v, want error %v", tc.src, err, tc.err)
			continue
		}
		if err == nil && (call.Func != tc.fn || !slices.Equal(call.Args, tc.args)) {
			t.Errorf("parseEval(%q) = %s %q, want %s %q", tc.src, call.Func, call.Args, tc.fn, tc.args)
		}
	}
}

func TestScores(t *testing.T) {
	tests := []struct {
		name string
		text string
		want [4]float64
		err  bool
	}{
		{"one value", "score R 2.5", [4]float64{2.5, 2.5, 2.5, 2.5}, false},
		{"four values", "score R 0 1.5 -2 3", [4]float64{0, 1.5, -2, 3}, false},
		{"relative all", "score R 1\nscore R (3)", [4]float64{4, 4, 4, 4}, false},
		{"relative some", "score R 1 2 3 4\nscore R (3) (0) (3) (0)", [4]float64{4, 2, 6, 4}, false},
		{"one paren makes all relative", "score R 1\nscore R (1) 1 1 1", [4]float64{2, 2, 2, 2}, false},
		{"relative without score", "score R (3)", [4]float64{1, 1, 1, 1}, true},
		{"later wins", "score R 5\nscore R 0", [4]float64{}, false},
		{"two values", "score R 1 2", [4]float64{1, 1, 1, 1}, true},
		{"plus sign", "score R +1", [4]float64{1, 1, 1, 1}, true},
		{"default", "", [4]float64{1, 1, 1, 1}, false},
		{"default nice", "tflags R nice", [4]float64{-1, -1, -1, -1}, false},
	}
	for _, tc := range tests {
		pol, diags := parseString(t, "body R /x/\n"+tc.text, Options{})
		if got := CountErrors(diags) > 0; got != tc.err {
			t.Errorf("%s: errors %v, want %v (%v)", tc.name, diags, tc.err, diags)
		}
		if got := pol.Rule("R").Scores; got != tc.want {
			t.Errorf("%s: scores = %v, want %v", tc.name, got, tc.want)
		}
	}
	pol, _ := parseString(t, "body T_R /x/", Options{})
	if got := pol.Rule("T_R").Scores[0]; got != 0.01 {
		t.Errorf("T_ rule default score = %v, want 0.01", got)
	}
}

func TestTflags(t *testing.T) {
	pol, _ := parseString(t, "body R /x/\ntflags R net nice userconf learn noautolearn autolearn_force autolearn_header autolearn_body noawl multiple maxhits=7 nosubject nolog ips_only domains_only ns a notrim publish extra\n", Options{})
	got := pol.Rule("R").Tflags
	want := Tflags{Net: true, Nice: true, Userconf: true, Learn: true, NoAutolearn: true, AutolearnForce: true,
		AutolearnHeader: true, AutolearnBody: true, NoAWL: true, Multiple: true, MaxHits: 7, NoSubject: true,
		NoLog: true, IPsOnly: true, DomainsOnly: true, NS: true, A: true, NoTrim: true, Publish: true,
		Other: []string{"extra"}, Raw: got.Raw}
	if !tflagsEqual(got, want) {
		t.Errorf("tflags = %+v\nwant %+v", got, want)
	}
	// A later tflags line replaces the earlier one.
	pol, _ = parseString(t, "body R /x/\ntflags R multiple\ntflags R nice\n", Options{})
	if tf := pol.Rule("R").Tflags; tf.Multiple || !tf.Nice {
		t.Errorf("tflags after replacement = %+v, want only nice", tf)
	}
}

func tflagsEqual(a, b Tflags) bool {
	return slices.Equal(a.Other, b.Other) && fmt.Sprintf("%+v", withoutOther(a)) == fmt.Sprintf("%+v", withoutOther(b))
}

func withoutOther(t Tflags) Tflags {
	t.Other = nil
	return t
}

func TestHeaderRuleForms(t *testing.T) {
	tests := []struct {
		line string
		want HeaderTest
		expr string
	}{
		{"header R From =~ /x/", HeaderTest{Name: "From"}, "x"},
		{"header R From:addr =~ /x/i", HeaderTest{Name: "From", Modifiers: []string{"addr"}}, "x"},
		{"header R From:name:first =~ /x/", HeaderTest{Name: "From", Modifiers: []string{"name", "first"}}, "x"},
		{"header R Subject:raw!~/x/", HeaderTest{Name: "Subject", Modifiers: []string{"raw"}, Negate: true}, "x"},
		{"header R X-Foo: =~ /x/", HeaderTest{Name: "X-Foo"}, "x"},
		{"header R ALL =~ /x/m", HeaderTest{Name: "ALL"}, "x"},
		{"header R ALL:raw =~ /x/", HeaderTest{Name: "ALL", Modifiers: []string{"raw"}}, "x"},
		{"header R ToCc =~ /x/", HeaderTest{Name: "ToCc"}, "x"},
		{"header R X-Spam-Relays-Untrusted =~ /helo=x/", HeaderTest{Name: "X-Spam-Relays-Untrusted"}, "helo=x"},
		{"header R Reply-To =~ /^$/ [if-unset: none@example.com]", HeaderTest{Name: "Reply-To", IfUnset: "none@example.com", HasIfUnset: true}, "^$"},
		{"header R exists:List-Id", HeaderTest{Name: "List-Id", Exists: true}, ""},
	}
	for _, tc := range tests {
		pol, diags := parseString(t, tc.line, Options{})
		r := pol.Rule("R")
		if r == nil || CountErrors(diags) > 0 {
			t.Errorf("%s: not defined: %v", tc.line, diags)
			continue
		}
		if r.Header.Name != tc.want.Name || !slices.Equal(r.Header.Modifiers, tc.want.Modifiers) ||
			r.Header.Negate != tc.want.Negate || r.Header.Exists != tc.want.Exists ||
			r.Header.IfUnset != tc.want.IfUnset || r.Header.HasIfUnset != tc.want.HasIfUnset ||
			r.Pattern.Expr != tc.expr {
			t.Errorf("%s: header %+v expr %q, want %+v expr %q", tc.line, r.Header, r.Pattern.Expr, tc.want, tc.expr)
		}
	}
}

func TestCommentsAndWhitespace(t *testing.T) {
	pol, diags := parseString(t, "  BODY\tR  /a\\#b/i   # comment\n# whole line\n\n\tDescribe R text \\# kept # dropped\nscore R 2 \\\nscore R 3\n", Options{})
	if len(diags) != 1 || diags[0].Pos.Line != 5 {
		t.Fatalf("diagnostics = %v, want one error for line 5", diags)
	}
	r := pol.Rule("R")
	if r.Pattern.Expr != "a#b" || r.Pattern.Flags != "i" {
		t.Errorf("pattern = %+v, want a#b with i", r.Pattern)
	}
	if r.Describe != "text # kept" {
		t.Errorf("describe = %q", r.Describe)
	}
	// "score R 2 \" is a 3-word value with a stray backslash: an error,
	// not a continuation; the next line applies on its own.
	if r.Scores[0] != 3 {
		t.Errorf("score = %v, want 3", r.Scores)
	}
}

func TestAddrListAliases(t *testing.T) {
	for _, tc := range []struct{ old, list string }{
		{"whitelist_from", ListWelcomelistFrom},
		{"blacklist_from", ListBlocklistFrom},
		{"whitelist_to", ListWelcomelistTo},
		{"blacklist_to", ListBlocklistTo},
		{"whitelist_auth", ListWelcomelistAuth},
		{"def_whitelist_auth", ListDefWelcomelistAuth},
		{"whitelist_from_spf", ListWelcomelistFromSPF},
		{"def_whitelist_from_spf", ListDefWelcomelistFromSPF},
		{"whitelist_allows_relays", ListWelcomelistAllowsRelay},
		{"Whitelist-From", ListWelcomelistFrom},
	} {
		pol, _ := parseString(t, tc.old+" A@Example.com\n", Options{})
		if got := pol.AddrList(tc.list); len(got) != 1 || got[0].Addr != "a@example.com" {
			t.Errorf("%s: list %s = %v, want [a@example.com]", tc.old, tc.list, got)
		}
	}
	pol, _ := parseString(t, "welcomelist_from a@x b@x\nunwhitelist_from a@x\nwhitelist_from_rcvd c@x relay.x\nunwelcomelist_from_rcvd c@x\n", Options{})
	if got := pol.AddrList(ListWelcomelistFrom); len(got) != 1 || got[0].Addr != "b@x" {
		t.Errorf("welcomelist_from after unwhitelist_from = %v, want [b@x]", got)
	}
	if got := pol.AddrList(ListWelcomelistFromRcvd); len(got) != 0 {
		t.Errorf("welcomelist_from_rcvd after unwelcomelist_from_rcvd = %v, want empty", got)
	}
}

// dns_available takes what SpamAssassin's Conf accepts: yes/1, no/0,
// test with or without names; anything else is an error that leaves the
// default (yes).
func TestDNSAvailable(t *testing.T) {
	for _, tc := range []struct {
		value, want string
		invalid     bool
	}{
		{"yes", "yes", false},
		{"1", "yes", false},
		{"no", "no", false},
		{"0", "no", false},
		{"test", "test", false},
		{"test: example.com example.net", "test: example.com example.net", false},
		{"test:example.com", "test:example.com", false},
		{"test:", "yes", true},
		{"YES", "yes", true},
		{"No", "yes", true},
		{"2", "yes", true},
		{"testing", "yes", true},
	} {
		pol, diags := parseString(t, "dns_available "+tc.value, Options{})
		if got := pol.Settings().DNSAvailable; got != tc.want {
			t.Errorf("dns_available %q: %q, want %q", tc.value, got, tc.want)
		}
		if invalid := len(diags) > 0; invalid != tc.invalid {
			t.Errorf("dns_available %q: diagnostics %v, want invalid %v", tc.value, diags, tc.invalid)
		}
	}
}

func TestSpamSensitivity(t *testing.T) {
	for _, tc := range []struct {
		text string
		want float64
		lvl  string
	}{
		{"spam_sensitivity veryhigh", 2, "veryhigh"},
		{"spam_sensitivity high", 3, "high"},
		{"spam_sensitivity medium", 5, "medium"},
		{"spam_sensitivity low", 7, "low"},
		{"spam_sensitivity VeryLow", 9, "verylow"},
		{"required_score 6\nspam_sensitivity custom", 6, "custom"},
		{"spam_sensitivity low\nrequired_score 4", 4, "custom"},
	} {
		pol, _ := parseString(t, tc.text, Options{})
		if s := pol.Settings(); s.RequiredScore != tc.want || s.SpamSensitivity != tc.lvl {
			t.Errorf("%q: required %v (%s), want %v (%s)", tc.text, s.RequiredScore, s.SpamSensitivity, tc.want, tc.lvl)
		}
	}
}

func TestHeaderFieldsDefaults(t *testing.T) {
	pol, _ := parseString(t, `
add_header spam Flag _YESNOCAPS_
add_header all Status _YESNO_, score=_SCORE_
add_header all Level _STARS(*)_
add_header all Checker-Version SpamAssassin _VERSION_
report_safe 0
add_header all Status "new\tstatus\\x\q"
`, Options{})
	var got []string
	for _, f := range HeaderFields(pol.Settings().HeaderOps, true) {
		got = append(got, f.Name+"="+f.Value)
	}
	want := []string{"Flag=_YESNOCAPS_", "Level=_STARS(*)_", "Checker-Version=SpamAssassin _VERSION_", "Report=_REPORT_", "Status=new\tstatus\\x"}
	if !slices.Equal(got, want) {
		t.Errorf("spam headers = %q\nwant %q", got, want)
	}
	pol, _ = parseString(t, "add_header all Checker-Version v\nadd_header all Level l\nclear_headers\nremove_header all Checker-Version\n", Options{})
	if got := HeaderFields(pol.Settings().HeaderOps, false); len(got) != 1 || got[0].Name != "Checker-Version" {
		t.Errorf("after clear_headers = %v, want Checker-Version only", got)
	}
}

func TestPolicyIsImmutable(t *testing.T) {
	p := NewParser(Options{})
	ctx := context.Background()
	if err := p.Parse(ctx, strings.NewReader("body R /x/\nscore R 2\nwelcomelist_from a@x\nbayes_ignore_header X-A\n"), "a.cf"); err != nil {
		t.Fatal(err)
	}
	first := p.Policy()
	if err := p.Parse(ctx, strings.NewReader("score R 9\nbody R /y/\nbody S /z/\nwelcomelist_from b@x\nbayes_ignore_header X-B\nrequired_score 1\n"), "b.cf"); err != nil {
		t.Fatal(err)
	}
	second := p.Policy()
	if r := first.Rule("R"); r.Scores[0] != 2 || r.Pattern.Expr != "x" || first.Rule("S") != nil || len(first.Rules()) != 1 {
		t.Errorf("first policy changed: %+v, %d rules", r, len(first.Rules()))
	}
	if len(first.AddrList(ListWelcomelistFrom)) != 1 || len(first.Settings().BayesIgnoreHeaders) != 1 || first.Settings().RequiredScore != 5 {
		t.Errorf("first policy settings changed: %+v", first.Settings())
	}
	if r := second.Rule("R"); r.Scores[0] != 9 || r.Pattern.Expr != "y" || len(second.Rules()) != 2 {
		t.Errorf("second policy: %+v", r)
	}
}

func TestRulesMatching(t *testing.T) {
	pol, diags := parseString(t, "body __FOO_1 /a/\nbody __FOO_2 /b/\nbody __FOOBAR /c/\nbody __BAR_1 /d/\nmeta M rules_matching(__FOO_?) >= 2 || rules_matching(*BAR*)\n", Options{})
	if CountErrors(diags) != 0 {
		t.Fatal(diags)
	}
	want := []string{"__FOO_1", "__FOO_2", "__BAR_1", "__FOOBAR"}
	if got := pol.Rule("M").MetaDeps; !slices.Equal(got, want) {
		t.Errorf("deps = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		glob, s string
		want    bool
	}{
		{"*", "", true}, {"a*b", "ab", true}, {"a*b", "axxb", true}, {"a*b", "axxc", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*a*a*a*a*b", strings.Repeat("a", 100), false},
	} {
		if got := globMatch(tc.glob, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.glob, tc.s, got)
		}
	}
}
