package learn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

var updatePrepare = flag.Bool("update", false, "rewrite testdata/corpus-prepare.sum from the shared corpus")

// TestPrepareCorpusUnchanged checks that learning every message of the
// shared corpus stores exactly what it did when testdata/corpus-prepare.sum
// was written: the same token keys (as learned, and as looked up by a
// scan), message ids and receive time. Speed work on the parser and
// tokenizer must not change a single token: a learned store would then
// differ from SpamAssassin's and from one learned before the change.
// Run with -update after a deliberate tokenizer change.
func TestPrepareCorpusUnchanged(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	learnOpt := tokenizer.DefaultTokenOptions()
	scanOpt := learnOpt
	scanOpt.Scan = true
	var got bytes.Buffer
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		for _, p := range testpeer.CorpusFiles(t, folder) {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			op := Prepare(raw, learnOpt, now)
			m := tokenizer.Parse(StripMarkup(raw))
			scanKeys := tokenizer.TokenKeys(m, scanOpt)
			h := sha256.New()
			fmt.Fprintf(h, "%s\x00%s\x00%d\x00", op.MsgID, op.AltMsgID, op.Atime)
			for _, keys := range [][]tokenizer.Key{op.Tokens, scanKeys} {
				sorted := slices.Clone(keys)
				slices.SortFunc(sorted, func(a, b tokenizer.Key) int { return bytes.Compare(a[:], b[:]) })
				_ = binary.Write(h, binary.BigEndian, uint32(len(sorted)))
				for _, k := range sorted {
					h.Write(k[:])
				}
			}
			name, _, _ := strings.Cut(filepath.Base(p), ".")
			fmt.Fprintf(&got, "%s/%s %d %s\n", folder, name, len(op.Tokens), hex.EncodeToString(h.Sum(nil)[:6]))
		}
	}
	golden := filepath.Join("testdata", "corpus-prepare.sum")
	if *updatePrepare {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := strings.Split(string(want), "\n")
	gotLines := strings.Split(got.String(), "\n")
	names := func(lines []string) string {
		var b strings.Builder
		for _, l := range lines {
			name, _, _ := strings.Cut(l, " ")
			b.WriteString(name + "\n")
		}
		return b.String()
	}
	if names(wantLines) != names(gotLines) {
		t.Skipf("the corpus at %s is not the one %s was written from", testpeer.CorpusDir(), golden)
	}
	bad := 0
	for i := range wantLines {
		if wantLines[i] != gotLines[i] {
			bad++
			if bad <= 10 {
				t.Errorf("message learned differently: got %q, want %q", gotLines[i], wantLines[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d messages learned differently", bad, len(wantLines)-1)
	}
}
