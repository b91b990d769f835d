package main

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// TestServeFlagsFromConfig checks that the flags runServe has always
// taken reach serve with the meaning they had.
func TestServeFlagsFromConfig(t *testing.T) {
	t.Setenv("GOSPAMD_DBPATH", "/env/bayes")
	hostname, _ := os.Hostname()
	tests := []struct {
		name string
		args []string
		want serveFlags
	}{
		{"defaults", nil, serveFlags{
			listen: []string{"127.0.0.1:783"}, allowedIPs: "127.0.0.0/8,::1/128", dbpath: "/env/bayes",
			maxChildren: spamdproto.DefaultMaxConns, maxSize: 512000, timeoutTCP: spamdproto.DefaultReadTimeout,
			timeoutChild: spamdproto.DefaultScanTimeout, bayesScope: "global", required: 5, hostname: hostname, logLevel: "info",
		}},
		{"every flag", []string{"--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2", "--socket", "/s", "--allowed-ips", "10.0.0.0/8,::1",
			"--dbpath", "/d", "--config", "/c", "--user-prefs-dir", "/u", "--max-children", "3", "--max-size", "100",
			"--timeout-tcp", "1s", "--timeout-child", "2s", "--allow-tell", "--bayes-scope", "user", "--required-score", "4.5",
			"--hostname", "h", "--log-level", "debug", "--ssl", "--ssl-listen", "127.0.0.1:3", "--ssl-cert", "c.pem", "--ssl-key", "k.pem",
			"--metrics-listen", "127.0.0.1:4"}, serveFlags{
			listen: []string{"127.0.0.1:1", "127.0.0.1:2"}, socket: "/s", allowedIPs: "10.0.0.0/8,::1", dbpath: "/d",
			configDir: "/c", prefsDir: "/u", maxChildren: 3, maxSize: 100, maxSizeSet: true, timeoutTCP: time.Second,
			timeoutChild: 2 * time.Second, allowTell: true, bayesScope: "user", required: 4.5, requiredSet: true,
			hostname: "h", logLevel: "debug", ssl: true, sslListen: []string{"127.0.0.1:3"}, sslCert: "c.pem", sslKey: "k.pem",
			metrics: "127.0.0.1:4",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &errOut, stderr: &errOut}
			cfg, code := parseServeArgs(env, tt.args)
			if code != -1 {
				t.Fatalf("code %d: %s", code, errOut.String())
			}
			if got := serveFlagsFromConfig(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("serveFlags:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
