package spamdproto

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// constScanner answers every scan with the same result: the benchmark
// measures the protocol and the server, not scoring.
type constScanner struct{ res ScanResult }

func (s constScanner) Scan(context.Context, *ScanRequest) (ScanResult, error) { return s.res, nil }

// BenchmarkServer runs spamc-style exchanges (connect, send, half-close,
// read to EOF) from parallel Go clients over loopback against a server
// with a trivial scanner, and reports requests per second.
func BenchmarkServer(b *testing.B) {
	gtube := readMessage(b, "gtube.eml")
	res := &fakeResult{score: 999.998, threshold: 5, spam: true,
		symbols: []string{"GTUBE", "NO_RELAYS"}, rewritten: append([]byte("X-Spam-Flag: YES\n"), gtube...)}
	for _, verb := range []string{"CHECK", "PROCESS"} {
		b.Run(verb, func(b *testing.B) {
			ts := startServer(b, Config{MaxConns: 64, QueueTimeout: time.Minute}, constScanner{res}, nil)
			req := append([]byte(verb+" SPAMC/1.5\r\nUser: bench\r\nContent-length: "+strconv.Itoa(len(gtube))+"\r\n\r\n"), gtube...)
			b.SetBytes(int64(len(req)))
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 0, 1024)
				for pb.Next() {
					c, err := net.Dial("tcp", ts.addr)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := c.Write(req); err != nil {
						b.Error(err)
					}
					if err := c.(*net.TCPConn).CloseWrite(); err != nil {
						b.Error(err)
					}
					resp := bytes.NewBuffer(buf[:0])
					if _, err := io.Copy(resp, c); err != nil {
						b.Error(err)
					}
					if !bytes.HasPrefix(resp.Bytes(), []byte("SPAMD/1.1 0 EX_OK\r\n")) {
						b.Errorf("answer %q", resp.Bytes())
					}
					c.Close()
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
