package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospamd/gospamd/rules/resolver"
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
