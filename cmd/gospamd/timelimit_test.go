package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// A site policy with runaway backtracking rules and time_limit 2: the
// daemon answers SYMBOLS within 3 s with TIME_LIMIT_EXCEEDED among the
// rules, keeps what hit before, logs the rule that was running and counts
// it in a metric. Without the limit the scan would take about 48 s.
func TestServeTimeLimit(t *testing.T) {
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	rules := "time_limit 2\nheader EARLY_SUBJ Subject =~ /urgent/\nscore EARLY_SUBJ 1.5\npriority EARLY_SUBJ -5\n"
	for i := range 6 {
		// The backreference keeps the re package's solvers, which would
		// decide the pattern in linear time, off it.
		rules += fmt.Sprintf("body RUNAWAY_%d /(\\w+\\s?)+(?=\\d{3}%c)\\1/\nscore RUNAWAY_%d 1\n", i, 'A'+i, i)
	}
	writeFile(t, filepath.Join(site, "local.cf"), rules)
	var msg strings.Builder
	msg.WriteString("From: a@example.com\r\nSubject: urgent news\r\n\r\nHello.\r\n\r\n")
	for range 40 {
		msg.WriteString(strings.Repeat("word ", 30) + "12\r\n\r\n")
	}
	metricsPort := freePort(t)
	d := startDaemon(t, false, "--dbpath", filepath.Join(tmp, "bayes"), "--config", site,
		"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", metricsPort))
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 30 * time.Second}
	start := time.Now()
	res, err := client.Symbols(context.Background(), "", []byte(msg.String()), false)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if elapsed > 3*time.Second {
		t.Errorf("SYMBOLS took %v, want under 3 s with time_limit 2", elapsed)
	}
	syms := "," + strings.TrimSpace(string(res.Body)) + ","
	if !strings.Contains(syms, ",TIME_LIMIT_EXCEEDED,") || !strings.Contains(syms, ",EARLY_SUBJ,") {
		t.Errorf("symbols %q: want TIME_LIMIT_EXCEEDED and the early hit EARLY_SUBJ", syms)
	}
	if !strings.Contains(d.logs.String(), `msg="scan stopped at its time limit"`) ||
		!strings.Contains(d.logs.String(), "rule=RUNAWAY_") {
		t.Errorf("no log line naming the running rule:\n%s", d.logs)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "gospamd_scan_time_limit_exceeded_total 1\n") {
		t.Errorf("metrics lack gospamd_scan_time_limit_exceeded_total 1")
	}
}
