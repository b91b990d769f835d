package rules

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// The scan benchmarks parse and check every message of the shared corpus
// with Bayes from a store trained on that corpus, on benchWorkers
// goroutines (the targets are per two cores), and report messages/s.

const (
	benchWorkers        = 2
	benchStoreBatchSize = 500
)

// trainedStore learns raws (spam[i] tells each one's class) into a fresh
// store, as sa-learn would.
func trainedStore(b testing.TB, raws [][]byte, spam []bool, opt tokenizer.TokenOptions) *classifier.Store {
	b.Helper()
	store, err := classifier.Open(filepath.Join(b.TempDir(), "bayes"), classifier.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	opt.Scan = false
	now := time.Now()
	ops := make([]classifier.Op, len(raws))
	for i, raw := range raws {
		ops[i] = learn.Prepare(raw, opt, now)
		ops[i].Class = classifier.Ham
		if spam[i] {
			ops[i].Class = classifier.Spam
		}
	}
	for batch := range slices.Chunk(ops, benchStoreBatchSize) {
		if _, err := store.Apply(context.Background(), batch); err != nil {
			b.Fatalf("learn: %v", err)
		}
	}
	return store
}

// benchEngine builds an engine for pol over a store trained on the corpus.
func benchEngine(b *testing.B, pol *cf.Policy, raws [][]byte, spam []bool) *Engine {
	b.Helper()
	opt, _ := OptionsFromPolicy(pol, "")
	opt.Bayes = trainedStore(b, raws, spam, opt.TokenOptions)
	eng, err := New(opt)
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// benchScan parses and checks b.N corpus messages on benchWorkers
// goroutines.
func benchScan(b *testing.B, eng *Engine, raws [][]byte) {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				m := tokenizer.Parse(raws[int(i)%len(raws)])
				if _, err := eng.Check(ctx, m, CheckOptions{}); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d checks failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	// CPU time per message says what the machine's other load hides:
	// benchWorkers cores give benchWorkers/cpu messages a second.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/msg")
}

// cpuTime is the CPU time the process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScanDefaultRules: gospamd's built-in rules and Bayes.
func BenchmarkScanDefaultRules(b *testing.B) {
	raws, spam := testpeer.CorpusMessages(b)
	pol, diags, err := LoadPolicy(context.Background(), "")
	if err != nil {
		b.Fatalf("%v %v", err, diags)
	}
	benchScan(b, benchEngine(b, pol, raws, spam), raws)
}

// BenchmarkScanDefaultRulesSeparate: as BenchmarkScanDefaultRules, each
// pattern matched on its own (Options.SeparatePatterns), to compare.
func BenchmarkScanDefaultRulesSeparate(b *testing.B) {
	raws, spam := testpeer.CorpusMessages(b)
	pol, diags, err := LoadPolicy(context.Background(), "")
	if err != nil {
		b.Fatalf("%v %v", err, diags)
	}
	eng := benchEngine(b, pol, raws, spam)
	eng.opt.SeparatePatterns = true
	benchScan(b, eng, raws)
}

// BenchmarkScanStockRules: SpamAssassin's stock rules as Debian installs
// them (network tests do not run) and Bayes.
func BenchmarkScanStockRules(b *testing.B) {
	pol := stockSite(b)
	raws, spam := testpeer.CorpusMessages(b)
	benchScan(b, benchEngine(b, pol, raws, spam), raws)
}

// BenchmarkScanStockRulesSeparate: as BenchmarkScanStockRules, each
// pattern matched on its own (Options.SeparatePatterns), to compare.
func BenchmarkScanStockRulesSeparate(b *testing.B) {
	pol := stockSite(b)
	raws, spam := testpeer.CorpusMessages(b)
	eng := benchEngine(b, pol, raws, spam)
	eng.opt.SeparatePatterns = true
	benchScan(b, eng, raws)
}

// BenchmarkRulesDefaultRules: the rules engine alone on the built-in
// rules, to measure changes to it without the noise of parsing and
// Bayes: messages parsed before the timer, no Bayes store, the dfas
// warmed on the whole corpus first, one goroutine.
func BenchmarkRulesDefaultRules(b *testing.B) {
	pol, diags, err := LoadPolicy(context.Background(), "")
	if err != nil {
		b.Fatalf("%v %v", err, diags)
	}
	benchRulesOnly(b, pol)
}

// BenchmarkRulesStockRules: as BenchmarkRulesDefaultRules with
// SpamAssassin's stock rules.
func BenchmarkRulesStockRules(b *testing.B) {
	benchRulesOnly(b, stockSite(b))
}

// benchRulesOnly checks b.N parsed corpus messages with pol's rules and
// no Bayes, after one warming pass over the corpus, and reports the CPU
// time per message.
func benchRulesOnly(b *testing.B, pol *cf.Policy) {
	b.Helper()
	raws, _ := testpeer.CorpusMessages(b)
	opt, _ := OptionsFromPolicy(pol, "")
	opt.TimeLimit = 0
	eng, err := New(opt)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, raw := range raws {
		if _, err := eng.Check(ctx, tokenizer.Parse(raw), CheckOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	msgs := make([]*tokenizer.Message, b.N)
	for i := range msgs {
		msgs[i] = tokenizer.Parse(raws[i%len(raws)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for _, m := range msgs {
		if _, err := eng.Check(ctx, m, CheckOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/msg")
}
