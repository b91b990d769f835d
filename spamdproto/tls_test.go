package spamdproto

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// startTLSServer serves TLS on 127.0.0.1 with a fresh certificate.
func startTLSServer(t *testing.T, cfg Config, scanner Scanner, teller Teller) (*testServer, testpeer.Cert) {
	t.Helper()
	cert := testpeer.SelfSignedCert(t)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := TLSListener(raw, cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ts := &testServer{Server: NewServer(cfg, scanner, teller), addr: raw.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- ts.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-ts.done
	})
	return ts, cert
}

func TestTLSListenerBadFiles(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := TLSListener(l, filepath.Join(t.TempDir(), "missing.crt"), "missing.key"); err == nil {
		t.Fatal("TLSListener accepted missing files")
	}
}

func TestTLSClient(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	ts, cert := startTLSServer(t, Config{}, gtubeScanner(), newFakeTeller())
	c := testClient(ts.addr)
	c.TLS = &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"}
	ctx := context.Background()

	res, err := c.Symbols(ctx, "", gtube, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != "GTUBE,NO_RECEIVED,NO_RELAYS" || !res.Spam {
		t.Errorf("symbols over TLS: %+v (%q)", res, res.Body)
	}
	res, err = c.Process(ctx, "", gtube, true)
	if err != nil || string(res.Body) != "X-Spam-Flag: YES\n"+string(gtube) {
		t.Errorf("compressed process over TLS: %v, %+v", err, res)
	}
	res, err = c.Tell(ctx, &TellRequest{Message: gtube, Class: ClassSpam, Set: Targets{Local: true}}, false)
	if err != nil || !res.DidSet.Local {
		t.Errorf("tell over TLS: %v, %+v", err, res)
	}
	if res, err = c.Ping(ctx); err != nil || res.Status != "PONG" {
		t.Errorf("ping over TLS: %v, %+v", err, res)
	}

	// A client that does not trust the certificate, or does not speak
	// TLS, gets no answer.
	untrusting := testClient(ts.addr)
	untrusting.TLS = &tls.Config{ServerName: "127.0.0.1"}
	_, err = untrusting.Check(ctx, "", gtube, false)
	var e *Error
	if !errors.As(err, &e) || e.Code != EX_UNAVAILABLE {
		t.Errorf("untrusted certificate: got %v, want EX_UNAVAILABLE", err)
	}
	_, err = testClient(ts.addr).Check(ctx, "", gtube, false)
	if !errors.As(err, &e) || errors.Is(err, ErrServerStatus) {
		t.Errorf("plain client on a TLS port: got %v, want a client-side *Error", err)
	}
}

// TestSpamcTLS runs Debian's spamc -S against the TLS listener. spamc
// does not verify the server's certificate unless given a CA.
func TestSpamcTLS(t *testing.T) {
	bin := spamcPath(t)
	gtube := readMessage(t, "gtube.eml")
	ts, cert := startTLSServer(t, Config{}, gtubeScanner(), newFakeTeller())
	plain := startServer(t, Config{}, gtubeScanner(), nil)
	marked := "X-Spam-Flag: YES\n" + string(gtube)

	tests := []struct {
		name     string
		ts       *testServer
		args     []string
		wantOut  string
		wantExit int
	}{
		{"check", ts, []string{"-S", "-c"}, "1000.0/5.0\n", 1},
		{"symbols", ts, []string{"-S", "-y"}, "GTUBE,NO_RECEIVED,NO_RELAYS", 0},
		{"process", ts, []string{"-S"}, marked, 0},
		{"headers", ts, []string{"-S", "--headers"}, marked, 0},
		{"report", ts, []string{"-S", "-R"}, "1000.0/5.0\nSpam detection report\n\n", 0},
		// spamc -S -K never works, against any server: after the request
		// line it calls SSL_write with the empty PING body, which fails
		// ("SSL write failed"), and it exits EX_IOERR.
		{"ping", ts, []string{"-S", "-K"}, "", EX_IOERR},
		{"learn", ts, []string{"-S", "-L", "spam"}, "Message successfully un/learned\n", 0},
		{"verified with the CA", ts, []string{"-S", "--ssl-ca-file", cert.CertFile, "-c"}, "1000.0/5.0\n", 1},
		// Without -S spamc gets no answer from a TLS port, and falls back.
		{"plain client on TLS port", ts, []string{"-c"}, "0/0\n", 0},
		{"plain client on TLS port no fallback", ts, []string{"-x"}, "", EX_IOERR},
		// With -S on a plain port the handshake fails.
		{"TLS client on plain port", plain, []string{"-S", "-x", "-c"}, "0/0\n", EX_UNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runSpamc(t, bin, gtube, append([]string{"-d", "127.0.0.1", "-p", tt.ts.port()}, tt.args...)...)
			if got.stdout != tt.wantOut || got.exit != tt.wantExit {
				t.Errorf("spamc %v: exit %d, output %q\nwant exit %d, output %q", tt.args, got.exit, got.stdout, tt.wantExit, tt.wantOut)
			}
		})
	}
}
