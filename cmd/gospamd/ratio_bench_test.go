package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// ratioRounds is how many times BenchmarkDaemonLoadRatio alternates the
// two daemons.
const ratioRounds = 3

// BenchmarkDaemonLoadRatio is the Redis backend's throughput against
// Pebble's in one run: two daemons, one on each store, both trained on
// the whole corpus, take the load of BenchmarkDaemonLoad in turn,
// ratioRounds times each, so that a change in the machine's load (it is
// shared) weighs on both alike. Each round is a sub-benchmark with its
// msgs/s; the Redis rounds also report redis-server's CPU time per
// message. A line on standard output has the ratio of the summed rates, every
// round's figure and the load average before and after.
func BenchmarkDaemonLoadRatio(b *testing.B) {
	msgs := corpusMessages(b)
	srv := testpeer.StartRedis(b)
	file := filepath.Join(b.TempDir(), "gospamd.toml")
	cfg := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_dsn = \"server=%s;database=%d\"\n", srv.Addr, redisTestDB)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	pebble := trainedDaemon(b, "--dbpath", filepath.Join(b.TempDir(), "bayes"))
	rdb := trainedDaemon(b, "--daemon-config", file)

	loadBefore := loadAverage()
	var pebbleRates, redisRates []float64
	for round := range ratioRounds {
		b.Run(fmt.Sprintf("pebble-%d", round+1), func(b *testing.B) {
			if r := runLoad(b, pebble.addr(), msgs); b.N > 1 {
				pebbleRates = append(pebbleRates, r)
			}
		})
		b.Run(fmt.Sprintf("redis-%d", round+1), func(b *testing.B) {
			cpu0 := srv.CPU()
			r := runLoad(b, rdb.addr(), msgs)
			b.ReportMetric((srv.CPU()-cpu0)*1000/float64(b.N), "redis-cpu-ms/msg")
			if b.N > 1 {
				redisRates = append(redisRates, r)
			}
		})
	}
	if len(pebbleRates) == 0 || len(redisRates) == 0 {
		return // the 1x run
	}
	sum := func(rates []float64) float64 {
		t := 0.0
		for _, r := range rates {
			t += r
		}
		return t
	}
	// On standard output, which go test shows for a benchmark that
	// passed (b.Log of a benchmark with sub-benchmarks it does not).
	fmt.Printf("redis/pebble throughput ratio %.2f (pebble msgs/s %.1f, redis msgs/s %.1f; load average %s before, %s after)\n",
		sum(redisRates)/sum(pebbleRates), pebbleRates, redisRates, loadBefore, loadAverage())
}

// loadAverage is the first three fields of /proc/loadavg, "?" where
// there is none.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
