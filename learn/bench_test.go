package learn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

type benchMessage struct {
	raw   []byte
	class classifier.Class
}

func loadBenchCorpus(b *testing.B) ([]benchMessage, int64) {
	b.Helper()
	var msgs []benchMessage
	var size int64
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		class := classifier.Ham
		if folder == "spam" {
			class = classifier.Spam
		}
		for _, p := range testpeer.CorpusFiles(b, folder) {
			raw, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			msgs = append(msgs, benchMessage{raw, class})
			size += int64(len(raw))
		}
	}
	return msgs, size
}

// BenchmarkLearnCorpus learns the whole shared corpus into a fresh store
// through the Learner and its Writer (parse, tokenize, commit), as
// gospamd learn does. One op is the whole corpus. batch=1 submits every
// message alone (the writer's group commit alone decides the batches),
// batch=256 is the Learner's default grouping; compare them in one run.
func BenchmarkLearnCorpus(b *testing.B) {
	for _, size := range []int{1, 256} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchLearnCorpus(b, size) })
	}
}

func benchLearnCorpus(b *testing.B, batch int) {
	msgs, size := loadBenchCorpus(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		store, err := classifier.Open(filepath.Join(b.TempDir(), "bayes"), classifier.Options{})
		if err != nil {
			b.Fatal(err)
		}
		w := NewWriter(store, WriterOptions{})
		l := &Learner{Writer: w, TokenOptions: tokenizer.DefaultTokenOptions(), BatchSize: batch}
		b.StartTimer()
		for _, class := range []classifier.Class{classifier.Spam, classifier.Ham} {
			src := func(ctx context.Context, fn func(string, []byte) error) error {
				for _, m := range msgs {
					if m.class == class {
						if err := fn("", m.raw); err != nil {
							return err
						}
					}
				}
				return nil
			}
			if _, err := l.Run(context.Background(), src, Request{Class: class}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = w.Close()
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(msgs)*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkClassifyCorpus measures Bayes classification alone — token
// lookup and chi-square combining for already tokenized messages — on a
// store trained with the whole corpus, with every core busy.
func BenchmarkClassifyCorpus(b *testing.B) {
	msgs, _ := loadBenchCorpus(b)
	store, err := classifier.Open(filepath.Join(b.TempDir(), "bayes"), classifier.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	w := NewWriter(store, WriterOptions{})
	opt := tokenizer.DefaultTokenOptions()
	keys := make([][]tokenizer.Key, len(msgs))
	var pending []<-chan Outcome
	for i, m := range msgs {
		op := Prepare(m.raw, opt, time.Now())
		op.Class = m.class
		keys[i] = slices.Clone(op.Tokens)
		ch, err := w.Submit(context.Background(), op)
		if err != nil {
			b.Fatal(err)
		}
		pending = append(pending, ch)
	}
	for _, ch := range pending {
		if o := <-ch; o.Err != nil {
			b.Fatal(o.Err)
		}
	}
	_ = w.Close()
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var counts []classifier.Counts
		for pb.Next() {
			k := keys[int(next.Add(1))%len(keys)]
			m, err := store.Magic(ctx, "")
			if err != nil {
				b.Error(err)
				return
			}
			counts = slices.Grow(counts[:0], len(k))[:len(k)]
			if err := store.Lookup(ctx, "", k, counts); err != nil {
				b.Error(err)
				return
			}
			classifier.Classify(m.NSpam, m.NHam, counts, classifier.DefaultParams())
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPrepareCorpus parses and tokenizes every message of the shared
// corpus on one goroutine, as a learn's workers do, without a store: the
// CPU a message costs a bulk learn before its commit. cpu-µs/msg is the
// process's CPU time (the garbage collector's included), the figure to
// compare on a busy machine.
func BenchmarkPrepareCorpus(b *testing.B) {
	msgs, size := loadBenchCorpus(b)
	opt := tokenizer.DefaultTokenOptions()
	now := time.Now()
	b.SetBytes(size)
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		for _, m := range msgs {
			Prepare(m.raw, opt, now)
		}
	}
	cpu := processCPU() - c0
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(len(msgs)*b.N), "µs/msg")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(msgs)*b.N), "cpu-µs/msg")
}

// BenchmarkApplyCorpus commits the whole shared corpus, parsed and
// tokenized beforehand, into a fresh store in the Learner's groups of 256,
// the spam and then the ham, each opening and closing the store as the two
// runs of gospamd learn do: the store's part of a bulk learn. cpu-ms/op
// is the process's CPU time (Pebble's flushes and compactions included),
// the figure to compare on a busy machine.
func BenchmarkApplyCorpus(b *testing.B) {
	msgs, _ := loadBenchCorpus(b)
	opt := tokenizer.DefaultTokenOptions()
	runs := make([][]classifier.Op, 2)
	for i, class := range []classifier.Class{classifier.Spam, classifier.Ham} {
		for _, m := range msgs {
			if m.class == class {
				op := Prepare(m.raw, opt, time.Now())
				op.Class = class
				runs[i] = append(runs[i], op)
			}
		}
	}
	ctx := context.Background()
	var cpu time.Duration
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "bayes")
		c0 := processCPU()
		for _, ops := range runs {
			store, err := classifier.Open(dir, classifier.Options{Ingest: true, L0Tables: 16}) // as gospamd learn
			if err != nil {
				b.Fatal(err)
			}
			for group := range slices.Chunk(ops, 256) {
				if _, err := store.Apply(ctx, group); err != nil {
					b.Fatal(err)
				}
			}
			if err := store.Close(); err != nil {
				b.Fatal(err)
			}
		}
		cpu += processCPU() - c0
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
