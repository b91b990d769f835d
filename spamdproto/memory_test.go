package spamdproto

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"strconv"
	"testing"

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
// limits (32 MiB hard limit, 512000 bytes scanned). The answers stay what
// they were (over the hard limit EX_TOOBIG, under it unscanned), and the
// server never holds more than the limit: the process's peak resident set
// (see package peakmem for why that measure) rises by less than 50 MB.
func TestZlibBombMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 130 MB")
	}
	const maxExtra = 50 << 20
	tests := []struct {
		name     string
		inflated int64
		want     string
	}{
		{"100 MB bomb", 100 << 20, "SPAMD/1.0 98 Message too big\r\n"},
		{"30 MB under the hard limit", 30 << 20, "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n"},
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
			t.Logf("%d bytes of zlib inflating to %d MB: peak RSS +%.1f MB", len(bomb), tt.inflated>>20, float64(extra)/(1<<20))
			if extra >= maxExtra {
				t.Errorf("peak RSS rose by %.1f MB, want under %d MB", float64(extra)/(1<<20), maxExtra>>20)
			}
		})
	}
}
