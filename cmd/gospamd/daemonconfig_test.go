package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/rules/resolver"
)

// writeConfig writes a daemon config file and returns its path.
func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gospamd.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptr[T any](v T) *T { return &v }

func TestLoadDaemonConfig(t *testing.T) {
	t.Setenv("GOSPAMD_DBPATH", "/env/bayes")
	tests := []struct {
		name string
		doc  string
		want func(c *daemonConfig) // changes from the defaults; nil for none
		// wantErr is the exact error, with FILE for the file's path.
		wantErr string
	}{
		{name: "empty file: the defaults", doc: ""},
		{name: "comments only", doc: "# nothing\n[spamd]\n# listen = []\n"},
		{
			name: "every section",
			doc: `[store]
dbpath = "/var/lib/gospamd/bayes"
[spamd]
listen = ["127.0.0.1:7830", "[::1]:7830"]
socket = "/run/gospamd.sock"
socket_mode = "0660"
allowed_ips = ["10.0.0.0/8", "192.0.2.7"]
max_children = 4
max_size = 1000000
timeout_tcp = "10s"
timeout_child = "1m30s"
allow_tell = true
ssl = true
ssl_listen = ["0.0.0.0:7831"]
tls_cert = "/etc/ssl/c.pem"
tls_key = "/etc/ssl/k.pem"
max_connections = 100
max_connections_per_ip = 5
[policy]
dir = "/etc/gospamd"
user_prefs_dir = "/home/prefs"
bayes_scope = "user"
required_score = 6.5
[daemon]
log_level = "debug"
hostname = "mx.example.org"
metrics_listen = "127.0.0.1:9783"
metrics_allowed_ips = ["192.0.2.10"]
[dns]
`,
			want: func(c *daemonConfig) {
				c.DNS = &resolver.Config{} // an empty [dns]: network tests on, all defaults
				c.Store.DBPath = "/var/lib/gospamd/bayes"
				c.Spamd = spamdConfig{
					Listen: []string{"127.0.0.1:7830", "[::1]:7830"}, Socket: "/run/gospamd.sock", SocketMode: "0660",
					AllowedIPs: []string{"10.0.0.0/8", "192.0.2.7"}, MaxChildren: 4, MaxSize: ptr[int64](1000000),
					TimeoutTCP: confval.Duration(10 * time.Second), TimeoutChild: confval.Duration(90 * time.Second),
					AllowTell: true, SSL: true, SSLListen: []string{"0.0.0.0:7831"},
					TLSCert: "/etc/ssl/c.pem", TLSKey: "/etc/ssl/k.pem", MaxConnections: 100, MaxConnectionsPerIP: 5,
				}
				c.Policy = policyConfig{Dir: "/etc/gospamd", UserPrefsDir: "/home/prefs", BayesScope: "user", RequiredScore: ptr(6.5)}
				c.Daemon = daemonMisc{LogLevel: "debug", Hostname: "mx.example.org", MetricsListen: "127.0.0.1:9783",
					MetricsAllowedIPs: &[]string{"192.0.2.10"}}
			},
		},
		{name: "dotted keys", doc: "spamd.max_children = 3\n", want: func(c *daemonConfig) { c.Spamd.MaxChildren = 3 }},
		{name: "integer score", doc: "[policy]\nrequired_score = 4\n", want: func(c *daemonConfig) { c.Policy.RequiredScore = ptr(4.0) }},
		{name: "TLS without a certificate is for the final check", doc: "[spamd]\nssl = true\n", want: func(c *daemonConfig) { c.Spamd.SSL = true }},

		{name: "unknown key", doc: "[spamd]\nlisten = []\nlisen = [\"127.0.0.1:1\"]\n",
			wantErr: "FILE:3:1: spamd.lisen: unknown key"},
		{name: "two unknown keys", doc: "[store]\ndb_path = \"x\"\n[daemon]\nloglevel = \"info\"\n",
			wantErr: "FILE:2:1: store.db_path: unknown key\nFILE:4:1: daemon.loglevel: unknown key"},
		{name: "unknown section", doc: "\n[milter]\nsocket = \"x\"\n",
			wantErr: "FILE:2:2: milter: unknown section or key"},
		{name: "top-level key", doc: "dbpath = \"x\"\n", wantErr: "FILE:1:1: dbpath: unknown section or key"},
		{name: "unknown smtp key", doc: "[smtp]\nlisen = \"0.0.0.0:25\"\n",
			wantErr: "FILE:2:1: smtp.lisen: unknown key"},
		{name: "unknown imap key", doc: "[imap]\nsever = \"127.0.0.1:143\"\n",
			wantErr: "FILE:2:1: imap.sever: unknown key"},
		{name: "unknown dns key", doc: "[dns]\nserver = [\"127.0.0.1\"]\n",
			wantErr: "FILE:2:1: dns.server: unknown key"},
		{name: "smtp blocklists without a resolver", doc: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ndnsbl_reject = [\"zen.spamhaus.org\"]\n",
			wantErr: "FILE:4:1: smtp.dnsbl_reject: needs a [dns] section: the blocklists are looked up with its resolver"},
		{name: "syntax error", doc: "[spamd\nlisten = []\n",
			wantErr: "FILE:1:7: expected ']' to close table name"},
		{name: "duplicate key", doc: "[spamd]\nmax_children = 1\nmax_children = 2\n",
			wantErr: "FILE:3:1: key max_children is already defined"},
		{name: "string for an integer", doc: "[spamd]\nmax_children = \"ten\"\n",
			wantErr: "FILE:2:16: spamd.max_children: cannot decode TOML string into struct field main.spamdConfig.MaxChildren of type int"},
		{name: "string for a list", doc: "[spamd]\nlisten = \"127.0.0.1:783\"\n",
			wantErr: "FILE:2:10: spamd.listen: cannot decode TOML string into struct field main.spamdConfig.Listen of type []string"},
		{name: "bad duration", doc: "[spamd]\n\ntimeout_tcp = \"30 seconds\"\n",
			wantErr: `FILE:3:15: spamd.timeout_tcp: not a duration such as "30s" or "5m": "30 seconds"`},
		{name: "duration without a unit", doc: "[spamd]\ntimeout_child = 300\n",
			wantErr: `FILE:2:1: spamd.timeout_child: want a duration string such as "30s" or "5m"`},
		{name: "duration without a unit in an optional section", doc: "[dns]\nrbl_timeout = 5\n",
			wantErr: `FILE:2:1: dns.rbl_timeout: want a duration string such as "30s" or "5m"`},
		{name: "zero duration", doc: "[spamd]\ntimeout_tcp = \"0s\"\n",
			wantErr: "FILE:2:1: spamd.timeout_tcp: must be positive, not 0s"},
		{name: "bad CIDR", doc: "[spamd]\nallowed_ips = [\"10.0.0.0/33\"]\n",
			wantErr: `FILE:2:1: spamd.allowed_ips: "10.0.0.0/33" is neither an address nor a CIDR network`},
		{name: "bad metrics CIDR", doc: "[daemon]\nmetrics_allowed_ips = [\"10.0.0.0/33\"]\n",
			wantErr: `FILE:2:1: daemon.metrics_allowed_ips: "10.0.0.0/33" is neither an address nor a CIDR network`},
		{name: "socket mode not octal", doc: "[spamd]\nsocket_mode = \"rw-rw----\"\n",
			wantErr: `FILE:2:1: spamd.socket_mode: "rw-rw----" is not an octal mode such as "0660"`},
		{name: "bad listen address", doc: "[spamd]\nlisten = [\"783\"]\n",
			wantErr: `FILE:2:1: spamd.listen: "783" is not HOST:PORT: address 783: missing port in address`},
		{name: "negative size", doc: "[spamd]\nmax_size = -1\n",
			wantErr: "FILE:2:1: spamd.max_size: must be at least 1 byte, not -1"},
		{name: "no children", doc: "[spamd]\nmax_children = 0\n",
			wantErr: "FILE:2:1: spamd.max_children: must be at least 1, not 0"},
		{name: "negative per-IP limit", doc: "[spamd]\nmax_connections_per_ip = -2\n",
			wantErr: "FILE:2:1: spamd.max_connections_per_ip: must be 0 (no limit) or more, not -2"},
		{name: "bad bayes scope", doc: "[policy]\nbayes_scope = \"domain\"\n",
			wantErr: `FILE:2:1: policy.bayes_scope: must be "global" or "user", not "domain"`},
		{name: "bad log level", doc: "[daemon]\nlog_level = \"loud\"\n",
			wantErr: `FILE:2:1: daemon.log_level: must be debug, info, warn or error, not "loud"`},
		{name: "infinite score", doc: "[policy]\nrequired_score = inf\n",
			wantErr: "FILE:2:1: policy.required_score: must be a finite number"},
		{name: "panel", doc: "[panel]\npassword_file = \"/etc/gospamd/panel.hash\"\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n",
			want: func(c *daemonConfig) {
				c.Panel = &panel.Config{PasswordFile: "/etc/gospamd/panel.hash", TLSCert: "/c.pem", TLSKey: "/k.pem"}
			}},
		{name: "unknown panel key", doc: "[panel]\npassword_file = \"/p\"\npasswd_file = \"/p\"\n",
			wantErr: "FILE:3:1: panel.passwd_file: unknown key"},
		{name: "panel without a password", doc: "[panel]\nlisten = \"127.0.0.1:8783\"\n",
			wantErr: "FILE: panel.password_file: required (make it with gospamd panel-password)"},
		{name: "panel bad listen and half TLS", doc: "[panel]\nlisten = \"8783\"\npassword_file = \"/p\"\ntls_key = \"/k.pem\"\n",
			wantErr: "FILE:2:1: panel.listen: \"8783\" is not HOST:PORT\nFILE: panel.tls_cert: TLS needs both tls_cert and tls_key"},
		{name: "empty dbpath", doc: "[store]\ndbpath = \"\"\n",
			wantErr: "FILE:2:1: store.dbpath: must not be empty"},
		{name: "every bad value", doc: "[spamd]\nmax_children = 0\n[daemon]\nlog_level = \"loud\"\n",
			wantErr: "FILE:2:1: spamd.max_children: must be at least 1, not 0\nFILE:4:1: daemon.log_level: must be debug, info, warn or error, not \"loud\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.doc)
			got, err := loadDaemonConfig(path)
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "FILE", path)
				if err == nil || err.Error() != want {
					t.Fatalf("error:\n got %v\nwant %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaultDaemonConfig()
			want.File = path
			if tt.want != nil {
				tt.want(want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadDaemonConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.toml")
	_, err := loadDaemonConfig(path)
	if err == nil || !strings.Contains(err.Error(), path) || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v, want one naming %s as missing", err, path)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestExampleDaemonConfig checks that etc/gospamd.toml loads, holds the
// defaults but for the settings a packaged install wants, and shows
// every key.
func TestExampleDaemonConfig(t *testing.T) {
	t.Setenv("GOSPAMD_DBPATH", "")
	path := filepath.Join("..", "..", "etc", "gospamd.toml")
	got, err := loadDaemonConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultDaemonConfig()
	want.File = path
	// What the example sets apart from the built-in defaults:
	want.Store.DBPath = "/var/lib/gospamd/bayes" // the systemd unit's StateDirectory
	want.Policy.Dir = "/etc/gospamd"             // the site .cf files beside the config
	want.Spamd.Listen = []string{"127.0.0.1:783"}
	want.Spamd.SSLListen = []string{}
	want.IMAP = &imaptrain.Config{} // the section is there, every key commented out
	if !reflect.DeepEqual(got, want) {
		t.Errorf("example config:\n got %+v\nwant %+v", got, want)
	}

	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range configFields() {
		key := f.key
		section, name, _ := strings.Cut(key, ".")
		re := regexp.MustCompile(`(?m)^(# )?(` + regexp.QuoteMeta(name) + ` = |\[\[` + regexp.QuoteMeta(key) + `\]\])`)
		if !re.Match(doc) {
			t.Errorf("etc/gospamd.toml does not show %s", key)
		}
		// An optional section ([smtp], [dns], [panel]) is shown commented out.
		if !strings.Contains(string(doc), "\n["+section+"]\n") && !(f.optional && strings.Contains(string(doc), "\n# ["+section+"]\n")) {
			t.Errorf("etc/gospamd.toml has no [%s] section", section)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "etc", "gospamd.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"ExecStart=/usr/bin/gospamd serve --daemon-config /etc/gospamd/gospamd.toml",
		"ExecReload=/bin/kill -HUP $MAINPID",
		"User=gospamd",
		"StateDirectory=gospamd",
		"ReadWritePaths=/var/lib/gospamd",
		"ProtectSystem=strict",
		"NoNewPrivileges=yes",
		"PrivateTmp=yes",
	} {
		if !strings.Contains(string(unit), "\n"+line+"\n") {
			t.Errorf("gospamd.service lacks %q", line)
		}
	}
}
