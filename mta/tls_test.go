package mta_test

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
)

// TestSTARTTLS: EHLO offers STARTTLS only with tls_cert and tls_key;
// with them a client upgrades, the certificate is the configured one,
// and mail sent over TLS is filed as usual.
func TestSTARTTLS(t *testing.T) {
	cert := testpeer.SelfSignedCert(t)
	for _, tc := range []struct {
		name      string
		tls       bool
		wantOffer bool
	}{
		{name: "with tls_cert and tls_key", tls: true, wantOffer: true},
		{name: "without", tls: false, wantOffer: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *mta.Config) {
				if tc.tls {
					c.TLSCert, c.TLSKey = cert.CertFile, cert.KeyFile
				}
			})
			c, err := smtp.Dial(e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Hello("client.example.net"); err != nil {
				t.Fatal(err)
			}
			if offered, _ := c.Extension("STARTTLS"); offered != tc.wantOffer {
				t.Fatalf("STARTTLS offered: %v, want %v", offered, tc.wantOffer)
			}
			if !tc.wantOffer {
				return
			}
			if err := c.Quit(); err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			c, err = smtp.NewClientStartTLS(conn, &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"})
			if err != nil {
				t.Fatalf("STARTTLS: %v", err)
			}
			defer c.Close()
			if err := c.Hello("client.example.net"); err != nil {
				t.Fatal(err)
			}
			state, ok := c.TLSConnectionState()
			if !ok || !state.HandshakeComplete || state.Version < tls.VersionTLS12 || len(state.VerifiedChains) == 0 {
				t.Fatalf("TLS state %+v, ok %v", state, ok)
			}
			if offered, _ := c.Extension("STARTTLS"); offered {
				t.Error("STARTTLS offered again after the upgrade")
			}
			if err := c.SendMail("carol@example.net", []string{"alice@example.com"}, strings.NewReader(string(message("over tls", "hello")))); err != nil {
				t.Fatalf("send over TLS: %v", err)
			}
			if err := c.Quit(); err != nil {
				t.Fatal(err)
			}
			if got := only(t, e.alice, ""); !strings.Contains(string(got), "X-Spam-Status: No") {
				t.Errorf("message over TLS not filed with markup:\n%s", got)
			}
		})
	}
}

// TestTLSConfigRefused: a certificate that cannot be loaded stops the
// server from starting instead of silently offering no STARTTLS.
func TestTLSConfigRefused(t *testing.T) {
	cert := testpeer.SelfSignedCert(t)
	for _, tc := range []struct {
		name      string
		cert, key string
	}{
		{"cert without key", cert.CertFile, ""},
		{"key without cert", "", cert.KeyFile},
		{"missing files", "/nonexistent/cert.pem", "/nonexistent/key.pem"},
		{"key and cert swapped", cert.KeyFile, cert.CertFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mta.Config{Hostname: "mx.example.com", Domains: []string{"example.com"}, NextHop: "lmtp:127.0.0.1:24",
				TLSCert: tc.cert, TLSKey: tc.key}
			svc, _ := newScanService(t, t.TempDir())
			if _, err := mta.NewServer(cfg, mta.Deps{Scanner: svc}); err == nil {
				t.Fatal("server built")
			}
		})
	}
}
