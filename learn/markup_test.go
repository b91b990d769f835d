package learn

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStripMarkup(t *testing.T) {
	files, err := filepath.Glob("testdata/markup/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(in, ".eml") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			got := StripMarkup(raw)
			if !bytes.Equal(got, want) {
				t.Errorf("StripMarkup:\n%s\nwant:\n%s", got, want)
			}
			crlf := bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
			wantCRLF := bytes.ReplaceAll(want, []byte("\n"), []byte("\r\n"))
			if got := StripMarkup(crlf); !bytes.Equal(got, wantCRLF) {
				t.Errorf("StripMarkup with CRLF line endings:\n%q\nwant:\n%q", got, wantCRLF)
			}
		})
	}
}
