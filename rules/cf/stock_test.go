package cf

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const (
	stockRulesDir = "/usr/share/spamassassin"
	stockSiteDir  = "/etc/spamassassin"
)

// needPeer skips (or fails under GOSPAMD_REQUIRE_PEERS=1) when path is
// missing.
func needPeer(t testing.TB, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("GOSPAMD_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s missing at %s (GOSPAMD_REQUIRE_PEERS=1): %v", what, path, err)
		}
		t.Skipf("%s not installed at %s (install the Debian spamassassin package): %v", what, path, err)
	}
}

// stockPolicy loads SpamAssassin's configuration the way spamassassin
// does on Debian: /etc/spamassassin/*.pre, the stock rules directory, then
// /etc/spamassassin/*.cf (local.cf, 65_debian.cf), with the plugins
// Debian's .pre files load.
func stockPolicy(t testing.TB) (*Policy, []Diagnostic) {
	t.Helper()
	needPeer(t, stockRulesDir, "SpamAssassin stock rules")
	needPeer(t, stockSiteDir, "SpamAssassin site configuration")
	pol, diags, err := LoadSite(context.Background(), stockSiteDir, SiteOptions{
		Options:  Options{KnownPlugins: DebianDefaultPlugins},
		RulesDir: stockRulesDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return pol, diags
}

// countPatterns counts regex patterns by kind.
func countPatterns(pol *Policy) (int, map[Kind]int) {
	byKind := map[Kind]int{}
	n := 0
	for _, r := range pol.Rules() {
		if r.HasPattern() {
			byKind[r.Kind]++
			n++
		}
	}
	return n, byKind
}

func TestStockRules(t *testing.T) {
	pol, diags := stockPolicy(t)
	for _, d := range diags {
		if d.Severity != SeverityInfo {
			t.Log(d)
		}
	}
	if n := CountErrors(diags); n != 0 {
		t.Errorf("%d parse errors in the stock rules, want 0", n)
	}

	patterns, byKind := countPatterns(pol)
	evals := map[string]int{}
	for _, r := range pol.Rules() {
		if r.Eval != nil {
			evals[r.Eval.Func]++
		}
	}
	t.Logf("stock rules: %d defined, %d regex patterns (header %d, body %d, uri %d, rawbody %d, mimeheader %d, full %d)",
		len(pol.Rules()), patterns, byKind[KindHeader], byKind[KindBody], byKind[KindURI], byKind[KindRawbody], byKind[KindMIMEHeader], byKind[KindFull])
	type fc struct {
		name string
		n    int
	}
	var fcs []fc
	total := 0
	for f, n := range evals {
		fcs = append(fcs, fc{f, n})
		total += n
	}
	sort.Slice(fcs, func(i, j int) bool {
		if fcs[i].n != fcs[j].n {
			return fcs[i].n > fcs[j].n
		}
		return fcs[i].name < fcs[j].name
	})
	var b strings.Builder
	for _, x := range fcs {
		b.WriteString(x.name)
		b.WriteString("=")
		b.WriteString(itoa(x.n))
		b.WriteString(" ")
	}
	t.Logf("eval rules: %d using %d functions: %s", total, len(fcs), b.String())

	// The rules directory alone, without the site's 65_debian.cf.
	cfs, _ := filepath.Glob(filepath.Join(stockRulesDir, "*.cf"))
	pres, _ := filepath.Glob(filepath.Join(stockSiteDir, "*.pre"))
	slices.Sort(cfs)
	slices.Sort(pres)
	rulesOnly, rdiags, err := ParseFiles(context.Background(), slices.Concat(pres, cfs), Options{KnownPlugins: DebianDefaultPlugins})
	if err != nil {
		t.Fatal(err)
	}
	if n := CountErrors(rdiags); n != 0 {
		t.Errorf("%d parse errors in %s alone, want 0", n, stockRulesDir)
	}
	n, _ := countPatterns(rulesOnly)
	t.Logf("%s alone: %d rules, %d regex patterns", stockRulesDir, len(rulesOnly.Rules()), n)

	// The figure: SpamAssassin 4.0.1 compiles 1582 patterns from
	// this rule set (spec/rules-syntax.md §6).
	if patterns != 1582 {
		t.Errorf("stock regex patterns = %d, want 1582", patterns)
	}

	// Facts any user of the stock rules relies on.
	for name, want := range map[string]float64{"GTUBE": 1000} {
		r := pol.Rule(name)
		if r == nil || !r.Defined() {
			t.Errorf("%s not defined", name)
			continue
		}
		if r.Scores[3] != want {
			t.Errorf("%s score = %v, want %v", name, r.Scores, want)
		}
	}
	if r := pol.Rule("BAYES_99"); r == nil || r.Eval == nil || r.Eval.Func != "check_bayes" || !r.Tflags.Learn {
		t.Errorf("BAYES_99 = %+v, want a check_bayes eval with tflags learn", r)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
