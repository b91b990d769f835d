package mta_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/mta"
)

// breakMaildir replaces root's tmp/ with a file (root bypasses
// permission bits, so chmod cannot make a Maildir unwritable for the
// tests, which run as root here); the returned func repairs it.
func breakMaildir(t *testing.T, root string) func() {
	t.Helper()
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(tmp); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnwritableMaildir: while a recipient's Maildir cannot be written
// the client gets 451 and no recipient's new/ gets anything; the retry
// once it is repaired delivers every copy once.
func TestUnwritableMaildir(t *testing.T) {
	e := newEnv(t, nil)
	msg := message("lunch", "See you at noon.")
	to := []string{"alice@example.com", "bob@example.com"}
	if got := code(send(t, e.addr, "carol@example.net", to, msg)); got != 250 {
		t.Fatalf("first message: %d", got)
	}
	repair := breakMaildir(t, e.bob)
	for i := 0; i < 3; i++ {
		if got := code(send(t, e.addr, "carol@example.net", to, msg)); got != 451 {
			t.Fatalf("with bob's Maildir broken: %d, want 451", got)
		}
	}
	if a := count(t, e.alice, ""); a != 1 {
		t.Fatalf("alice has %d messages after the refused ones, want 1 (all or none)", a)
	}
	repair()
	if got := code(send(t, e.addr, "carol@example.net", to, msg)); got != 250 {
		t.Fatalf("retry after repair: %d", got)
	}
	if a, b := count(t, e.alice, ""), count(t, e.bob, ""); a != 2 || b != 2 {
		t.Fatalf("alice %d, bob %d messages; want 2 each", a, b)
	}
	for _, root := range []string{e.alice, e.bob} {
		if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
			t.Errorf("%s/tmp keeps %d files", root, len(ents))
		}
	}
}

// TestPerRecipientVerdicts: each recipient's own levels file their
// copy; the message is refused only when every recipient refuses it.
func TestPerRecipientVerdicts(t *testing.T) {
	// alice tags at 10 (user_prefs; reject_score is the site's alone);
	// carol has filtering off.
	e := newEnv(t, func(c *mta.Config) { c.Users = map[string]mta.UserOptions{"carol": {NoFilter: true}} })
	writeFile(t, filepath.Join(e.dir, "prefs", "alice", "user_prefs"), "required_score 10\n")
	carol := filepath.Join(e.dir, "mail", "carol")
	f, err := os.OpenFile(filepath.Join(e.dir, "routes"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("carol example.com " + carol + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the routes file is checked once a second

	to := []string{"alice@example.com", "bob@example.com"}
	if got := code(send(t, e.addr, "carol@example.net", to, message("offer", "a six point phrase"))); got != 250 {
		t.Fatalf("six points: %d, want 250", got)
	}
	if a, bj := count(t, e.alice, ""), count(t, e.bob, "junkmail"); a != 1 || bj != 1 {
		t.Fatalf("six points: alice inbox %d, bob junk %d; want 1, 1", a, bj)
	}
	to = []string{"carol@example.com", "bob@example.com"}
	if got := code(send(t, e.addr, "dave@example.net", to, message("offer2", "a twenty point phrase"))); got != 250 {
		t.Fatalf("twenty points, one recipient unfiltered: %d, want 250", got)
	}
	if c, bj := count(t, carol, ""), count(t, e.bob, "junkmail"); c != 1 || bj != 2 {
		t.Fatalf("twenty points: carol inbox %d, bob junk %d; want 1, 2", c, bj)
	}
	to = []string{"alice@example.com", "bob@example.org"}
	if got := code(send(t, e.addr, "dave@example.net", to, message("offer3", "a twenty point phrase"))); got != 554 {
		t.Fatalf("every recipient rejects: %d, want 554", got)
	}
}

// TestTrapAndArchive: spam-trap mail is learned and not delivered;
// bcc_archive gets a copy of every accepted message.
func TestTrapAndArchive(t *testing.T) {
	var archive string
	e := newEnv(t, func(c *mta.Config) {
		c.SpamTraps = []string{"trap@example.com"}
		archive = filepath.Join(filepath.Dir(c.Routes), "archive")
		c.BccArchive = archive
	})
	if got := code(send(t, e.addr, "spammer@example.net", []string{"trap@example.com"}, message("trap", "buy now"))); got != 250 {
		t.Fatalf("trap: %d", got)
	}
	m, err := e.store.Magic(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if m.NSpam != 1 {
		t.Errorf("trap mail learned: nspam %d, want 1", m.NSpam)
	}
	if got := code(send(t, e.addr, "carol@example.net", []string{"alice@example.com"}, message("hello", "hi"))); got != 250 {
		t.Fatalf("ham: %d", got)
	}
	if a, arch := count(t, e.alice, ""), count(t, archive, ""); a != 1 || arch != 1 {
		t.Errorf("alice %d, archive %d; want 1, 1 (the trap's mail in neither)", a, arch)
	}
}

// TestConnectionLimits: beyond max_connections_per_ip the client gets
// 421; an early talker gets 554.
func TestConnectionLimits(t *testing.T) {
	e := newEnv(t, func(c *mta.Config) {
		c.MaxConnectionsPerIP = 1
		c.GreetDelay = confval.Duration(300 * time.Millisecond)
	})
	first, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if line := readLine(t, first); !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting %q", line)
	}
	second, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if line := readLine(t, second); !strings.HasPrefix(line, "421 ") {
		t.Fatalf("second connection from the same address: %q, want 421", line)
	}
	first.Close()
	time.Sleep(100 * time.Millisecond)
	talker, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer talker.Close()
	if _, err := talker.Write([]byte("EHLO early.example\r\n")); err != nil {
		t.Fatal(err)
	}
	if line := readLine(t, talker); !strings.HasPrefix(line, "554 ") {
		t.Fatalf("early talker: %q, want 554", line)
	}
}

func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, line)
	}
	return line
}
