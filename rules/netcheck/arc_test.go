package netcheck

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// arcSigner adds ARC sets to a message, written after RFC 8617 (the
// signer the verifier is tested against).
type arcSigner struct {
	t      *testing.T
	domain string
	alg    string
	sign   func(sum []byte) []byte
}

func (s arcSigner) seal(headers []hdr, body []byte, cv string) []hdr {
	s.t.Helper()
	inst := 1
	for _, h := range headers {
		if strings.EqualFold(h.name, "ARC-Seal") {
			inst++
		}
	}
	i := " i=" + itoa(inst) + ";"
	aar := hdr{"ARC-Authentication-Results", i + " mx.relay.example; spf=pass smtp.mailfrom=sender.example"}
	bh := sha256.Sum256(canonBody(body, true))
	ams := hdr{"ARC-Message-Signature", i + " a=" + s.alg + "; c=relaxed/relaxed; d=" + s.domain + "; s=arc;\r\n\th=From:To:Subject; bh=" +
		base64.StdEncoding.EncodeToString(bh[:]) + "; b="}
	var b strings.Builder
	for _, name := range []string{"From", "To", "Subject"} {
		for j := len(headers) - 1; j >= 0; j-- {
			if strings.EqualFold(headers[j].name, name) {
				b.WriteString(relaxedHeader(headers[j].name, headers[j].raw))
				break
			}
		}
	}
	b.WriteString(strings.TrimSuffix(relaxedHeader(ams.name, ams.raw), "\r\n"))
	sum := sha256.Sum256([]byte(b.String()))
	ams.raw += base64.StdEncoding.EncodeToString(s.sign(sum[:]))
	as := hdr{"ARC-Seal", i + " a=" + s.alg + "; cv=" + cv + "; d=" + s.domain + "; s=arc; b="}
	out := append([]hdr{as, ams, aar}, headers...)
	var sb strings.Builder
	for k := 1; k <= inst; k++ {
		for _, name := range []string{"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"} {
			for _, h := range out {
				if strings.EqualFold(h.name, name) {
					if n, _ := arcInstance(strings.ToLower(name), h.raw); n == k {
						c := relaxedHeader(h.name, h.raw)
						if k == inst && name == "ARC-Seal" {
							c = strings.TrimSuffix(c, "\r\n")
						}
						sb.WriteString(c)
					}
				}
			}
		}
	}
	sum = sha256.Sum256([]byte(sb.String()))
	out[0].raw += base64.StdEncoding.EncodeToString(s.sign(sum[:]))
	return out
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestARC(t *testing.T) {
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	keys := map[string]string{
		"arc._domainkey.ed.example":  "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub),
		"arc._domainkey.rsa.example": "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub),
	}
	lookup := func(name string) ([]string, error) {
		if k, ok := keys[name]; ok {
			return []string{k}, nil
		}
		return nil, errors.New("no such host")
	}
	ed := arcSigner{t, "ed.example", "ed25519-sha256", func(sum []byte) []byte { return ed25519.Sign(edKey, sum) }}
	rs := arcSigner{t, "rsa.example", "rsa-sha256", func(sum []byte) []byte {
		sig, err := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, sum)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}}
	base := []hdr{{"From", " a@sender.example"}, {"To", " user@example.org"}, {"Subject", " hello\r\n\tthere"}}
	body := []byte("hello  there \r\n\r\n")
	one := ed.seal(base, body, "none")
	two := rs.seal(one, body, "pass")
	tamper := func(hs []hdr, name, val string) []hdr {
		out := append([]hdr(nil), hs...)
		for i := range out {
			if out[i].name == name {
				out[i].raw = val
			}
		}
		return out
	}
	tests := []struct {
		name    string
		headers []hdr
		body    []byte
		want    string
	}{
		{"no ARC", base, body, "none"},
		{"one set, ed25519", one, body, "pass"},
		{"two sets, rsa on ed25519", two, body, "pass"},
		{"body whitespace changed (relaxed)", two, []byte("hello there\r\n"), "pass"},
		{"body changed", two, []byte("hello thar\r\n"), "fail"},
		{"subject changed", tamper(two, "Subject", " other"), body, "fail"},
		{"first seal cv=pass", rs.seal(base, body, "pass"), body, "fail"},
		{"second seal cv=none", rs.seal(one, body, "none"), body, "fail"},
		{"set missing its seal", one[1:], body, "fail"},
		{"unknown key", arcSigner{t, "nokey.example", "ed25519-sha256", ed.sign}.seal(base, body, "none"), body, "fail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := arcResult(tc.headers, tc.body, lookup); got != tc.want {
				t.Errorf("arcResult %q, want %q", got, tc.want)
			}
		})
	}
}
