package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

// dnsPlugins are the DNS plugins Debian's .pre files load, whose evals
// gospamd lint with network tests on must not list as missing.
var dnsPlugins = []string{"DNSEval", "URIDNSBL", "AskDNS", "SPF", "DKIM", "DMARC", "HashBL"}

// pluginEvals are the eval functions of SpamAssassin's DNS plugins: the
// check_* subs of their modules.
func pluginEvals(t *testing.T) map[string]string {
	t.Helper()
	sub := regexp.MustCompile(`(?m)^sub (check_\w+)`)
	out := map[string]string{}
	for _, p := range dnsPlugins {
		src, err := os.ReadFile("/usr/share/perl5/Mail/SpamAssassin/Plugin/" + p + ".pm")
		if err != nil {
			testpeer.Missing(t, "SpamAssassin's %s plugin: %v", p, err)
		}
		for _, m := range sub.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = p
		}
	}
	return out
}

// With SpamAssassin's stock rules, Debian's .pre and .cf files and a
// [dns] section (network tests on), gospamd lint lists no eval of the
// DNS plugins as missing; without [dns] it does.
func TestLintStockRulesNetworkEvals(t *testing.T) {
	const saRules = "/usr/share/spamassassin"
	if _, err := os.Stat(saRules); err != nil {
		testpeer.Missing(t, "SpamAssassin's stock rules (%s)", saRules)
	}
	evals := pluginEvals(t)
	srv := dnstest.Start(t)
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	for _, glob := range []string{"/etc/spamassassin/*.pre", "/etc/spamassassin/*.cf"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(site, filepath.Base(f)), string(b))
		}
	}
	writeFile(t, filepath.Join(site, "00_rules_dir.cf"), "rules_dir "+saRules+"\nuse_builtin_rules 0\n")
	withDNS := filepath.Join(tmp, "dns.toml")
	writeFile(t, withDNS, fmt.Sprintf("[dns]\nservers = [%q]\n", srv.Addr))
	noDNS := filepath.Join(tmp, "nodns.toml")
	writeFile(t, noDNS, "")

	tests := []struct {
		name        string
		conf        string
		wantMissing bool
	}{
		{"network tests on", withDNS, false},
		{"network tests off", noDNS, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, _ := runCLI(t, "", "lint", "--daemon-config", tc.conf, "--config", site)
			var missing []string
			in := false
			for _, l := range strings.Split(out, "\n") {
				switch {
				case strings.HasPrefix(l, "eval functions not implemented"):
					in = true
				case in && strings.HasPrefix(l, "  "):
					name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
					if p, ok := evals[name]; ok {
						missing = append(missing, p+":"+name)
					}
				default:
					in = false
				}
			}
			if got := len(missing) > 0; got != tc.wantMissing {
				t.Errorf("DNS plugin evals listed as missing: %v (want some: %v)\n%s", missing, tc.wantMissing, out)
			}
		})
	}
}
