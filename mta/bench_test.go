package mta_test

import (
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkSMTPEndToEnd: 8 concurrent go-smtp clients, one connection
// and one message per transaction each, scan (built-in and site rules,
// Bayes store) and fsynced Maildir delivery, as the throughput
// target measures it.
func BenchmarkSMTPEndToEnd(b *testing.B) {
	e := newEnv(b, nil)
	msg := message("weekly report", "Hi Alice,\r\n\r\nthe numbers for this week are attached.\r\n\r\nCarol")
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ResetTimer()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if code(send(b, e.addr, "carol@example.net", []string{"alice@example.com"}, msg)) != 250 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d messages not accepted", failed.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
