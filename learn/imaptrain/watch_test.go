package imaptrain

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/internal/testpeer"
)

// runUntil runs the trainer's loop with an hour between polls and
// returns once each step's cond holds in turn (the test fails when one
// does not within a minute).
func runUntil(t *testing.T, tr *Trainer, steps ...func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	for i, cond := range steps {
		// A generous bound: on a loaded machine (the whole test suite at
		// once), Dovecot's first logins and folder creations have taken
		// over 15 s; the behaviour tested is learning long before the
		// next poll, an hour away.
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("step %d: timed out", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// With IDLE, mail moved into a learn folder is learned within seconds,
// long before the next poll.
func TestRunLearnsOnIdle(t *testing.T) {
	ms := newMemServer(t, map[string]string{"alice": "pw-a"})
	cfg := testConfig(ms.addr, Account{User: "alice", PasswordFile: passwordFile(t, "pw-a")})
	cfg.PollInterval = confval.Duration(time.Hour)
	ts := newTestStore(t)
	tr, err := New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}, Settle: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	counted := func(spam, ham int64) func() bool {
		return func() bool { s, h := ts.counts(t, ""); return s == spam && h == ham }
	}
	runUntil(t, tr,
		func() bool { // the first pass created the folders
			_, err := ms.users["alice"].Status("LearnAsHam", &imap.StatusOptions{NumMessages: true})
			return err == nil
		},
		func() bool {
			time.Sleep(200 * time.Millisecond) // the watchers are idling
			ms.put(t, "alice", "LearnAsSpam", time.Now(), messages("spam", 0, 3)...)
			return true
		},
		counted(3, 0),
		func() bool { ms.put(t, "alice", "LearnAsHam", time.Now(), messages("ham", 0, 2)...); return true },
		counted(3, 2),
		func() bool { return ms.count(t, "alice", "LearnAsSpam")+ms.count(t, "alice", "LearnAsHam") == 0 },
	)
}

// The same against Dovecot, whose IDLE reports mail delivered by another
// session.
func TestDovecotRunLearnsOnIdle(t *testing.T) {
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := dovecotClient(t, dc.Addr, "alice", "alice-pw")
	cfg := testConfig(dc.Addr, Account{User: "alice", PasswordFile: passwordFile(t, "alice-pw")})
	cfg.PollInterval = confval.Duration(time.Hour)
	ts := newTestStore(t)
	tr, err := New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}, Settle: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, tr,
		func() bool {
			_, err := alice.Status("LearnAsHam", &imap.StatusOptions{NumMessages: true}).Wait()
			return err == nil
		},
		func() bool {
			time.Sleep(300 * time.Millisecond)
			dovecotPut(t, alice, "LearnAsSpam", messages("spam", 0, 4))
			return true
		},
		func() bool { s, _ := ts.counts(t, ""); return s == 4 && dovecotCount(t, alice, "LearnAsSpam") == 0 },
	)
}
