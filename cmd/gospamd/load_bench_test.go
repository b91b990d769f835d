package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/spamdproto"
)

// loadClients is the number of concurrent clients of the load benchmarks.
const loadClients = 8

// corpusMessages reads every message of the shared corpus.
func corpusMessages(b *testing.B) [][]byte {
	raws, _ := testpeer.CorpusMessages(b)
	return raws
}

// runLoad sends b.N CHECK requests over the corpus from loadClients
// goroutines to addr, reports messages/s and latency percentiles, and
// returns the messages/s.
func runLoad(b *testing.B, addr string, msgs [][]byte) float64 {
	b.Helper()
	client := &spamdproto.Client{Hosts: []string{addr}, Timeout: 60 * time.Second}
	var next atomic.Int64
	lat := make([][]time.Duration, loadClients)
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for c := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if _, err := client.Check(context.Background(), "", msgs[int(i)%len(msgs)], false); err != nil {
					failed.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	return rate
}

// BenchmarkDaemonLoad: gospamd serve with a Bayes store trained on the
// whole corpus, 8 concurrent CHECK clients over the corpus.
func BenchmarkDaemonLoad(b *testing.B) {
	benchDaemonLoad(b, "--dbpath", filepath.Join(b.TempDir(), "bayes"))
}

// BenchmarkDaemonLoadRedis is BenchmarkDaemonLoad with the Bayes store
// on a local redis-server (appendfsync always, as the tests run it), for
// the Redis figure beside the Pebble one in one make bench run. Each
// scan's Bayes lookup is then one round trip to Redis.
func BenchmarkDaemonLoadRedis(b *testing.B) {
	srv := testpeer.StartRedis(b)
	file := filepath.Join(b.TempDir(), "gospamd.toml")
	cfg := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_dsn = \"server=%s;database=%d\"\n", srv.Addr, redisTestDB)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	benchDaemonLoad(b, "--daemon-config", file)
}

// benchDaemonLoad trains the store storeArgs name (the flags of
// gospamd learn and serve that select it) on the whole corpus, starts
// the daemon on it and runs the load.
func benchDaemonLoad(b *testing.B, storeArgs ...string) {
	msgs := corpusMessages(b)
	d := trainedDaemon(b, storeArgs...)
	runLoad(b, d.addr(), msgs)
}

// trainedDaemon trains the store storeArgs name on the whole corpus and
// starts a daemon on it.
func trainedDaemon(b *testing.B, storeArgs ...string) *testDaemon {
	c := testpeer.Corpus(b)
	for _, args := range [][]string{
		{"--spam", filepath.Join(c, "spam")},
		{"--ham", filepath.Join(c, "easy_ham"), filepath.Join(c, "hard_ham")},
	} {
		args = slices.Concat([]string{"learn"}, storeArgs, args)
		var out strings.Builder
		env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &out, log: discardLogger()}
		if code := run(context.Background(), env, args); code != 0 {
			b.Fatalf("%v: %s", args, out.String())
		}
	}
	return startDaemon(b, false, slices.Concat(storeArgs, []string{"--max-children", fmt.Sprint(loadClients), "--log-level", "warn"})...)
}

// BenchmarkSpamAssassinSpamdLoad runs the same load against Debian's
// spamd (stock rules, network tests off) for comparison. Use a small
// -benchtime such as 200x: it scans about ten messages a second.
func BenchmarkSpamAssassinSpamdLoad(b *testing.B) {
	const spamd = "/usr/sbin/spamd"
	if _, err := os.Stat(spamd); err != nil {
		testpeer.Missing(b, "SpamAssassin's spamd (%s)", spamd)
	}
	msgs := corpusMessages(b)
	home := b.TempDir()
	port := freePort(b)
	cmd := exec.Command(spamd, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--max-children", fmt.Sprint(loadClients),
		"--local", "--nouser-config", "--helper-home-dir", home, "--pidfile", filepath.Join(home, "spamd.pid"))
	cmd.Env = append(os.Environ(), "HOME="+home)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	waitListening(b, port)
	runLoad(b, fmt.Sprintf("127.0.0.1:%d", port), msgs)
}

// waitListening waits until something accepts on 127.0.0.1:port (a peer
// daemon the test started and cannot ask).
func waitListening(t testing.TB, port int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the daemon did not start listening")
}
