package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
)

var ehloStartTLS = regexp.MustCompile(`(?m)^<-  250[ -]STARTTLS\r?$`)

// TestSMTPStartTLSWithSwaks: "gospamd serve" with tls_cert and tls_key in
// [smtp] offers STARTTLS, and swaks --tls (verifying the certificate)
// delivers over it; without them EHLO does not offer it.
func TestSMTPStartTLSWithSwaks(t *testing.T) {
	bin := testpeer.Program(t, "swaks")
	cert := testpeer.SelfSignedCert(t)
	for _, tc := range []struct {
		name  string
		tls   bool
		args  []string
		want  int
		inbox int
	}{
		{name: "STARTTLS offered and used", tls: true, want: 250, inbox: 1,
			args: []string{"--tls", "--tls-verify", "--tls-ca-path", cert.CertFile}},
		{name: "not offered without a certificate", tls: false, want: 250, inbox: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startSMTPDaemon(t, func(c *mta.Config) {
				if tc.tls {
					c.TLSCert, c.TLSKey = cert.CertFile, cert.KeyFile
				}
			})
			got, out := swaks(t, bin, d.smtpAddr, append([]string{"--to", "alice@example.com", "--body", "over tls?"}, tc.args...)...)
			if got != tc.want {
				t.Fatalf("answer %d, want %d:\n%s", got, tc.want, out)
			}
			if offered := ehloStartTLS.MatchString(out); offered != tc.tls {
				t.Fatalf("EHLO offers STARTTLS: %v, want %v:\n%s", offered, tc.tls, out)
			}
			if tls := strings.Contains(out, "<~  250 2.0.0 OK"); tls != tc.tls {
				t.Fatalf("message accepted over TLS: %v, want %v:\n%s", tls, tc.tls, out)
			}
			if n := mustCount(t, d.alice, ""); n != tc.inbox {
				t.Fatalf("alice's inbox has %d messages, want %d", n, tc.inbox)
			}
		})
	}
}
