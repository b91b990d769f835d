package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// --socket replaces only a stale socket; a file, a directory or a socket
// a running daemon serves is refused and left as it was. The socket gets
// --socket-mode.
func TestListenSocket(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		mode    os.FileMode
		wantErr string
	}{
		{name: "nothing there", setup: func(*testing.T, string) {}, mode: 0o666},
		{name: "stale socket replaced", mode: 0o660, setup: func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false) // as a killed daemon leaves it
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "regular file refused", mode: 0o600, wantErr: "exists and is not a socket (a regular file); not removing it",
			setup: func(t *testing.T, path string) { writeFile(t, path, "precious\n") }},
		{name: "directory refused", mode: 0o600, wantErr: "exists and is not a socket (a directory)",
			setup: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "symbolic link refused", mode: 0o600, wantErr: "exists and is not a socket (a symbolic link)",
			setup: func(t *testing.T, path string) {
				if err := os.Symlink("/etc/passwd", path); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "live socket refused", mode: 0o600, wantErr: "already in use by a running daemon",
			setup: func(t *testing.T, path string) {
				l, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = l.Close() })
				go func() {
					for {
						c, err := l.Accept()
						if err != nil {
							return
						}
						_ = c.Close()
					}
				}()
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spamd.sock")
			tt.setup(t, path)
			before, _ := os.Lstat(path)
			l, err := listenSocket(context.Background(), path, tt.mode)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				after, err := os.Lstat(path)
				if err != nil || !os.SameFile(before, after) || after.Mode() != before.Mode() {
					t.Errorf("what was at the path changed: %v, %v", after, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != tt.mode {
				t.Errorf("socket mode %v, want a socket with %o", fi.Mode(), tt.mode)
			}
		})
	}
}

// --socket-mode and [spamd] socket_mode: spamd's default 0666, octal
// values only.
func TestSocketModeSetting(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		args     []string
		want     os.FileMode
		wantCode int
	}{
		{name: "default as spamd", want: 0o666, wantCode: -1},
		{name: "file", file: "[spamd]\nsocket_mode = \"0660\"\n", want: 0o660, wantCode: -1},
		{name: "flag over file", file: "[spamd]\nsocket_mode = \"0660\"\n", args: []string{"--socket-mode", "600"}, want: 0o600, wantCode: -1},
		{name: "not octal", args: []string{"--socket-mode", "0689"}, wantCode: exitUsage},
		{name: "too wide", file: "[spamd]\nsocket_mode = \"07777\"\n", wantCode: exitConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--dbpath", t.TempDir()}, tt.args...)
			if tt.file != "" {
				path := filepath.Join(t.TempDir(), "gospamd.toml")
				writeFile(t, path, tt.file)
				args = append(args, "--daemon-config", path)
			}
			var stderr strings.Builder
			cfg, code := parseServeArgs(&cliEnv{stderr: &stderr}, args)
			if code != tt.wantCode {
				t.Fatalf("code %d, want %d (%s)", code, tt.wantCode, stderr.String())
			}
			if code == -1 && cfg.Spamd.socketMode() != tt.want {
				t.Errorf("mode %o, want %o", cfg.Spamd.socketMode(), tt.want)
			}
			if code != -1 && !strings.Contains(stderr.String(), "socket") {
				t.Errorf("error does not name the setting: %s", stderr.String())
			}
		})
	}
}

// The metrics listener serves the networks allowed to read it:
// --metrics-allowed-ips, else spamd's --allowed-ips; others get 403.
func TestMetricsAllowedNetworks(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"loopback, as spamd's default", nil, http.StatusOK},
		{"spamd's networks apply", []string{"--allowed-ips", "192.0.2.0/24"}, http.StatusForbidden},
		{"its own networks apply", []string{"--allowed-ips", "192.0.2.0/24", "--metrics-allowed-ips", "127.0.0.1"}, http.StatusOK},
		{"its own networks exclude loopback", []string{"--metrics-allowed-ips", "192.0.2.1"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := freePort(t)
			args := append([]string{"--dbpath", filepath.Join(t.TempDir(), "bayes"), "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", port)}, tt.args...)
			d := startDaemon(t, false, args...)
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET /metrics from 127.0.0.1: %s, want %d", resp.Status, tt.want)
			}
			if code := d.stop(); code != 0 {
				t.Errorf("serve exited %d", code)
			}
		})
	}
}

// SIGHUP rereads the TLS certificate: after its files are replaced, new
// connections get the new one; a broken pair is refused and the old one
// kept.
func TestServeReloadsTLSCertificateOnSIGHUP(t *testing.T) {
	first, second := testpeer.SelfSignedCert(t), testpeer.SelfSignedCert(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "spamd.crt"), filepath.Join(dir, "spamd.key")
	copyFile(t, first.CertFile, cert)
	copyFile(t, first.KeyFile, key)
	d := startDaemon(t, true, "--dbpath", filepath.Join(dir, "bayes"), "--ssl-cert", cert, "--ssl-key", key)
	served := func() []byte {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", d.addr(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	waitServed := func(want []byte, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for string(served()) != string(want) {
			if time.Now().After(deadline) {
				t.Fatalf("the daemon does not serve %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	hup := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	if string(served()) != string(certDER(t, first.CertFile)) {
		t.Fatal("the daemon does not serve the first certificate")
	}

	copyFile(t, second.CertFile, cert)
	copyFile(t, second.KeyFile, key)
	hup()
	waitServed(certDER(t, second.CertFile), "the renewed certificate after SIGHUP")

	copyFile(t, first.CertFile, cert) // with the second key: no pair
	hup()
	waitLogged(t, d.logs, "new TLS certificate refused", 10*time.Second)
	if string(served()) != string(certDER(t, second.CertFile)) {
		t.Error("after a broken pair the daemon does not serve the certificate it had")
	}
	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

// certDER is the DER of the PEM certificate in file.
func certDER(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM", file)
	}
	return block.Bytes
}
