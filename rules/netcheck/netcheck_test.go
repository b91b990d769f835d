package netcheck_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/netcheck"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

var _ rules.NetChecker = (*netcheck.Checker)(nil)

// zones are the test server's lists: a DNSBL listing 198.51.100.7 (and
// 2a01:4f8::7 for IPv6), an RHSBL listing spam.example, a URI list with
// bitmask answers (evil-site.com: 64; phish.example: 8|64), and a zone
// that never answers.
var zones = []string{
	"7.100.51.198.bl.test. 300 IN A 127.0.0.2",
	"7.100.51.198.bl.test. 300 IN TXT \"listed: see https://bl.test/198.51.100.7\"",
	"7.100.51.198.pbl.test. 300 IN A 127.0.0.11",
	"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.f.4.0.1.0.a.2.bl.test. 300 IN A 127.0.0.2",
	"spam.example.rhs.test. 300 IN A 127.0.0.2",
	"evil-site.com.multi.test. 300 IN A 127.0.0.64",
	"phish.co.uk.multi.test. 300 IN A 127.0.0.72",
	"ns1.nsbad-site.com. 300 IN A 203.0.113.53",
	"nsbad-site.com. 300 IN NS ns1.nsbad-site.com.",
	"53.113.0.203.nsbl.test. 300 IN A 127.0.0.2",
	"spam.example. 300 IN MX 10 mx.spam.example.",
	"sender.example. 300 IN A 198.51.100.25",
}

func policy(t testing.TB, srv *dnstest.Server, extra string) *cf.Policy {
	t.Helper()
	site := t.TempDir()
	text := "dns_server " + srv.Addr + "\n" + extra
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, diags, err := rules.LoadPolicy(context.Background(), site)
	if err != nil {
		t.Fatalf("%v %v", err, diags)
	}
	for _, d := range diags {
		if d.Severity == cf.SeverityError {
			t.Fatalf("diagnostic: %v", d)
		}
	}
	return pol
}

func engine(t testing.TB, pol *cf.Policy, net rules.NetChecker) *rules.Engine {
	t.Helper()
	opt, _ := rules.OptionsFromPolicy(pol, "test")
	opt.Net = net
	eng, err := rules.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// checker asks srv, each attempt bounded by 2s (past the tests' 1s
// rbl_timeout, which is then what bounds a dead list).
func checker(t testing.TB, srv *dnstest.Server) *netcheck.Checker {
	t.Helper()
	res, err := resolver.New(resolver.Config{Servers: []string{srv.Addr}, Timeout: confval.Duration(2 * time.Second)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return netcheck.New(res, netcheck.Options{})
}

func message(relayIP, from, body string) *tokenizer.Message {
	lit := relayIP
	if strings.Contains(lit, ":") {
		// The tokenizer reads only the uncompressed IPv6 form.
		lit = "IPv6:" + lit
	}
	return tokenizer.Parse([]byte("Return-Path: <bounce@" + strings.SplitN(from, "@", 2)[1] + ">\n" +
		"Received: from mx.sender.example (mx.sender.example [" + lit + "])\n" +
		"\tby mail.example.org (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\n" +
		"From: " + from + "\nTo: user@example.org\nSubject: hello\nDate: Mon, 8 Jul 2024 11:59:00 +0000\n" +
		"Message-ID: <1@sender.example>\n\n" + body + "\n"))
}

const netRules = `
header RCVD_IN_TESTBL   eval:check_rbl('testbl', 'bl.test.')
tflags RCVD_IN_TESTBL   net
score  RCVD_IN_TESTBL   0 2.0 0 2.0
header RCVD_IN_TESTBL_TXT eval:check_rbl_txt('testbl-txt', 'bl.test.', '/listed/')
tflags RCVD_IN_TESTBL_TXT net
header __RCVD_IN_PBLSET eval:check_rbl('pbl-lastexternal', 'pbl.test.')
tflags __RCVD_IN_PBLSET net
header RCVD_IN_TESTPBL  eval:check_rbl_sub('pbl-lastexternal', '^127\.0\.0\.1[01]$')
tflags RCVD_IN_TESTPBL  net
header RCVD_IN_TESTPBL2 eval:check_rbl_sub('pbl-lastexternal', '127.0.0.2')
tflags RCVD_IN_TESTPBL2 net
header FROM_IN_RHS      eval:check_rbl_from_domain('rhs.test.')
tflags FROM_IN_RHS      net
header ENVFROM_IN_RHS   eval:check_rbl_envfrom('rhs.test.')
tflags ENVFROM_IN_RHS   net
header NO_DNS_SENDER    eval:check_dns_sender()
tflags NO_DNS_SENDER    net
urirhssub URI_MULTI_64  multi.test. A 64
body      URI_MULTI_64  eval:check_uridnsbl('URI_MULTI_64')
tflags    URI_MULTI_64  net
urirhssub URI_MULTI_8   multi.test. A 8
body      URI_MULTI_8   eval:check_uridnsbl('URI_MULTI_8')
tflags    URI_MULTI_8   net
uridnssub URI_NS_BL     nsbl.test. A 127.0.0.2
body      URI_NS_BL     eval:check_uridnsbl('URI_NS_BL')
tflags    URI_NS_BL     net
header RCVD_IN_DEAD     eval:check_rbl('dead', 'dead.test.')
tflags RCVD_IN_DEAD     net
`

var netRuleNames = []string{"RCVD_IN_TESTBL", "RCVD_IN_TESTBL_TXT", "RCVD_IN_TESTPBL", "RCVD_IN_TESTPBL2",
	"FROM_IN_RHS", "ENVFROM_IN_RHS", "NO_DNS_SENDER", "URI_MULTI_64", "URI_MULTI_8", "URI_NS_BL", "RCVD_IN_DEAD"}

func netHits(res *rules.Result) []string {
	var out []string
	for _, r := range res.Rules() {
		if slices.Contains(netRuleNames, r) {
			out = append(out, r)
		}
	}
	return out
}

func TestBlocklists(t *testing.T) {
	srv := dnstest.Start(t, zones...)
	srv.Silent("dead.test.") // every scan waits the 1s deadline for it
	pol := policy(t, srv, netRules+"rbl_timeout 1\n")
	eng := engine(t, pol, checker(t, srv))

	tests := []struct {
		name      string
		msg       *tokenizer.Message
		want      []string
		detailFor string
		detail    string
	}{
		{"listed relay", message("198.51.100.7", "a@sender.example", "hello"),
			[]string{"RCVD_IN_TESTBL", "RCVD_IN_TESTBL_TXT", "RCVD_IN_TESTPBL"}, "RCVD_IN_TESTBL", "198.51.100.7 listed in bl.test"},
		{"listed IPv6 relay", message("2a01:4f8:0:0:0:0:0:7", "a@sender.example", "hello"),
			[]string{"RCVD_IN_TESTBL"}, "RCVD_IN_TESTBL", "2a01:4f8::7 listed in bl.test"},
		{"clean relay", message("198.51.100.8", "a@sender.example", "hello"), nil, "", ""},
		{"private relay is not looked up", message("10.1.2.3", "a@sender.example", "hello"), nil, "", ""},
		{"listed sender domain", message("198.51.100.8", "a@spam.example", "hello"),
			[]string{"ENVFROM_IN_RHS", "FROM_IN_RHS"}, "FROM_IN_RHS", "spam.example listed in rhs.test"},
		{"sender domain without A or MX", message("198.51.100.8", "a@nowhere.example", "hello"),
			[]string{"NO_DNS_SENDER"}, "", ""},
		{"URI listed with bit 64, not bit 8", message("198.51.100.8", "a@sender.example", "see http://www.evil-site.com/x"),
			[]string{"URI_MULTI_64"}, "URI_MULTI_64", "URIs: evil-site.com"},
		{"URI listed with bits 64 and 8, registrable domain", message("198.51.100.8", "a@sender.example", "see https://a.b.phish.co.uk/"),
			[]string{"URI_MULTI_64", "URI_MULTI_8"}, "URI_MULTI_8", "URIs: phish.co.uk"},
		{"URI whose name server is listed", message("198.51.100.8", "a@sender.example", "see http://nsbad-site.com/"),
			[]string{"URI_NS_BL"}, "URI_NS_BL", "URIs: nsbad-site.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := eng.Check(context.Background(), tc.msg, rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := netHits(res); !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
			if res.ScoreSet&1 == 0 || res.TimeLimitExceeded {
				t.Errorf("score set %d, time limit %v", res.ScoreSet, res.TimeLimitExceeded)
			}
			if tc.detailFor != "" {
				for _, h := range res.Hits {
					if h.Rule == tc.detailFor && !slices.Contains(h.Details, tc.detail) {
						t.Errorf("%s details %q, want %q", h.Rule, h.Details, tc.detail)
					}
				}
			}
		})
	}
}

// A list that never answers costs a scan at most rbl_timeout, and is a
// miss, not an error; the cache then answers the listed zones at once.
func TestDeadListDeadline(t *testing.T) {
	srv := dnstest.Start(t, zones...)
	srv.Silent("dead.test.")
	pol := policy(t, srv, netRules+"rbl_timeout 1\n")
	eng := engine(t, pol, checker(t, srv))
	start := time.Now()
	res, err := eng.Check(context.Background(), message("198.51.100.7", "a@sender.example", "hi"), rules.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if elapsed > 1300*time.Millisecond || elapsed < 900*time.Millisecond {
		t.Errorf("scan with a dead list took %s, want about the 1s deadline", elapsed)
	}
	if res.TimeLimitExceeded || !slices.Contains(res.Rules(), "RCVD_IN_TESTBL") || slices.Contains(res.Rules(), "RCVD_IN_DEAD") {
		t.Errorf("hits %v, time limit %v", res.Rules(), res.TimeLimitExceeded)
	}
}

// 100 scans at once against a dead list all finish in about the one
// deadline, not in waves.
func TestConcurrentScansShareTheDeadline(t *testing.T) {
	srv := dnstest.Start(t, zones...)
	srv.Silent("dead.test.")
	pol := policy(t, srv, netRules+"rbl_timeout 1\n")
	eng := engine(t, pol, checker(t, srv))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			ip := "198.51.100." + []string{"7", "8", "9"}[i%3]
			res, err := eng.Check(context.Background(), message(ip, "a@sender.example", "hi"), rules.CheckOptions{})
			if err != nil || res.TimeLimitExceeded {
				t.Errorf("scan %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("100 concurrent scans took %s, want about 1s", d)
	}
}

// dns_available no and skip_rbl_checks turn the lookups off.
func TestSwitches(t *testing.T) {
	srv := dnstest.Start(t, zones...)
	msg := message("198.51.100.7", "a@spam.example", "see http://evil-site.com/")
	tests := []struct {
		setting string
		want    []string
	}{
		{"", []string{"ENVFROM_IN_RHS", "FROM_IN_RHS", "RCVD_IN_TESTBL", "RCVD_IN_TESTBL_TXT", "RCVD_IN_TESTPBL", "URI_MULTI_64"}},
		{"dns_available no", nil},
		{"dns_available 0", nil},
		{"dns_available 1", []string{"ENVFROM_IN_RHS", "FROM_IN_RHS", "RCVD_IN_TESTBL", "RCVD_IN_TESTBL_TXT", "RCVD_IN_TESTPBL", "URI_MULTI_64"}},
		{"skip_rbl_checks 1", []string{"URI_MULTI_64"}},
		{"skip_uribl_checks 1", []string{"ENVFROM_IN_RHS", "FROM_IN_RHS", "RCVD_IN_TESTBL", "RCVD_IN_TESTBL_TXT", "RCVD_IN_TESTPBL"}},
	}
	for _, tc := range tests {
		t.Run(tc.setting, func(t *testing.T) {
			n := srv.Queries()
			pol := policy(t, srv, strings.ReplaceAll(netRules, "dead.test", "bl.test")+tc.setting+"\n")
			eng := engine(t, pol, checker(t, srv))
			res, err := eng.Check(context.Background(), msg, rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(netHits(res), func(s string) bool { return s == "RCVD_IN_DEAD" })
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
			if (tc.setting == "dns_available no" || tc.setting == "dns_available 0") && srv.Queries() != n {
				t.Errorf("%d queries with %s", srv.Queries()-n, tc.setting)
			}
		})
	}
}

// The SME-style list settings define predictably named rules.
func TestListSettings(t *testing.T) {
	srv := dnstest.Start(t, zones...)
	pol := policy(t, srv, "rbl_list bl.test combined.njabl.org\nrhsbl_list rhs.test\nuribl_list multi.test:8-64\nscore URIBL_MULTI_TEST_64 3.5\n")
	for _, name := range []string{"RBL_BL_TEST", "RHSBL_RHS_TEST", "RHSBL_RHS_TEST_ENVFROM", "URIBL_MULTI_TEST_8", "URIBL_MULTI_TEST_64"} {
		if r := pol.Rule(name); r == nil || !r.Defined() || !r.Tflags.Net {
			t.Errorf("rule %s not defined as a net rule: %+v", name, r)
		}
	}
	if r := pol.Rule("RBL_COMBINED_NJABL_ORG"); r != nil && r.Defined() {
		t.Errorf("a dead zone got a rule")
	}
	eng := engine(t, pol, checker(t, srv))
	res, err := eng.Check(context.Background(), message("198.51.100.7", "a@spam.example", "http://evil-site.com/"), rules.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"RBL_BL_TEST", "RHSBL_RHS_TEST", "RHSBL_RHS_TEST_ENVFROM", "URIBL_MULTI_TEST_64"}
	var got []string
	for _, h := range res.Hits {
		if strings.Contains(h.Rule, "BL_") {
			got = append(got, h.Rule)
			if h.Rule == "URIBL_MULTI_TEST_64" && h.Score != 3.5 {
				t.Errorf("score %v", h.Score)
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("hits %v, want %v", got, want)
	}
}
