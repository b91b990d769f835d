package netcheck_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

// capturedTagRules look up, with check_hashbl_tag, the wallet address a
// body rule captures into the tag WALLET (SpamAssassin 4's captured
// tags). The HashBL rule runs at a lower priority than the capture rule,
// so it is asked before the capture rule's turn comes.
const capturedTagRules = `
body     __WALLET_ADDR  /\bwallet:\s+(?<WALLET>bc1[a-z0-9]{20,60})\b/i
body     HASHBL_WALLET  eval:check_hashbl_tag('walletbl.test', 'sha1', 'WALLET')
tflags   HASHBL_WALLET  net
priority HASHBL_WALLET  -100
score    HASHBL_WALLET  2.0
body     HASHBL_NOCAP   eval:check_hashbl_tag('walletbl.test', 'sha1', 'UNCAPTURED')
tflags   HASHBL_NOCAP   net
`

// A check_hashbl_tag rule looks up the hash of the value a regex rule
// captured, lower-cased as HashBL does without "case".
func TestHashBLCapturedTag(t *testing.T) {
	const listed = "bc1qlistedwalletaddress0000000xyz"
	srv := dnstest.Start(t, sha1Hex(listed)+".walletbl.test. 300 IN A 127.0.0.2")
	pol := policy(t, srv, capturedTagRules+"rbl_timeout 2\n")
	eng := engine(t, pol, checker(t, srv))
	tests := []struct {
		name, body string
		want       []string
	}{
		{"listed wallet", "send 0.1 BTC to wallet: " + listed + " today", []string{"HASHBL_WALLET"}},
		{"listed wallet, upper case", "send 0.1 BTC to wallet: BC1QLISTEDWALLETADDRESS0000000XYZ today", []string{"HASHBL_WALLET"}},
		{"other wallet", "send 0.1 BTC to wallet: bc1qsomeotherwalletaddress00000abc today", nil},
		{"nothing captured", "no wallet here", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Check(context.Background(), message("198.51.100.8", "a@sender.example", tc.body), rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(res.Rules(), func(r string) bool { return r != "HASHBL_WALLET" && r != "HASHBL_NOCAP" })
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
			if res.TimeLimitExceeded {
				t.Error("time limit exceeded")
			}
		})
	}
}
