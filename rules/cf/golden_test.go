package cf

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// dumpPolicy renders a policy as stable text: the golden format.
func dumpPolicy(p *Policy, diags []Diagnostic) string {
	var b strings.Builder
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	for _, r := range p.Rules() {
		fmt.Fprintf(&b, "rule %s %s", r.Name, r.Kind)
		if r.Header.Name != "" {
			fmt.Fprintf(&b, " header=%q", r.Header.Name)
			if len(r.Header.Modifiers) > 0 {
				fmt.Fprintf(&b, " mods=%s", strings.Join(r.Header.Modifiers, ","))
			}
			if r.Header.Exists {
				b.WriteString(" exists")
			}
			if r.Header.Negate {
				b.WriteString(" negate")
			}
			if r.Header.HasIfUnset {
				fmt.Fprintf(&b, " if-unset=%q", r.Header.IfUnset)
			}
		}
		if r.HasPattern() {
			fmt.Fprintf(&b, " expr=%q flags=%q", r.Pattern.Expr, r.Pattern.Flags)
			if r.Pattern.Captures {
				b.WriteString(" captures")
			}
			if len(r.Pattern.Templates) > 0 {
				fmt.Fprintf(&b, " templates=%s", strings.Join(r.Pattern.Templates, ","))
			}
		}
		if r.Eval != nil {
			fmt.Fprintf(&b, " eval=%s", r.Eval)
			if r.Eval.RBL {
				b.WriteString(" rbl")
			}
		}
		if r.Meta != "" {
			fmt.Fprintf(&b, " meta=%q deps=%s", r.Meta, strings.Join(r.MetaDeps, ","))
		}
		if r.AskDNS != nil {
			fmt.Fprintf(&b, " askdns=%q types=%s sub=%q", r.AskDNS.Query, strings.Join(r.AskDNS.Types, ","), r.AskDNS.Subtest)
		}
		if r.Detail != "" {
			fmt.Fprintf(&b, " detail=%q", r.Detail)
		}
		fmt.Fprintf(&b, "\n  score=%s,%s,%s,%s given=%v relative=%v priority=%d", g(r.Scores[0]), g(r.Scores[1]), g(r.Scores[2]), g(r.Scores[3]), r.ScoreGiven, r.ScoreRelative, r.Priority)
		if r.Tflags.Raw != "" {
			fmt.Fprintf(&b, " tflags=%q", r.Tflags.Raw)
		}
		if r.IsNet() {
			fmt.Fprintf(&b, " net(inherited=%v)", r.NetInherited)
		}
		if r.Describe != "" {
			fmt.Fprintf(&b, " describe=%q", r.Describe)
		}
		fmt.Fprintf(&b, " at=%s\n", shortPos(r.Source))
	}
	for _, r := range p.Undefined() {
		fmt.Fprintf(&b, "undefined %s score=%s given=%v describe=%q\n", r.Name, g(r.Scores[3]), r.ScoreGiven, r.Describe)
	}
	s := p.Settings()
	fmt.Fprintf(&b, "required_score=%s sensitivity=%s reject_score=%s report_safe=%d use_bayes=%v auto_learn=%v spam=%s nonspam=%s\n",
		g(s.RequiredScore), s.SpamSensitivity, g(s.RejectScore), s.ReportSafe, s.UseBayes, s.BayesAutoLearn,
		g(s.BayesAutoLearnThresholdSpam), g(s.BayesAutoLearnThresholdNonspam))
	fmt.Fprintf(&b, "rewrite subject=%q from=%q to=%q\n", s.RewriteSubject, s.RewriteFrom, s.RewriteTo)
	for _, spam := range []bool{true, false} {
		for _, f := range HeaderFields(s.HeaderOps, spam) {
			fmt.Fprintf(&b, "header spam=%v X-Spam-%s: %q\n", spam, f.Name, f.Value)
		}
	}
	if len(s.TrustedNetworks) > 0 || len(s.InternalNetworks) > 0 {
		fmt.Fprintf(&b, "trusted=%v internal=%v\n", s.TrustedNetworks, s.InternalNetworks)
	}
	if len(s.BayesIgnoreHeaders) > 0 {
		fmt.Fprintf(&b, "bayes_ignore_header=%v\n", s.BayesIgnoreHeaders)
	}
	for _, l := range []string{ListWelcomelistFrom, ListWelcomelistFromRcvd, ListDefWelcomelistFromRcvd, ListBlocklistFrom,
		ListWelcomelistTo, ListBlocklistTo, ListMoreSpamTo, ListAllSpamTo, ListWelcomelistAuth, ListDefWelcomelistAuth,
		ListWelcomelistFromDKIM, ListWelcomelistSubject} {
		for _, e := range p.AddrList(l) {
			fmt.Fprintf(&b, "list %s %s", l, e.Addr)
			if e.Relay != "" {
				fmt.Fprintf(&b, " relay=%s", e.Relay)
			}
			b.WriteString("\n")
		}
	}
	for _, n := range p.EnlistedNames() {
		for _, e := range p.Enlisted(n) {
			fmt.Fprintf(&b, "enlisted %s %s\n", n, e.Addr)
		}
	}
	for _, n := range p.URIHostListNames() {
		for _, e := range p.URIHostList(n) {
			fmt.Fprintf(&b, "urihost %s %s listed=%v\n", n, e.Host, e.Listed)
		}
	}
	for _, u := range p.URIBLs() {
		fmt.Fprintf(&b, "uribl %s %s %s %s %q\n", u.Directive, u.Rule, u.Zone, u.Type, u.Sub)
	}
	for _, m := range p.LoadedPlugins() {
		fmt.Fprintf(&b, "loadplugin %s\n", m)
	}
	for _, d := range p.OtherDirectives() {
		fmt.Fprintf(&b, "kept %s %q at=%s\n", d.Key, d.Value, shortPos(d.Pos))
	}
	for _, d := range p.Unknown() {
		fmt.Fprintf(&b, "unknown %s %q at=%s\n", d.Key, d.Value, shortPos(d.Pos))
	}
	for _, d := range diags {
		fmt.Fprintf(&b, "diag %s %s: %s\n", shortPos(d.Pos), d.Severity, d.Msg)
	}
	return b.String()
}

func shortPos(p Pos) string {
	p.File = filepath.Base(p.File)
	return p.String()
}

// TestGolden parses each testdata/*.cf with the Debian plugin list and
// compares the rendered policy with testdata/*.golden (-update rewrites).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.cf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.cf: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			pol, diags, err := ParseFiles(context.Background(), []string{f}, Options{KnownPlugins: DebianDefaultPlugins})
			if err != nil {
				t.Fatal(err)
			}
			got := dumpPolicy(pol, diags)
			// Diagnostics name files by base name only, so paths of
			// includes do not depend on the checkout.
			got = strings.ReplaceAll(got, filepath.Dir(f)+string(filepath.Separator), "")
			golden := strings.TrimSuffix(f, ".cf") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("policy differs from %s (go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
