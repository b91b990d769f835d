package rules

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// The differential test against SpamAssassin: the stock rules and a Bayes
// database trained on the same corpus messages on both sides, then the
// same 300 held-out messages checked by both. It asserts what a site
// migrating from SpamAssassin would notice: the same rules hit, the same
// score, and the same X-Spam-* headers and report.

const (
	stockRulesDir = "/usr/share/spamassassin"
	stockSiteDir  = "/etc/spamassassin"
	// diffPerFolder messages of each corpus folder are checked; every
	// other message trains Bayes.
	diffPerFolder  = 100
	diffHostname   = "gospamd.test"
	diffSiteConfig = "use_bayes 1\nbayes_auto_learn 0\nreport_hostname " + diffHostname + "\n"
)

// saVerdict is one line of testdata/sa_check.pl's output.
type saVerdict struct {
	File       string   `json:"file"`
	Tests      string   `json:"tests"`
	Subtests   string   `json:"subtests"`
	Score      string   `json:"score"`
	Required   float64  `json:"required"`
	Headers    []string `json:"headers"`
	Report     string   `json:"report"`
	ReportTag  string   `json:"report_tag"`
	Subversion string   `json:"subversion"`
}

// diffCorpus splits the corpus into the checked messages (diffPerFolder
// spread over each folder) and the training messages (the rest).
func diffCorpus(t *testing.T) (check, trainSpam, trainHam []string) {
	for _, folder := range []string{"spam", "easy_ham", "hard_ham"} {
		all := testpeer.CorpusFiles(t, folder)
		step := max(1, len(all)/diffPerFolder)
		for i, f := range all {
			if i%step == 0 && i/step < diffPerFolder {
				check = append(check, f)
			} else if folder == "spam" {
				trainSpam = append(trainSpam, f)
			} else {
				trainHam = append(trainHam, f)
			}
		}
	}
	return check, trainSpam, trainHam
}

// corpusKey names a corpus message independently of where the corpus
// is: its folder and file name.
func corpusKey(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}

// saVerdicts returns SpamAssassin's answers for check, from the cache or
// by running testdata/sa_check.pl (a few minutes).
func saVerdicts(t *testing.T, check, trainSpam, trainHam []string) map[string]saVerdict {
	script, err := os.ReadFile("testdata/sa_check.pl")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(script)
	for _, list := range [][]string{check, trainSpam, trainHam} {
		for _, f := range list {
			fmt.Fprintf(h, "%s\n", corpusKey(f))
		}
		h.Write([]byte{0})
	}
	cacheFile := filepath.Join(testpeer.CacheDir(t, "rules-sa-check"), hex.EncodeToString(h.Sum(nil))[:16]+".jsonl")
	out, err := os.ReadFile(cacheFile)
	if err != nil {
		perl := testpeer.Program(t, "perl")
		if err := exec.Command(perl, "-MMail::SpamAssassin", "-MJSON::PP", "-e1").Run(); err != nil {
			testpeer.Missing(t, "Perl modules Mail::SpamAssassin and JSON::PP: %v", err)
		}
		dir := t.TempDir()
		spamList, hamList := filepath.Join(dir, "spam.txt"), filepath.Join(dir, "ham.txt")
		for path, list := range map[string][]string{spamList: trainSpam, hamList: trainHam} {
			if err := os.WriteFile(path, []byte(strings.Join(list, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("asking SpamAssassin about %d messages after training on %d (cached in %s)", len(check), len(trainSpam)+len(trainHam), cacheFile)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, perl, append([]string{"testdata/sa_check.pl", spamList, hamList}, check...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("sa_check.pl: %v\n%s", err, stderr.String())
		}
		if err := os.WriteFile(cacheFile, out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	verdicts := map[string]saVerdict{}
	for line := range bytes.Lines(out) {
		var v saVerdict
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("sa_check.pl output: %v", err)
		}
		v.Report, v.ReportTag = octets(v.Report), octets(v.ReportTag)
		for i, h := range v.Headers {
			v.Headers[i] = octets(h)
		}
		verdicts[corpusKey(v.File)] = v
	}
	for _, f := range check {
		if _, ok := verdicts[corpusKey(f)]; !ok {
			t.Fatalf("sa_check.pl gave no answer for %s", f)
		}
	}
	return verdicts
}

// stockSite builds the site policy SpamAssassin reads on Debian as a
// migrating site would point gospamd at it, through the public path: a
// site directory holding Debian's /etc/spamassassin files (its *.pre
// plugin lists and local.cf) and one file of ours with
//
//	rules_dir /usr/share/spamassassin
//	use_builtin_rules 0
//
// plus the test's settings, read by LoadPolicy as every command does.
func stockSite(t testing.TB) *cf.Policy {
	t.Helper()
	for _, p := range []string{stockRulesDir, stockSiteDir} {
		if _, err := os.Stat(p); err != nil {
			testpeer.Missing(t, "SpamAssassin configuration %s: %v", p, err)
		}
	}
	site := t.TempDir()
	entries, err := os.ReadDir(stockSiteDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(stockSiteDir, e.Name()), filepath.Join(site, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	text := "rules_dir " + stockRulesDir + "\nuse_builtin_rules 0\n" + diffSiteConfig
	if err := os.WriteFile(filepath.Join(site, "zz_difftest.cf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, _, err := LoadPolicy(context.Background(), site)
	if err != nil {
		t.Fatalf("load the stock rules as a site would: %v", err)
	}
	for _, l := range pol.Layers() {
		if l.Name == cf.LayerBuiltin && l.Off == "" {
			t.Fatalf("use_builtin_rules 0 did not leave the built-in rules out: %+v", pol.Layers())
		}
	}
	return pol
}

// networkEvals are the eval functions of SpamAssassin's network plugins
// whose rules are not flagged net but answer false without DNS, as in
// sa_check.pl's local mode (DKIM's check_dkim_dependable verifies
// nothing without DNS).
var networkEvals = map[string]bool{"check_dkim_dependable": true}

// trainStore learns the training messages into a fresh store.
func trainStore(t *testing.T, spamFiles, hamFiles []string, opt tokenizer.TokenOptions) *classifier.Store {
	raws := testpeer.ReadAll(t, append(slices.Clone(spamFiles), hamFiles...))
	spam := make([]bool, len(raws))
	for i := range spamFiles {
		spam[i] = true
	}
	return trainedStore(t, raws, spam, opt)
}

func splitNames(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func TestStockRulesAgainstSpamAssassin(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against SpamAssassin skipped in -short mode")
	}
	pol := stockSite(t)
	check, trainSpam, trainHam := diffCorpus(t)
	sa := saVerdicts(t, check, trainSpam, trainHam)

	opt, mk := OptionsFromPolicy(pol, "localhost")
	opt.Bayes = trainStore(t, trainSpam, trainHam, opt.TokenOptions)
	eng, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	// Left out of the comparison: the rules whose evals need the
	// network (SpamAssassin's are not run in its local mode either, and
	// gospamd without a NetChecker has none of them). Any other eval
	// lint lists as missing is a difference, not a rule to leave out.
	skipped := map[string]bool{}
	var missing []string
	for _, r := range pol.Rules() {
		if r.Eval == nil || eng.Rules().Stats.SkippedEvalNames[r.Eval.Func] == 0 {
			continue
		}
		if r.IsNet() || networkEvals[r.Eval.Func] {
			skipped[r.Name] = true
		} else if !slices.Contains(missing, r.Eval.Func) {
			missing = append(missing, r.Eval.Func)
		}
	}
	if len(missing) > 0 {
		t.Errorf("eval functions of local rules missing: %v", missing)
	}
	t.Logf("left out: %d rules of network eval functions %v", len(skipped), slices.Sorted(maps.Keys(eng.Rules().Stats.SkippedEvalNames)))
	// Also left out: rules built on %{NAME} capture templates, and the
	// metas over them. SpamAssassin 4.0.1 runs them right only in the
	// first message a process checks (later ones keep matching against
	// the first message's values), so sa_check.pl, checking 300 messages
	// in one process as spamd does, cannot be the reference for them;
	// TestCaptureTemplates covers them.
	var templated []string
	for changed := true; changed; {
		changed = false
		for _, r := range pol.Rules() {
			if skipped[r.Name] {
				continue
			}
			dependent := len(r.Pattern.Templates) > 0
			for _, d := range r.MetaDeps {
				dependent = dependent || slices.Contains(templated, d)
			}
			if dependent {
				templated = append(templated, r.Name)
				skipped[r.Name], changed = true, true
			}
		}
	}
	t.Logf("left out: the capture-template rules %v", templated)

	var sameHits, closeScore, sameMarkup, markupCompared int
	missed, extra := map[string]int{}, map[string]int{}
	var firstMarkupDiff string
	for _, f := range check {
		v := sa[corpusKey(f)]
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := tokenizer.Parse(raw)
		res, err := eng.Check(context.Background(), m, CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		saScore, err := parseFloat(v.Score)
		if err != nil {
			t.Fatalf("%s: SpamAssassin score %q: %v", f, v.Score, err)
		}
		var saNames []string
		leftOut := false
		for _, n := range splitNames(v.Tests) {
			if skipped[n] {
				leftOut = true
				saScore -= pol.Rule(n).Scores[res.ScoreSet]
				continue
			}
			saNames = append(saNames, n)
		}
		ourScore := res.Score
		var ours []string
		for _, h := range res.Hits {
			if skipped[h.Rule] {
				leftOut = true
				ourScore -= h.Score
				continue
			}
			ours = append(ours, h.Rule)
		}
		sort.Strings(saNames)
		sort.Strings(ours)
		if slices.Equal(saNames, ours) {
			sameHits++
		} else {
			for _, n := range saNames {
				if !slices.Contains(ours, n) {
					missed[n]++
				}
			}
			for _, n := range ours {
				if !slices.Contains(saNames, n) {
					extra[n]++
				}
			}
			t.Logf("%s: hits differ: SpamAssassin only %v, ours only %v", filepath.Base(f), diffNames(saNames, ours), diffNames(ours, saNames))
		}
		if math.Abs(ourScore-saScore) <= 0.5 {
			closeScore++
		}
		// Markup is compared where the hits and score are the same and
		// nothing was left out: then every byte should be the same.
		if !slices.Equal(saNames, ours) || leftOut || math.Abs(ourScore-saScore) > 0.0005 {
			continue
		}
		markupCompared++
		mk := mk
		mk.Hostname = diffHostname
		mk.Subversion = v.Subversion
		var got []string
		for _, h := range mk.Headers(res, m) {
			got = append(got, h.Name+": "+h.Value)
		}
		report := mk.Report(res, m)
		reportTag := mk.expandTags("_REPORT_", res, m)
		sameHeaders := slices.Equal(got, v.Headers)
		sameReport := canonicalReport(report) == canonicalReport(v.Report)
		sameTag := canonicalReportTag(reportTag) == canonicalReportTag(v.ReportTag)
		if sameHeaders && sameReport && sameTag {
			sameMarkup++
		} else if firstMarkupDiff == "" {
			firstMarkupDiff = fmt.Sprintf("%s (same headers %v, report %v, _REPORT_ %v):\nSpamAssassin headers:\n%s\nours:\n%s\nSpamAssassin report:\n%s\nours:\n%s\nSpamAssassin _REPORT_:\n%s\nours:\n%s",
				filepath.Base(f), sameHeaders, sameReport, sameTag, strings.Join(v.Headers, "\n"), strings.Join(got, "\n"), v.Report, report, v.ReportTag, reportTag)
		}
	}
	n := len(check)
	t.Logf("same hit list: %d of %d (%.1f%%); score within 0.5: %d (%.1f%%); markup byte-identical: %d of %d compared",
		sameHits, n, pct(sameHits, n), closeScore, pct(closeScore, n), sameMarkup, markupCompared)
	t.Logf("rules SpamAssassin hit and we did not: %v", missed)
	t.Logf("rules we hit and SpamAssassin did not: %v", extra)
	if pct(sameHits, n) < 95 {
		t.Errorf("same hit list on %.1f%% of messages, want at least 95%%", pct(sameHits, n))
	}
	if pct(closeScore, n) < 90 {
		t.Errorf("score within 0.5 on %.1f%% of messages, want at least 90%%", pct(closeScore, n))
	}
	if markupCompared < n/2 {
		t.Errorf("markup compared on only %d messages", markupCompared)
	}
	if sameMarkup != markupCompared {
		t.Errorf("X-Spam-* headers or report differ on %d of %d messages with the same hits; first:\n%s",
			markupCompared-sameMarkup, markupCompared, firstMarkupDiff)
	}
}

// canonicalReport puts the entries of a report's points table in name
// order. SpamAssassin lists the hits of one priority and test type in
// Perl hash order, which changes from run to run; everything else must be
// the same byte for byte.
var reportEntry = regexp.MustCompile(`^ {0,4}-?[0-9]+(\.[0-9])? [A-Z0-9_]+ `)

func canonicalReport(r string) string {
	head, table, ok := strings.Cut(r, "\n---- ")
	if !ok {
		return r
	}
	rule, rest, _ := strings.Cut(table, "\n")
	trimmed := strings.TrimRight(rest, "\n")
	tail := rest[len(trimmed):]
	rest = trimmed + "\n"
	var entries []string
	for line := range strings.Lines(rest) {
		// An entry starts with its points and the rule name; wrapped
		// descriptions and details are indented or bracketed.
		if len(entries) == 0 || reportEntry.MatchString(line) {
			entries = append(entries, line)
		} else {
			entries[len(entries)-1] += line
		}
	}
	slices.SortFunc(entries, func(a, b string) int {
		return strings.Compare(strings.Fields(a + " x x")[1], strings.Fields(b + " x x")[1])
	})
	return head + "\n---- " + rule + "\n" + strings.Join(entries, "") + tail
}

// canonicalReportTag puts the entries of _REPORT_ (the terse "* points
// RULE description" lines with their continuation lines) in name order,
// for the same reason as canonicalReport.
func canonicalReportTag(r string) string {
	var entries []string
	for line := range strings.Lines(r) {
		f := strings.Fields(strings.TrimPrefix(line, "*"))
		if _, err := parseFloat(firstOf(f)); err == nil && strings.HasPrefix(line, "* ") || len(entries) == 0 {
			entries = append(entries, line)
		} else {
			entries[len(entries)-1] += line
		}
	}
	slices.SortFunc(entries, func(a, b string) int {
		return strings.Compare(strings.Fields(a + " x x x")[2], strings.Fields(b + " x x x")[2])
	})
	return strings.Join(entries, "")
}

// octets turns text from sa_check.pl, where each octet of SpamAssassin's
// byte strings was written as the character of that code, back into
// those bytes.
func octets(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x100 {
			b.WriteByte(byte(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func firstOf(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func diffNames(a, b []string) []string {
	var out []string
	for _, n := range a {
		if !slices.Contains(b, n) {
			out = append(out, n)
		}
	}
	return out
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(b) }

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
