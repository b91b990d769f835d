package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

const (
	stockRulesDir = "/usr/share/spamassassin"
	stockSiteDir  = "/etc/spamassassin"
	diffPerFolder = 50 // messages taken from each corpus folder
)

// stockPolicy loads SpamAssassin's Debian configuration with the plugins
// Debian's .pre files load.
func stockPolicy(t *testing.T) *cf.Policy {
	t.Helper()
	for _, p := range []string{stockRulesDir, stockSiteDir} {
		if _, err := os.Stat(p); err != nil {
			testpeer.Missing(t, "SpamAssassin configuration %s: %v", p, err)
		}
	}
	pol, _, err := cf.LoadSite(context.Background(), stockSiteDir, cf.SiteOptions{
		Options:  cf.Options{KnownPlugins: cf.DebianDefaultPlugins},
		RulesDir: stockRulesDir,
	})
	if err != nil {
		t.Fatalf("load stock rules: %v", err)
	}
	return pol
}

// diffMessages picks messages spread over the three corpus folders.
func diffMessages(t *testing.T) []string {
	var files []string
	for _, folder := range []string{"spam", "easy_ham", "hard_ham"} {
		all := testpeer.CorpusFiles(t, folder)
		step := max(1, len(all)/diffPerFolder)
		for i := 0; i < len(all) && i/step < diffPerFolder; i += step {
			files = append(files, all[i])
		}
	}
	return files
}

// saHits returns, per file, the rules and sub-rules SpamAssassin hit.
func saHits(t *testing.T, files []string) map[string]map[string]bool {
	return testpeer.SpamAssassinHits(t, files)
}

type agreement struct{ both, saOnly, oursOnly, neither int }

func (a agreement) total() int { return a.both + a.saOnly + a.oursOnly + a.neither }
func (a agreement) agree() int { return a.both + a.neither }

// TestAgainstSpamAssassin runs every stock rule that is a plain eval of a
// function of ours over corpus messages and compares hit for hit with
// SpamAssassin 4.0.1 (local tests, score set 0).
func TestAgainstSpamAssassin(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against SpamAssassin skipped in -short mode")
	}
	pol := stockPolicy(t)
	files := diffMessages(t)
	sa := saHits(t, files)
	reg := Default()

	type evalRule struct {
		rule *cf.Rule
		fn   Func
	}
	var rules []evalRule
	for _, r := range pol.Rules() {
		if r.Eval == nil || r.Eval.RBL || r.IsNet() {
			continue
		}
		if !r.IsSubRule() && r.Scores[0] == 0 {
			continue // SpamAssassin does not run rules scored 0
		}
		if fn, ok := reg.Lookup(r.Eval.Func); ok {
			rules = append(rules, evalRule{r, fn})
		}
	}
	byFunc := map[string]*agreement{}
	byRule := map[string]*agreement{}
	var disagreements []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &Context{Msg: tokenizer.Parse(raw), Policy: pol, Now: time.Now()}
		for _, er := range rules {
			ours, err := er.fn(c, er.rule.Eval.Args)
			if err != nil {
				t.Errorf("%s %s: %v", filepath.Base(f), er.rule.Name, err)
			}
			theirs := sa[f][er.rule.Name]
			for _, a := range []*agreement{get(byFunc, er.rule.Eval.Func), get(byRule, er.rule.Name)} {
				switch {
				case ours && theirs:
					a.both++
				case theirs:
					a.saOnly++
				case ours:
					a.oursOnly++
				default:
					a.neither++
				}
			}
			if ours != theirs {
				disagreements = append(disagreements, fmt.Sprintf("%s %s: SpamAssassin %v, ours %v",
					filepath.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f)), er.rule.Name, theirs, ours))
			}
		}
	}
	names := make([]string, 0, len(byFunc))
	for n := range byFunc {
		names = append(names, n)
	}
	sort.Strings(names)
	var sum agreement
	var b strings.Builder
	fmt.Fprintf(&b, "agreement with SpamAssassin over %d messages (function: agree/total, both hit, SA only, ours only):\n", len(files))
	for _, n := range names {
		a := byFunc[n]
		sum.both, sum.saOnly, sum.oursOnly, sum.neither = sum.both+a.both, sum.saOnly+a.saOnly, sum.oursOnly+a.oursOnly, sum.neither+a.neither
		fmt.Fprintf(&b, "  %-40s %5d/%-5d hit %3d  SA-only %3d  ours-only %3d\n", n, a.agree(), a.total(), a.both, a.saOnly, a.oursOnly)
	}
	fmt.Fprintf(&b, "  %-40s %5d/%-5d hit %3d  SA-only %3d  ours-only %3d\n", "TOTAL", sum.agree(), sum.total(), sum.both, sum.saOnly, sum.oursOnly)
	t.Log(b.String())
	if testing.Verbose() {
		sort.Strings(disagreements)
		for _, d := range disagreements {
			t.Log(d)
		}
	}
	if sum.total() == 0 {
		t.Fatal("no eval rule of ours found in the stock rules")
	}
	if rate := float64(sum.agree()) / float64(sum.total()); rate < 0.97 {
		t.Errorf("overall agreement %.3f, want at least 0.97", rate)
	}
}

func get(m map[string]*agreement, k string) *agreement {
	if m[k] == nil {
		m[k] = &agreement{}
	}
	return m[k]
}
