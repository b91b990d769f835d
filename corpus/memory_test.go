package corpus

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospamd/gospamd/internal/peakmem"
)

// TestMboxHugeMessageMemory: an mbox holding one message far over
// --max-size, as ordinary lines or as one endless line, costs the reader
// about --max-size, not the message: it is skipped (as sa-learn skips
// it), its neighbours are read, and the process's peak resident set (see
// package peakmem) rises by less than 16 MB.
func TestMboxHugeMessageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 2 × 96 MB mboxes")
	}
	const (
		hugeSize = 96 << 20
		maxSize  = 500 << 10 // gospamd learn's default --max-size
		maxExtra = 16 << 20
	)
	tests := []struct {
		name string
		line string // the huge message's body is this, repeated, then a line break
	}{
		{"96 MB of short lines", "The quick brown fox jumps over the lazy dog 0123456789\n"},
		{"96 MB on one line", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "huge.mbox")
			writeHugeMbox(t, path, tt.line, hugeSize)
			var got []string
			extra, err := peakmem.Measure(func() {
				err := Walk(context.Background(), path, WalkOptions{Mbox: true, MaxSize: maxSize, Logger: quietLog}, func(it Item) error {
					got = append(got, fmt.Sprintf("%s %d", filepath.Base(it.Path), len(it.Data)))
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
			if errors.Is(err, peakmem.ErrUnsupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []string{fmt.Sprintf("huge.mbox:1 %d", len(smallMboxMessage("first"))), fmt.Sprintf("huge.mbox:3 %d", len(smallMboxMessage("last")))}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("read %v, want %v (the huge message 2 skipped)", got, want)
			}
			t.Logf("%d MB message, --max-size %d: peak RSS +%.1f MB", hugeSize>>20, maxSize, float64(extra)/(1<<20))
			if extra >= maxExtra {
				t.Errorf("peak RSS rose by %.1f MB, want under %d MB", float64(extra)/(1<<20), maxExtra>>20)
			}
		})
	}
}

func smallMboxMessage(subject string) string {
	return "From a@example.com Sat Jun  1 12:00:00 2024\nFrom: a@example.com\nSubject: " + subject + "\n\nshort\n\n"
}

// writeHugeMbox writes a small message, one of about size bytes whose
// body is line repeated, and another small one.
func writeHugeMbox(t *testing.T, path, line string, size int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, smallMboxMessage("first"))
	fmt.Fprint(w, "From b@example.com Sat Jun  1 12:00:01 2024\nFrom: b@example.com\nSubject: huge\n\n")
	for n := 0; n < size; n += len(line) {
		w.WriteString(line)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprint(w, smallMboxMessage("last"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
