package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic (a
// recovered panic shows as DefectInternal), must return a usable
// Message, and must be deterministic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "parse", "*.eml"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=a\n\n--a\n--a--\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw)
		if m == nil {
			t.Fatal("Parse returned nil")
		}
		if m.HasDefect(DefectInternal) {
			t.Fatalf("Parse recovered from an internal error on %q", raw)
		}
		if len(m.Parts) == 0 {
			t.Fatal("no parts")
		}
		for _, l := range append(slices.Clone(m.Text), m.Invisible...) {
			if len(l) > maxBodyLineLength+1 {
				t.Fatalf("text line of %d bytes, want at most %d", len(l), maxBodyLineLength+1)
			}
		}
		m2 := Parse(raw)
		if !slices.Equal(m.Text, m2.Text) || !slices.Equal(m.URIs, m2.URIs) || !slices.Equal(m.Invisible, m2.Invisible) {
			t.Fatal("Parse is not deterministic")
		}
	})
}
