package rules

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// A site policy's own rules run: header, body, rawbody, uri, full and
// meta rules, exists: tests, negation, if-unset, score overrides in the
// site's local.cf/ fragments, tflags multiple.
func TestPolicyRules(t *testing.T) {
	site := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(site, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("10rules.cf", `
header   SUBJ_FREE     Subject =~ /\bfree\b/i
describe SUBJ_FREE     Subject talks about free things
score    SUBJ_FREE     1.5
header   __HAS_DATE    exists:Date
meta     NO_DATE       !__HAS_DATE
header   __HAS_LIST    exists:List-Id
header   FROM_EXAMPLE  From:addr =~ /\@example\.com$/
header   SUBJ_REPORT   Subject !~ /report/ [if-unset: report]
score    FROM_EXAMPLE  0.3
body     MONEY         /\bmillions? of dollars\b/i
score    MONEY         2.0
rawbody  HTML_FONT     /<font\b/i
score    HTML_FONT     1.0
uri      URI_IP        m{^https?://\d+\.\d+\.\d+\.\d+}
score    URI_IP        1.1
full     FULL_BOUNDARY /boundary=/
score    FULL_BOUNDARY 0.01
body     __EXCLAIM     /!/
tflags   __EXCLAIM     multiple maxhits=5
meta     MANY_EXCLAIM  __EXCLAIM >= 3
score    MANY_EXCLAIM  0.7
meta     MONEY_NOT_LIST MONEY && !__HAS_LIST
score    MONEY_NOT_LIST 1.0
body     ZERO_SCORED   /millions/
score    ZERO_SCORED   0
`)
	write("local.cf/20localscores", "score SUBJ_FREE 20.000\nscore HTML_FONT (0.5)\n")
	pol, diags, err := loadPolicy(context.Background(), site, nil) // the site alone
	if err != nil {
		t.Fatalf("%v %v", err, diags)
	}
	opt, _ := OptionsFromPolicy(pol, "test")
	eng, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		msg  string
		want []string
	}{
		{"spammy", "From: Bob <bob@example.com>\nSubject: FREE money\nContent-Type: text/html\n\n<font size=7>Millions of dollars!!! see http://10.1.2.3/x !!</font>\n",
			[]string{"FROM_EXAMPLE", "HTML_FONT", "MANY_EXCLAIM", "MONEY", "MONEY_NOT_LIST", "NO_DATE", "SUBJ_FREE", "SUBJ_REPORT", "URI_IP"}},
		{"list mail", "From: a@lists.example.org\nList-Id: <x.example.org>\nDate: Mon, 8 Jul 2002 12:00:00 +0000\nSubject: report\n\nmillions of dollars were raised.\n",
			[]string{"MONEY"}},
	}
	for _, tt := range tests {
		res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tt.msg)), CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rules(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: hits %v, want %v", tt.name, got, tt.want)
		}
	}
	res, _ := eng.Check(context.Background(), tokenizer.Parse([]byte(tests[0].msg)), CheckOptions{})
	// 20 (local.cf override) + 0.3 + 1.5 (1.0 + relative 0.5) + 0.7 + 2 + 1 + 1 (NO_DATE, default
	// score) + 1 (SUBJ_REPORT, default) + 1.1
	if res.Score != 28.6 {
		t.Errorf("score %v, want 28.6 (hits %+v)", res.Score, res.Hits)
	}
	for _, h := range res.Hits {
		if h.Rule == "SUBJ_FREE" && !strings.Contains(h.Description, "free things") {
			t.Errorf("description %q", h.Description)
		}
	}
}

func TestMetaExpressions(t *testing.T) {
	names := []string{"A", "B", "C"}
	vals := []float64{1, 0, 3}
	index := func(n string) (int, bool) {
		i := slices.Index(names, n)
		return i, i >= 0
	}
	get := func(i int) float64 { return vals[i] }
	tests := []struct {
		expr string
		want float64
	}{
		{"A && B", 0}, {"A || B", 1}, {"!B", 1}, {"A && !B", 1}, {"(A + B + C) > 2", 1},
		{"C >= 3 && A", 1}, {"A + B * 2", 1}, {"C / 3 == 1", 1}, {"A ? C : B", 3}, {"-A + 1", 0},
		// Chains of + (one metaSum) next to the operators they bind with.
		{"A + C - A + C", 6}, {"A - C + A - C", -4}, {"(A + C) + (C + A) * 2", 12}, {"A + B + C == 4", 1},
		{"A + !B + C * 2 + -A", 7}, {"0.1 + 0.2 + 0.3 == 0.6", 0}, {"0.1 + (0.2 + 0.3) == 0.6", 1},
	}
	for _, tt := range tests {
		e, err := parseMeta(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		resolveMeta(e, index)
		if got := e.evalAt(get); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
	deep := func(open, inner, close string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	for _, bad := range []string{"A &&", "(A", "A $ B", "",
		deep("(", "A", ")", cf.MaxNesting+1), deep("(", "A", ")", 600_000),
		strings.Repeat("! ", cf.MaxNesting+1) + "A", strings.Repeat("A ? ", cf.MaxNesting+1) + "A" + strings.Repeat(" : B", cf.MaxNesting+1)} {
		if _, err := parseMeta(bad); err == nil {
			t.Errorf("parseMeta(%.40q) accepted a broken expression", bad)
		}
	}
	if _, err := parseMeta(deep("(", "A", ")", cf.MaxNesting-1)); err != nil {
		t.Errorf("parseMeta at the nesting limit: %v", err)
	}
}

// Pseudo-headers are spelt exactly, as in SpamAssassin: MESSAGEID is the
// Message-Id family, but "MessageID" is a header of that name (which
// stock rules use to spot a malformed header).
func TestPseudoHeaderSpelling(t *testing.T) {
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(`
header HAS_MESSAGEID_FAMILY exists:MESSAGEID
header HAS_MESSAGEID_LITERAL exists:MessageID
header TOCC_EXAMPLE ToCc =~ /example\.org/
`), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, diags, err := loadPolicy(context.Background(), site, nil)
	if err != nil {
		t.Fatal(err, diags)
	}
	opt, _ := OptionsFromPolicy(pol, "")
	eng, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Check(context.Background(), tokenizer.Parse([]byte("Message-Id: <1@x>\nCc: b@example.org\n\nhi\n")), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rules(), []string{"HAS_MESSAGEID_FAMILY", "TOCC_EXAMPLE"}; !slices.Equal(got, want) {
		t.Errorf("hits %v, want %v", got, want)
	}
}

// An absent header is matched as the empty string (or its [if-unset]
// text), as SpamAssassin matches it: a rule for "blank Subject" hits a
// message with no Subject at all unless the rule says otherwise.
func TestAbsentHeaderMatchesEmpty(t *testing.T) {
	eng, _ := siteEngine(t, `
header SUBJ_BLANK       Subject =~ /^$/
header SUBJ_NO_WORD     Subject !~ /\w/
header SUBJ_BLANK_GUARD Subject =~ /^$/ [if-unset: absent]
header SUBJ_HAS_WORD    Subject =~ /\w/
`)
	for _, tt := range []struct {
		msg  string
		want []string
	}{
		{"From: a@example.com\n\nbody\n", []string{"SUBJ_BLANK", "SUBJ_NO_WORD"}},
		{"From: a@example.com\nSubject: hello\n\nbody\n", []string{"SUBJ_HAS_WORD"}},
	} {
		res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tt.msg)), CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rules(); !slices.Equal(got, tt.want) {
			t.Errorf("%q: hits %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// siteEngine builds an engine from a site policy holding rulesCF alone
// (no built-in rules), and returns it with its markup.
func siteEngine(t *testing.T, rulesCF string, opts ...func(*Options)) (*Engine, Markup) {
	t.Helper()
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "10rules.cf"), []byte(rulesCF), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, diags, err := loadPolicy(context.Background(), site, nil)
	if err != nil {
		t.Fatalf("%v %v", err, diags)
	}
	opt, mk := OptionsFromPolicy(pol, "test")
	for _, o := range opts {
		o(&opt)
	}
	eng, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return eng, mk
}

// Learning tokenizes as scanning does but in learn mode, whatever else
// the scan's settings say.
func TestLearnTokenOptions(t *testing.T) {
	scanOpt := DefaultOptions().TokenOptions
	if !scanOpt.Scan {
		t.Fatal("a scan's token options are not in scan mode")
	}
	learn := LearnTokenOptions(scanOpt)
	if learn.Scan {
		t.Error("learn token options in scan mode")
	}
	learn.Scan = true
	if !reflect.DeepEqual(learn, scanOpt) {
		t.Errorf("learn options %+v differ from the scan's %+v beyond the mode", learn, scanOpt)
	}
}
