package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// testDaemon is a gospamd serve running in this process for a test.
type testDaemon struct {
	port int
	logs *syncBuffer
	stop func() int // cancels the daemon and returns its exit code
}

// startDaemon runs "gospamd serve ARGS --listen 127.0.0.1:0" (with
// tlsOnly the port serves TLS via --ssl-listen) and waits until it
// listens, learning the port the kernel chose. The daemon is stopped at
// the end of the test if the test has not stopped it.
func startDaemon(t testing.TB, tlsOnly bool, args ...string) *testDaemon {
	t.Helper()
	listen := "--listen"
	if tlsOnly {
		listen = "--ssl-listen"
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	listening := make(chan net.Addr, 1)
	d := &testDaemon{logs: &syncBuffer{b: new(strings.Builder)}}
	go func() {
		env := &cliEnv{stdin: strings.NewReader(""), stdout: d.logs, stderr: d.logs,
			onListen: func(a net.Addr) { listening <- a }}
		done <- run(ctx, env, append(append([]string{"serve"}, args...), listen, "127.0.0.1:0"))
	}()
	var once sync.Once
	code := 0
	d.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("gospamd serve did not stop after cancel")
				code = -1
			}
		})
		return code
	}
	t.Cleanup(func() { d.stop() })
	select {
	case a := <-listening:
		d.port = a.(*net.TCPAddr).Port
	case code := <-done:
		t.Fatalf("gospamd serve exited %d before listening:\n%s", code, d.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("gospamd serve did not start listening:\n%s", d.logs)
	}
	return d
}

// addr is the daemon's host:port.
func (d *testDaemon) addr() string { return fmt.Sprintf("127.0.0.1:%d", d.port) }

// freePort picks a port for a listener the test cannot open itself (the
// metrics listener, SpamAssassin's spamd).
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer lets the daemon's logger and the test share a buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  interface {
		Write([]byte) (int, error)
		String() string
	}
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

// waitLogged waits until the daemon's log holds text, failing the test
// with the log when it does not within the given time.
func waitLogged(t *testing.T, logs *syncBuffer, text string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged within %s:\n%s", text, within, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
