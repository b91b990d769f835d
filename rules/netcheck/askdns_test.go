package netcheck_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

// askRules are askdns rules as the stock rules write them (72_active.cf:
// fresh.fmb.la, __PDS_SPF_ONLYALL, dkimwl, __HELO_DNS) and the other
// subtest forms of Plugin::AskDNS.
const askRules = `
askdns   ASK_FRESH       _AUTHORDOMAIN_.fresh.test. A /^127\.2\.0\.2$/
askdns   ASK_FRESH14     _AUTHORDOMAIN_.fresh.test. A /^127\.2\.0\.14$/
askdns   ASK_SPF_ALL     _SENDERDOMAIN_ TXT /^v=spf1 \+all$/
askdns   ASK_DKIMWL      _DKIMDOMAIN_.dkimwl.test A /^127\.\d+\.3\.\d+$/
askdns   ASK_HELO_DNS    _LASTEXTERNALHELO_ A /./
askdns   ASK_IP_MASK     _LASTEXTERNALIP_.ipl.test A 4
askdns   ASK_IP_RANGE    _LASTEXTERNALIP_.ipl.test A 127.0.0.4-127.0.0.8
askdns   ASK_NX          _AUTHORDOMAIN_.nx.test A [NXDOMAIN]
askdns   ASK_TXT_EXACT   _AUTHORDOMAIN_.txt.test TXT "listed"
tflags   ASK_FRESH net
meta     ASK_META        ASK_FRESH && !ASK_FRESH14
`

var askRuleNames = []string{"ASK_FRESH", "ASK_FRESH14", "ASK_SPF_ALL", "ASK_DKIMWL", "ASK_HELO_DNS",
	"ASK_IP_MASK", "ASK_IP_RANGE", "ASK_NX", "ASK_TXT_EXACT", "ASK_META"}

func TestAskDNS(t *testing.T) {
	key := newDKIMKey(t)
	srv := dnstest.Start(t,
		"new.example.fresh.test. 300 IN A 127.2.0.2",
		`open.example. 300 IN TXT "v=spf1 +all"`,
		key.record("signer.example", ""),
		"signer.example.dkimwl.test. 300 IN A 127.0.3.1",
		"mx.helo.example. 300 IN A 198.51.100.9",
		"198.51.100.7.ipl.test. 300 IN A 127.0.0.6",
		"txt.example.txt.test. 300 IN TXT \"listed\"",
		"new.example.nx.test. 300 IN A 127.0.0.2",
		"clean.example.nx.test. 300 IN A 127.0.0.2",
	)
	pol := policy(t, srv, askRules)
	eng := engine(t, pol, checker(t, srv))
	msg := func(ip, helo, envFrom, from string) string {
		return "Return-Path: <" + envFrom + ">\r\n" +
			"Received: from " + helo + " (" + helo + " [" + ip + "])\r\n" +
			"\tby mail.example.org (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\r\n" +
			"From: " + from + "\r\nTo: user@example.org\r\nSubject: hello\r\nDate: Mon, 8 Jul 2024 11:59:00 +0000\r\n" +
			"Message-ID: <5@example>\r\n\r\nhello\r\n"
	}
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{"fresh author domain, meta on it", msg("198.51.100.8", "x.invalid", "a@clean.example", "a@new.example"), []string{"ASK_FRESH", "ASK_META"}},
		{"sender domain publishing +all", msg("198.51.100.8", "x.invalid", "a@open.example", "a@clean.example"), []string{"ASK_SPF_ALL"}},
		{"valid DKIM domain on the list", signed(t, key, "signer.example", msg("198.51.100.8", "x.invalid", "a@clean.example", "a@clean.example")), []string{"ASK_DKIMWL"}},
		{"HELO that resolves", msg("198.51.100.8", "mx.helo.example", "a@clean.example", "a@clean.example"), []string{"ASK_HELO_DNS"}},
		{"relay IP with mask and range subtests", msg("198.51.100.7", "x.invalid", "a@clean.example", "a@clean.example"), []string{"ASK_IP_MASK", "ASK_IP_RANGE"}},
		{"NXDOMAIN subtest", msg("198.51.100.8", "x.invalid", "a@clean.example", "a@other.example"), []string{"ASK_NX"}},
		{"TXT exact string", msg("198.51.100.8", "x.invalid", "a@clean.example", "a@txt.example"), []string{"ASK_NX", "ASK_TXT_EXACT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tc.raw)), rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rules() {
				if slices.Contains(askRuleNames, r) {
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
