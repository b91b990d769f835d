package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestSMTPHelperProcess is the daemon TestSMTPKillDuringData kills: it
// runs only when that test starts this binary with the env variable
// set, prints its SMTP address and serves until killed.
func TestSMTPHelperProcess(t *testing.T) {
	dir := os.Getenv("GOSPAMD_SMTP_HELPER_DIR")
	if dir == "" {
		return // not a test of its own: the process TestSMTPKillDuringData starts
	}
	cfg, _, _ := smtpTestConfig(t, dir)
	err := runSMTPDaemon(context.Background(), os.Stderr, dir, cfg, func(smtpAddr, _ string) {
		fmt.Printf("SMTP %s\n", smtpAddr)
	})
	t.Fatal(err)
}

func startHelper(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSMTPHelperProcess$")
	cmd.Env = append(os.Environ(), "GOSPAMD_SMTP_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "SMTP "); ok {
				lines <- addr
				return
			}
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok {
			t.Fatal("helper daemon exited before listening")
		}
		return cmd, addr
	case <-time.After(60 * time.Second):
		t.Fatal("helper daemon did not start")
	}
	return nil, ""
}

// TestSMTPKillDuringData: a daemon killed with SIGKILL in the middle of
// DATA never said 250 for that message, every message it did answer 250
// is in the Maildir, and after a restart on the same store and Maildir
// delivery goes on.
func TestSMTPKillDuringData(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir)
	_, alice, _ := smtpTestConfig(t, dir)
	cmd, addr := startHelper(t, dir)

	accepted := 0
	for i := range 5 {
		err := sendOne(addr, "alice@example.com", mdaMessage(fmt.Sprintf("note %d", i), "hello"))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		accepted++
	}
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("carol@example.net", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("alice@example.com", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(mdaMessage("interrupted", strings.Repeat("half a message\n", 1000)))); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := w.Close(); err == nil {
		t.Fatal("the interrupted message was answered 250")
	}
	refused := 1
	if n := mustCount(t, alice, ""); n != accepted {
		t.Fatalf("%d messages in new/, %d answered 250", n, accepted)
	}

	_, addr = startHelper(t, dir)
	if err := sendOne(addr, "alice@example.com", mdaMessage("after restart", "hello")); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	accepted++
	if n := mustCount(t, alice, ""); n != accepted {
		t.Fatalf("%d messages in new/, %d answered 250", n, accepted)
	}
	t.Logf("answered 250: %d, all in new/; refused or cut off: %d, none in new/", accepted, refused)
}

// sendOne sends one message over plain SMTP (go-smtp's SendMail
// insists on STARTTLS).
func sendOne(addr, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("carol@example.net", nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
