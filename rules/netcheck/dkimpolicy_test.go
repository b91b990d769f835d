package netcheck_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

// The DKIM plugin's remaining evals as the stock rules call them
// (25_dkim.cf, 60_welcomelist_dkim.cf).
const dkimPolicyRules = `
full   X_ARC_SIGNED  eval:check_arc_signed()
full   X_ARC_VALID   eval:check_arc_valid()
header X_TESTING     eval:check_dkim_testing()
header X_SIGNSOME    eval:check_dkim_signsome()
header X_SIGNALL     eval:check_dkim_signall()
header X_WL_DKIM     eval:check_for_dkim_welcomelist_from()
header X_DEF_WL_DKIM eval:check_for_def_dkim_welcomelist_from()
tflags X_ARC_SIGNED net
tflags X_ARC_VALID net
tflags X_TESTING net
tflags X_SIGNSOME net
tflags X_SIGNALL net
tflags X_WL_DKIM net
tflags X_DEF_WL_DKIM net
adsp_override strict.example
welcomelist_from_dkim *@signer.example
def_welcomelist_from_dkim b@third.example signer.example
def_welcomelist_auth c@tester.example
`

func TestDKIMPolicyEvals(t *testing.T) {
	key := newDKIMKey(t)
	srv := dnstest.Start(t,
		key.record("signer.example", ""),
		key.record("tester.example", "t=y:s; "),
	)
	pol := policy(t, srv, dkimPolicyRules)
	eng := engine(t, pol, checker(t, srv))
	msg := func(extra, from string) string {
		return extra + "From: " + from + "\r\nTo: user@example.org\r\nSubject: hello\r\n" +
			"Date: Mon, 8 Jul 2024 11:59:00 +0000\r\nMessage-ID: <4@example>\r\n\r\nhello\r\n"
	}
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{"author signature, welcomelisted author domain", signed(t, key, "signer.example", msg("", "a@signer.example")), []string{"X_WL_DKIM"}},
		{"listed third party signed by the listed domain", signed(t, key, "signer.example", msg("", "b@third.example")), []string{"X_DEF_WL_DKIM"}},
		{"unlisted third party", signed(t, key, "signer.example", msg("", "z@third.example")), nil},
		{"testing key, welcomelist_auth author", signed(t, key, "tester.example", msg("", "c@tester.example")), []string{"X_DEF_WL_DKIM", "X_TESTING"}},
		{"unsigned, adsp_override all", msg("", "a@strict.example"), []string{"X_SIGNALL"}},
		{"ARC set that does not verify", msg("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; s=arc; b=AAAA\r\n", "a@other.example"), []string{"X_ARC_SIGNED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tc.raw)), rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rules() {
				if strings.HasPrefix(r, "X_") {
					got = append(got, r)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
		})
	}
}
