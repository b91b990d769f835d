package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

// TestSMTPDNSBLWithSwaks: gospamd serve with [dns] and an [smtp]
// dnsbl_reject list, driven by swaks. swaks connects from 127.0.0.1,
// which is never looked up by default: the test lists it in bl.test and
// un-exempts loopback; 127.0.0.2 (swaks --local-interface) is listed
// nowhere. silent.test never answers: every transaction goes on after
// the [dns] timeout (1s), a miss.
func TestSMTPDNSBLWithSwaks(t *testing.T) {
	bin := testpeer.Program(t, "swaks")
	dns := dnstest.Start(t, "1.0.0.127.bl.test. 300 IN A 127.0.0.2")
	dns.Silent("silent.test.")
	var postmaster string
	d := startSMTPDaemonWith(t, fmt.Sprintf("[dns]\nservers = [%q]\ntimeout = \"1s\"\n", dns.Addr), func(c *mta.Config) {
		postmaster = filepath.Join(filepath.Dir(c.Routes), "mail", "postmaster")
		f, err := os.OpenFile(c.Routes, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(f, "postmaster example.com %s\n", postmaster); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		c.DNSBLReject = []string{"silent.test", "bl.test"}
		c.DNSBLExemptNetworks = []string{"!127.0.0.0/8"}
		// Spelled out: runSMTPDaemon writes the section with
		// toml.Marshal, which writes a nil list as [] (no exemptions).
		c.DNSBLExemptRcpt = []string{"postmaster"}
	})
	start := time.Now()
	for _, tc := range []struct {
		name       string
		args       []string
		want       int
		transcript string
		alice, pm  int // cumulative counts of alice's and postmaster's inboxes
	}{
		{"listed client refused at RCPT", []string{"--to", "alice@example.com"}, 554, "5.7.1 Service unavailable; client host [127.0.0.1] blocked using bl.test", 0, 0},
		{"listed client may write to postmaster", []string{"--to", "postmaster@example.com"}, 250, "", 0, 1},
		{"unlisted client accepted", []string{"--local-interface", "127.0.0.2", "--to", "alice@example.com"}, 250, "", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out := swaks(t, bin, d.smtpAddr, tc.args...)
			if got != tc.want {
				t.Fatalf("answer %d, want %d:\n%s", got, tc.want, out)
			}
			if !strings.Contains(out, tc.transcript) {
				t.Errorf("transcript lacks %q:\n%s", tc.transcript, out)
			}
			if counts, want := [2]int{mustCount(t, d.alice, ""), mustCount(t, postmaster, "")}, [2]int{tc.alice, tc.pm}; counts != want {
				t.Errorf("alice, postmaster inboxes = %v, want %v", counts, want)
			}
		})
	}
	// Three transactions, each waiting at most the 1s timeout for the
	// silent list (swaks and the scans take the rest).
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("three transactions took %s", el)
	}
	if n := dns.QueriesFor("1.0.0.127.bl.test."); n != 1 {
		t.Errorf("bl.test asked %d times about 127.0.0.1, want 1 (then cached)", n)
	}
	if n := dns.QueriesFor("2.0.0.127.bl.test."); n != 1 {
		t.Errorf("bl.test asked %d times about 127.0.0.2, want 1", n)
	}
	if t.Failed() {
		t.Log(d.logs)
	}
}
