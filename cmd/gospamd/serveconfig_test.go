package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Every flag runServe has always taken reaches the daemon config with
// the meaning it had.
func TestServeFlagsReachConfig(t *testing.T) {
	t.Setenv("GOSPAMD_DBPATH", "/env/bayes")
	args := []string{"--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2", "--socket", "/s", "--allowed-ips", "10.0.0.0/8,::1",
		"--dbpath", "/d", "--config", "/c", "--user-prefs-dir", "/u", "--max-children", "3", "--max-size", "100",
		"--timeout-tcp", "1s", "--timeout-child", "2s", "--allow-tell", "--bayes-scope", "user", "--required-score", "4.5",
		"--hostname", "h", "--log-level", "debug", "--ssl", "--ssl-listen", "127.0.0.1:3", "--ssl-cert", "c.pem", "--ssl-key", "k.pem",
		"--metrics-listen", "127.0.0.1:4", "--max-connections", "50", "--max-connections-per-ip", "5"}
	var errOut bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &errOut, stderr: &errOut}
	cfg, code := parseServeArgs(env, args)
	if code != -1 {
		t.Fatalf("code %d: %s", code, errOut.String())
	}
	s, p, d := cfg.Spamd, cfg.Policy, cfg.Daemon
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"listen", strings.Join(s.Listen, " "), "127.0.0.1:1 127.0.0.1:2"},
		{"socket", s.Socket, "/s"},
		{"allowed-ips", strings.Join(s.AllowedIPs, ","), "10.0.0.0/8,::1"},
		{"dbpath", cfg.Store.DBPath, "/d"},
		{"config", p.Dir, "/c"},
		{"user-prefs-dir", p.UserPrefsDir, "/u"},
		{"max-children", s.MaxChildren, 3},
		{"max-size", valueOr(s.MaxSize, 0), int64(100)},
		{"timeout-tcp", s.TimeoutTCP.Std(), time.Second},
		{"timeout-child", s.TimeoutChild.Std(), 2 * time.Second},
		{"allow-tell", s.AllowTell, true},
		{"bayes-scope", p.BayesScope, "user"},
		{"required-score", valueOr(p.RequiredScore, 0), 4.5},
		{"hostname", d.Hostname, "h"},
		{"log-level", d.LogLevel, "debug"},
		{"ssl", s.SSL, true},
		{"ssl-listen", strings.Join(s.SSLListen, " "), "127.0.0.1:3"},
		{"ssl-cert", s.TLSCert, "c.pem"},
		{"ssl-key", s.TLSKey, "k.pem"},
		{"metrics-listen", d.MetricsListen, "127.0.0.1:4"},
		{"max-connections", s.MaxConnections, 50},
		{"max-connections-per-ip", s.MaxConnectionsPerIP, 5},
	} {
		if c.got != c.want {
			t.Errorf("--%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// Unset, max-size and required-score leave the policy's values.
	cfg, code = parseServeArgs(env, nil)
	if code != -1 || cfg.Spamd.MaxSize != nil || cfg.Policy.RequiredScore != nil {
		t.Errorf("no flags: code %d, max_size %v, required_score %v; want the policy's (nil)", code, cfg.Spamd.MaxSize, cfg.Policy.RequiredScore)
	}
}
