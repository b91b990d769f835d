package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// SIGHUP rereads the site policy; a broken policy is refused and the
// daemon keeps scanning with the one it had.
func TestServeReloadsPolicyOnSIGHUP(t *testing.T) {
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "etc")
	if err := os.MkdirAll(filepath.Join(conf, "local.cf"), 0o700); err != nil {
		t.Fatal(err)
	}
	fragment := filepath.Join(conf, "local.cf", "10required")
	writeFile(t, fragment, "required_score 3.0\n")
	d := startDaemon(t, false, "--dbpath", filepath.Join(tmp, "bayes"), "--config", conf)
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 10 * time.Second}
	threshold := func() float64 {
		res, err := client.Check(context.Background(), "", []byte("From: a@example.com\nSubject: x\n\nhello\n"), false)
		if err != nil {
			t.Fatal(err)
		}
		return res.Threshold
	}
	waitThreshold := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for threshold() != want {
			if time.Now().After(deadline) {
				t.Fatalf("threshold still %v, want %v", threshold(), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := threshold(); got != 3.0 {
		t.Fatalf("threshold from local.cf/10required: %v, want 3.0", got)
	}
	writeFile(t, fragment, "required_score 7.5\n")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitThreshold(7.5)

	writeFile(t, fragment, "required_score 2.0\nif (version >= \n") // an unfinished if: an error
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLogged(t, d.logs, "new policy refused", 10*time.Second)
	if got := threshold(); got != 7.5 {
		t.Errorf("after a broken policy the threshold is %v, want the old 7.5", got)
	}
	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
}
