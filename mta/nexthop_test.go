package mta_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
)

// startDovecotLMTP starts a real Dovecot LMTP server alone (no IMAP,
// so Debian's dovecot-lmtpd suffices), with opt's users, Sieve script
// and quotas.
func startDovecotLMTP(t *testing.T, opt testpeer.DovecotOptions) *testpeer.Dovecot {
	t.Helper()
	opt.LMTP, opt.NoIMAP = true, true
	return testpeer.StartDovecot(t, opt)
}

// lmtpUsers are users for an LMTP server, which asks no password.
func lmtpUsers(names ...string) map[string]string {
	users := map[string]string{}
	for _, n := range names {
		users[n] = n + "-pw"
	}
	return users
}

// TestNextHopDovecotLMTP: gospamd's SMTP in front of a real Dovecot LMTP.
// Each copy lands in the user's Dovecot INBOX with the user's markup
// (filing tagged spam into a junk folder is Dovecot's job, with Sieve);
// reject-level spam is refused at our SMTP and nothing is forwarded; a
// message is answered 250 only when Dovecot took every recipient's copy.
func TestNextHopDovecotLMTP(t *testing.T) {
	dc := startDovecotLMTP(t, testpeer.DovecotOptions{Users: lmtpUsers("alice", "bob")})
	type want struct {
		user     string
		contains []string
		lacks    []string
	}
	for _, tc := range []struct {
		name     string
		socket   bool // lmtp:unix:PATH instead of lmtp:HOST:PORT
		noRoutes bool // no routes file: Dovecot knows the users
		users    map[string]mta.UserOptions
		to       []string
		msg      []byte
		wantCode int
		want     []want // one new message each
	}{
		{name: "ham", to: []string{"alice@example.com"}, msg: message("lunch", "See you at noon."), wantCode: 250,
			want: []want{{user: "alice", contains: []string{"X-Spam-Status: No", "by mx.example.com (gospamd)", "Delivered-To: alice@example.com"}}}},
		{name: "tag-level spam over the UNIX socket", socket: true, to: []string{"alice@example.com"},
			msg: message("offer", "a six point phrase here"), wantCode: 250,
			want: []want{{user: "alice", contains: []string{"X-Spam-Flag: YES", "SITE_SIX"}}}},
		{name: "reject-level spam refused, nothing forwarded", to: []string{"alice@example.com"},
			msg: message("offer", "a twenty point phrase"), wantCode: 554},
		{name: "plussed address", to: []string{"alice+news@example.com"}, msg: message("news", "hello"), wantCode: 250,
			want: []want{{user: "alice", contains: []string{"X-Spam-Status: No"}}}},
		{name: "per-user markup, separate transactions", to: []string{"alice@example.com", "bob@example.com"},
			users: map[string]mta.UserOptions{"bob": {NoFilter: true}}, msg: message("both", "hello both"), wantCode: 250,
			want: []want{{user: "alice", contains: []string{"X-Spam-Status: No"}}, {user: "bob", lacks: []string{"X-Spam-"}}}},
		{name: "same markup, one transaction", to: []string{"alice@example.com", "bob@example.com"},
			msg: message("both again", "hello both"), wantCode: 250,
			want: []want{{user: "alice", contains: []string{"X-Spam-Status: No"}}, {user: "bob", contains: []string{"X-Spam-Status: No"}}}},
		{name: "one recipient refused by Dovecot: 451, never 250", noRoutes: true,
			to: []string{"alice@example.com", "nosuch@example.com"}, msg: message("half", "hello"), wantCode: 451,
			want: []want{{user: "alice"}}},
		{name: "every recipient refused by Dovecot: 550", noRoutes: true,
			to: []string{"nosuch@example.com"}, msg: message("none", "hello"), wantCode: 550},
		{name: "an internationalized address Dovecot cannot take: 550, not endless 451", noRoutes: true,
			to: []string{"\u00e5sa@example.com"}, msg: message("utf8", "hello"), wantCode: 550},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *mta.Config) {
				c.NextHop = "lmtp:" + dc.LMTPAddr
				if tc.socket {
					c.NextHop = "lmtp:unix:" + dc.LMTPSocket
				}
				if tc.noRoutes {
					c.Routes = ""
				}
				c.Users = tc.users
			})
			before := map[string]int{"alice": len(dc.Messages(t, "alice")), "bob": len(dc.Messages(t, "bob"))}
			err := send(t, e.addr, "carol@example.net", tc.to, tc.msg)
			if got := code(err); got != tc.wantCode {
				t.Fatalf("answer %d (%v), want %d\n%s", got, err, tc.wantCode, dc.Log())
			}
			wantN := map[string]int{}
			for _, w := range tc.want {
				wantN[w.user]++
			}
			for user, n := range before {
				msgs := dc.Messages(t, user)
				if got := len(msgs) - n; got != wantN[user] {
					t.Fatalf("%s got %d new messages, want %d", user, got, wantN[user])
				}
			}
			for _, w := range tc.want {
				msgs := dc.Messages(t, w.user)
				got := withID(msgs, tc.msg)
				if head, _, _ := strings.Cut(strings.ReplaceAll(got, "\r\n", "\n"), "\n\n"); strings.Count(head, "Return-Path:") != 1 {
					t.Errorf("%s: want one Return-Path (Dovecot's):\n%s", w.user, got)
				}
				for _, s := range w.contains {
					if !strings.Contains(got, s) {
						t.Errorf("%s's copy lacks %q:\n%s", w.user, s, got)
					}
				}
				for _, s := range w.lacks {
					if strings.Contains(got, s) {
						t.Errorf("%s's copy has %q:\n%s", w.user, s, got)
					}
				}
			}
			if n := count(t, e.alice, "") + count(t, e.alice, "junkmail"); n != 0 {
				t.Errorf("%d messages in the local Maildir with a next hop", n)
			}
		})
	}
}

// withID returns the message of msgs with the Message-ID of msg.
func withID(msgs []string, msg []byte) string {
	s := string(msg)
	i := strings.Index(s, "Message-ID: ")
	id := s[i : i+strings.Index(s[i:], "\r\n")]
	for _, m := range msgs {
		if strings.Contains(m, id) {
			return m
		}
	}
	return ""
}

// TestNextHopDown: while Dovecot is down the client gets 451 and
// nothing is kept; the client's retry once it is up is delivered.
func TestNextHopDown(t *testing.T) {
	dc := startDovecotLMTP(t, testpeer.DovecotOptions{Users: lmtpUsers("alice")})
	e := newEnv(t, func(c *mta.Config) { c.NextHop = "lmtp:" + dc.LMTPAddr })
	msg := message("retry me", "hello again")
	dc.Stop(t)
	if got := code(send(t, e.addr, "carol@example.net", []string{"alice@example.com"}, msg)); got != 451 {
		t.Fatalf("next hop down: answer %d, want 451", got)
	}
	dc.Start(t)
	if got := code(send(t, e.addr, "carol@example.net", []string{"alice@example.com"}, msg)); got != 250 {
		t.Fatalf("retry: answer %d, want 250\n%s", got, dc.Log())
	}
	if n := len(dc.Messages(t, "alice")); n != 1 {
		t.Fatalf("alice has %d messages, want 1", n)
	}
}

// TestNextHopSMTP: next_hop = "smtp:HOST:PORT" forwards over SMTP, here
// to a second gospamd SMTP front end that files into its Maildir.
func TestNextHopSMTP(t *testing.T) {
	inner := newEnv(t, func(c *mta.Config) { c.MaxSize = 10000 })
	outer := newEnv(t, func(c *mta.Config) { c.NextHop = "smtp:" + inner.addr })
	if got := code(send(t, outer.addr, "carol@example.net", []string{"alice@example.com"}, message("via smtp", "hello"))); got != 250 {
		t.Fatalf("answer %d, want 250", got)
	}
	got := string(only(t, inner.alice, ""))
	if n := strings.Count(got, "by mx.example.com (gospamd)"); n != 2 {
		t.Errorf("want two gospamd Received lines (outer and inner), got %d:\n%s", n, got)
	}
	if head, _, _ := strings.Cut(got, "\r\n\r\n"); strings.Count(head, "Return-Path:") != 1 {
		t.Errorf("want one Return-Path:\n%s", got)
	}
	if n := count(t, outer.alice, ""); n != 0 {
		t.Errorf("outer Maildir has %d messages, want 0", n)
	}
	// A permanent refusal by the next hop for every recipient (too big
	// for it) is a permanent refusal, not 250 nor an endless 451.
	big := message("too big for the inner", strings.Repeat("0123456789abcdef\r\n", 1000))
	if got := code(send(t, outer.addr, "carol@example.net", []string{"alice@example.com"}, big)); got != 550 {
		t.Fatalf("answer %d, want 550", got)
	}
	if n := count(t, inner.alice, ""); n != 1 {
		t.Errorf("inner Maildir has %d messages, want 1", n)
	}
}

// TestDovecotSieveExample: with etc/examples/gospamd-junk.sieve as
// Dovecot's sieve_before, what gospamd tags lands in the user's junkmail
// folder and the rest in the INBOX.
func TestDovecotSieveExample(t *testing.T) {
	dc := startDovecotLMTP(t, testpeer.DovecotOptions{Users: lmtpUsers("alice"),
		SieveBefore: filepath.Join("..", "etc", "examples", "gospamd-junk.sieve")})
	e := newEnv(t, func(c *mta.Config) { c.NextHop = "lmtp:" + dc.LMTPAddr })
	for _, tc := range []struct {
		name        string
		msg         []byte
		inbox, junk int // alice's counts after the step
	}{
		{"ham to the INBOX", message("lunch", "See you at noon."), 1, 0},
		{"tag-level spam to junkmail", message("offer", "a six point phrase here"), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(send(t, e.addr, "carol@example.net", []string{"alice@example.com"}, tc.msg)); got != 250 {
				t.Fatalf("answer %d, want 250", got)
			}
			inbox, junk := len(dc.Messages(t, "alice")), len(dc.Folder(t, "alice", "junkmail"))
			if inbox != tc.inbox || junk != tc.junk {
				t.Fatalf("alice INBOX %d, junkmail %d; want %d, %d\n%s", inbox, junk, tc.inbox, tc.junk, dc.Log())
			}
		})
	}
}

// TestNextHopRefusedAfterData: over LMTP each recipient's reply after
// DATA counts. Dovecot takes alice's copy but refuses bob's (over his
// quota): the client gets 451, never 250, and alice has her copy (a
// retry gives her a second one, the price of never losing bob's).
func TestNextHopRefusedAfterData(t *testing.T) {
	dc := startDovecotLMTP(t, testpeer.DovecotOptions{Users: lmtpUsers("alice", "bob"), Quota: map[string]string{"bob": "*:storage=1K"}})
	e := newEnv(t, func(c *mta.Config) { c.NextHop = "lmtp:" + dc.LMTPAddr })
	big := message("big", strings.Repeat("a line of a message over bob's quota\r\n", 100))
	if got := code(send(t, e.addr, "carol@example.net", []string{"alice@example.com", "bob@example.com"}, big)); got != 451 {
		t.Fatalf("answer %d, want 451\n%s", got, dc.Log())
	}
	if a, b := len(dc.Messages(t, "alice")), len(dc.Messages(t, "bob")); a != 1 || b != 0 {
		t.Fatalf("alice %d, bob %d messages; want 1, 0\n%s", a, b, dc.Log())
	}
	if got := code(send(t, e.addr, "carol@example.net", []string{"bob@example.com"}, message("small", "hi"))); got != 250 {
		t.Fatalf("a message within bob's quota: answer %d, want 250\n%s", got, dc.Log())
	}
}
