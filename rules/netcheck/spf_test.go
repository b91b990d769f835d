package netcheck_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/scan"
)

var spfZones = func() []string {
	z := []string{
		`pass.example. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"`,
		`fail.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"`,
		`soft.example. 300 IN TXT "v=spf1 ~all"`,
		`neutral.example. 300 IN TXT "v=spf1 ?all"`,
		`none.example. 300 IN A 192.0.2.1`,
		`inc.example. 300 IN TXT "v=spf1 include:pass.example -all"`,
		`loop.example. 300 IN TXT "v=spf1 include:loop.example -all"`,
		`perm.example. 300 IN TXT "v=spf1 bogus:x -all"`,
		`mac.example. 300 IN TXT "v=spf1 exists:%{i}.ok.mac.example -all"`,
		`198.51.100.7.ok.mac.example. 300 IN A 127.0.0.2`,
		`void.example. 300 IN TXT "v=spf1 a:n1.void.example a:n2.void.example a:n3.void.example ip4:198.51.100.0/24 -all"`,
		`mx.sender.example. 300 IN TXT "v=spf1 ip4:198.51.100.7 -all"`,
		`badhelo.example. 300 IN TXT "v=spf1 -all"`,
	}
	// An include chain past the 10-lookup limit.
	for i := range 12 {
		z = append(z, fmt.Sprintf(`c%d.many.example. 300 IN TXT "v=spf1 include:c%d.many.example -all"`, i, i+1))
	}
	z = append(z, `many.example. 300 IN TXT "v=spf1 include:c0.many.example -all"`)
	return z
}()

const spfRules = `
header SPF_PASS      eval:check_for_spf_pass()
header SPF_NEUTRAL   eval:check_for_spf_neutral()
header SPF_NONE      eval:check_for_spf_none()
header SPF_FAIL      eval:check_for_spf_fail()
header SPF_SOFTFAIL  eval:check_for_spf_softfail()
header T_SPF_PERMERROR eval:check_for_spf_permerror()
header T_SPF_TEMPERROR eval:check_for_spf_temperror()
header SPF_HELO_PASS eval:check_for_spf_helo_pass()
header SPF_HELO_FAIL eval:check_for_spf_helo_fail()
header SPF_HELO_NONE eval:check_for_spf_helo_none()
header USER_IN_SPF_WELCOMELIST eval:check_for_spf_welcomelist_from()
tflags SPF_PASS net
tflags SPF_NEUTRAL net
tflags SPF_NONE net
tflags SPF_FAIL net
tflags SPF_SOFTFAIL net
tflags T_SPF_PERMERROR net
tflags T_SPF_TEMPERROR net
tflags SPF_HELO_PASS net
tflags SPF_HELO_FAIL net
tflags SPF_HELO_NONE net
tflags USER_IN_SPF_WELCOMELIST net
score SPF_PASS 0.001
score SPF_FAIL 14
score SPF_SOFTFAIL 6
score T_SPF_PERMERROR 0.01
score T_SPF_TEMPERROR 0.01
welcomelist_from_spf *@inc.example
reject_score 12
rbl_timeout 2
`

func spfService(t *testing.T, srv *dnstest.Server) *scan.Service {
	t.Helper()
	site := t.TempDir()
	// Our built-in rules are left out so that the verdicts depend on the
	// SPF scores alone, not on how the built-in rules score this message.
	text := "use_builtin_rules 0\ndns_server " + srv.Addr + "\n" + spfRules
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	svc, err := scan.New(context.Background(), scan.Config{PolicyDir: site, Net: checker(t, srv), Hostname: "mx.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSPF(t *testing.T) {
	srv := dnstest.Start(t, spfZones...)
	srv.ServFail("temp.example.")
	svc := spfService(t, srv)
	// A date of today: an old one hits DATE_PAST_WEEKS, past ham.
	body := "From: someone@example.org\r\nTo: user@example.org\r\nSubject: hi\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: <2@example.org>\r\n\r\nhello\r\n"
	tests := []struct {
		from, helo string
		want       []string
		verdict    rules.Verdict
	}{
		{"a@pass.example", "mx.sender.example", []string{"SPF_HELO_PASS", "SPF_PASS"}, rules.VerdictHam},
		{"a@fail.example", "mx.sender.example", []string{"SPF_FAIL", "SPF_HELO_PASS"}, rules.VerdictReject},
		{"a@soft.example", "mx.sender.example", []string{"SPF_HELO_PASS", "SPF_SOFTFAIL"}, rules.VerdictTag},
		{"a@neutral.example", "mx.sender.example", []string{"SPF_HELO_PASS", "SPF_NEUTRAL"}, rules.VerdictHam},
		{"a@none.example", "mx.sender.example", []string{"SPF_HELO_PASS", "SPF_NONE"}, rules.VerdictHam},
		{"a@inc.example", "mx.sender.example", []string{"SPF_HELO_PASS", "SPF_PASS", "USER_IN_SPF_WELCOMELIST"}, rules.VerdictHam},
		{"a@loop.example", "mx.sender.example", []string{"SPF_HELO_PASS", "T_SPF_PERMERROR"}, rules.VerdictHam},
		{"a@many.example", "mx.sender.example", []string{"SPF_HELO_PASS", "T_SPF_PERMERROR"}, rules.VerdictHam},
		{"a@perm.example", "mx.sender.example", []string{"SPF_HELO_PASS", "T_SPF_PERMERROR"}, rules.VerdictHam},
		{"a@temp.example", "mx.sender.example", []string{"SPF_HELO_PASS", "T_SPF_TEMPERROR"}, rules.VerdictHam},
		{"a@mac.example", "badhelo.example", []string{"SPF_HELO_FAIL", "SPF_PASS"}, rules.VerdictHam},
		{"a@void.example", "nohelo.example", []string{"SPF_HELO_NONE", "T_SPF_PERMERROR"}, rules.VerdictHam},
	}
	for _, tc := range tests {
		t.Run(tc.from, func(t *testing.T) {
			t.Parallel()
			env := scan.Envelope{ClientIP: netip.MustParseAddr("198.51.100.7"), HELO: tc.helo, MailFrom: tc.from, RcptTo: []string{"user@example.org"}}
			res, err := svc.Scan(context.Background(), &scan.Request{Message: []byte(body), Envelope: env})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rules.Rules() {
				if strings.Contains(r, "SPF") {
					got = append(got, r)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
			if res.Verdict != tc.verdict {
				t.Errorf("verdict %v at score %v (%v), want %v", res.Verdict, res.Rules.Score, res.Rules.Rules(), tc.verdict)
			}
		})
	}
}
