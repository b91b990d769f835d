package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

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
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()

	loadBefore := loadAverage()
	var pebbleRates, redisRates []float64
	for round := range ratioRounds {
		b.Run(fmt.Sprintf("pebble-%d", round+1), func(b *testing.B) {
			if r := runLoad(b, pebble.addr(), msgs); b.N > 1 {
				pebbleRates = append(pebbleRates, r)
			}
		})
		b.Run(fmt.Sprintf("redis-%d", round+1), func(b *testing.B) {
			cpu0 := redisCPU(b, client)
			r := runLoad(b, rdb.addr(), msgs)
			b.ReportMetric((redisCPU(b, client)-cpu0)*1000/float64(b.N), "redis-cpu-ms/msg")
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

// redisCPU is redis-server's CPU time so far (user and system), in
// seconds.
func redisCPU(b *testing.B, client *redis.Client) float64 {
	info, err := client.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for line := range strings.SplitSeq(info, "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_user" || name == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
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
