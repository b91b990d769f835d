package netcheck_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

const authRules = `
header DKIM_SIGNED      eval:check_dkim_signed()
header DKIM_VALID       eval:check_dkim_valid()
header DKIM_VALID_AU    eval:check_dkim_valid_author_sig()
header DKIM_VALID_EF    eval:check_dkim_valid_envelopefrom()
meta   DKIM_INVALID     DKIM_SIGNED && !DKIM_VALID
header DMARC_PASS       eval:check_dmarc_pass()
header DMARC_REJECT     eval:check_dmarc_reject()
header DMARC_QUAR       eval:check_dmarc_quarantine()
header DMARC_NONE       eval:check_dmarc_none()
header DMARC_MISSING    eval:check_dmarc_missing()
tflags DKIM_SIGNED net
tflags DKIM_VALID net
tflags DKIM_VALID_AU net
tflags DKIM_VALID_EF net
tflags DMARC_PASS net
tflags DMARC_REJECT net
tflags DMARC_QUAR net
tflags DMARC_NONE net
tflags DMARC_MISSING net
score DKIM_INVALID 0 0.1 0 0.1
`

// A dkimKey is an Ed25519 signing key for the tests' "sel" selector.
type dkimKey struct {
	priv ed25519.PrivateKey
	pub  string // the public half, base64 as in a DKIM key record's p= tag
}

func newDKIMKey(t *testing.T) dkimKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dkimKey{priv: priv, pub: base64.StdEncoding.EncodeToString(pub)}
}

// record is the zone line publishing k for domain, with extra tags
// (such as "t=y:s; ") before p=.
func (k dkimKey) record(domain, tags string) string {
	return `sel._domainkey.` + domain + `. 300 IN TXT "v=DKIM1; k=ed25519; ` + tags + `p=` + k.pub + `"`
}

func signed(t *testing.T, key dkimKey, domain string, msg string) string {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: "sel", Signer: key.priv,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestDKIMAndDMARC(t *testing.T) {
	key := newDKIMKey(t)
	srv := dnstest.Start(t,
		key.record("signer.example", ""),
		`_dmarc.signer.example. 300 IN TXT "v=DMARC1; p=reject"`,
		`signer.example. 300 IN TXT "v=spf1 -all"`,
		`_dmarc.quar.example. 300 IN TXT "v=DMARC1; p=quarantine"`,
		`_dmarc.lax.example. 300 IN TXT "v=DMARC1; p=none"`,
		`lax.example. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"`,
		`_dmarc.sub.example. 300 IN TXT "v=DMARC1; p=none; sp=reject"`,
	)
	pol := policy(t, srv, authRules)
	eng := engine(t, pol, checker(t, srv))
	msg := func(from, envDomain, body string) string {
		return "Return-Path: <bounce@" + envDomain + ">\r\n" +
			"Received: from mx.sender.example (mx.sender.example [198.51.100.7])\r\n" +
			"\tby mail.example.org (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\r\n" +
			"From: " + from + "\r\nTo: user@example.org\r\nSubject: hello\r\nDate: Mon, 8 Jul 2024 11:59:00 +0000\r\n" +
			"Message-ID: <3@example>\r\n\r\n" + body + "\r\n"
	}
	good := signed(t, key, "signer.example", msg("a@signer.example", "signer.example", "hello there"))
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{"signed by the author", good,
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DMARC_PASS"}},
		{"body changed after signing, DMARC reject", strings.Replace(good, "hello there", "hello thar", 1),
			[]string{"DKIM_INVALID", "DKIM_SIGNED", "DMARC_REJECT"}},
		{"signed by a third party", signed(t, key, "signer.example", msg("a@quar.example", "other.example", "hi")),
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DMARC_QUAR"}},
		{"unsigned, aligned SPF pass", msg("a@lax.example", "lax.example", "hi"), []string{"DMARC_PASS"}},
		{"unsigned, SPF not aligned, p=none", msg("a@lax.example", "other.example", "hi"), []string{"DMARC_NONE"}},
		{"subdomain policy", msg("a@x.sub.example", "other.example", "hi"), []string{"DMARC_REJECT"}},
		{"no DMARC record", msg("a@nodmarc.example", "nodmarc.example", "hi"), []string{"DMARC_MISSING"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tc.raw)), rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rules() {
				if strings.HasPrefix(r, "DKIM_") || strings.HasPrefix(r, "DMARC_") {
					got = append(got, r)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
		})
	}
}
