package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/spamdproto"
)

// The [dns] section decodes into resolver.Config and builds the network
// tests with their metrics; no section, no network tests.
func TestNetChecker(t *testing.T) {
	var cfg struct {
		DNS *resolver.Config `toml:"dns"`
	}
	text := "[dns]\nservers = [\"127.0.0.1:5353\", \"::1\"]\ntimeout = \"1s\"\nrbl_timeout = \"3s\"\n"
	if err := toml.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.DNS == nil || cfg.DNS.Timeout.Std() != time.Second || cfg.DNS.RBLTimeout.Std() != 3*time.Second {
		t.Fatalf("decoded %+v", cfg.DNS)
	}
	reg := prometheus.NewRegistry()
	nc, err := newNetChecker(cfg.DNS, slog.New(slog.DiscardHandler), reg)
	if err != nil || nc == nil || !nc.Handles("check_rbl") {
		t.Fatalf("checker %v, %v", nc, err)
	}
	if nc, err := newNetChecker(nil, slog.New(slog.DiscardHandler), reg); nc != nil || err != nil {
		t.Errorf("no [dns] section: %v, %v", nc, err)
	}
	if _, err := newNetChecker(&resolver.Config{Servers: []string{"dns.example"}}, slog.New(slog.DiscardHandler), prometheus.NewRegistry()); err == nil {
		t.Error("a server that is not an address was accepted")
	}
}

// Through the real daemon (gospamd serve --daemon-config with a [dns]
// section): a relay listed by the local list server hits the RBL rule;
// and 100 concurrent CHECKs whose list server never answers all finish
// in about the 1 s rbl_timeout with the default 10 scan slots — a scan
// waiting on DNS gives its slot back, so they do not go in ten waves.
func TestServeNetworkTests(t *testing.T) {
	srv := dnstest.Start(t, "7.100.51.198.bl.test. 300 IN A 127.0.0.2")
	srv.Silent("dead.test.")
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	writeFile(t, filepath.Join(site, "local.cf"), "rbl_timeout 1\n"+
		"header RCVD_IN_TESTBL eval:check_rbl('testbl', 'bl.test.')\ntflags RCVD_IN_TESTBL net\nscore RCVD_IN_TESTBL 0 3.0 0 3.0\n"+
		"header RCVD_IN_DEAD eval:check_rbl('dead', 'dead.test.')\ntflags RCVD_IN_DEAD net\nscore RCVD_IN_DEAD 0 1.0 0 1.0\n")
	conf := filepath.Join(tmp, "gospamd.toml")
	writeFile(t, conf, fmt.Sprintf("[store]\ndbpath = %q\n[policy]\ndir = %q\n[dns]\nservers = [%q]\n",
		filepath.Join(tmp, "bayes"), site, srv.Addr))
	d := startDaemon(t, false, "--daemon-config", conf)
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 30 * time.Second}
	msg := func(ip string) []byte {
		return []byte("Received: from mx.sender.example (mx.sender.example [" + ip + "])\r\n" +
			"\tby mail.example.org (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\r\n" +
			"From: a@sender.example\r\nTo: user@example.org\r\nSubject: hello\r\n" +
			"Date: Mon, 8 Jul 2024 11:59:00 +0000\r\nMessage-ID: <1@sender.example>\r\n\r\nhi\r\n")
	}
	res, err := client.Symbols(context.Background(), "", msg("198.51.100.7"), false)
	if err != nil || !strings.Contains(string(res.Body), "RCVD_IN_TESTBL") {
		t.Fatalf("listed relay: %v, symbols %q; want RCVD_IN_TESTBL", err, res.Body)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 100 {
		wg.Go(func() {
			// Distinct relays: no answer comes from the cache.
			if _, err := client.Check(context.Background(), "", msg(fmt.Sprintf("198.51.101.%d", i+1)), false); err != nil {
				failed.Add(1)
				t.Logf("scan %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of 100 CHECKs failed", n)
	}
	// Ten waves of the 1 s deadline would take 10 s; one wave about 1 s.
	if el := time.Since(start); el > 4*time.Second {
		t.Errorf("100 concurrent CHECKs waiting on a dead list took %v, want about 1 s (not ten waves)", el)
	}
}
