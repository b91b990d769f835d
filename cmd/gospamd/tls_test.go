package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile
}

// gospamd serve --ssl answers Debian's spamc -S.
func TestServeTLSWithSpamc(t *testing.T) {
	spamc := testpeer.Program(t, "spamc")
	tmp := t.TempDir()
	cert, key := writeSelfSigned(t, tmp)
	d := startDaemon(t, true, "--dbpath", filepath.Join(tmp, "bayes"), "--ssl-cert", cert, "--ssl-key", key)
	cmd := exec.Command(spamc, "-S", "--ssl-ca-file", cert, "-d", "127.0.0.1", "-p", fmt.Sprint(d.port), "-c")
	cmd.Stdin = strings.NewReader("From: a@example.com\nSubject: hello\n\nhello\n")
	out, err := cmd.Output()
	if !strings.HasSuffix(string(out), "/5.0\n") {
		t.Errorf("spamc -S -c: %q (%v), want SCORE/5.0", out, err)
	}
	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
}
