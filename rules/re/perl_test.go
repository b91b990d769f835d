package re

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// perlPeer runs testdata/perlmatch.pl: Perl's own answers for patterns
// compiled as SpamAssassin compiles them.
type perlPeer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startPerl starts the helper, or skips t (fails it under
// GOSPAMD_REQUIRE_PEERS=1) when perl is missing.
func startPerl(t testing.TB) *perlPeer {
	t.Helper()
	perl := testpeer.Program(t, "perl")
	cmd := exec.Command(perl, "testdata/perlmatch.pl")
	cmd.Env = append(cmd.Environ(), "PERLMATCH_TIMEOUT=5")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start perl helper: %v", err)
	}
	p := &perlPeer{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	t.Cleanup(func() {
		if err := p.in.Close(); err != nil {
			t.Errorf("close perl helper stdin: %v", err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("perl helper: %v: %s", err, stderr.String())
		}
	})
	return p
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func (p *perlPeer) ask(t testing.TB, req map[string]any) string {
	t.Helper()
	line, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(p.in, "%s\n", line); err != nil {
		t.Fatalf("write to perl helper: %v", err)
	}
	reply, err := p.out.ReadString('\n')
	if err != nil {
		t.Fatalf("read from perl helper: %v", err)
	}
	return strings.TrimSuffix(reply, "\n")
}

// match returns Perl's answer for one subject: "1", "0", "T" (timeout)
// or "E reason" (Perl refuses the pattern).
func (p *perlPeer) match(t testing.TB, expr, flags, text string) string {
	return p.ask(t, map[string]any{"pattern": b64(expr), "flags": flags, "text": b64(text)})
}

// matchAll returns Perl's m//g offsets as "s-e s-e…".
func (p *perlPeer) matchAll(t testing.TB, expr, flags, text string) string {
	return p.ask(t, map[string]any{"pattern": b64(expr), "flags": flags, "text": b64(text), "all": 1})
}

// setTexts sets the probe subjects for matchProbes.
func (p *perlPeer) setTexts(t testing.TB, texts []string) {
	enc := make([]string, len(texts))
	for i, s := range texts {
		enc[i] = b64(s)
	}
	if r := p.ask(t, map[string]any{"texts": enc}); r != fmt.Sprintf("ok %d", len(texts)) {
		t.Fatalf("perl helper: set texts: %q", r)
	}
}

// matchProbes returns one byte per probe subject ('1', '0', 'T'), or
// "E reason".
func (p *perlPeer) matchProbes(t testing.TB, expr, flags string) string {
	return p.ask(t, map[string]any{"pattern": b64(expr), "flags": flags})
}
