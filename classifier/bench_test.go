package classifier

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/gospamd/gospamd/tokenizer"
)

// syntheticMessages returns n messages of about 300 distinct tokens drawn
// from a Zipf-distributed vocabulary of 200 000 tokens (a few common
// tokens, a long tail of rare ones, as in mail).
func syntheticMessages(seed uint64, n int) [][]tokenizer.Key {
	r := rand.New(rand.NewPCG(seed, 1))
	zipf := rand.NewZipf(r, 1.1, 1, 200000-1)
	msgs := make([][]tokenizer.Key, n)
	for i := range msgs {
		seen := map[uint64]bool{}
		for len(seen) < 300 {
			seen[zipf.Uint64()] = true
		}
		for w := range seen {
			msgs[i] = append(msgs[i], tokenizer.KeyOf("w"+strconv.FormatUint(w, 10)))
		}
	}
	return msgs
}

// BenchmarkApply measures one Apply of a batch of learn ops (300 tokens
// each) into a growing store, fsync included.
func BenchmarkApply(b *testing.B) {
	for _, batchSize := range []int{1, 100, 250, 500} {
		b.Run(fmt.Sprintf("batch=%d", batchSize), func(b *testing.B) {
			s, _ := openTestStore(b)
			msgs := syntheticMessages(1, 3250)
			ctx := context.Background()
			ops := make([]Op, batchSize)
			next := 0
			start := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range ops {
					ops[j] = Op{MsgID: strconv.Itoa(next) + "@sa_generated", Class: Class("sh"[next%2]),
						Tokens: msgs[next%len(msgs)], Atime: int64(1700000000 + next)}
					next++
				}
				if _, err := s.Apply(ctx, ops); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(next)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkLookup measures reading the counts of one message's 300
// tokens (two thirds known) from a store of 150 000 tokens.
func BenchmarkLookup(b *testing.B) {
	s, _ := openTestStore(b)
	var backup bytes.Buffer
	backup.WriteString("v\t3\tdb_version\nv\t1000\tnum_spam\nv\t1000\tnum_nonspam\n")
	for i := range 150000 {
		fmt.Fprintf(&backup, "t\t%d\t%d\t1700000000\t%s\n", i%7, i%5+1, tokenizer.KeyOf("w"+strconv.Itoa(i)))
	}
	ctx := context.Background()
	if _, err := s.Restore(ctx, "", &backup); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	msgs := make([][]tokenizer.Key, 64)
	for i := range msgs {
		for range 300 {
			msgs[i] = append(msgs[i], tokenizer.KeyOf("w"+strconv.Itoa(r.IntN(225000))))
		}
	}
	out := make([]Counts, 300)
	for _, impl := range []struct {
		name string
		fn   func(keys []tokenizer.Key) error
	}{
		{"Lookup", func(keys []tokenizer.Key) error { return s.Lookup(ctx, "", keys, out) }},
		{"get", func(keys []tokenizer.Key) error { return lookupGet(s.db, "", keys, out) }},
		{"sorted", func(keys []tokenizer.Key) error { return lookupSorted(s.db, "", keys, out) }},
	} {
		b.Run(impl.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := impl.fn(msgs[i%len(msgs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
