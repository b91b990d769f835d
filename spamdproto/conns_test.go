package spamdproto

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openConns is how many connections the server counts against
// MaxOpenConns.
func (s *Server) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// waitOpen waits until the server counts n open connections.
func waitOpen(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.openConns() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server counts %d open connections, want %d", s.openConns(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialFrom connects to addr over network, from the local address from
// when it is not "", and closes the connection at cleanup.
func dialFrom(t *testing.T, network, addr, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSlowClientsDoNotStarveScans: 200 idle connections and 10 clients
// sending a request one byte a second hold no scan slot, so a CHECK from
// another client is answered at once.
func TestSlowClientsDoNotStarveScans(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 210 connections")
	}
	const idle, tricklers = 200, 10
	ts := startServer(t, Config{MaxConns: tricklers, QueueTimeout: 5 * time.Second}, gtubeScanner(), nil)
	msg := readMessage(t, "gtube.eml")

	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // runs before the connections close and the server shuts down
	for range idle {
		dialFrom(t, "tcp", ts.addr, "")
	}
	for range tricklers {
		c := dialFrom(t, "tcp", ts.addr, "")
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for _, b := range checkRequest(msg) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				select {
				case <-tick.C:
				case <-stop:
					return
				}
			}
		}()
	}
	waitOpen(t, ts.Server, idle+tricklers)

	const checks = 7
	var took []time.Duration
	for range checks {
		start := time.Now()
		got := exchangeRaw(t, ts.addr, checkRequest(msg), true)
		took = append(took, time.Since(start))
		if string(got) != wantGTUBECheck {
			t.Fatalf("CHECK among slow clients answered %q", got)
		}
	}
	t.Logf("CHECK among %d idle and %d trickling connections took %v", idle, tricklers, took)
	slices.Sort(took)
	if median := took[checks/2]; median >= 100*time.Millisecond {
		t.Errorf("median CHECK took %v, want under 100ms", median)
	}
	// One slow answer on a loaded shared machine is noise; a starved scan
	// waits for the queue timeout.
	if slowest := took[checks-1]; slowest >= time.Second {
		t.Errorf("slowest CHECK took %v, want under 1s", slowest)
	}
}

// TestConnectionLimits: connections over MaxOpenConns or MaxConnsPerIP
// are answered "server busy" at once; UNIX-socket clients are not
// limited per address; a slot comes back when a connection closes.
func TestConnectionLimits(t *testing.T) {
	const busy = "SPAMD/1.0 75 Temporary failure: server busy\r\n"
	tests := []struct {
		name    string
		cfg     Config
		network string   // of the held connections and the probe
		hold    []string // source addresses of the connections held open
		from    string   // source address of the probe
		want    string
		outcome Outcome // counted for the probe, "" if none
	}{
		{"total cap", Config{MaxOpenConns: 3}, "tcp", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, "127.0.0.4", busy, OutcomeConnLimit},
		{"per-address cap", Config{MaxConnsPerIP: 2}, "tcp", []string{"127.0.0.1", "127.0.0.1"}, "127.0.0.1", busy, OutcomeIPLimit},
		{"another address", Config{MaxConnsPerIP: 2}, "tcp", []string{"127.0.0.1", "127.0.0.1"}, "127.0.0.2", "SPAMD/1.5 0 PONG\r\n", ""},
		{"under the caps", Config{MaxOpenConns: 3, MaxConnsPerIP: 3}, "tcp", []string{"127.0.0.1", "127.0.0.1"}, "127.0.0.1", "SPAMD/1.5 0 PONG\r\n", ""},
		{"UNIX socket not per address", Config{MaxConnsPerIP: 1}, "unix", []string{"", ""}, "", "SPAMD/1.5 0 PONG\r\n", ""},
		{"UNIX socket total cap", Config{MaxOpenConns: 2}, "unix", []string{"", ""}, "", busy, OutcomeConnLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := &countingMetrics{}
			tt.cfg.Metrics = metrics
			tt.cfg.ReadTimeout = 10 * time.Second // a probe that is read instead of refused waits that long
			ts := startServer(t, tt.cfg, gtubeScanner(), nil)
			addr := ts.addr
			if tt.network == "unix" {
				addr = serveUnix(t, ts)
			}
			held := make([]net.Conn, len(tt.hold))
			for i, from := range tt.hold {
				held[i] = dialFrom(t, tt.network, addr, from)
			}
			waitOpen(t, ts.Server, len(tt.hold))

			probe := func() (string, time.Duration) {
				c := dialFrom(t, tt.network, addr, tt.from)
				start := time.Now()
				_ = c.SetDeadline(start.Add(20 * time.Second))
				_, _ = c.Write([]byte("PING SPAMC/1.5\r\n\r\n")) // refused clients may see a reset
				got, _ := io.ReadAll(c)
				return string(got), time.Since(start)
			}
			got, took := probe()
			if got != tt.want {
				t.Fatalf("probe answered %q, want %q", got, tt.want)
			}
			if took > time.Second {
				t.Errorf("probe answered after %v, want at once", took)
			}
			if tt.outcome != "" {
				if counts, want := metrics.outcomeCounts(), "map["+string(tt.outcome)+":1]"; counts != want {
					t.Errorf("outcomes counted %s, want %s", counts, want)
				}
				// Once a held connection closes, its place is free again.
				held[0].Close()
				waitOpen(t, ts.Server, len(tt.hold)-1)
				if got, _ := probe(); got != "SPAMD/1.5 0 PONG\r\n" {
					t.Errorf("after a connection closed, probe answered %q", got)
				}
			}
		})
	}
}

// serveUnix serves ts on a UNIX socket too and returns its path.
func serveUnix(t *testing.T, ts *testServer) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "spamd")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		// startServer's cleanup, registered first, runs after this one:
		// shut down here so that Serve returns.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve on UNIX socket = %v", err)
		}
		os.RemoveAll(dir)
	})
	return path
}

// TestBufferedBytesBudget: requests whose messages would take the bytes
// held over MaxBufferedBytes are answered "server busy" at once, and the
// bytes come back when the requests holding them end.
func TestBufferedBytesBudget(t *testing.T) {
	const mib = 1 << 20
	metrics := &countingMetrics{}
	// MaxBufferedBytes is raised to twice MaxBodySize: 2 MiB.
	ts := startServer(t, Config{MaxBodySize: mib, MaxMessageSize: mib, MaxBufferedBytes: 1, Metrics: metrics}, gtubeScanner(), nil)
	msg := readMessage(t, "gtube.eml")

	var stalled []net.Conn
	for range 2 { // each sends 600 KB of 1 MiB and stops: its buffer has grown to 1 MiB
		c := dialFrom(t, "tcp", ts.addr, "")
		head := "CHECK SPAMC/1.5\r\nContent-length: " + strconv.Itoa(mib) + "\r\n\r\n"
		if _, err := c.Write(append([]byte(head), make([]byte, 600<<10)...)); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ts.budget.used.Load() != 2*mib {
		if time.Now().After(deadline) {
			t.Fatalf("buffered bytes %d, want %d", ts.budget.used.Load(), 2*mib)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, want := string(exchangeRaw(t, ts.addr, checkRequest(msg), true)), "SPAMD/1.0 75 Temporary failure: server busy\r\n"; got != want {
		t.Errorf("CHECK with the budget spent answered %q, want %q", got, want)
	}
	for _, c := range stalled {
		c.Close()
	}
	for ts.budget.used.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("buffered bytes %d after the requests ended, want 0", ts.budget.used.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := string(exchangeRaw(t, ts.addr, checkRequest(msg), true)); got != wantGTUBECheck {
		t.Errorf("CHECK with the budget free again answered %q", got)
	}
	if counts := metrics.outcomeCounts(); !strings.Contains(counts, "busy:1") {
		t.Errorf("outcomes %s, want one busy", counts)
	}
}
