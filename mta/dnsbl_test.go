package mta_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/scan"
)

// sendFrom runs one transaction from the local address local
// ("127.0.0.2": Linux routes all of 127/8 to the loopback).
func sendFrom(t testing.TB, local, addr, from string, to []string, msg []byte) error {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return transact(smtp.NewClient(conn), from, to, msg)
}

// TestDNSBLReject: the connect-time blocklists against a real DNS
// server through the daemon's resolver. 127.0.0.1 is listed in
// bl.test, 127.0.0.2 in none; the test un-exempts loopback.
func TestDNSBLReject(t *testing.T) {
	dns := dnstest.Start(t,
		"1.0.0.127.bl.test. 300 IN A 127.0.0.2",
		"1.0.0.127.second.test. 300 IN A 127.0.0.4",
		"1.0.0.127.refused.test. 300 IN A 127.255.255.254",
	)
	dns.Silent("silent.test.")
	dns.ServFail("broken.test.")
	const timeout = 500 * time.Millisecond
	for _, tc := range []struct {
		name      string
		lists     []string
		exempt    []string // dnsbl_exempt_networks; nil un-exempts 127/8
		client    string
		to        string
		wantCode  int
		wantZone  string // named in the 554
		wantQuery bool   // the server was asked about 127.0.0.1
	}{
		{name: "listed client refused at RCPT", lists: []string{"bl.test"}, client: "127.0.0.1", to: "alice@example.com",
			wantCode: 554, wantZone: "bl.test", wantQuery: true},
		{name: "listed client may write to postmaster", lists: []string{"bl.test"}, client: "127.0.0.1", to: "postmaster@example.com",
			wantCode: 250, wantQuery: true},
		{name: "unlisted client accepted", lists: []string{"bl.test"}, client: "127.0.0.2", to: "alice@example.com", wantCode: 250},
		{name: "the first list in order that lists is named", lists: []string{"silent.test", "broken.test", "second.test", "bl.test"},
			client: "127.0.0.1", to: "alice@example.com", wantCode: 554, wantZone: "second.test", wantQuery: true},
		{name: "silent list is a miss within the timeout", lists: []string{"silent.test"}, client: "127.0.0.1", to: "alice@example.com",
			wantCode: 250},
		{name: "SERVFAIL is a miss", lists: []string{"broken.test"}, client: "127.0.0.1", to: "alice@example.com", wantCode: 250},
		{name: "an answer outside 127.0.0.x is a miss", lists: []string{"refused.test"}, client: "127.0.0.1", to: "alice@example.com",
			wantCode: 250, wantQuery: true},
		{name: "loopback is never looked up by default", lists: []string{"bl.test"}, exempt: []string{}, client: "127.0.0.1",
			to: "alice@example.com", wantCode: 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh resolver: no answer cached from another case.
			res, err := resolver.New(resolver.Config{Servers: []string{dns.Addr}, Timeout: confval.Duration(5 * time.Second)}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			before := dns.QueriesFor("1.0.0.127.bl.test.") + dns.QueriesFor("1.0.0.127.second.test.") +
				dns.QueriesFor("1.0.0.127.refused.test.")
			postmaster := filepath.Join(t.TempDir(), "postmaster")
			e := newEnvDeps(t, func(c *mta.Config) {
				appendRoute(t, c.Routes, "postmaster example.com "+postmaster)
				c.DNSBLReject = tc.lists
				c.DNSBLExemptNetworks = tc.exempt
				if tc.exempt == nil {
					c.DNSBLExemptNetworks = []string{"!127.0.0.0/8"}
				}
				c.DNSBLTimeout = confval.Duration(timeout)
			}, func(d *mta.Deps) { d.DNSBL = res })

			start := time.Now()
			err = sendFrom(t, tc.client, e.addr, "carol@example.net", []string{tc.to}, message("dnsbl", "hello"))
			elapsed := time.Since(start)
			if got := code(err); got != tc.wantCode {
				t.Fatalf("answer %d (%v), want %d", got, err, tc.wantCode)
			}
			if tc.wantZone != "" {
				var se *smtp.SMTPError
				if !errors.As(err, &se) || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) ||
					!strings.HasSuffix(se.Message, "blocked using "+tc.wantZone) {
					t.Errorf("refusal %v does not name %s with 5.7.1", err, tc.wantZone)
				}
			}
			// The greeting, EHLO and MAIL run while the lookups do: the
			// transaction never waits beyond their deadline (the scan
			// and the Maildir write take the rest).
			if elapsed > timeout+3*time.Second {
				t.Errorf("transaction took %s with a %s dnsbl_timeout", elapsed, timeout)
			}
			after := dns.QueriesFor("1.0.0.127.bl.test.") + dns.QueriesFor("1.0.0.127.second.test.") +
				dns.QueriesFor("1.0.0.127.refused.test.")
			if asked := after > before; asked != tc.wantQuery {
				t.Errorf("DNS asked about 127.0.0.1: %v, want %v", asked, tc.wantQuery)
			}
			delivered := count(t, e.alice, "") + count(t, postmaster, "")
			if want := map[bool]int{true: 1, false: 0}[tc.wantCode == 250]; delivered != want {
				t.Errorf("%d messages delivered, want %d", delivered, want)
			}
		})
	}
}

func appendRoute(t testing.TB, routes, line string) {
	t.Helper()
	f, err := os.OpenFile(routes, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A configured blocklist without a resolver is refused, naming why.
func TestDNSBLNeedsResolver(t *testing.T) {
	_, err := mta.NewServer(mta.Config{Domains: []string{"example.com"}, NextHop: "lmtp:127.0.0.1:24",
		DNSBLReject: []string{"zen.spamhaus.org"}}, mta.Deps{Scanner: nopScanner{}})
	if err == nil || !strings.Contains(err.Error(), "dnsbl_reject") || !strings.Contains(err.Error(), "[dns]") {
		t.Fatalf("NewServer: %v, want an error naming dnsbl_reject and [dns]", err)
	}
}

type nopScanner struct{}

func (nopScanner) Scan(context.Context, *scan.Request) (*scan.Result, error) {
	return nil, errors.New("not here")
}

// The lookups start when the client connects, not at RCPT: a client
// that takes longer than dnsbl_timeout to get to RCPT finds them done
// and does not wait again, even on a list that never answers.
func TestDNSBLStartsAtConnect(t *testing.T) {
	dns := dnstest.Start(t)
	dns.Silent("silent.test.")
	res, err := resolver.New(resolver.Config{Servers: []string{dns.Addr}, Timeout: confval.Duration(5 * time.Second)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	e := newEnvDeps(t, func(c *mta.Config) {
		c.DNSBLReject, c.DNSBLExemptNetworks, c.DNSBLTimeout = []string{"silent.test"}, []string{"!127.0.0.0/8"}, confval.Duration(timeout)
	}, func(d *mta.Deps) { d.DNSBL = res })
	c, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.net"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(timeout + 100*time.Millisecond)
	if err := c.Mail("carol@example.net", nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Rcpt("alice@example.com", nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > timeout/2 {
		t.Errorf("RCPT waited %s for lookups started at connect with a %s deadline", d, timeout)
	}
	if n := dns.QueriesFor("1.0.0.127.silent.test."); n == 0 {
		t.Error("the list was never asked")
	}
}
