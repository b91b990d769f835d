// Command testsummary reads `go test -json` on standard input and prints
// what `go test` prints without -v (each failed test with its output,
// build errors, one ok/FAIL line a package), then two lists at the end:
// every skipped test with its package and skip message, and every failed
// test. A peer test that skips is otherwise silent without -v, so a
// missing install step could pass unnoticed; `make test` pipes through
// this. Lines that are not test2json pass through. It exits 1 when a
// test or a build failed, 2 when its input cannot be read, else 0; `make
// test` also keeps go test's own status (pipefail).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json), with the build
// events Go 1.24 added.
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// A result is a skipped or failed test and what it printed.
type result struct {
	Package, Test, Message string
}

// summary holds the tests' output until they end.
type summary struct {
	w       io.Writer
	pending map[string][]string // by package and test: output lines so far
	skipped []result
	failed  []result
	fail    bool
}

func key(pkg, test string) string { return pkg + "\x00" + test }

// noise reports whether a line is one only -v prints.
func noise(line string) bool {
	t := strings.TrimSpace(line)
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- SKIP"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return t == "PASS"
}

// message joins a skipped test's own lines into one line.
func message(lines []string) string {
	var parts []string
	for _, l := range lines {
		if noise(l) {
			continue
		}
		if t := strings.TrimSpace(l); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

func (s *summary) handle(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.w, e.Output)
		return
	case "build-fail":
		s.fail = true
		s.failed = append(s.failed, result{Package: e.ImportPath, Message: "build failed"})
		return
	}
	if e.Test == "" {
		// A package's own lines (-test.shuffle, a panic outside tests)
		// show when it fails; otherwise only its ok or "no test files".
		k := key(e.Package, "")
		switch e.Action {
		case "output":
			if !noise(e.Output) {
				s.pending[k] = append(s.pending[k], e.Output)
			}
		case "pass", "skip":
			for _, l := range s.pending[k] {
				if strings.HasPrefix(l, "ok  ") || strings.HasPrefix(l, "?   ") {
					fmt.Fprint(s.w, l)
				}
			}
			delete(s.pending, k)
		case "fail":
			s.fail = true
			for _, l := range s.pending[k] {
				fmt.Fprint(s.w, l)
			}
			delete(s.pending, k)
		}
		return
	}
	k := key(e.Package, e.Test)
	switch e.Action {
	case "output":
		s.pending[k] = append(s.pending[k], e.Output)
	case "pass":
		delete(s.pending, k)
	case "skip":
		s.skipped = append(s.skipped, result{e.Package, e.Test, message(s.pending[k])})
		delete(s.pending, k)
	case "fail":
		s.fail = true
		for _, l := range s.pending[k] {
			if !noise(l) {
				fmt.Fprint(s.w, l)
			}
		}
		s.failed = append(s.failed, result{e.Package, e.Test, ""})
		delete(s.pending, k)
	}
}

// finish prints what tests still running printed (a crashed binary or a
// timeout leaves them), then the skipped and failed lists.
func (s *summary) finish() {
	var left []string
	for k := range s.pending {
		left = append(left, k)
	}
	sort.Strings(left)
	for _, k := range left {
		for _, l := range s.pending[k] {
			if !noise(l) {
				fmt.Fprint(s.w, l)
			}
		}
	}
	s.skipped = dedupe(s.skipped)
	fmt.Fprintf(s.w, "\n=== SKIPPED: %d test(s)\n", len(s.skipped))
	for _, r := range s.skipped {
		fmt.Fprintf(s.w, "SKIP %s %s: %s\n", r.Package, r.Test, r.Message)
	}
	s.failed = dedupe(s.failed)
	if len(s.failed) > 0 {
		fmt.Fprintf(s.w, "\n=== FAILED: %d test(s)\n", len(s.failed))
		for _, r := range s.failed {
			if r.Test == "" {
				fmt.Fprintf(s.w, "FAIL %s (%s)\n", r.Package, r.Message)
				continue
			}
			fmt.Fprintf(s.w, "FAIL %s %s\n", r.Package, r.Test)
		}
	}
}

// dedupe sorts rs and drops repeats (the race run repeats some tests).
func dedupe(rs []result) []result {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Package != rs[j].Package {
			return rs[i].Package < rs[j].Package
		}
		return rs[i].Test < rs[j].Test
	})
	out := rs[:0]
	for i, r := range rs {
		if i == 0 || r != rs[i-1] {
			out = append(out, r)
		}
	}
	return out
}

// summarize reads test2json events from r and writes the summary to w. It
// reports whether anything failed. Lines that are not JSON (go vet's or
// the go command's own messages) are copied through.
func summarize(r io.Reader, w io.Writer) (failed bool, err error) {
	s := &summary{w: w, pending: make(map[string][]string)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		s.handle(e)
	}
	if err := sc.Err(); err != nil {
		return true, fmt.Errorf("read go test -json: %w", err)
	}
	s.finish()
	return s.fail, nil
}

func main() {
	failed, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}
