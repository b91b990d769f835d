package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
// message. Every round also reports this process's CPU time per message
// (both daemons and the load's clients run in it; only one daemon is
// busy at a time), and a Redis round the sum of the two: on a shared
// machine, where the rates say little, the ratio of the CPU times per
// message is what the rates' ratio comes to on an idle one (the scans
// being CPU-bound). A line on standard output has the ratio of the
// summed rates, the ratio of the CPU times, every round's figure and the
// load average before and after.
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
	var pebbleRates, redisRates, pebbleCPU, redisCPU []float64
	for round := range ratioRounds {
		b.Run(fmt.Sprintf("pebble-%d", round+1), func(b *testing.B) {
			self0 := processCPU(b)
			r := runLoad(b, pebble.addr(), msgs)
			self := (processCPU(b) - self0) * 1000 / float64(b.N)
			b.ReportMetric(self, "cpu-ms/msg")
			if b.N > 1 {
				pebbleRates = append(pebbleRates, r)
				pebbleCPU = append(pebbleCPU, self)
			}
		})
		b.Run(fmt.Sprintf("redis-%d", round+1), func(b *testing.B) {
			cpu0, self0 := srv.CPU(), processCPU(b)
			r := runLoad(b, rdb.addr(), msgs)
			server := (srv.CPU() - cpu0) * 1000 / float64(b.N)
			self := (processCPU(b) - self0) * 1000 / float64(b.N)
			b.ReportMetric(server, "redis-cpu-ms/msg")
			b.ReportMetric(self, "cpu-ms/msg")
			b.ReportMetric(self+server, "total-cpu-ms/msg")
			if b.N > 1 {
				redisRates = append(redisRates, r)
				redisCPU = append(redisCPU, self+server)
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
	fmt.Printf("redis/pebble throughput ratio %.2f (pebble msgs/s %.1f, redis msgs/s %.1f); "+
		"CPU per message ratio %.2f (pebble ms %.2f, redis ms with redis-server's %.2f); load average %s before, %s after\n",
		sum(redisRates)/sum(pebbleRates), pebbleRates, redisRates,
		sum(pebbleCPU)/sum(redisCPU), pebbleCPU, redisCPU, loadBefore, loadAverage())
}

// processCPU is this process's CPU time so far (user and system), in
// seconds.
func processCPU(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
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
