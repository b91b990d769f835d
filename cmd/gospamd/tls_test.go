package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// gospamd serve --ssl answers Debian's spamc -S.
func TestServeTLSWithSpamc(t *testing.T) {
	spamc := testpeer.Program(t, "spamc")
	tmp := t.TempDir()
	tc := testpeer.SelfSignedCert(t)
	cert, key := tc.CertFile, tc.KeyFile
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
