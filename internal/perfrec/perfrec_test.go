package perfrec

import (
	"os"
	"path/filepath"
	"testing"
)

// Each recording leaves a non-empty file once stopped, and a path that
// cannot be created is an error naming what was to be recorded.
func TestRecordings(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(string) (func(), error)
	}{
		{"CPU profile", CPUProfile},
		{"trace", Trace},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			stop, err := tt.start(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for i := range 1_000_000 {
				sum += i % 7
			}
			_ = sum
			stop()
			if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
				t.Fatalf("after stop: %v, %v", fi, err)
			}
			if _, err := tt.start(filepath.Join(t.TempDir(), "no", "such", "dir")); err == nil {
				t.Error("a path in a missing directory was accepted")
			}
		})
	}
}
