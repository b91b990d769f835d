package spamdproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// fakeResult is a ScanResult with fixed fields.
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

// fakeScanner answers every scan with its function and records what it
// was asked. A fake stands in for the rules engine, which cmd/gospamd
// wires in.
type fakeScanner struct {
	fn func(ctx context.Context, req *ScanRequest) (ScanResult, error)

	mu   sync.Mutex
	seen []string
}

func (f *fakeScanner) Scan(ctx context.Context, req *ScanRequest) (ScanResult, error) {
	f.mu.Lock()
	f.seen = append(f.seen, fmt.Sprintf("scan user=%q bytes=%d", req.User, len(req.Message)))
	f.mu.Unlock()
	return f.fn(ctx, req)
}

func (f *fakeScanner) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// gtubeScanner scores like SpamAssassin -L: 999.998 with GTUBE, NO_RELAYS
// and NO_RECEIVED when the message contains the GTUBE string, else 2.3
// with one rule. PROCESS marks the message with a header.
func gtubeScanner() *fakeScanner {
	return &fakeScanner{fn: func(_ context.Context, req *ScanRequest) (ScanResult, error) {
		if strings.Contains(string(req.Message), "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL") {
			return &fakeResult{
				score: 999.998, threshold: 5, spam: true,
				symbols:   []string{"NO_RELAYS", "GTUBE", "NO_RECEIVED"},
				report:    "Spam detection report\n\n",
				rewritten: append([]byte("X-Spam-Flag: YES\n"), req.Message...),
			}, nil
		}
		return &fakeResult{
			score: 2.3, threshold: 5, symbols: []string{"MISSING_MID"},
			report:    "Ham report\n\n",
			rewritten: append([]byte("X-Spam-Flag: NO\n"), req.Message...),
		}, nil
	}}
}

// fakeTeller remembers which messages it learned, like a Bayes seen-index.
type fakeTeller struct {
	mu      sync.Mutex
	learned map[string]Class
	seen    []string
}

func newFakeTeller() *fakeTeller { return &fakeTeller{learned: map[string]Class{}} }

func (t *fakeTeller) Tell(_ context.Context, req *TellRequest) (TellResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen = append(t.seen, fmt.Sprintf("tell user=%q class=%s set=%s remove=%s bytes=%d",
		req.User, req.Class, req.Set, req.Remove, len(req.Message)))
	key := strings.TrimRight(string(req.Message), "\r\n")
	var res TellResult
	if req.Set.Local {
		if t.learned[key] != req.Class {
			t.learned[key] = req.Class
			res.DidSet.Local = true
		}
	}
	if req.Remove.Local {
		if _, ok := t.learned[key]; ok {
			delete(t.learned, key)
			res.DidRemove.Local = true
		}
	}
	return res, nil
}

func (t *fakeTeller) log() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.seen...)
}

// countingMetrics counts what the server reports.
type countingMetrics struct {
	requests, refused, panics atomic.Int64
	mu                        sync.Mutex
	outcomes                  map[Outcome]int
}

func (m *countingMetrics) RequestDone(_ Verb, o Outcome, _ time.Duration) {
	m.requests.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.outcomes == nil {
		m.outcomes = map[Outcome]int{}
	}
	m.outcomes[o]++
}
func (m *countingMetrics) outcomeCounts() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprint(m.outcomes)
}

func (m *countingMetrics) ConnRefused()    { m.refused.Add(1) }
func (m *countingMetrics) PanicRecovered() { m.panics.Add(1) }

// testServer is a server listening on 127.0.0.1 with a random port.
type testServer struct {
	*Server
	addr string
	done chan error
}

// startServer starts srv on 127.0.0.1:0 and shuts it down at cleanup.
func startServer(t testing.TB, cfg Config, scanner Scanner, teller Teller) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: NewServer(cfg, scanner, teller), addr: l.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- ts.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

func (ts *testServer) port() string {
	_, p, _ := net.SplitHostPort(ts.addr)
	return p
}

// testLogger logs to t when -v, otherwise discards.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// exchangeRaw sends req, half-closes when halfClose, and reads the whole
// answer until the server closes.
func exchangeRaw(t testing.TB, addr string, req []byte, halfClose bool) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(req); err != nil {
		t.Fatalf("write request: %v", err)
	}
	if halfClose {
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read answer: %v (got %q)", err, resp)
	}
	return resp
}

func readMessage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "messages", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requirePeer skips when an external program is missing, or fails under
// GOSPAMD_REQUIRE_PEERS=1.
func requirePeer(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	testpeer.Missing(t, "%s: %v", what, err)
}
