package netcheck_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

//go:embed testdata/arc_seal.pl
var arcSealScript []byte

const arcRules = `
header ARC_SIGNED eval:check_arc_signed()
tflags ARC_SIGNED net
header ARC_VALID  eval:check_arc_valid()
tflags ARC_VALID  net
`

// perlARCSealer seals messages with Perl's Mail::DKIM::ARC::Signer, an
// implementation independent of ours.
type perlARCSealer struct {
	perl, script, dir string
}

func newPerlARCSealer(t *testing.T) perlARCSealer {
	t.Helper()
	perl := testpeer.Program(t, "perl")
	if out, err := exec.Command(perl, "-MMail::DKIM::ARC::Signer", "-e1").CombinedOutput(); err != nil {
		testpeer.Missing(t, "Perl module Mail::DKIM::ARC::Signer (libmail-dkim-perl): %v %s", err, out)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "arc_seal.pl")
	if err := os.WriteFile(script, arcSealScript, 0o600); err != nil {
		t.Fatal(err)
	}
	return perlARCSealer{perl: perl, script: script, dir: dir}
}

// key makes an RSA key for selector._domainkey.domain, writes its
// private half for the signer and returns the public half's TXT record.
func (p perlARCSealer) key(t *testing.T, selector, domain string) (keyFile, record string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(p.dir, domain+".key")
	block := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if err := os.WriteFile(keyFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// A TXT string holds at most 255 bytes: the key is split in several.
	val := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
	var parts []string
	for len(val) > 200 {
		parts, val = append(parts, `"`+val[:200]+`"`), val[200:]
	}
	parts = append(parts, `"`+val+`"`)
	return keyFile, selector + "._domainkey." + domain + ". 300 IN TXT " + strings.Join(parts, " ")
}

// seal adds an ARC set by srvID (signing for domain) to msg, which must
// carry srvID's Authentication-Results.
func (p perlARCSealer) seal(t *testing.T, keyFile, domain, selector, srvID, chain, msg string) string {
	t.Helper()
	cmd := exec.Command(p.perl, p.script, keyFile, domain, selector, srvID, chain)
	cmd.Stdin = strings.NewReader(msg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("arc_seal.pl: %v: %s", err, stderr.String())
	}
	return string(out)
}

// An ARC chain sealed by another implementation (Perl's Mail::DKIM, the
// one SpamAssassin uses) verifies: one hop, and a forwarder's second set
// over the first; changing the body or a signed header after sealing
// breaks it, and a chain whose newest seal claims cv=none over an older
// set fails.
func TestARCThirdPartyChain(t *testing.T) {
	p := newPerlARCSealer(t)
	key1, rec1 := p.key(t, "arc1", "relay.example")
	key2, rec2 := p.key(t, "arc2", "lists.example")
	srv := dnstest.Start(t, rec1, rec2)
	pol := policy(t, srv, arcRules)
	eng := engine(t, pol, checker(t, srv))

	orig := "Received: from mx.sender.example (mx.sender.example [198.51.100.7])\r\n" +
		"\tby mx1.relay.example (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\r\n" +
		"From: Alice <a@sender.example>\r\nTo: list@lists.example\r\nSubject: hello\r\n\tthere\r\n" +
		"Date: Mon, 8 Jul 2024 11:59:00 +0000\r\nMessage-ID: <arc1@sender.example>\r\n\r\n" +
		"hello  there \r\n\r\nsecond paragraph\r\n"
	hop1 := p.seal(t, key1, "relay.example", "arc1", "mx1.relay.example", "none",
		"Authentication-Results: mx1.relay.example; spf=pass smtp.mailfrom=sender.example\r\n"+orig)
	hop2 := p.seal(t, key2, "lists.example", "arc2", "mx.lists.example", "pass",
		"Authentication-Results: mx.lists.example; arc=pass; spf=pass smtp.mailfrom=relay.example\r\n"+hop1)
	badCV := p.seal(t, key2, "lists.example", "arc2", "mx.lists.example", "none",
		"Authentication-Results: mx.lists.example; arc=pass\r\n"+hop1)

	if !strings.HasPrefix(hop2, "ARC-Seal: i=2;") || !strings.Contains(hop2, "\r\nARC-Seal: i=1;") {
		t.Fatalf("the signer did not add a second set:\n%s", hop2)
	}

	tests := []struct {
		name, raw string
		want      []string
	}{
		{"not sealed", orig, nil},
		{"one set", hop1, []string{"ARC_SIGNED", "ARC_VALID"}},
		{"two sets", hop2, []string{"ARC_SIGNED", "ARC_VALID"}},
		// spamc and Maildir hand over LF line ends; the signature is
		// over CRLF ones.
		{"two sets, LF line ends", strings.ReplaceAll(hop2, "\r\n", "\n"), []string{"ARC_SIGNED", "ARC_VALID"}},
		{"two sets under a later Received", "Received: from mx.lists.example (mx.lists.example [203.0.113.9])\r\n" +
			"\tby mail.example.org with ESMTP; Mon, 8 Jul 2024 12:00:05 +0000\r\n" + hop2, []string{"ARC_SIGNED", "ARC_VALID"}},
		{"body changed after sealing", strings.Replace(hop2, "second paragraph", "second paragraf", 1), []string{"ARC_SIGNED"}},
		{"subject changed after sealing", strings.Replace(hop2, "Subject: hello", "Subject: hullo", 1), []string{"ARC_SIGNED"}},
		{"second seal with cv=none", badCV, []string{"ARC_SIGNED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tc.raw)), rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(res.Rules(), func(r string) bool { return !strings.HasPrefix(r, "ARC_") })
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v\n%s", got, tc.want, tc.raw)
			}
		})
	}
}
