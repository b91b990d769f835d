package netcheck_test

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

func sha256B32(s string) string {
	h := sha256.Sum256([]byte(s))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:]))
}

// tagAttRules are check_hashbl_tag and check_hashbl_attachments rules as
// HashBL.pm's examples write them.
const tagAttRules = `
header HASHBL_TAG_IP    eval:check_hashbl_tag('ipbl.test/A', 'raw/ip/revip', 'LASTEXTERNALIP', '^127\.')
tflags HASHBL_TAG_IP    net
header HASHBL_TAG_IP6   eval:check_hashbl_tag('ipbl.test', 'raw/ipv6/revip', '_LASTEXTERNALIP_')
tflags HASHBL_TAG_IP6   net
header HASHBL_TAG_DOM   eval:check_hashbl_tag('dombl.test', 'sha1', '_AUTHORDOMAIN_')
tflags HASHBL_TAG_DOM   net
header HASHBL_TAG_TRIM  eval:check_hashbl_tag('trimbl.test', 'raw/trim', 'AUTHORDOMAIN', '^127\.0\.0\.2$')
tflags HASHBL_TAG_TRIM  net
body   HASHBL_ATT       eval:check_hashbl_attachments('attbl.test', 'sha256')
tflags HASHBL_ATT       net
body   HASHBL_ATT_SHA1  eval:check_hashbl_attachments('att1.test/A', 'sha1/minsize=10/maxsize=100', '^127\.0\.0\.3$')
tflags HASHBL_ATT_SHA1  net
body   HASHBL_ATT_RAW   eval:check_hashbl_attachments('attbl.test', 'raw')
tflags HASHBL_ATT_RAW   net
`

var tagAttNames = []string{"HASHBL_TAG_IP", "HASHBL_TAG_IP6", "HASHBL_TAG_DOM", "HASHBL_TAG_TRIM", "HASHBL_ATT", "HASHBL_ATT_SHA1", "HASHBL_ATT_RAW"}

// withAttachment is a message from relay and from with one attachment.
func withAttachment(relay, from, name, ctype, content string) *tokenizer.Message {
	m := message(relay, from, "x")
	hdr := strings.TrimSuffix(m.RawHeader, "\n")
	return tokenizer.Parse([]byte(hdr + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
		"--b1\nContent-Type: text/plain\n\nsee attached\n" +
		"--b1\nContent-Type: " + ctype + "; name=\"" + name + "\"\nContent-Disposition: attachment; filename=\"" + name + "\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte(content)) + "\n--b1--\n"))
}

func TestHashBLTagAndAttachments(t *testing.T) {
	const bad = "%PDF-1.4 bad invoice"
	large := strings.Repeat("large ", 20)
	srv := dnstest.Start(t,
		"7.100.51.198.ipbl.test. 300 IN A 127.0.0.2",
		"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.f.4.0.1.0.a.2.ipbl.test. 300 IN A 127.0.0.2",
		sha1Hex("bad-author.example")+".dombl.test. 300 IN A 127.0.0.2",
		"bad-host.co.uk.trimbl.test. 300 IN A 127.0.0.2",
		sha256B32(bad)+".attbl.test. 300 IN A 127.0.0.2",
		sha1Hex(bad)+".att1.test. 300 IN A 127.0.0.3",
		sha256B32("ignored by hash")+".attbl.test. 300 IN A 127.0.0.2",
		sha1Hex("tiny")+".att1.test. 300 IN A 127.0.0.3",
		sha1Hex(large)+".att1.test. 300 IN A 127.0.0.3",
	)
	tests := []struct {
		name  string
		extra string
		msg   *tokenizer.Message
		want  []string
	}{
		{"listed relay address, reversed", "", message("198.51.100.7", "a@sender.example", "hi"), []string{"HASHBL_TAG_IP"}},
		{"listed IPv6 relay, nibbles", "", message("2a01:4f8:0:0:0:0:0:7", "a@sender.example", "hi"), []string{"HASHBL_TAG_IP", "HASHBL_TAG_IP6"}},
		{"clean relay", "", message("198.51.100.8", "a@sender.example", "hi"), nil},
		{"listed author domain, sha1", "", message("198.51.100.8", "a@Bad-Author.example", "hi"), []string{"HASHBL_TAG_DOM"}},
		{"trim cuts the host to its domain", "", message("198.51.100.8", "a@mail.bad-host.co.uk", "hi"), []string{"HASHBL_TAG_TRIM"}},
		{"uridnsbl_skip_domain drops a tag value", "uridnsbl_skip_domain bad-host.co.uk\n", message("198.51.100.8", "a@mail.bad-host.co.uk", "hi"), nil},
		{"listed attachment", "", withAttachment("198.51.100.8", "a@sender.example", "inv.pdf", "application/pdf", bad), []string{"HASHBL_ATT", "HASHBL_ATT_SHA1"}},
		{"clean attachment", "", withAttachment("198.51.100.8", "a@sender.example", "inv.pdf", "application/pdf", "fine"), nil},
		{"hashbl_ignore by file name", "hashbl_ignore INV.pdf\n", withAttachment("198.51.100.8", "a@sender.example", "inv.pdf", "application/pdf", bad), nil},
		{"hashbl_ignore by media type", "hashbl_ignore application/pdf\n", withAttachment("198.51.100.8", "a@sender.example", "inv.pdf", "application/pdf", bad), nil},
		{"hashbl_ignore by hash", "hashbl_ignore " + strings.ToUpper(sha256B32("ignored by hash")) + "\n",
			withAttachment("198.51.100.8", "a@sender.example", "x.bin", "application/octet-stream", "ignored by hash"), nil},
		{"minsize skips a small part", "", withAttachment("198.51.100.8", "a@sender.example", "t.bin", "application/octet-stream", "tiny"), nil},
		{"maxsize skips a large part", "", withAttachment("198.51.100.8", "a@sender.example", "l.bin", "application/octet-stream", large), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pol := policy(t, srv, tagAttRules+"rbl_timeout 2\n"+tc.extra)
			eng := engine(t, pol, checker(t, srv))
			res, err := eng.Check(context.Background(), tc.msg, rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rules() {
				if slices.Contains(tagAttNames, r) {
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
