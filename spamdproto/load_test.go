package spamdproto

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// loadClient is one kind of client in the load test: what it sends, and
// what it must get back ("" for clients that do not wait for an answer).
type loadClient struct {
	name string
	run  func(c net.Conn) ([]byte, error)
	// check validates the answer; nil means any answer (or none) is fine.
	check func(got []byte) error
}

func exactly(want string) func([]byte) error {
	return func(got []byte) error {
		if string(got) != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
}

func prefixed(want string) func([]byte) error {
	return func(got []byte) error {
		if !bytes.HasPrefix(got, []byte(want)) {
			return fmt.Errorf("got %q, want a %q line", got, want)
		}
		return nil
	}
}

// sendAll writes req, half-closes and reads to EOF, as spamc does.
func sendAll(req []byte) func(net.Conn) ([]byte, error) {
	return func(c net.Conn) ([]byte, error) {
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			return nil, err
		}
		return io.ReadAll(c)
	}
}

// TestLoad runs 500 concurrent connections at a server with 10 slots:
// every verb, clients that stall mid-request, send garbage or hang up
// early. Every well-formed request must get its exact answer, the server
// must keep serving, and its goroutines must all finish.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	gtube := readMessage(t, "gtube.eml")
	ham := readMessage(t, "ham-crlf.eml")
	metrics := &countingMetrics{}
	ts := startServer(t, Config{
		MaxConns: 10, ReadTimeout: 500 * time.Millisecond, QueueTimeout: 30 * time.Second, Metrics: metrics,
	}, gtubeScanner(), newFakeTeller())
	if got := exchangeRaw(t, ts.addr, []byte("PING SPAMC/1.5\r\n\r\n"), true); string(got) != "SPAMD/1.5 0 PONG\r\n" {
		t.Fatalf("warm-up PING answered %q", got)
	}
	baseline := runtime.NumGoroutine()

	withLen := func(verb string, msg []byte) []byte {
		return append([]byte(verb+" SPAMC/1.5\r\nUser: load\r\nContent-length: "+strconv.Itoa(len(msg))+"\r\n\r\n"), msg...)
	}
	zmsg := zlibBytes(t, gtube)
	marked := "X-Spam-Flag: YES\n" + string(gtube)
	kinds := []loadClient{
		{"check", sendAll(withLen("CHECK", gtube)), exactly(wantGTUBECheck)},
		{"symbols", sendAll(withLen("SYMBOLS", ham)), exactly("SPAMD/1.1 0 EX_OK\r\nContent-length: 11\r\nSpam: False ; 2.3 / 5.0\r\n\r\nMISSING_MID")},
		{"process", sendAll(withLen("PROCESS", gtube)), exactly("SPAMD/1.1 0 EX_OK\r\nContent-length: " + strconv.Itoa(len(marked)) +
			"\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n" + marked)},
		{"ping", sendAll([]byte("PING SPAMC/1.5\r\n\r\n")), exactly("SPAMD/1.5 0 PONG\r\n")},
		{"tell", sendAll(append([]byte("TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: "+
			strconv.Itoa(len(gtube))+"\r\n\r\n"), gtube...)), prefixed("SPAMD/1.1 0 EX_OK\r\n")},
		{"stall", func(c net.Conn) ([]byte, error) {
			if _, err := c.Write([]byte("CHECK SPAMC/1.5\r\nContent-length: 203\r\n\r\nFrom:")); err != nil {
				return nil, err
			}
			return io.ReadAll(c) // the server gives up first
		}, exactly("SPAMD/1.0 79 Timeout: (0.5 second timeout while trying to CHECK)\r\n")},
		{"garbage", nil, prefixed("SPAMD/1.0 76 Bad header line: ")},
		{"compressed", sendAll(append([]byte("SYMBOLS SPAMC/1.5\r\nCompress: zlib\r\nContent-length: "+
			strconv.Itoa(len(zmsg))+"\r\n\r\n"), zmsg...)),
			exactly("SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,NO_RECEIVED,NO_RELAYS")},
		{"hang up", func(c net.Conn) ([]byte, error) {
			_, err := c.Write([]byte("PROCESS SPAMC/1.5\r\nContent-len"))
			return nil, err // closes without reading
		}, nil},
		{"perl style", func(c net.Conn) ([]byte, error) { // extra CRLF, no half-close
			if _, err := c.Write(append(withLen("CHECK", gtube), "\r\n"...)); err != nil {
				return nil, err
			}
			return io.ReadAll(c)
		}, exactly(wantGTUBECheck)},
	}

	const clients = 500
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([][]byte, clients)
	for i := range garbage {
		g := make([]byte, 1+rng.IntN(4096))
		for j := range g {
			g[j] = byte(rng.IntN(256))
		}
		g[0] = 'x' // never a verb
		garbage[i] = g
	}

	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := make(chan struct{})
	for i := range clients {
		kind := kinds[i%len(kinds)]
		if kind.name == "garbage" {
			kind.run = sendAll(garbage[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := net.DialTimeout("tcp", ts.addr, 10*time.Second)
			if err != nil {
				errs <- fmt.Errorf("client %d (%s): dial: %w", i, kind.name, err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			got, err := kind.run(c)
			if kind.check == nil {
				return
			}
			if err != nil {
				errs <- fmt.Errorf("client %d (%s): %w (got %q)", i, kind.name, err, got)
				return
			}
			if err := kind.check(got); err != nil {
				errs <- fmt.Errorf("client %d (%s): %w", i, kind.name, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if got := exchangeRaw(t, ts.addr, withLen("CHECK", gtube), true); string(got) != wantGTUBECheck {
		t.Errorf("after the load, CHECK answered %q", got)
	}
	if n := metrics.panics.Load(); n != 0 {
		t.Errorf("%d panics recovered under load", n)
	}

	// Connection goroutines end within the linger time after their client.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("outcomes: %s", metrics.outcomeCounts())
}
