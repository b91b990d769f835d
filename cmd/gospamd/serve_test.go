package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// The daemon answers Debian's spamc with the Bayes verdict of a store
// trained by gospamd learn, learns through TELL, and drains on shutdown.
func TestServeWithSpamc(t *testing.T) {
	spamc := testpeer.Program(t, "spamc")
	spam := testpeer.CorpusFiles(t, "spam")
	ham := testpeer.CorpusFiles(t, "easy_ham")
	db := filepath.Join(t.TempDir(), "bayes")
	for _, step := range []struct {
		class string
		files []string
	}{{"--spam", spam[:220]}, {"--ham", ham[:220]}} {
		if out, errOut, code := runCLI(t, "", append([]string{"learn", "--dbpath", db, step.class}, step.files...)...); code != 0 {
			t.Fatalf("learn: %d %s %s", code, out, errOut)
		}
	}
	nspam := func() string {
		magic, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic")
		for _, line := range strings.Split(magic, "\n") {
			if strings.HasSuffix(line, "non-token data: nspam") {
				return strings.Fields(line)[2]
			}
		}
		t.Fatalf("no nspam line in:\n%s", magic)
		return ""
	}
	before := nspam()
	metricsPort := freePort(t)
	d := startDaemon(t, false, "--dbpath", db, "--allow-tell", "--required-score", "3.5",
		"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", metricsPort))
	port := d.port

	spamc1 := func(file string, args ...string) (string, int) {
		cmd := exec.Command(spamc, append([]string{"-d", "127.0.0.1", "-p", fmt.Sprint(port)}, args...)...)
		cmd.Stdin = strings.NewReader(mustRead(t, file))
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := spamc1(spam[300], "-c"); !regexp.MustCompile(`^\d+\.\d/3\.5\n$`).MatchString(out) || code != 1 {
		t.Errorf("spamc -c on an unseen spam: %q exit %d, want SCORE/3.5 exit 1", out, code)
	}
	if out, code := spamc1(ham[300], "-c"); !strings.HasSuffix(out, "/3.5\n") || code != 0 {
		t.Errorf("spamc -c on an unseen ham: %q exit %d, want ham", out, code)
	}
	if out, _ := spamc1(spam[300], "-y"); !strings.Contains(","+out+",", ",BAYES_99,BAYES_999,") {
		t.Errorf("spamc -y: %q, want the Bayes rules among the symbols", out)
	}
	out, _ := spamc1(spam[300])
	if !strings.Contains(out, "X-Spam-Flag: YES\n") || !strings.Contains(out, "BAYES_99") {
		t.Errorf("spamc (PROCESS) output lacks the spam markup:\n%s", out[:min(len(out), 600)])
	}
	// The unseen spam may be autolearned by one of these scans (it is
	// with the built-in scores); its header then says spam, or
	// unavailable when an earlier verb learned it.
	autolearned := 0
	if regexp.MustCompile(`autolearn=(?:spam|unavailable)\s`).MatchString(out) {
		autolearned = 1
	}
	// A clean ham is autolearned (SpamAssassin's default thresholds), and
	// the header says so.
	if out, _ := spamc1(ham[302]); !regexp.MustCompile(`autolearn=ham\s+autolearn_force=no`).MatchString(out) {
		t.Errorf("PROCESS of a ham: no autolearn=ham in\n%s", out[:min(len(out), 800)])
	}
	// Autolearn never relearns: the same ham again is "unavailable".
	if out, _ := spamc1(ham[302]); !strings.Contains(out, "autolearn=unavailable") {
		t.Errorf("PROCESS of an autolearned ham again: no autolearn=unavailable in\n%s", out[:min(len(out), 800)])
	}
	if out, code := spamc1(ham[301], "-L", "spam"); out != "Message successfully un/learned\n" || code != 0 {
		t.Errorf("spamc -L spam: %q exit %d", out, code)
	}
	if out, _ := spamc1(ham[301], "-L", "spam"); out != "Message was already un/learned\n" {
		t.Errorf("spamc -L spam again: %q", out)
	}
	// The server counts a request once the connection is closed, which
	// may be just after the client has its answer: poll briefly.
	want := []string{
		`gospamd_spamd_requests_total{outcome="spam",verb="CHECK"} 1`,
		`gospamd_spamd_requests_total{outcome="ham",verb="CHECK"} 1`,
		`gospamd_spamd_requests_total{outcome="told",verb="TELL"} 2`,
		`gospamd_learns_total{result="already_learned"} 1`,
		`gospamd_scans_in_flight 0`,
	}
	var metrics []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		missing := 0
		for _, w := range want {
			if !strings.Contains(string(metrics), w) {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(string(metrics), w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if !regexp.MustCompile(`gospamd_learns_total\{result="learned"\} [1-9]`).Match(metrics) {
		t.Errorf("metrics count no learns")
	}
	// Each scan's time is in the histogram (six scans above).
	if !regexp.MustCompile(`(?m)^gospamd_scan_seconds_bucket\{le="0.03"\} \d+$`).Match(metrics) ||
		!regexp.MustCompile(`(?m)^gospamd_scan_seconds_count ([6-9]|\d\d+)$`).Match(metrics) {
		t.Errorf("metrics lack the scan-time histogram gospamd_scan_seconds with its 30 ms bucket and six scans")
	}
	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, d.logs.String())
	}
	// The learn through TELL was committed: the store counts it (and
	// the autolearned spam, if any).
	if after := nspam(); after != fmt.Sprint(mustAtoi(t, before)+1+autolearned) {
		t.Errorf("nspam %s before TELL, %s after; want %d more (TELL, and %d autolearned)", before, after, 1+autolearned, autolearned)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
