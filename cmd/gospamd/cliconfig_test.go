package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
)

// runCLIDefault is runCLI with a system daemon config file at
// systemConfig ("" for none).
func runCLIDefault(t *testing.T, systemConfig string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		log:                 slog.New(slog.NewTextHandler(&errOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
		daemonConfigDefault: systemConfig}
	code := run(context.Background(), env, args)
	return out.String(), errOut.String(), code
}

func TestParseServeArgs(t *testing.T) {
	t.Setenv("GOSPAMD_DBPATH", "/env/bayes")
	hostname, _ := os.Hostname()
	tests := []struct {
		name   string
		file   string // the --daemon-config file; "" for none
		system string // the system daemon config; "" for none
		args   []string
		want   func(c *daemonConfig) // changes from the defaults
		// On failure: the exit code and the exact standard error, with
		// FILE for the file's path.
		wantCode      int
		wantStderr    string
		wantStderrHas string // instead of wantStderr: a part of it, in lower case
	}{
		{name: "no file, no flags", want: func(c *daemonConfig) {}},
		{name: "file only",
			file: "[store]\ndbpath = \"/srv/bayes\"\n[spamd]\nlisten = [\"127.0.0.1:7830\"]\nmax_size = 1000\n" +
				"timeout_child = \"1m\"\n[policy]\nrequired_score = 3.5\nbayes_scope = \"user\"\n[daemon]\nhostname = \"mx\"\n",
			want: func(c *daemonConfig) {
				c.Store.DBPath = "/srv/bayes"
				c.Spamd.Listen = []string{"127.0.0.1:7830"}
				c.Spamd.MaxSize = ptr[int64](1000)
				c.Spamd.TimeoutChild = confval.Duration(time.Minute)
				c.Policy.RequiredScore = ptr(3.5)
				c.Policy.BayesScope = "user"
				c.Daemon.Hostname = "mx"
			}},
		{name: "flags override the file",
			file: "[store]\ndbpath = \"/srv/bayes\"\n[spamd]\nlisten = [\"127.0.0.1:7830\", \"127.0.0.1:7831\"]\nmax_children = 4\n" +
				"allowed_ips = [\"10.0.0.0/8\"]\nmax_size = 1000\n[policy]\nrequired_score = 3.5\n",
			args: []string{"--dbpath", "/flag/bayes", "--listen", "127.0.0.1:9000", "--max-children", "8",
				"--allowed-ips", "192.0.2.1, 198.51.100.0/24", "--max-size=2000", "--required-score", "7",
				"--timeout-tcp", "5s", "--max-connections", "50", "--max-connections-per-ip", "3", "--log-level", "warn"},
			want: func(c *daemonConfig) {
				c.Store.DBPath = "/flag/bayes"
				c.Spamd.Listen = []string{"127.0.0.1:9000"}
				c.Spamd.MaxChildren = 8
				c.Spamd.AllowedIPs = []string{"192.0.2.1", "198.51.100.0/24"}
				c.Spamd.MaxSize = ptr[int64](2000)
				c.Spamd.TimeoutTCP = confval.Duration(5 * time.Second)
				c.Spamd.MaxConnections = 50
				c.Spamd.MaxConnectionsPerIP = 3
				c.Policy.RequiredScore = ptr(7.0)
				c.Daemon.LogLevel = "warn"
			}},
		{name: "max size and score stay the policy's unless set", args: []string{"--max-children", "2"},
			want: func(c *daemonConfig) { c.Spamd.MaxChildren = 2 }},
		{name: "a socket alone listens on no TCP address", args: []string{"--socket", "/run/g.sock"},
			want: func(c *daemonConfig) { c.Spamd.Socket = "/run/g.sock"; c.Spamd.Listen = nil }},
		{name: "flags complete the file's TLS", file: "[spamd]\nssl = true\n",
			args: []string{"--ssl-cert", "c.pem", "--ssl-key", "k.pem"},
			want: func(c *daemonConfig) { c.Spamd.SSL = true; c.Spamd.TLSCert = "c.pem"; c.Spamd.TLSKey = "k.pem" }},
		{name: "the system file when it exists", system: "[spamd]\nmax_children = 6\n",
			want: func(c *daemonConfig) { c.Spamd.MaxChildren = 6 }},
		{name: "--daemon-config beats the system file", system: "[spamd]\nmax_children = 6\n", file: "[spamd]\nmax_children = 7\n",
			want: func(c *daemonConfig) { c.Spamd.MaxChildren = 7 }},

		{name: "unknown key", file: "[spamd]\nlisten = []\nlisen = [\"127.0.0.1:1\"]\n",
			wantCode: exitConfig, wantStderr: "gospamd serve: FILE:3:1: spamd.lisen: unknown key\n"},
		{name: "bad duration in the file", file: "[spamd]\ntimeout_tcp = \"30\"\n",
			wantCode: exitConfig, wantStderr: "gospamd serve: FILE:2:15: spamd.timeout_tcp: not a duration such as \"30s\" or \"5m\": \"30\"\n"},
		{name: "a flag does not excuse a bad file", file: "[policy]\nbayes_scope = \"site\"\n", args: []string{"--bayes-scope", "user"},
			wantCode: exitConfig, wantStderr: "gospamd serve: FILE:2:1: policy.bayes_scope: must be \"global\" or \"user\", not \"site\"\n"},
		{name: "TLS without a key in the file", file: "[spamd]\nssl_listen = [\"127.0.0.1:7831\"]\ntls_cert = \"c.pem\"\n",
			wantCode: exitConfig, wantStderr: "gospamd serve: FILE:2:1: spamd.ssl_listen: TLS needs both tls_cert and tls_key (--ssl-cert and --ssl-key)\n"},
		{name: "TLS without a key by flag", args: []string{"--ssl"},
			wantCode: exitUsage, wantStderr: "gospamd serve: --ssl: TLS needs both tls_cert and tls_key (--ssl-cert and --ssl-key)\n"},
		{name: "bad value by flag", args: []string{"--bayes-scope", "site", "--allowed-ips", "10.0.0.0/40"},
			wantCode: exitUsage, wantStderr: "gospamd serve: --allowed-ips: \"10.0.0.0/40\" is neither an address nor a CIDR network\n" +
				"gospamd serve: --bayes-scope: must be \"global\" or \"user\", not \"site\"\n"},
		{name: "no such file", args: []string{"--daemon-config", "/nonexistent/gospamd.toml"},
			wantCode: exitConfig, wantStderr: "gospamd serve: read daemon config: open /nonexistent/gospamd.toml: no such file or directory\n"},
		{name: "no file name", args: []string{"--daemon-config"},
			wantCode: exitConfig, wantStderr: "gospamd serve: flag needs an argument: --daemon-config\n"},
		{name: "help despite a broken file", file: "[spamd]\nlisen = []\n", args: []string{"--help"},
			wantCode: exitOK, wantStderrHas: "usage of gospamd serve"},
		{name: "stray argument", args: []string{"127.0.0.1:783"},
			wantCode: exitUsage, wantStderr: "gospamd serve: unexpected argument \"127.0.0.1:783\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
			file := ""
			if tt.system != "" {
				env.daemonConfigDefault = writeConfig(t, tt.system)
				file = env.daemonConfigDefault
			} else {
				env.daemonConfigDefault = filepath.Join(t.TempDir(), "absent.toml")
			}
			args := tt.args
			if tt.file != "" {
				file = writeConfig(t, tt.file)
				args = append([]string{"--daemon-config=" + file}, args...)
			}
			got, code := parseServeArgs(env, args)
			if tt.want == nil {
				want := strings.ReplaceAll(tt.wantStderr, "FILE", file)
				if sub := tt.wantStderrHas; sub != "" {
					if code != tt.wantCode || !strings.Contains(strings.ToLower(errOut.String()), sub) {
						t.Fatalf("code %d, stderr:\n%s\nwant code %d, stderr with %q", code, errOut.String(), tt.wantCode, sub)
					}
					return
				}
				if code != tt.wantCode || errOut.String() != want {
					t.Fatalf("code %d, stderr:\n%s\nwant code %d, stderr:\n%s", code, errOut.String(), tt.wantCode, want)
				}
				return
			}
			if code != -1 {
				t.Fatalf("code %d, stderr: %s", code, errOut.String())
			}
			want := defaultDaemonConfig()
			want.File = file
			want.Spamd.Listen = []string{"127.0.0.1:783"}
			want.Daemon.Hostname = hostname
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestCommandsHelp(t *testing.T) {
	for _, c := range commands() {
		for _, arg := range []string{"--help", "-h"} {
			t.Run(c.name+" "+arg, func(t *testing.T) {
				var out, errOut bytes.Buffer
				env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, log: discardLogger()}
				code := c.run(context.Background(), env, []string{arg})
				if code != exitOK {
					t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut.String())
				}
				help := out.String() + errOut.String()
				if !strings.Contains(strings.ToLower(help), "usage") {
					t.Errorf("no usage printed:\n%s", help)
				}
				// version and panel-password read no config.
				if c.name != "version" && c.name != "panel-password" && !strings.Contains(help, "--daemon-config") {
					t.Errorf("the help does not show --daemon-config:\n%s", help)
				}
			})
		}
	}
}

func TestVersion(t *testing.T) {
	want := regexp.MustCompile(`^gospamd version \S+\n  running on Go go1\.\S+ \w+/\w+\n$`)
	for _, args := range [][]string{{"version"}, {"--version"}, {"learn", "--version"}} {
		out, errOut, code := runCLI(t, "", args...)
		if code != exitOK || !want.MatchString(out) {
			t.Errorf("gospamd %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	if _, _, code := runCLI(t, "", "version", "extra"); code != exitUsage {
		t.Errorf("gospamd version extra: exit %d, want %d", code, exitUsage)
	}
}

// TestStorePath checks that every command finds the store the same way:
// --dbpath, else the daemon config's [store] dbpath, else
// $GOSPAMD_DBPATH, else ~/.gospamd/bayes; and that a missing store says
// what to do.
func TestStorePath(t *testing.T) {
	tmp := t.TempDir()
	trained := filepath.Join(tmp, "trained")
	missing := filepath.Join(tmp, "missing")
	home := filepath.Join(tmp, "home")
	writeMessages(t, filepath.Join(tmp, "spam"), 2, "spam")
	if _, errOut, code := runCLI(t, "", "learn", "--dbpath", trained, "--spam", filepath.Join(tmp, "spam")); code != 0 {
		t.Fatalf("learn: exit %d: %s", code, errOut)
	}
	t.Setenv("HOME", home)
	fileTrained := writeConfig(t, "[store]\ndbpath = \""+trained+"\"\n")
	fileMissing := writeConfig(t, "[store]\ndbpath = \""+missing+"\"\n")

	tests := []struct {
		name   string
		env    string // GOSPAMD_DBPATH
		system string // the system daemon config file
		args   []string
		found  string // the store used; "" when it is reported missing
		absent string // the path named as missing
	}{
		{name: "flag beats file and environment", env: missing, args: []string{"learn", "--daemon-config", fileMissing, "--dbpath", trained, "--dump", "magic"}, found: trained},
		{name: "file beats environment", env: missing, args: []string{"learn", "--daemon-config", fileTrained, "--dump", "magic"}, found: trained},
		{name: "system file", env: missing, system: fileTrained, args: []string{"learn", "--dump", "magic"}, found: trained},
		{name: "environment", env: trained, args: []string{"learn", "--dump", "magic"}, found: trained},
		{name: "home", args: []string{"learn", "--dump", "magic"}, absent: filepath.Join(home, ".gospamd", "bayes")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOSPAMD_DBPATH", tt.env)
			out, errOut, code := runCLIDefault(t, tt.system, tt.args...)
			if tt.found != "" {
				if code != exitOK || !strings.Contains(out, "non-token data: nspam") {
					t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
				}
				return
			}
			if code != exitFatal || !strings.Contains(errOut, "no Bayes store at "+tt.absent+":") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d naming %s as missing", code, errOut, exitFatal, tt.absent)
			}
		})
	}
}

// TestPolicyDirFromConfig checks that the commands other than serve take
// their policy directory from the daemon config.
func TestPolicyDirFromConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "local.cf"), []byte("score\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, "[policy]\ndir = \""+dir+"\"\n")
	out, _, code := runCLI(t, "", "lint", "--daemon-config", file)
	if code != exitFail || !strings.Contains(out, "local.cf") {
		t.Errorf("lint with the file's policy: exit %d, stdout:\n%s", code, out)
	}
	if _, _, code := runCLI(t, "", "lint", "--daemon-config", file, "--config", t.TempDir()); code != exitOK {
		t.Errorf("lint --config overriding the file: exit %d, want 0", code)
	}
	if _, errOut, code := runCLI(t, "", "lint", "--daemon-config", writeConfig(t, "[policy]\ndirr = \"x\"\n")); code != exitConfig ||
		!strings.Contains(errOut, ":2:1: policy.dirr: unknown key") {
		t.Errorf("lint with a broken daemon config: exit %d, stderr %q", code, errOut)
	}
}
