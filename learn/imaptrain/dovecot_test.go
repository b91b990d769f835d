package imaptrain

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// dovecotClient logs in to the test's Dovecot as a user would, to file
// and count mail.
func dovecotClient(t testing.TB, addr, user, pw string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	return c
}

func dovecotPut(t testing.TB, c *imapclient.Client, folder string, msgs [][]byte) {
	t.Helper()
	_ = c.Create(folder, nil).Wait() // exists already is fine
	for _, m := range msgs {
		cmd := c.Append(folder, int64(len(m)), nil)
		if _, err := cmd.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append to %s: %v", folder, err)
		}
	}
}

func dovecotCount(t testing.TB, c *imapclient.Client, folder string) int {
	t.Helper()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatalf("status of %s: %v", folder, err)
	}
	return int(*st.NumMessages)
}

// Against a real Dovecot: 30 spam and 30 ham learned in one pass, the
// learn folders emptied, the report's counts those of the store; a
// message that cannot be learned stays; a second account with a wrong
// password fails alone; a master-user login trains a third.
func TestDovecotPass(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{
		Users:      map[string]string{"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"},
		MasterUser: "gospamd", MasterPassword: "master-pw",
	})
	alice := dovecotClient(t, dc.Addr, "alice", "alice-pw")
	dovecotPut(t, alice, "LearnAsSpam", messages("spam", 0, 30))
	dovecotPut(t, alice, "LearnAsSpam", [][]byte{[]byte("Subject: x\r\nMessage-ID: <bad@test>\r\n\r\nUNLEARNABLE\r\n")})
	dovecotPut(t, alice, "LearnAsHam", messages("ham", 0, 30))
	dovecotPut(t, alice, "Trash", messages("ham", 100, 3))
	carol := dovecotClient(t, dc.Addr, "carol", "carol-pw")
	dovecotPut(t, carol, "LearnAsHam", messages("ham", 200, 4))
	dovecotPut(t, carol, "junkmail", messages("spam", 200, 2))

	cfg := Config{
		Server:     dc.Addr,
		Accounts:   []Account{{User: "alice", PasswordFile: passwordFile(t, "alice-pw")}, {User: "bob", PasswordFile: passwordFile(t, "not-bobs")}},
		MasterUser: "gospamd", MasterPasswordFile: passwordFile(t, "master-pw"), Users: []string{"carol"},
		BatchSize: 8,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ts := newTestStore(t)
	tr, err := New(cfg, Options{Learner: failingLearner{&SubmitLearner{Submitter: ts.writer}, "UNLEARNABLE"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tr.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{User: "alice", Spam: 30, Ham: 30, Failures: 1},
		{User: "bob"},
		{User: "carol", Ham: 4, Junk: 2, JunkUnseen: 2},
	}
	for i, got := range rep.Rows {
		if i == 1 {
			if !errors.Is(got.Err, ErrLogin) {
				t.Errorf("bob: error %v, want a refused login", got.Err)
			}
			continue
		}
		if got.Err != nil {
			t.Errorf("%s: %v\n%s", got.User, got.Err, dc.Log())
		}
		if got != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	if !rep.Failed() {
		t.Error("the report does not say the pass failed")
	}
	if nspam, nham := ts.counts(t, ""); nspam != 30 || nham != 34 {
		t.Errorf("store: nspam %d nham %d, want 30 and 34", nspam, nham)
	}
	for folder, n := range map[string]int{"LearnAsSpam": 1, "LearnAsHam": 0, "Trash": 3} {
		if got := dovecotCount(t, alice, folder); got != n {
			t.Errorf("alice's %s holds %d messages, want %d", folder, got, n)
		}
	}
	if got := dovecotCount(t, carol, "LearnAsHam"); got != 0 {
		t.Errorf("carol's LearnAsHam holds %d messages, want 0", got)
	}
}

// Against a real Dovecot: a pass ended between the commit of learns and
// their expunge removes nothing, and the rerun neither loses nor
// double-counts a message.
func TestDovecotInterruptedPass(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := dovecotClient(t, dc.Addr, "alice", "alice-pw")
	dovecotPut(t, alice, "LearnAsSpam", messages("spam", 0, 30))
	dovecotPut(t, alice, "LearnAsHam", messages("ham", 0, 30))
	cfg := testConfig(dc.Addr, Account{User: "alice", PasswordFile: passwordFile(t, "alice-pw")})
	cfg.BatchSize = 10
	ts := newTestStore(t)

	ctx, cancel := context.WithCancel(context.Background())
	kl := &killingLearner{next: &SubmitLearner{Submitter: ts.writer}, after: 25, cancel: cancel}
	tr, _ := New(cfg, Options{Learner: kl})
	if _, err := tr.Pass(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pass: %v, want context.Canceled", err)
	}
	nspam1, _ := ts.counts(t, "")
	left := dovecotCount(t, alice, "LearnAsSpam")
	if int(nspam1)+left < 30 || left == 0 {
		t.Fatalf("after the interruption: %d learned, %d left of 30 (a message was removed unlearned, or none was interrupted)", nspam1, left)
	}

	tr, _ = New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}})
	rep, err := tr.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nspam, nham := ts.counts(t, "")
	if nspam != 30 || nham != 30 {
		t.Errorf("after the rerun: nspam %d nham %d, want 30 and 30", nspam, nham)
	}
	if n := dovecotCount(t, alice, "LearnAsSpam") + dovecotCount(t, alice, "LearnAsHam"); n != 0 {
		t.Errorf("%d messages left in the learn folders after the rerun", n)
	}
	r := rep.Rows[0]
	if r.Spam != 30-int(nspam1) || r.Known != int(nspam1)-(30-left) || r.Ham != 30 {
		t.Errorf("rerun report %+v; the interrupted pass had learned %d and left %d", r, nspam1, left)
	}
}

// BenchmarkDovecotPass1000 times one pass over 1000 messages in one
// folder of a real Dovecot, learned into a real store (the issue's
// target: at most 10 s).
func BenchmarkDovecotPass1000(b *testing.B) {
	dc := testpeer.StartDovecot(b, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := dovecotClient(b, dc.Addr, "alice", "alice-pw")
	cfg := testConfig(dc.Addr, Account{User: "alice", PasswordFile: passwordFile(b, "alice-pw")})
	cfg.BatchSize = DefaultBatchSize
	ts := newTestStore(b)
	for i := range b.N {
		b.StopTimer()
		dovecotPut(b, alice, "LearnAsSpam", messages("spam", i*1000, 1000))
		tr, _ := New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}})
		b.StartTimer()
		start := time.Now()
		rep, err := tr.Pass(context.Background())
		if err != nil || rep.Rows[0].Err != nil || rep.Rows[0].Spam != 1000 {
			b.Fatalf("pass: %v %+v", err, rep.Rows[0])
		}
		b.ReportMetric(1000/time.Since(start).Seconds(), "msgs/s")
	}
	if n := dovecotCount(b, alice, "LearnAsSpam"); n != 0 {
		b.Fatalf("%d messages left", n)
	}
}
