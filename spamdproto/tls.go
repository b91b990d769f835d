package spamdproto

import (
	"crypto/tls"
	"fmt"
	"net"
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
// OpenSSL speaks. Clients are not asked for certificates.
func ServerTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load spamd TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}, nil
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
