package rules

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/tokenizer"
)

var update = flag.Bool("update", false, "rewrite golden files")

func hits(names ...string) []Hit {
	var hs []Hit
	for _, n := range names {
		hs = append(hs, Hit{Rule: n, Score: 1, Description: "test rule " + n})
	}
	return hs
}

// The folding vectors of spec autolearn-and-scoring.md §3, which are what
// SpamAssassin 4.0.1 writes.
func TestFoldHeader(t *testing.T) {
	tests := []struct{ value, want string }{
		{"Yes, score=1000.0 required=5.0 tests=GTUBE,NO_RECEIVED,NO_RELAYS autolearn=no autolearn_force=no version=4.0.1",
			"Yes, score=1000.0 required=5.0 tests=GTUBE,NO_RECEIVED,\n\tNO_RELAYS autolearn=no autolearn_force=no version=4.0.1"},
		{"No, score=-0.0 required=5.0 tests=NO_RECEIVED,NO_RELAYS autolearn=ham autolearn_force=no version=4.0.1",
			"No, score=-0.0 required=5.0 tests=NO_RECEIVED,NO_RELAYS\n\tautolearn=ham autolearn_force=no version=4.0.1"},
		{"Yes, score=7.3 required=5.0 tests=DATE_IN_PAST_96_XX,FREEMAIL_FROM,HTML_MESSAGE,MISSING_MID,RCVD_IN_PBL,URIBL_BLACK autolearn=no autolearn_force=no version=4.0.1",
			"Yes, score=7.3 required=5.0 tests=DATE_IN_PAST_96_XX,\n\tFREEMAIL_FROM,HTML_MESSAGE,MISSING_MID,RCVD_IN_PBL,URIBL_BLACK\n\tautolearn=no autolearn_force=no version=4.0.1"},
		{"short", "short"},
	}
	for _, tt := range tests {
		if got := foldHeader("X-Spam-Status", tt.value); got != tt.want {
			t.Errorf("foldHeader:\n%q\nwant\n%q", got, tt.want)
		}
	}
}

func TestDisplayScore(t *testing.T) {
	tests := []struct {
		score, required float64
		want            string
	}{
		{5.2, 5.0, "5.2"},
		{4.96, 5.0, "4.9"}, // a ham never shows the threshold
		{4.94, 5.0, "4.9"},
		{-0.001, 5.0, "-0.0"},
		{1000, 5.0, "1000.0"},
		{12.0, 12.0, "12.0"},
	}
	for _, tt := range tests {
		if got := DisplayScore(tt.score, tt.required); got != tt.want {
			t.Errorf("DisplayScore(%v, %v) = %s, want %s", tt.score, tt.required, got, tt.want)
		}
	}
}

// Golden: the rewritten message (report_safe 0) for a spam and a ham,
// with LF and CRLF line endings and old X-Spam headers to replace.
func TestRewriteGolden(t *testing.T) {
	mk := DefaultMarkup("mx.example.net")
	mk.Subversion = "2022-12-13"
	tests := []struct {
		name string
		in   string
		res  Result
	}{
		{"spam", "Return-Path: <a@example.com>\nX-Spam-Status: No, old\n\tcontinued\nX-Spam-Prev-Subject: kept\nFrom: a@example.com\nSubject: hi\n\nBuy now, cheap pills for everyone who reads this message today.\n",
			Result{Score: 7.25, Required: 5, Hits: hits("BAYES_99", "BAYES_999", "MISSING_DATE")}},
		{"ham", "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n", Result{Score: 4.96, Required: 5, Hits: hits("BAYES_50")}},
		{"noheaderend", "From: a@example.com\nSubject: no body", Result{Score: 0, Required: 5}},
	}
	for _, tt := range tests {
		m := tokenizer.Parse([]byte(tt.in))
		got := mk.Rewrite([]byte(tt.in), &tt.res, m)
		got = append(got, "\n=== report ===\n"...)
		got = append(got, mk.Report(&tt.res, m)...)
		golden := filepath.Join("testdata", "markup", tt.name+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: rewritten message\n%s\nwant\n%s", tt.name, got, want)
		}
	}
}

// A spam under report_safe 1 is wrapped: the report first, then the
// original byte for byte as message/rfc822; learning the wrapped message
// (learn.StripMarkup) gets the original back. Ham is never wrapped.
func TestReportSafeWrap(t *testing.T) {
	mk := DefaultMarkup("mx.example.net")
	mk.Subversion = "2022-12-13"
	mk.ReportSafe = 1
	mk.Now = func() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) }
	mk.Boundary = "----------=_665B0D40.0000BEEF"
	in := "From: Bob <bob@example.com>\nTo: you@example.org\nSubject: cheap pills\nMessage-Id: <1@example.com>\nContent-Type: text/html\n\n<p>Buy now</p>\n"
	res := &Result{Score: 9, Required: 5, Hits: hits("BAYES_99")}
	m := tokenizer.Parse([]byte(in))
	got := mk.Rewrite([]byte(in), res, m)
	golden := filepath.Join("testdata", "markup", "report_safe1.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("wrapped spam:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(string(got), "\n\n"+in+"\n--"+mk.Boundary+"--\n") {
		t.Error("the original is not inside the wrapper byte for byte")
	}
	if back := learn.StripMarkup(got); string(back) != in {
		t.Errorf("learning the wrapped spam would learn\n%s\nnot the original\n%s", back, in)
	}
	ham := &Result{Score: 1, Required: 5}
	if out := mk.Rewrite([]byte(in), ham, m); strings.Contains(string(out), "multipart/mixed") {
		t.Error("a ham was wrapped")
	}
}

// rewrite_header with report_safe 0: the Subject is tagged once and the
// original kept as X-Spam-Prev-Subject, which learning restores; From
// gets the tag in parentheses; a missing Subject is created.
func TestRewriteHeader(t *testing.T) {
	mk := DefaultMarkup("mx.example.net")
	mk.RewriteSubject = "*****SPAM***** (_SCORE_)"
	mk.RewriteFrom = "spam"
	res := &Result{Score: 9, Required: 5, Hits: hits("BAYES_99")}
	tests := []struct{ in, subject, from, prev string }{
		{"From: a@example.com\nSubject: hello\n\nbody\n", "Subject: *****SPAM***** (9.0) hello\n", "From: (spam) a@example.com\n", "X-Spam-Prev-Subject: hello\n"},
		{"From: a@example.com\n\nbody\n", "Subject: *****SPAM***** (9.0) \n", "From: (spam) a@example.com\n", "X-Spam-Prev-Subject: (nonexistent)\n"},
	}
	for _, tt := range tests {
		out := string(mk.Rewrite([]byte(tt.in), res, tokenizer.Parse([]byte(tt.in))))
		for _, want := range []string{tt.subject, tt.from, tt.prev} {
			if !strings.Contains(out, want) {
				t.Errorf("rewritten message lacks %q:\n%s", want, out)
			}
		}
		if back := string(learn.StripMarkup([]byte(out))); back != tt.in && !strings.Contains(tt.prev, "nonexistent") {
			t.Errorf("learning the rewritten message would learn\n%s\nnot\n%s", back, tt.in)
		}
	}
	ham := &Result{Score: 1, Required: 5}
	in := "Subject: hello\n\nbody\n"
	if out := string(mk.Rewrite([]byte(in), ham, tokenizer.Parse([]byte(in)))); strings.Contains(out, "SPAM") {
		t.Errorf("a ham's subject was rewritten:\n%s", out)
	}
}

// The site's add_header lines add to the built-in block (SME Server's
// X-Spam-Score for maildrop recipes), report_safe 0 adds X-Spam-Report to
// spam, and remove_header takes a header out.
func TestPolicyHeaders(t *testing.T) {
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte("report_safe 0\nadd_header all Score _SCORE_\nremove_header all Level\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, _, err := LoadPolicy(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	_, mk := OptionsFromPolicy(pol, "mx.example.net")
	var names []string
	res := &Result{Score: 12.5, Required: 5, Hits: hits("BAYES_99")}
	for _, h := range mk.Headers(res, nil) {
		names = append(names, h.Name)
		if h.Name == "X-Spam-Score" && h.Value != "12.5" {
			t.Errorf("X-Spam-Score: %q", h.Value)
		}
	}
	// In line order: report_safe 0 adds the Report header where it stands.
	want := []string{"X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Status", "X-Spam-Report", "X-Spam-Score"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("headers %v, want %v", names, want)
	}
}
