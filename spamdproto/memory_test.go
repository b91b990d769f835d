package spamdproto

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/peakmem"
)

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// zlibZeros is n zero bytes, deflated: a zlib bomb about a thousandth of
// its inflated size.
func zlibZeros(t *testing.T, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(zw, zeros{}, n); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZlibBombMemory sends zlib bombs over the wire with the default
// limits (512000 bytes scanned, so a 1 MiB hard limit). The answers stay
// what they were (over the hard limit EX_TOOBIG, under it unscanned), and
// the server never holds more than the limit: the process's peak
// resident set (see package peakmem for why that measure) rises by less
// than 50 MB.
func TestZlibBombMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 100 MB")
	}
	const maxExtra = 50 << 20
	tests := []struct {
		name     string
		inflated int64
		want     string
	}{
		{"100 MB bomb", 100 << 20, "SPAMD/1.0 98 Message too big\r\n"},
		{"1000000 bytes under the hard limit", 1000000, "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n"},
	}
	ts := startServer(t, Config{}, gtubeScanner(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bomb := zlibZeros(t, tt.inflated)
			req := append([]byte("CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: "+strconv.Itoa(len(bomb))+"\r\n\r\n"), bomb...)
			var got []byte
			extra, err := peakmem.Measure(func() { got = exchangeRaw(t, ts.addr, req, true) })
			if errors.Is(err, peakmem.ErrUnsupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("answered %q, want %q", got, tt.want)
			}
			t.Logf("%d bytes of zlib inflating to %d bytes: peak RSS +%.1f MB", len(bomb), tt.inflated, float64(extra)/(1<<20))
			if extra >= maxExtra {
				t.Errorf("peak RSS rose by %.1f MB, want under %d MB", float64(extra)/(1<<20), maxExtra>>20)
			}
		})
	}
}

// TestParallelZlibMemory sends ten zlib requests at once, each 30 KB on
// the wire: bombs inflating to 30 MiB, which the hard limit (twice the
// scanned size, 1 MiB by default) refuses whole, and messages just under
// the hard limit, held to be answered unscanned. Either way the ten cost
// the process less than 40 MB at their peak; with the old fixed 32 MiB
// limit the bombs were held whole (965 MB measured).
func TestParallelZlibMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 300 MB")
	}
	const (
		parallel = 10
		maxExtra = 40 << 20
	)
	tests := []struct {
		name     string
		inflated int64
		want     string
	}{
		{"30 MiB bombs", 30 << 20, "SPAMD/1.0 98 Message too big\r\n"},
		{"messages just under the hard limit", 1000000, "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n"},
	}
	ts := startServer(t, Config{}, gtubeScanner(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bomb := zlibZeros(t, tt.inflated)
			req := append([]byte("CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: "+strconv.Itoa(len(bomb))+"\r\n\r\n"), bomb...)
			answers := make([][]byte, parallel)
			errs := make([]error, parallel)
			extra, err := peakmem.Measure(func() {
				var wg sync.WaitGroup
				for i := range answers {
					wg.Go(func() { answers[i], errs[i] = exchangeFromAnyGoroutine(ts.addr, req) })
				}
				wg.Wait()
			})
			if errors.Is(err, peakmem.ErrUnsupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range answers {
				if errs[i] != nil {
					t.Errorf("request %d: %v", i, errs[i])
				} else if string(got) != tt.want {
					t.Errorf("request %d answered %q, want %q", i, got, tt.want)
				}
			}
			t.Logf("%d parallel requests of %d bytes of zlib inflating to %d bytes: peak RSS +%.1f MB",
				parallel, len(bomb), tt.inflated, float64(extra)/(1<<20))
			if extra >= maxExtra {
				t.Errorf("peak RSS rose by %.1f MB, want under %d MB", float64(extra)/(1<<20), maxExtra>>20)
			}
		})
	}
}

// exchangeFromAnyGoroutine sends req, half-closes and reads the answer, from any
// goroutine.
func exchangeFromAnyGoroutine(addr string, req []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := c.Write(req); err != nil {
		return nil, fmt.Errorf("write request: %w", err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return nil, err
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		return resp, fmt.Errorf("read answer: %w", err)
	}
	return resp, nil
}
