package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/spamdproto"
)

// The tests run Debian's spamc and gospamc with the same options and the
// same message against the same kind of server (spamdproto's, with the
// fake scanner below, on 127.0.0.1) and require the same output and exit
// status.

// fakeResult is a fixed scan result.
type fakeResult struct {
	score, threshold float64
	spam             bool
	symbols          []string
	report           string
	rewritten        []byte
}

func (r *fakeResult) Score() float64     { return r.score }
func (r *fakeResult) Threshold() float64 { return r.threshold }
func (r *fakeResult) IsSpam() bool       { return r.spam }
func (r *fakeResult) Symbols() []string  { return r.symbols }
func (r *fakeResult) Report() string     { return r.report }
func (r *fakeResult) Rewritten() []byte  { return r.rewritten }

// testScoreHeader sets a message's score for the fake scanner, and
// testGrowHeader how many bytes PROCESS adds to it.
var (
	testScoreHeader = regexp.MustCompile(`(?m)^X-Test-Score: (\S+)`)
	testGrowHeader  = regexp.MustCompile(`(?m)^X-Test-Grow: (\d+)`)
)

// fakeScanner scores like SpamAssassin -L: 999.998 with three rules for
// the GTUBE string; the value of an X-Test-Score header; else 2.3 with
// one rule. The threshold is 5. PROCESS adds an X-Spam-Flag header. It
// remembers the users it scanned for.
type fakeScanner struct {
	fail bool // answer every scan with an error

	mu    sync.Mutex
	users []string
}

func (f *fakeScanner) Scan(_ context.Context, req *spamdproto.ScanRequest) (spamdproto.ScanResult, error) {
	f.mu.Lock()
	f.users = append(f.users, req.User)
	f.mu.Unlock()
	if f.fail {
		return nil, errors.New("engine down")
	}
	msg := string(req.Message)
	r := &fakeResult{score: 2.3, threshold: 5, symbols: []string{"MISSING_MID"}, report: "Ham report\n\n"}
	switch m := testScoreHeader.FindStringSubmatch(msg); {
	case strings.Contains(msg, "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL"):
		r = &fakeResult{score: 999.998, threshold: 5, symbols: []string{"NO_RELAYS", "GTUBE", "NO_RECEIVED"},
			report: "Spam detection report\n\n"}
	case m != nil:
		r.score, _ = strconv.ParseFloat(m[1], 64)
		r.symbols = []string{"TEST_SCORE"}
	}
	r.spam = r.score >= r.threshold
	flag := "NO"
	if r.spam {
		flag = "YES"
	}
	r.rewritten = append([]byte("X-Spam-Flag: "+flag+"\n"), req.Message...)
	if m := testGrowHeader.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.rewritten = append([]byte("X-Padding: "+strings.Repeat("x", n)+"\n"), r.rewritten...)
	}
	return r, nil
}

func (f *fakeScanner) seenUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.users...)
}

// fakeTeller learns locally, like a Bayes seen-index, and has no remote
// networks.
type fakeTeller struct {
	mu      sync.Mutex
	learned map[string]spamdproto.Class
}

func (t *fakeTeller) Tell(_ context.Context, req *spamdproto.TellRequest) (spamdproto.TellResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.learned == nil {
		t.learned = map[string]spamdproto.Class{}
	}
	key := string(req.Message)
	var res spamdproto.TellResult
	if req.Set.Local && t.learned[key] != req.Class {
		t.learned[key] = req.Class
		res.DidSet.Local = true
	}
	if _, ok := t.learned[key]; ok && req.Remove.Local {
		delete(t.learned, key)
		res.DidRemove.Local = true
	}
	return res, nil
}

// serverKind is a way to set up a test server; each run gets a fresh one
// (a Teller remembers what it learned).
type serverKind int

const (
	good      serverKind = iota // fake scanner and teller
	broken                      // every scan fails (EX_SOFTWARE)
	noTell                      // TELL disabled
	refusing                    // 127.0.0.1 is not an allowed network
	smallMax                    // MaxMessageSize 100
	tlsServer                   // good, over TLS
	closed                      // nobody listens
	unixSock                    // good, on a UNIX socket
	hanging                     // reads the request, never answers
)

// testEnv is what a case's arguments may refer to: $PORT, $SOCKET,
// $CONF, $CERT.
type testEnv struct {
	port, socket string
	conf, cert   string
	scanner      *fakeScanner
}

func (e testEnv) expand(args []string) []string {
	out := make([]string, len(args))
	r := strings.NewReplacer("$PORT", e.port, "$SOCKET", e.socket, "$CONF", e.conf, "$CERT", e.cert)
	for i, a := range args {
		out[i] = r.Replace(a)
	}
	return out
}

// startKind starts a server of the kind and returns how to reach it.
func startKind(t *testing.T, kind serverKind) testEnv {
	t.Helper()
	env := testEnv{scanner: &fakeScanner{fail: kind == broken}, conf: writeConfig(t)}
	var teller spamdproto.Teller = &fakeTeller{}
	cfg := spamdproto.Config{ReadTimeout: 10 * time.Second}
	switch kind {
	case noTell:
		teller = nil
	case refusing:
		cfg.AllowedNets = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	case smallMax:
		cfg.MaxMessageSize = 100
	case hanging:
		return startHanging(t, env)
	case closed:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, env.port, _ = net.SplitHostPort(l.Addr().String())
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return env
	}
	var l net.Listener
	var err error
	if kind == unixSock {
		dir, derr := os.MkdirTemp("", "gospamc") // socket paths are limited to ~108 bytes
		if derr != nil {
			t.Fatal(derr)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		env.socket = filepath.Join(dir, "spamd.sock")
		l, err = net.Listen("unix", env.socket)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	if kind != unixSock {
		_, env.port, _ = net.SplitHostPort(l.Addr().String())
	}
	if kind == tlsServer {
		tc := testpeer.SelfSignedCert(t)
		cert, key := tc.CertFile, tc.KeyFile
		env.cert = cert
		if l, err = spamdproto.TLSListener(l, cert, key); err != nil {
			t.Fatal(err)
		}
	}
	srv := spamdproto.NewServer(cfg, env.scanner, teller)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return env
}

// startHanging listens on 127.0.0.1 and answers nothing until the test
// ends.
func startHanging(t *testing.T, env testEnv) testEnv {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, env.port, _ = net.SplitHostPort(l.Addr().String())
	release := make(chan struct{})
	t.Cleanup(func() {
		close(release)
		l.Close()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
				<-release
			}()
		}
	}()
	return env
}

// writeConfig writes a spamc.conf that asks for -c, for -F cases.
func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spamc.conf")
	if err := os.WriteFile(path, []byte("# check only\n\n-c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// outcome is what a caller of spamc sees.
type outcome struct {
	stdout string
	exit   int
}

func (o outcome) String() string {
	s := o.stdout
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprintf("exit %d, output %q", o.exit, s)
}

// runGospamc runs gospamc in this process.
func runGospamc(t *testing.T, stdin []byte, args ...string) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"gospamc"}, args...), bytes.NewReader(stdin), &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Logf("gospamc %v stderr: %s", args, stderr.String())
	}
	return outcome{stdout: stdout.String(), exit: code}
}

// spamcBinary finds Debian's spamc, skipping (or failing under
// GOSPAMD_REQUIRE_PEERS=1) when it is missing.
func spamcBinary(t *testing.T) string {
	t.Helper()
	return testpeer.Program(t, "spamc")
}

func runSpamc(t *testing.T, bin string, stdin []byte, args ...string) outcome {
	t.Helper()
	out, code := testpeer.Run(t, bin, stdin, args...)
	return outcome{stdout: out, exit: code}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
