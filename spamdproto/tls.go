package spamdproto

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"
)

// TLS, as spamd --ssl and spamc -S speak it, starts at the first byte of
// the connection: there is no STARTTLS. A TLS listener serves only TLS
// clients; spamd's --ssl-port serves TLS on a second port next to a
// plain one, which is a second listener here:
//
//	plain, _ := net.Listen("tcp", "127.0.0.1:783")
//	raw, _ := net.Listen("tcp", "127.0.0.1:784")
//	secure, err := spamdproto.TLSListener(raw, certFile, keyFile)
//	go srv.Serve(ctx, plain)
//	go srv.Serve(ctx, secure)
//
// The server needs nothing else: the handshake runs on the connection's
// first read, under Config.ReadTimeout, after the allowed-networks check
// (a refused client never gets a handshake); the half-close after the
// answer is a TLS close_notify.

// ServerTLSConfig loads a PEM certificate chain and its private key
// (spamd --ssl-cert and --ssl-key) into a server configuration that
// accepts TLS 1.2 and later, which every spamc built against a current
// OpenSSL speaks. Clients are not asked for certificates. The files are
// read once; see TLSCertificate for a configuration that rereads them.
func ServerTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	c, err := NewTLSCertificate(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return c.ServerConfig(), nil
}

// A TLSCertificate is the server's certificate and key, read from their
// files and read again on Reload (SIGHUP), so that a renewed certificate
// is served without a restart.
//
// # Concurrency
//
// Reload and the handshakes of ServerConfig's connections may run at
// once: a handshake sees either the old pair or the new one, whole. A
// connection keeps the certificate it was greeted with; the next one
// gets the new.
type TLSCertificate struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// NewTLSCertificate reads certFile and keyFile (PEM).
func NewTLSCertificate(certFile, keyFile string) (*TLSCertificate, error) {
	c := &TLSCertificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. When they do not make a valid pair (a
// renewal half written, a key that does not match) the error says so and
// the certificate in use stays.
func (c *TLSCertificate) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load spamd TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert.Store(&cert)
	return nil
}

// ServerConfig is a server configuration that serves the certificate
// loaded last, TLS 1.2 and later, without client certificates.
func (c *TLSCertificate) ServerConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil },
		MinVersion:     tls.VersionTLS12,
	}
}

// TLSListener wraps l so that every connection it accepts speaks TLS
// with the certificate and key in certFile and keyFile (see
// ServerTLSConfig). Serve the result like any listener; closing it closes
// l. The files are read once, here.
func TLSListener(l net.Listener, certFile, keyFile string) (net.Listener, error) {
	cfg, err := ServerTLSConfig(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return tls.NewListener(l, cfg), nil
}
