package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/spamdproto"
	"github.com/gospamd/gospamd/tokenizer"
)

// redis-server (appendonly yes, appendfsync always) killed and restarted
// in the middle of a load of learns (TELL through the daemon from
// several clients) loses no acknowledged learn: afterwards every
// acknowledged message's seen entry is there, as the class it was told,
// and nspam + nham equal the messages acknowledged (each counted once,
// a learn applied just before its answer was lost being AlreadyLearned
// on retry). A TELL that fails during the outage fails with
// EX_TEMPFAIL (try again later) and succeeds when retried.
func TestRedisRestartLosesNoAcknowledgedLearn(t *testing.T) {
	srv := testpeer.StartRedis(t)
	d := startDaemon(t, false, "--daemon-config", redisDaemonConfig(t, t.TempDir(), srv, ""))
	ctx := context.Background()

	type told struct {
		msg  []byte
		kind string
	}
	const clients = 4
	var (
		mu       sync.Mutex
		acked    []told
		failures int // TELLs that failed (first tries and retries)
		retried  int // messages acknowledged after failing first
		badErrs  []error
		ackCount = make(chan struct{}, 1<<16)
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				kind, class := "ham", spamdproto.ClassHam
				if i%2 == 0 {
					kind, class = "spam", spamdproto.ClassSpam
				}
				msg := redisMessage(kind, fmt.Sprintf("restart-%d", c), i)
				failedFirst := false
				for attempt := 0; ; attempt++ {
					_, err := tell(ctx, d.addr(), class, msg)
					if err == nil {
						break
					}
					mu.Lock()
					failures++
					if e := spamdproto.AsError(err); e.Code != spamdproto.EX_TEMPFAIL {
						badErrs = append(badErrs, err)
					}
					mu.Unlock()
					failedFirst = true
					if attempt == 300 {
						mu.Lock()
						badErrs = append(badErrs, fmt.Errorf("message %d of client %d still failing after %d retries: %w", i, c, attempt, err))
						mu.Unlock()
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				mu.Lock()
				acked = append(acked, told{msg, kind})
				if failedFirst {
					retried++
				}
				mu.Unlock()
				ackCount <- struct{}{}
			}
		}()
	}
	waitAcks := func(n int, what string) {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for range n {
			select {
			case <-ackCount:
			case <-timeout:
				close(stop)
				wg.Wait()
				t.Fatalf("%s: fewer than %d learns acknowledged in 60 s", what, n)
			}
		}
	}
	waitAcks(40, "before the restart")
	srv.Kill()
	time.Sleep(500 * time.Millisecond) // TELLs fail meanwhile
	srv.Start()
	waitAcks(40, "after the restart")
	close(stop)
	wg.Wait()

	for _, err := range badErrs {
		t.Errorf("TELL during the outage: %v; want a spamd EX_TEMPFAIL answer that a retry cures", err)
	}
	if failures == 0 {
		t.Error("no TELL failed while redis-server was down: the outage was not exercised")
	}
	t.Logf("%d learns acknowledged, %d after failing first; %d failed attempts", len(acked), retried, failures)

	s, err := redisstore.Open(ctx, redisstore.Options{Addr: srv.Addr, DB: redisTestDB, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.Magic(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.NSpam + m.NHam; got != int64(len(acked)) {
		t.Errorf("nspam+nham = %d after the restart, but %d distinct learns were acknowledged", got, len(acked))
	}
	missing := 0
	for _, a := range acked {
		id := learn.MessageID(tokenizer.Parse(a.msg))
		c, ok, err := s.Seen(ctx, "", id)
		if err != nil {
			t.Fatal(err)
		}
		if want := classifier.Class(a.kind[0]); !ok || c != want {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged %s message %s: seen %q (%v) after the restart", a.kind, id, c, ok)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged learns lost over the restart", missing, len(acked))
	}
}
