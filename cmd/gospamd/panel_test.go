package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/rules/resolver"
)

func TestPanelPassword(t *testing.T) {
	tests := []struct {
		name, stdin string
		password    string // the password the hash must match; "" for a refusal
	}{
		{"line", "s3cret pass\n", "s3cret pass"},
		{"CRLF", "s3cret\r\n", "s3cret"},
		{"no newline", "s3cret", "s3cret"},
		{"only the first line", "first\nsecond\n", "first"},
		{"empty", "", ""},
		{"empty line", "\n", ""},
		{"too long for bcrypt", strings.Repeat("x", 73) + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tt.stdin, "panel-password")
			if tt.password == "" {
				if code != exitUsage || out != "" {
					t.Errorf("exit %d, stdout %q; want %d and nothing", code, out, exitUsage)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			hash := strings.TrimSuffix(out, "\n")
			if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(tt.password)); err != nil {
				t.Errorf("hash %q does not match %q: %v", hash, tt.password, err)
			}
			if strings.Contains(out+errOut, tt.password) {
				t.Errorf("the password is echoed")
			}
		})
	}
}

// The Status page's DNS figures are the resolver's query counters.
func TestDNSHealth(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newDNSMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		zone string
		o    resolver.Outcome
		n    int
	}{
		{"zen.spamhaus.org", resolver.OutcomeAnswer, 5},
		{"zen.spamhaus.org", resolver.OutcomeTimeout, 2},
		{"multi.uribl.com", resolver.OutcomeNXDomain, 3},
		{"multi.uribl.com", resolver.OutcomeServFail, 1},
	} {
		for range q.n {
			m.Query(q.zone, q.o, time.Millisecond)
		}
	}
	want := []panel.ZoneHealth{
		{Zone: "multi.uribl.com", Queries: 4, Errors: 1},
		{Zone: "zen.spamhaus.org", Queries: 7, Timeouts: 2},
	}
	if got := dnsHealth(reg); !reflect.DeepEqual(got, want) {
		t.Errorf("dnsHealth:\n got %+v\nwant %+v", got, want)
	}
}
