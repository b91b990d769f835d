package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// BenchmarkParse parses the fixture messages in testdata/parse; MB/s is
// over their raw size.
func BenchmarkParse(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.eml"))
	if err != nil || len(files) == 0 {
		b.Skip("no fixtures in testdata/parse")
	}
	var msgs [][]byte
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += len(raw)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, raw := range msgs {
			Parse(raw)
		}
	}
}

// BenchmarkParseCorpus parses a sample of the shared corpus when it is
// present (testpeer.CorpusDir).
func BenchmarkParseCorpus(b *testing.B) {
	root := testpeer.CorpusDir()
	var msgs [][]byte
	total := 0
	for _, dir := range []string{"easy_ham", "hard_ham", "spam"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for i, e := range entries {
			if i >= 300 {
				break
			}
			raw, err := os.ReadFile(filepath.Join(root, dir, e.Name()))
			if err == nil {
				msgs = append(msgs, raw)
				total += len(raw)
			}
		}
	}
	if len(msgs) == 0 {
		b.Skip("corpus not found; set GOSPAMD_CORPUS")
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, raw := range msgs {
			Parse(raw)
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
}
