package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// gospamc and Debian's spamc, run against SpamAssassin's own spamd, print
// the same and exit the same.
func TestAgainstSpamAssassinSpamd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts SpamAssassin's spamd")
	}
	const spamd = "/usr/sbin/spamd"
	if _, err := os.Stat(spamd); err != nil {
		testpeer.Missing(t, "SpamAssassin's spamd (%s)", spamd)
	}
	spamc := spamcBinary(t)
	home := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(spamd, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--max-children", "2", "--local",
		"--nouser-config", "--allow-tell", "--helper-home-dir", home, "--pidfile", filepath.Join(home, "spamd.pid"))
	cmd.Env = append(os.Environ(), "HOME="+home)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("spamd did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}

	gtube := readTestdata(t, "gtube.eml")
	ham := readTestdata(t, "ham-crlf.eml")
	server := []string{"-d", "127.0.0.1", "-p", fmt.Sprint(port)}
	tests := []struct {
		name string
		msg  []byte
		args []string
	}{
		{"check spam", gtube, []string{"-c"}},
		{"check ham", ham, []string{"-c"}},
		{"symbols", gtube, []string{"-y"}},
		{"report", gtube, []string{"-R"}},
		{"report if spam, ham", ham, []string{"-r"}},
		{"process ham", ham, nil},
		{"exit code ham", ham, []string{"-E"}},
		{"headers ham", ham, []string{"--headers"}},
		{"user", ham, []string{"-c", "-u", "nobody"}},
		{"ping", nil, []string{"-K"}},
		{"learn", ham, []string{"-L", "ham"}},
		{"learn again", ham, []string{"-L", "ham"}},
		{"forget", ham, []string{"-L", "forget"}},
	}
	for _, tt := range tests {
		args := append(append([]string{}, server...), tt.args...)
		want := runSpamc(t, spamc, tt.msg, args...)
		got := runGospamc(t, tt.msg, args...)
		if got != want {
			t.Errorf("%s: gospamc %v\nspamc   %v", tt.name, got, want)
		}
	}
}
