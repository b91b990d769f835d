package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The inputs are real `go test -json -shuffle=on` runs of a small package
// with a passing test that logs, a skipped peer test, a skipped subtest
// and (in fail-skip) a failing subtest, and of the same package with a
// compile error.
func TestSummarize(t *testing.T) {
	tests := []struct {
		file       string
		wantFailed bool
		want       []string // in this order
		notWant    []string
	}{
		{
			file:       "fail-skip.json",
			wantFailed: true,
			want: []string{
				"    a_test.go:9: got 1, want 2\n--- FAIL: TestBroken/sub_bad (0.00s)\n",
				"--- FAIL: TestBroken (0.00s)\n",
				"-test.shuffle ", // a failed package's own lines show, to rerun it
				"FAIL\texample.com/tsdemo\t",
				"=== SKIPPED: 2 test(s)\n",
				"SKIP example.com/tsdemo TestPeer: a_test.go:6: skipped, peer missing: spamc not found on PATH (run make test-deps)\n",
				"SKIP example.com/tsdemo TestSubSkip/one: a_test.go:12: no zlib\n",
				"=== FAILED: 2 test(s)\nFAIL example.com/tsdemo TestBroken\nFAIL example.com/tsdemo TestBroken/sub_bad\n",
			},
			notWant: []string{"=== RUN", "--- PASS", "--- SKIP", "a_test.go:5: fine", "\nPASS\n"},
		},
		{
			file: "pass-skip.json",
			want: []string{
				"ok  \texample.com/tsdemo\t",
				"=== SKIPPED: 2 test(s)\n",
				"SKIP example.com/tsdemo TestPeer: ",
				"SKIP example.com/tsdemo TestSubSkip/one: a_test.go:12: no zlib\n",
			},
			notWant: []string{"FAIL", "=== RUN", "a_test.go:5: fine", "-test.shuffle"},
		},
		{
			file:       "build-fail.json",
			wantFailed: true,
			want: []string{
				"./b_test.go:3:28: cannot use \"x\"",
				"FAIL\texample.com/tsdemo [build failed]\n",
				"=== SKIPPED: 0 test(s)\n",
				"FAIL example.com/tsdemo [example.com/tsdemo.test] (build failed)\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out strings.Builder
			failed, err := summarize(f, &out)
			if err != nil {
				t.Fatalf("summarize: %v", err)
			}
			if failed != tt.wantFailed {
				t.Errorf("failed = %v, want %v", failed, tt.wantFailed)
			}
			got := out.String()
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (or has it out of order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("output has %q:\n%s", nw, got)
				}
			}
		})
	}
}

// Lines that are not test2json (the go command's own messages) pass
// through, and a test still running when the input ends (a timeout or a
// crashed binary) has its output shown.
func TestSummarizePassesThroughAndFlushes(t *testing.T) {
	in := "go: downloading example.com/x v1.0.0\n" +
		`{"Action":"run","Package":"p","Test":"TestHang"}` + "\n" +
		`{"Action":"output","Package":"p","Test":"TestHang","Output":"=== RUN   TestHang\n"}` + "\n" +
		`{"Action":"output","Package":"p","Test":"TestHang","Output":"panic: test timed out after 1s\n"}` + "\n" +
		`{"Action":"fail","Package":"p"}` + "\n"
	var out strings.Builder
	failed, err := summarize(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("a failed package did not fail the summary")
	}
	for _, w := range []string{"go: downloading example.com/x v1.0.0\n", "panic: test timed out after 1s\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}
