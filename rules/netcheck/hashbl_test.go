package netcheck_test

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

func sha1Hex(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
func md5Hex(s string) string  { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// hashRules are HashBL rules as SpamAssassin's stock rules (GB_HASHBL_BTC,
// raw) and HashBL.pm's examples (sha1, md5 with a subtest, URIs) write them.
const hashRules = `
body   GB_HASHBL_BTC eval:check_hashbl_bodyre('bl.btc.test', 'raw/max=10/shuffle', '\b(?<!=)([13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[acdefghjklmnpqrstuvwxyz234567890]{30,62})\b')
tflags GB_HASHBL_BTC net
body   HASHBL_BTC_SHA1 eval:check_hashbl_bodyre('sha.test', 'sha1', '\b([13][a-km-zA-HJ-NP-Z1-9]{25,34})\b')
tflags HASHBL_BTC_SHA1 net
body   HASHBL_BTC_MD5_32 eval:check_hashbl_bodyre('md5.test/A', 'md5/max=10', '\b([13][a-km-zA-HJ-NP-Z1-9]{25,34})\b', '^127\.0\.0\.32$')
tflags HASHBL_BTC_MD5_32 net
body   HASHBL_URI eval:check_hashbl_uris('uri.test', 'sha1', '^127\.0\.0\.2$')
tflags HASHBL_URI net
rawbody HASHBL_RAW_SHA1 eval:check_hashbl_bodyre('sha.test', 'sha1', '\b([13][a-km-zA-HJ-NP-Z1-9]{25,34})\b')
tflags HASHBL_RAW_SHA1 net
header HASHBL_EMAIL eval:check_hashbl_emails('email.test')
tflags HASHBL_EMAIL net
header HASHBL_EMAIL_DOM eval:check_hashbl_emails('dom.test', 'md5/domain', 'Reply-To')
tflags HASHBL_EMAIL_DOM net
`

var hashRuleNames = []string{"GB_HASHBL_BTC", "HASHBL_BTC_SHA1", "HASHBL_BTC_MD5_32", "HASHBL_URI", "HASHBL_RAW_SHA1", "HASHBL_EMAIL", "HASHBL_EMAIL_DOM"}

func TestHashBL(t *testing.T) {
	const btc = "1BoatSLRpBPtM5nXoLXBY89G8MYY3gbQ6B"
	const btc2 = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
	srv := dnstest.Start(t,
		"1boatslrpbptm5nxolxby89g8myy3gbq6b.bl.btc.test. 300 IN A 127.0.0.2",
		sha1Hex("1boatslrpbptm5nxolxby89g8myy3gbq6b")+".sha.test. 300 IN A 127.0.0.2",
		md5Hex("1boatslrpbptm5nxolxby89g8myy3gbq6b")+".md5.test. 300 IN A 127.0.0.32",
		md5Hex("3j98t1wpez73cnmqviecrnyiwrnqrhwnly")+".md5.test. 300 IN A 127.0.0.2",
		sha1Hex("http://www.bad-uri.com/pay")+".uri.test. 300 IN A 127.0.0.2",
		sha1Hex("spam.er@bad-sender.com")+".email.test. 300 IN A 127.0.0.2",
		sha1Hex("abuse@bad-sender.com")+".email.test. 300 IN A 127.0.0.2",
		md5Hex("bad-sender.com")+".dom.test. 300 IN A 127.0.0.2",
	)
	pol := policy(t, srv, hashRules+"rbl_timeout 2\n")
	eng := engine(t, pol, checker(t, srv))
	tests := []struct {
		name          string
		body          string
		want          []string
		from, replyTo string
	}{
		{"listed BTC address: raw, sha1 and md5 with subtest", "pay to " + btc + " now", []string{"GB_HASHBL_BTC", "HASHBL_BTC_MD5_32", "HASHBL_BTC_SHA1", "HASHBL_RAW_SHA1"}, "", ""},
		{"listed with an answer the subtest refuses", "pay to " + btc2, nil, "", ""},
		{"address after = is not taken (lookbehind)", "id=" + btc, []string{"HASHBL_BTC_MD5_32", "HASHBL_BTC_SHA1", "HASHBL_RAW_SHA1"}, "", ""},
		{"clean body", "hello there", nil, "", ""},
		{"listed URI", "see http://www.bad-uri.com/pay", []string{"HASHBL_URI"}, "", ""},
		{"clean URI", "see http://www.good.com/", nil, "", ""},
		{"listed From address, tag dropped, case folded", "hi", []string{"HASHBL_EMAIL"}, "Spam.Er+promo@Bad-Sender.com", ""},
		{"listed address in the body", "write to spam.er@bad-sender.com today", []string{"HASHBL_EMAIL"}, "", ""},
		{"welcomelisted role address is not looked up", "write to abuse@bad-sender.com", nil, "", ""},
		{"Reply-To domain, md5", "hi", []string{"HASHBL_EMAIL_DOM"}, "", "x@mail.bad-sender.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			from := tc.from
			if from == "" {
				from = "a@sender.example"
			}
			m := message("198.51.100.8", from, tc.body)
			if tc.replyTo != "" {
				m = tokenizer.Parse([]byte("Reply-To: " + tc.replyTo + "\n" + string(m.RawHeader) + string(m.Body)))
			}
			res, err := eng.Check(context.Background(), m, rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rules() {
				if slices.Contains(hashRuleNames, r) {
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
