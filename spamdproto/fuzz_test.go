package spamdproto

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadRequest feeds arbitrary bytes to the parser, seeded with every
// transcript's request. The parser must not panic, must answer any
// failure with an *Error whose code has a text, must respect the limits,
// and a request it accepts must answer without panicking.
func FuzzReadRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		tr, err := parseTranscript(string(data))
		if err != nil {
			f.Fatal(err)
		}
		if text, ok := tr.get("request"); ok {
			f.Add(expand(f, text, true))
		}
	}
	lim := Limits{MaxLineLength: 512, MaxHeaders: 16, MaxMessageSize: 1024, MaxBodySize: 4096}
	res := &fakeResult{score: 3, threshold: 5, symbols: []string{"B", "A"}, report: "r\n", rewritten: []byte("H: v\n\nbody\n")}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ReadRequest(bufio.NewReader(bytes.NewReader(data)), lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			if StatusText(e.Code) == "Error" {
				t.Fatalf("error code %d has no status text", e.Code)
			}
			if line := e.WireLine(); bytes.ContainsAny([]byte(line[:len(line)-2]), "\r\n") {
				t.Fatalf("error line has a line break inside: %q", line)
			}
			return
		}
		if int64(len(req.Message)) > lim.MaxBodySize {
			t.Fatalf("message of %d bytes over MaxBodySize", len(req.Message))
		}
		if req.Oversized != (int64(len(req.Message)) > lim.MaxMessageSize) {
			t.Fatalf("Oversized = %v for %d bytes", req.Oversized, len(req.Message))
		}
		var out bytes.Buffer
		switch {
		case req.Verb.Scans():
			if err := WriteScanResponse(&out, req, res); err != nil {
				t.Fatal(err)
			}
		case req.Verb == VerbTell:
			if err := req.CheckTell(); err != nil {
				t.Fatalf("ReadRequest accepted a TELL that CheckTell refuses: %v", err)
			}
		}
	})
}
