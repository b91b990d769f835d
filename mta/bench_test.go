package mta_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// benchClients is the number of concurrent clients, as the issue's
// throughput target counts them.
const benchClients = 8

// BenchmarkSMTPEndToEnd measures one server the way gospamd serve
// composes it: an SMTP front end and a spamd listener on one scan
// service (built-in and site rules, a Bayes store), with benchClients
// concurrent clients each.
//
//   - smtp: go-smtp clients, one connection and one message per
//     transaction, scan and fsynced Maildir delivery; the target.
//   - spamd: spamd PROCESS (what spamc sends by default) of the same
//     message for the same user, scan and markup without delivery, for
//     comparison.
func BenchmarkSMTPEndToEnd(b *testing.B) {
	e := newEnv(b, nil)
	msg := message("weekly report", "Hi Alice,\r\n\r\nthe numbers for this week are attached.\r\n\r\nCarol")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	spamd := spamdproto.NewServer(spamdproto.Config{}, spamdproto.Backend{Service: e.svc}, nil)
	served := make(chan error, 1)
	go func() { served <- spamd.Serve(context.Background(), l) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := spamd.Shutdown(ctx); err != nil {
			b.Error(err)
		}
		if err := <-served; err != nil && !errors.Is(err, spamdproto.ErrServerClosed) {
			b.Error(err)
		}
	})
	client := &spamdproto.Client{Hosts: []string{l.Addr().String()}, Timeout: time.Minute}

	b.Run("smtp", func(b *testing.B) {
		parallel(b, func() bool {
			return code(send(b, e.addr, "carol@example.net", []string{"alice@example.com"}, msg)) == 250
		})
	})
	b.Run("spamd", func(b *testing.B) {
		parallel(b, func() bool {
			_, err := client.Process(context.Background(), "alice", msg, false)
			return err == nil
		})
	})
}

// parallel runs b.N calls of one from benchClients goroutines and
// reports messages per second; any failed call fails b.
func parallel(b *testing.B, one func() bool) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if !one() {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d messages failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
