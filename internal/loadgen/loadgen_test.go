package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

type result struct{ n int }

func (r result) Score() float64     { return float64(r.n) }
func (r result) Threshold() float64 { return 5 }
func (r result) IsSpam() bool       { return false }
func (r result) Symbols() []string  { return []string{"BYTES_" + fmt.Sprint(r.n)} }
func (r result) Report() string     { return "" }
func (r result) Rewritten() []byte  { return nil }

// sizes is a spamdproto.Scanner recording the size of every message.
type sizes struct {
	mu   sync.Mutex
	seen map[int]int
}

func (s *sizes) Scan(_ context.Context, req *spamdproto.ScanRequest) (spamdproto.ScanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[len(req.Message)]++
	return result{len(req.Message)}, nil
}

func testMessages() [][]byte {
	var msgs [][]byte
	for i := 1; i <= 5; i++ {
		msgs = append(msgs, []byte("Subject: m\r\n\r\n"+strings.Repeat("x", 1000*i)+"\r\n"))
	}
	return msgs
}

// Against our own spamd server: every request is answered, each message
// arrives whole, and the requests cycle over the messages.
func TestRunSpamdSymbols(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc := &sizes{seen: map[int]int{}}
	srv := spamdproto.NewServer(spamdproto.Config{MaxConns: 4}, sc, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, l) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	msgs := testMessages()
	r, err := Run(ctx, Options{Addr: l.Addr().String(), Protocol: SpamdSymbols, Clients: 3, Messages: msgs, Requests: 20, Match: []byte("BYTES_1")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.Requests != 20 || len(r.Latencies) != 20 {
		t.Fatalf("requests %d, failed %d (%v), latencies %d", r.Requests, r.Failed, r.FirstErr, len(r.Latencies))
	}
	// BYTES_1015, BYTES_1016, ... only for the 1000-byte message's size.
	if r.Matched != 4 {
		t.Errorf("%d answers matched, want 4", r.Matched)
	}
	for _, m := range msgs {
		if got := sc.seen[len(m)]; got != 4 {
			t.Errorf("message of %d bytes scanned %d times, want 4", len(m), got)
		}
	}
	if r.PerSecond() <= 0 || r.Percentile(0.99) < r.Percentile(0.5) {
		t.Errorf("rate %v, p50 %v, p99 %v", r.PerSecond(), r.Percentile(0.5), r.Percentile(0.99))
	}
}

// Against an HTTP server standing for rspamd: the body arrives whole
// under POST /checkv2, and a non-200 answer counts as a failure.
func TestRunRspamdCheckV2(t *testing.T) {
	var mu sync.Mutex
	var got []int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkv2", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, len(b))
		mu.Unlock()
		if len(b) > 4000 {
			http.Error(w, "too big", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"action":"no action"}`)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(l) }()
	defer hs.Close()

	r, err := Run(context.Background(), Options{Addr: l.Addr().String(), Protocol: RspamdCheckV2, Clients: 2, Messages: testMessages()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 5 || r.Failed != 2 || r.FirstErr == nil || !strings.Contains(r.FirstErr.Error(), "400") {
		t.Fatalf("requests %d, failed %d, first error %v; want 5, 2 and a 400", r.Requests, r.Failed, r.FirstErr)
	}
	if len(got) != 5 {
		t.Fatalf("server saw %d requests", len(got))
	}
}

func TestCheckAnswer(t *testing.T) {
	for _, tc := range []struct {
		p      Protocol
		answer string
		ok     bool
	}{
		{SpamdSymbols, "SPAMD/1.1 0 EX_OK\r\nContent-length: 4\r\nSpam: False ; 1 / 5\r\n\r\nA,B\r\n", true},
		{SpamdSymbols, "SPAMD/1.1 0 EX_OK\r\nContent-length: 40\r\n\r\nA,B\r\n", false},
		{SpamdSymbols, "SPAMD/1.0 76 Bad header line\r\n\r\n", false},
		{SpamdSymbols, "", false},
		{RspamdCheckV2, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true},
		{RspamdCheckV2, "HTTP/1.1 500 Internal\r\n\r\n", false},
	} {
		if err := CheckAnswer(tc.p, []byte(tc.answer)); (err == nil) != tc.ok {
			t.Errorf("%v %q: error %v, want ok=%v", tc.p, tc.answer, err, tc.ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	r := &Result{Elapsed: time.Second}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	if p := r.Percentile(0.5); p != 50*time.Millisecond {
		t.Errorf("p50 = %v", p)
	}
	if p := r.Percentile(0.99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v", p)
	}
	if r.PerSecond() != 100 {
		t.Errorf("rate %v", r.PerSecond())
	}
}
