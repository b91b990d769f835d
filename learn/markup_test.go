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

// headerHas finds a field where splitting the header into lines and
// looking at each does: at the start, the end, in a CRLF header, in any
// case, and not as a prefix of a longer name or without its colon.
func TestHeaderHasAsSplit(t *testing.T) {
	bySplit := func(hdr []byte, name string) bool {
		for _, line := range bytes.Split(hdr, []byte("\n")) {
			if len(line) > len(name) && line[len(name)] == ':' && strings.EqualFold(string(line[:len(name)]), name) {
				return true
			}
		}
		return false
	}
	const name = "X-Spam-Checker-Version"
	for _, hdr := range []string{
		"", "\n", name, name + ":", name + ": x", "a: b\n" + name + ": x\n\n", "a: b\r\nx-spam-checker-version: x\r\n\r\n",
		"a: b\n" + name + "s: x\n", "a: b\n" + name + " : x\n", "a: b\n " + name + ": x\n", "a: b\n\n" + name + ":",
		"a: b\nX-SPAM-CHECKER-VERSION:", name + "\n:", "a:\n\n\n",
	} {
		if got, want := headerHas([]byte(hdr), name), bySplit([]byte(hdr), name); got != want {
			t.Errorf("headerHas(%q) = %v, want %v", hdr, got, want)
		}
	}
}
