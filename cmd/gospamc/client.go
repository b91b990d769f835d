package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// maxHosts is how many -d hosts spamc keeps.
const maxHosts = 256

// newClient turns the options into a spamd client. The error is about
// the TLS files; the client is usable without TLS regardless.
func newClient(o *options, log *logger) (*spamdproto.Client, error) {
	c := &spamdproto.Client{
		UnixSocket:      o.socket,
		Timeout:         seconds(o.timeout),
		ConnectTimeout:  seconds(o.connectTimeout), // spamc: no -n nor -t, no connect timeout
		Retries:         o.connectRetries,
		RetrySleep:      time.Duration(o.retrySleep) * time.Second,
		MaxResponseBody: int64(o.maxSize) + expansionAllowance,
		Logger:          log.slog(o.logToStderr),
	}
	switch {
	case o.retrySleep < 0:
		c.RetrySleep = 0 // the default, 1 s
	case o.retrySleep == 0:
		c.RetrySleep = -1 // no pause
	}
	switch {
	case o.inet4 && !o.inet6:
		c.Network = "tcp4"
	case o.inet6 && !o.inet4:
		c.Network = "tcp6"
	}
	c.Hosts = hostList(o)
	if !o.useSSL {
		return c, nil
	}
	cfg, err := clientTLSConfig(o)
	if err != nil {
		return c, err
	}
	c.TLS = cfg
	return c, nil
}

// seconds converts a spamc timeout: 0 means none.
func seconds(n int) time.Duration {
	if n <= 0 {
		return -1
	}
	return time.Duration(n) * time.Second
}

// hostList is -d split at commas, each with -p; localhost without -d.
// -H rotates the list by a random amount; without safe fallback only the
// first host is kept, as spamc does.
func hostList(o *options) []string {
	port := strconv.Itoa(o.port)
	if o.hosts == "" {
		return []string{net.JoinHostPort("localhost", port)}
	}
	names := strings.Split(o.hosts, ",")
	if len(names) > maxHosts {
		names = names[:maxHosts]
	}
	hosts := make([]string, len(names))
	for i, h := range names {
		hosts[i] = net.JoinHostPort(h, port)
	}
	if o.randomize && len(hosts) > 1 {
		k := rand.IntN(len(hosts))
		hosts = append(hosts[k:], hosts[:k]...)
	}
	if !o.safeFallback {
		hosts = hosts[:1]
	}
	return hosts
}

// clientTLSConfig is spamc -S: TLS without checking the server's
// certificate, unless --ssl-ca-file or --ssl-ca-path name the CAs to
// check it against (the chain only: spamc does not match host names),
// and a client certificate with --ssl-cert and --ssl-key.
func clientTLSConfig(o *options) (*tls.Config, error) {
	// spamc's default: spamd certificates are usually self-signed.
	cfg := &tls.Config{InsecureSkipVerify: true}
	if o.sslCAFile != "" || o.sslCAPath != "" {
		pool, err := loadCAs(o.sslCAFile, o.sslCAPath)
		if err != nil {
			return nil, err
		}
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, pool)
		}
	}
	if o.clientCert {
		cert, err := tls.LoadX509KeyPair(o.sslCert, o.sslKey)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s and key %s: %w", o.sslCert, o.sslKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadCAs reads PEM certificates from a file and from every file of a
// directory.
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	var files []string
	if file != "" {
		files = append(files, file)
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read CA directory: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	found := false
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		found = pool.AppendCertsFromPEM(pem) || found
	}
	if !found {
		return nil, fmt.Errorf("no CA certificate in %q or %q", file, dir)
	}
	return pool, nil
}

// verifyChain checks the server's chain against pool, without a name.
func verifyChain(raw [][]byte, pool *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("spamd sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("parse spamd certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter}); err != nil {
		return fmt.Errorf("verify spamd certificate: %w", err)
	}
	return nil
}
