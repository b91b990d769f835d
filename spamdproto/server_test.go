package spamdproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func checkRequest(msg []byte) []byte {
	return append([]byte("CHECK SPAMC/1.5\r\nUser: alice\r\nContent-length: "+strconv.Itoa(len(msg))+"\r\n\r\n"), msg...)
}

const wantGTUBECheck = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n"

// blockingScanner blocks every scan until release is closed (or the
// scan's context ends), then answers like gtubeScanner.
type blockingScanner struct {
	started chan struct{} // one value per scan that began
	release chan struct{}
	inner   *fakeScanner
}

func newBlockingScanner() *blockingScanner {
	return &blockingScanner{started: make(chan struct{}, 100), release: make(chan struct{}), inner: gtubeScanner()}
}

func (b *blockingScanner) Scan(ctx context.Context, req *ScanRequest) (ScanResult, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.inner.Scan(ctx, req)
}

func TestRefusedConnection(t *testing.T) {
	metrics := &countingMetrics{}
	scanner := gtubeScanner()
	ts := startServer(t, Config{AllowedNets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Metrics: metrics}, scanner, nil)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write(checkRequest(readMessage(t, "gtube.eml"))) // may fail: the server hangs up at once
	got, err := io.ReadAll(c)
	if len(got) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("refused client got %q, %v; want no reply at all", got, err)
	}
	if n := metrics.refused.Load(); n != 1 {
		t.Errorf("refused count = %d, want 1", n)
	}
	if log := scanner.log(); len(log) != 0 {
		t.Errorf("scanner called for a refused client: %q", log)
	}
}

func TestIPv6Listener(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := NewServer(Config{Logger: testLogger(t)}, gtubeScanner(), nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	got := exchangeRaw(t, l.Addr().String(), checkRequest(readMessage(t, "gtube.eml")), true)
	if string(got) != wantGTUBECheck {
		t.Errorf("answer over ::1 = %q", got)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
}

func TestQueueTimeout(t *testing.T) {
	scanner := newBlockingScanner()
	metrics := &countingMetrics{}
	ts := startServer(t, Config{MaxConns: 1, QueueTimeout: 100 * time.Millisecond, Metrics: metrics}, scanner, nil)
	msg := readMessage(t, "gtube.eml")

	first := make(chan []byte)
	go func() { first <- exchangeRaw(t, ts.addr, checkRequest(msg), true) }()
	<-scanner.started // the only slot is taken

	got := exchangeRaw(t, ts.addr, checkRequest(msg), true)
	if want := "SPAMD/1.0 75 Temporary failure: server busy\r\n"; string(got) != want {
		t.Errorf("second client got %q, want %q", got, want)
	}
	close(scanner.release)
	if got := <-first; string(got) != wantGTUBECheck {
		t.Errorf("first client got %q", got)
	}
}

func TestReadTimeouts(t *testing.T) {
	ts := startServer(t, Config{ReadTimeout: 200 * time.Millisecond}, gtubeScanner(), nil)
	tests := []struct {
		name, send, want string
	}{
		{"silent client", "", "SPAMD/1.0 79 Timeout: (0.2 second socket timeout reading input from client)\r\n"},
		{"half a request line", "CHE", "SPAMD/1.0 79 Timeout: (0.2 second socket timeout reading input from client)\r\n"},
		{"stalls in headers", "CHECK SPAMC/1.5\r\nUser: a", "SPAMD/1.0 79 Timeout: (0.2 second timeout while trying to CHECK)\r\n"},
		{"stalls in body", "TELL SPAMC/1.5\r\nContent-length: 100\r\n\r\nFrom: x\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchangeRaw(t, ts.addr, []byte(tt.send), false)
			want := tt.want
			if want == "" { // TELL with no Teller is refused before the body
				want = "SPAMD/1.0 69 Service Unavailable: " + tellDisabledMsg + "\r\n"
			}
			if string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	t.Run("stalls in scan body", func(t *testing.T) {
		got := exchangeRaw(t, ts.addr, []byte("PROCESS SPAMC/1.5\r\nContent-length: 100\r\n\r\nFrom: x\r\n"), false)
		if want := "SPAMD/1.0 79 Timeout: (0.2 second timeout while trying to PROCESS)\r\n"; string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestScanTimeout(t *testing.T) {
	scanner := newBlockingScanner() // never released: waits for the context
	ts := startServer(t, Config{ScanTimeout: 100 * time.Millisecond}, scanner, nil)
	got := exchangeRaw(t, ts.addr, checkRequest(readMessage(t, "gtube.eml")), true)
	if want := "SPAMD/1.0 79 Timeout: (0.1 second timeout while trying to CHECK)\r\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPanicRecovered(t *testing.T) {
	metrics := &countingMetrics{}
	var once sync.Once
	scanner := &fakeScanner{fn: func(ctx context.Context, req *ScanRequest) (ScanResult, error) {
		once.Do(func() { panic("first scan explodes") })
		return gtubeScanner().fn(ctx, req)
	}}
	ts := startServer(t, Config{Metrics: metrics}, scanner, nil)
	msg := readMessage(t, "gtube.eml")
	if got := exchangeRaw(t, ts.addr, checkRequest(msg), true); string(got) != "SPAMD/1.0 70 Internal software error\r\n" {
		t.Errorf("panicking scan answered %q", got)
	}
	if got := exchangeRaw(t, ts.addr, checkRequest(msg), true); string(got) != wantGTUBECheck {
		t.Errorf("next scan answered %q", got)
	}
	if n := metrics.panics.Load(); n != 1 {
		t.Errorf("panics counted = %d, want 1", n)
	}
}

func TestShutdownDrains(t *testing.T) {
	scanner := newBlockingScanner()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{Logger: testLogger(t)}, scanner, nil)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()

	answer := make(chan []byte)
	go func() { answer <- exchangeRaw(t, l.Addr().String(), checkRequest(readMessage(t, "gtube.eml")), true) }()
	<-scanner.started

	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(context.Background()) }()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	// The listener is closed: new clients cannot connect.
	if c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("dial succeeded after Shutdown")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(scanner.release)
	if got := <-answer; string(got) != wantGTUBECheck {
		t.Errorf("in-flight client got %q", got)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := srv.Serve(context.Background(), l); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	scanner := newBlockingScanner() // never released
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{Logger: testLogger(t)}, scanner, nil)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	answer := make(chan []byte)
	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			answer <- nil
			return
		}
		defer c.Close()
		_, _ = c.Write(checkRequest(readMessage(t, "gtube.eml")))
		got, _ := io.ReadAll(c)
		answer <- got
	}()
	<-scanner.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	<-answer // the connection was closed: the client is not left hanging
	<-served
}

func TestServeContextCancel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{Logger: testLogger(t)}, gtubeScanner(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	if got := exchangeRaw(t, l.Addr().String(), []byte("PING SPAMC/1.5\r\n\r\n"), true); string(got) != "SPAMD/1.5 0 PONG\r\n" {
		t.Errorf("PING answered %q", got)
	}
	cancel()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve = %v, want context.Canceled", err)
	}
}

// TestSeveralListeners serves TCP and a UNIX socket from one server.
func TestSeveralListeners(t *testing.T) {
	dir, err := os.MkdirTemp("", "spamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unix, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{Logger: testLogger(t)}, gtubeScanner(), nil)
	served := make(chan error, 2)
	go func() { served <- srv.Serve(context.Background(), tcp) }()
	go func() { served <- srv.Serve(context.Background(), unix) }()

	if got := exchangeRaw(t, tcp.Addr().String(), []byte("PING SPAMC/1.5\r\n\r\n"), true); string(got) != "SPAMD/1.5 0 PONG\r\n" {
		t.Errorf("TCP PING answered %q", got)
	}
	c, err := net.Dial("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("PING SPAMC/1.5\r\n\r\n"))
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "SPAMD/1.5 0 PONG\r\n" {
		t.Errorf("UNIX PING answered %q", got)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	ts := startServer(t, Config{Logger: logger}, gtubeScanner(), nil)
	exchangeRaw(t, ts.addr, checkRequest(readMessage(t, "gtube.eml")), true)
	exchangeRaw(t, ts.addr, []byte("FOO SPAMC/1.5\r\n"), true)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want one per request:\n%s", len(lines), buf.String())
	}
	var scan, bad map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &scan); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &bad); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"verb", "user", "score", "verdict", "ms", "bytes", "remote"} {
		if _, ok := scan[key]; !ok {
			t.Errorf("scan log line has no %q: %s", key, lines[0])
		}
	}
	if scan["verb"] != "CHECK" || scan["user"] != "alice" || scan["verdict"] != "spam" || scan["score"] != 999.998 || scan["bytes"] != 203.0 {
		t.Errorf("scan log line = %s", lines[0])
	}
	if bad["verdict"] != "error" || bad["code"] != 76.0 || bad["err"] == nil {
		t.Errorf("bad request log line = %s", lines[1])
	}
}
