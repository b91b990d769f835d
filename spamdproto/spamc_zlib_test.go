package spamdproto

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// These tests drive the server with spamc -z: SpamAssassin 4.0.1's spamc
// built from its release sources with zlib (make test-deps builds it as
// spamc-zlib; Debian's packaged spamc refuses -z). Each case runs once
// without -z and once with it, against a fresh server, and both runs must
// print what TestSpamc expects of the plain one. A relay in front of the
// server keeps the bytes spamc sent, so that the tests see that -z really
// sent a Compress: zlib request whose body inflates to the message.

func spamcZlibPath(t *testing.T) string {
	t.Helper()
	return testpeer.GoBinProgram(t, "spamc-zlib")
}

// scannedMessage is what a recordingScanner was asked to scan.
type scannedMessage struct {
	user    string
	message []byte
}

// recordingScanner is gtubeScanner keeping every message it scans.
type recordingScanner struct {
	*fakeScanner
	mu   sync.Mutex
	seen []scannedMessage
}

func newRecordingScanner() *recordingScanner {
	inner := gtubeScanner()
	r := &recordingScanner{}
	r.fakeScanner = &fakeScanner{fn: func(ctx context.Context, req *ScanRequest) (ScanResult, error) {
		r.mu.Lock()
		r.seen = append(r.seen, scannedMessage{user: req.User, message: bytes.Clone(req.Message)})
		r.mu.Unlock()
		return inner.fn(ctx, req)
	}}
	return r
}

func (r *recordingScanner) scanned() []scannedMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]scannedMessage(nil), r.seen...)
}

// wireTap relays TCP connections from 127.0.0.1 to a server and keeps,
// per connection, the bytes the client sent.
type wireTap struct {
	addr     string
	requests chan []byte
}

// startWireTap listens on 127.0.0.1 and relays every connection to
// target until the test ends.
func startWireTap(t *testing.T, target string) *wireTap {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tap := &wireTap{addr: l.Addr().String(), requests: make(chan []byte, 16)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tap.relay(client, target)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return tap
}

// relay copies both ways until the server has answered and closed, then
// hands over what the client sent.
func (tap *wireTap) relay(client net.Conn, target string) {
	defer client.Close()
	server, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		tap.requests <- nil
		return
	}
	defer server.Close()
	var sent bytes.Buffer
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		_, _ = io.Copy(server, io.TeeReader(client, &sent))
		_ = server.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(client, server)
	_ = client.(*net.TCPConn).CloseWrite()
	// The client reads to EOF and then closes, ending the upstream copy;
	// a deadline ends it if the client does not.
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	<-upDone
	tap.requests <- sent.Bytes()
}

func (tap *wireTap) port() string {
	_, p, _ := net.SplitHostPort(tap.addr)
	return p
}

// request returns what the client of the next finished connection sent.
func (tap *wireTap) request(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-tap.requests:
		if b == nil {
			t.Fatal("the relay could not reach the server")
		}
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no connection reached the relay")
		return nil
	}
}

// largeMessage is base followed by numbered text lines (with base's line
// ending) up to about size bytes: text that deflates well, as mail does.
func largeMessage(base []byte, size int) []byte {
	eol := "\n"
	if bytes.Contains(base, []byte("\r\n")) {
		eol = "\r\n"
	}
	msg := bytes.Clone(base)
	for i := 0; len(msg) < size; i++ {
		msg = fmt.Appendf(msg, "%06d The quarterly report for region %d is attached; totals were %d units.%s", i, i%37, i*7919%100000, eol)
	}
	return msg
}

// zlibCase is one spamc invocation, run with and without -z.
type zlibCase struct {
	name     string
	cfg      Config
	tls      bool
	args     []string
	msg      []byte
	wantOut  string
	wantExit int
	// scans: the Scanner gets the message; false for TELL and for
	// messages over the server's limit.
	scans    bool
	wantUser string // user the Scanner must see, if set
}

func TestSpamcZlib(t *testing.T) {
	bin := spamcZlibPath(t)
	gtube := readMessage(t, "gtube.eml")
	ham := readMessage(t, "ham-crlf.eml")
	bigSpam := largeMessage(gtube, 300_000)
	bigHam := largeMessage(ham, 300_000)
	marked := "X-Spam-Flag: YES\n" + string(gtube)
	small := Config{MaxMessageSize: 100}
	tiny := Config{MaxMessageSize: 100, MaxBodySize: 150} // gtube.eml deflates to more than 150 bytes

	tests := []zlibCase{
		{name: "check spam", args: []string{"-c"}, msg: gtube, wantOut: "1000.0/5.0\n", wantExit: 1, scans: true},
		{name: "check ham", args: []string{"-c"}, msg: ham, wantOut: "2.3/5.0\n", scans: true},
		{name: "symbols", args: []string{"-y"}, msg: gtube, wantOut: "GTUBE,NO_RECEIVED,NO_RELAYS", scans: true},
		{name: "symbols ham", args: []string{"-y"}, msg: ham, wantOut: "MISSING_MID", scans: true},
		{name: "report", args: []string{"-R"}, msg: gtube, wantOut: "1000.0/5.0\nSpam detection report\n\n", scans: true},
		{name: "report ham", args: []string{"-R"}, msg: ham, wantOut: "2.3/5.0\nHam report\n\n", scans: true},
		{name: "report if spam", args: []string{"-r"}, msg: gtube, wantOut: "Spam detection report\n\n", scans: true},
		{name: "report if spam on ham", args: []string{"-r"}, msg: ham, wantOut: "", scans: true},
		{name: "process", msg: gtube, wantOut: marked, scans: true},
		{name: "process ham", msg: ham, wantOut: "X-Spam-Flag: NO\n" + string(ham), scans: true},
		{name: "process exit code", args: []string{"-E"}, msg: gtube, wantOut: marked, wantExit: 1, scans: true},
		{name: "process ham exit code", args: []string{"-E"}, msg: ham, wantOut: "X-Spam-Flag: NO\n" + string(ham), scans: true},
		{name: "headers", args: []string{"--headers"}, msg: gtube, wantOut: marked, scans: true},
		{name: "user", args: []string{"-u", "carol", "-c"}, msg: gtube, wantOut: "1000.0/5.0\n", wantExit: 1, scans: true, wantUser: "carol"},
		{name: "user process", args: []string{"-u", "carol"}, msg: ham, wantOut: "X-Spam-Flag: NO\n" + string(ham), scans: true, wantUser: "carol"},
		// The message is deflated to a fraction of its size.
		{name: "large check spam", args: []string{"-c"}, msg: bigSpam, wantOut: "1000.0/5.0\n", wantExit: 1, scans: true},
		{name: "large process ham", args: []string{"-E"}, msg: bigHam, wantOut: "X-Spam-Flag: NO\n" + string(bigHam), scans: true},
		{name: "large symbols", args: []string{"-y"}, msg: bigSpam, wantOut: "GTUBE,NO_RECEIVED,NO_RELAYS", scans: true},
		// The server's size limit applies to the inflated message: it
		// answers without scanning, and spamc passes the message through.
		{name: "over server limit check", cfg: small, args: []string{"-c"}, msg: gtube, wantOut: "0.0/5.0\n"},
		{name: "over server limit process", cfg: small, msg: gtube, wantOut: string(gtube)},
		// Over the hard body limit (on the wire, deflated or not) the
		// server answers EX_TOOBIG: spamc falls back, or with -x fails.
		{name: "over body limit check", cfg: tiny, args: []string{"-c"}, msg: gtube, wantOut: "0/0\n"},
		{name: "over body limit no fallback", cfg: tiny, args: []string{"-x", "-c"}, msg: gtube, wantOut: "0/0\n", wantExit: EX_IOERR},
		// spamc compresses only the scanning verbs, never TELL.
		{name: "learn", args: []string{"-L", "spam"}, msg: gtube, wantOut: "Message successfully un/learned\n"},
		{name: "TLS check", tls: true, args: []string{"-S", "-c"}, msg: gtube, wantOut: "1000.0/5.0\n", wantExit: 1, scans: true},
		{name: "TLS process large", tls: true, args: []string{"-S"}, msg: bigHam, wantOut: "X-Spam-Flag: NO\n" + string(bigHam), scans: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, compress := range []bool{false, true} {
				runZlibCase(t, bin, tt, compress)
			}
		})
	}
}

// runZlibCase runs one case against a fresh server (a Teller remembers
// what it learned), with -z when compress.
func runZlibCase(t *testing.T, bin string, tt zlibCase, compress bool) {
	t.Helper()
	scanner := newRecordingScanner()
	var port string
	var tap *wireTap
	if tt.tls {
		ts, _ := startTLSServer(t, tt.cfg, scanner, newFakeTeller())
		port = ts.port()
	} else {
		ts := startServer(t, tt.cfg, scanner, newFakeTeller())
		tap = startWireTap(t, ts.addr)
		port = tap.port()
	}
	args := append([]string{"-d", "127.0.0.1", "-p", port}, tt.args...)
	if compress {
		args = append(args, "-z")
	}
	got := runSpamc(t, bin, tt.msg, args...)
	if got.stdout != tt.wantOut || got.exit != tt.wantExit {
		t.Errorf("spamc-zlib %v: exit %d, output %q\nwant exit %d, output %q",
			args[4:], got.exit, abbreviate(got.stdout), tt.wantExit, abbreviate(tt.wantOut))
	}

	if seen := scanner.scanned(); tt.scans {
		if len(seen) != 1 || !bytes.Equal(seen[0].message, tt.msg) || (tt.wantUser != "" && seen[0].user != tt.wantUser) {
			t.Errorf("spamc-zlib %v: the scanner saw %s, want the %d-byte message (user %q)",
				args[4:], describeScans(seen), len(tt.msg), tt.wantUser)
		}
	} else if len(seen) != 0 {
		t.Errorf("spamc-zlib %v: the scanner saw %s, want no scan", args[4:], describeScans(seen))
	}

	if tap != nil {
		checkWireRequest(t, tap.request(t), tt, compress && tt.isScan())
	}
}

// isScan reports whether the case sends a scanning verb (which -z
// compresses), whether or not the server then scans.
func (tt zlibCase) isScan() bool {
	for _, a := range tt.args {
		if a == "-L" || a == "-C" || a == "-K" {
			return false
		}
	}
	return true
}

// checkWireRequest reads what spamc sent with the server's own request
// reader: with -z a Compress: zlib request whose Content-length is the
// deflated body, which inflates to the message.
func checkWireRequest(t *testing.T, raw []byte, tt zlibCase, wantCompressed bool) {
	t.Helper()
	headLen := bytes.Index(raw, []byte("\r\n\r\n")) + 4
	if headLen < 4 {
		t.Fatalf("spamc sent no complete request head: %q", abbreviate(string(raw)))
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	req, err := ReadRequestHead(r, Limits{})
	if err != nil {
		t.Fatalf("read request spamc sent: %v\n%q", err, abbreviate(string(raw)))
	}
	if req.Compress != wantCompressed {
		t.Errorf("%s request: Compress %v, want %v; head %q", req.Verb, req.Compress, wantCompressed, raw[:headLen])
	}
	if req.ContentLength != int64(len(raw)-headLen) {
		t.Errorf("%s request: Content-length %d, but %d body bytes were sent", req.Verb, req.ContentLength, len(raw)-headLen)
	}
	if err := req.ReadBody(r, Limits{}); err != nil {
		t.Fatalf("read body spamc sent: %v", err)
	}
	if !bytes.Equal(req.Message, tt.msg) {
		t.Errorf("%s request: body reads as %d bytes, want the %d-byte message", req.Verb, len(req.Message), len(tt.msg))
	}
	if wantCompressed && len(tt.msg) > 100_000 && req.ContentLength > int64(len(tt.msg)/4) {
		t.Errorf("%s request: %d bytes deflated to %d, want under a quarter", req.Verb, len(tt.msg), req.ContentLength)
	}
}

func describeScans(seen []scannedMessage) string {
	parts := make([]string, len(seen))
	for i, s := range seen {
		parts[i] = fmt.Sprintf("%d bytes for user %q", len(s.message), s.user)
	}
	return fmt.Sprintf("%d scans %v", len(seen), parts)
}

// abbreviate shortens long outputs (the large messages) for error text.
func abbreviate(s string) string {
	if len(s) <= 300 {
		return s
	}
	return s[:300] + fmt.Sprintf("… (%d bytes)", len(s))
}
