package learn

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// groupsStore is a Store that records the size of every Apply and the
// Message-IDs it commits, in order, and learns everything.
type groupsStore struct {
	mu     sync.Mutex
	groups []int
	ids    []string
}

func (s *groupsStore) Apply(_ context.Context, ops []classifier.Op) ([]classifier.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = append(s.groups, len(ops))
	for _, op := range ops {
		s.ids = append(s.ids, op.MsgID)
	}
	return make([]classifier.Result, len(ops)), nil // all Learned (the zero Result)
}

func (s *groupsStore) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.groups...)
}

func numberedMessages(n int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "Message-ID: <%d@example.com>\nSubject: number %d\n\nbody of message %d\n", i, i, i)
	}
	return msgs
}

// sourceOf yields msgs.
func sourceOf(msgs [][]byte) Source {
	return func(ctx context.Context, fn func(string, []byte) error) error {
		for _, m := range msgs {
			if err := fn("", m); err != nil {
				return err
			}
		}
		return nil
	}
}

// Through a Writer, a bulk run is committed in groups of at most
// BatchSize, every message once, with every outcome reported.
func TestLearnerBatches(t *testing.T) {
	st := &groupsStore{}
	w := NewWriter(st, WriterOptions{})
	defer w.Close()
	var progress int
	l := &Learner{Writer: w, BatchSize: 64, Progress: func(Outcome) { progress++ }}
	stats, err := l.Run(context.Background(), sourceOf(numberedMessages(1000)), Request{Class: classifier.Spam})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Examined != 1000 || progress != 1000 {
		t.Fatalf("examined %d, progress %d, want 1000", stats.Examined, progress)
	}
	// The writer may commit two waiting groups together, never more than
	// its MaxBatch.
	total := 0
	for _, n := range st.sizes() {
		if n > 512 {
			t.Errorf("a commit of %d learns, over the writer's MaxBatch", n)
		}
		total += n
	}
	if total != 1000 {
		t.Errorf("%d learns committed, want 1000", total)
	}
	// Until the source is done the groups are full; only its tail (the
	// 64-message read-ahead, what the parsers hold and the group being
	// filled, at most three groups' worth) may go early in smaller
	// commits, as many as the writer's idle moments make.
	full := 0
	for _, n := range st.sizes() {
		if n >= 64 {
			full += n
		}
	}
	if full < 1000-3*64 {
		t.Errorf("%d of 1000 messages committed in full groups of 64: %v", full, st.sizes())
	}
}

// A source that pauses does not hold back what it has given: the partial
// group is committed after BatchIdle, while the source waits.
func TestLearnerBatchIdle(t *testing.T) {
	st := &groupsStore{}
	w := NewWriter(st, WriterOptions{})
	defer w.Close()
	l := &Learner{Writer: w, BatchSize: 256, BatchIdle: 10 * time.Millisecond}
	msgs := numberedMessages(10)
	committed := func() (n int) {
		for _, g := range st.sizes() {
			n += g
		}
		return n
	}
	var before int
	src := func(ctx context.Context, fn func(string, []byte) error) error {
		for i, m := range msgs {
			if i == 5 {
				deadline := time.Now().Add(10 * time.Second)
				for committed() < 5 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				before = committed()
			}
			if err := fn("", m); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := l.Run(context.Background(), src, Request{Class: classifier.Ham}); err != nil {
		t.Fatal(err)
	}
	if before != 5 || committed() != 10 {
		t.Errorf("%d committed while the source paused (want 5), %d in all (want 10)", before, committed())
	}
}

// On a real store the batched run learns what a message-by-message run
// learns.
func TestLearnerBatchedSameStore(t *testing.T) {
	msgs := numberedMessages(300)
	magic := func(batch int) classifier.Magic {
		store := openTestStore(t)
		w := NewWriter(store, WriterOptions{})
		l := &Learner{Writer: w, BatchSize: batch, TokenOptions: tokenizer.DefaultTokenOptions()}
		for _, class := range []classifier.Class{classifier.Spam, classifier.Ham} {
			// The same messages again as ham: relearned.
			if _, err := l.Run(context.Background(), sourceOf(msgs), Request{Class: class}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		m, err := store.Magic(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	one, batched := magic(1), magic(100)
	one.NewestAtime, one.OldestAtime, batched.NewestAtime, batched.OldestAtime = 0, 0, 0, 0
	if one != batched || one.NHam != 300 || one.NSpam != 0 {
		t.Errorf("message by message %+v, batched %+v", one, batched)
	}
}

// groupOps sends full groups, and while early() holds, every group as
// soon as it has size/32 ops.
func TestGroupOpsEarly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early bool
		ops   int
		want  []int
	}{
		{"full groups, then the rest", false, 150, []int{64, 64, 22}},
		{"early: every two ops", true, 7, []int{2, 2, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := make(chan classifier.Op, tc.ops)
			for range tc.ops {
				in <- classifier.Op{}
			}
			close(in)
			var got []int
			groupOps(context.Background(), in, 64, time.Hour, func() bool { return tc.early }, func() bool { return false }, func(ops []classifier.Op) {
				got = append(got, len(ops))
			})
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("groups %v, want %v", got, tc.want)
			}
		})
	}
}

// groupOps sends a partial group when no op has come for the idle time,
// unless the source is ahead: then the ops still to come are certain and
// the group waits to be full.
func TestGroupOpsIdle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ahead bool
		want  []int
	}{
		{"source paused: the group at hand goes", false, []int{3, 3}},
		{"source ahead: the group waits", true, []int{6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := make(chan classifier.Op)
			go func() {
				for range 2 {
					for range 3 {
						in <- classifier.Op{}
					}
					time.Sleep(50 * time.Millisecond)
				}
				close(in)
			}()
			var got []int
			groupOps(context.Background(), in, 64, 5*time.Millisecond, func() bool { return false }, func() bool { return tc.ahead }, func(ops []classifier.Op) {
				got = append(got, len(ops))
			})
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("groups %v, want %v", got, tc.want)
			}
		})
	}
}

// A bulk run commits its messages in the source's order, however the
// parsers' finishing order differs, as sa-learn learns in file order:
// of two messages with one Message-ID, the first is the one learned,
// and the same learn gives the same store every time.
func TestLearnerKeepsSourceOrder(t *testing.T) {
	msgs := numberedMessages(300)
	big := bytes.Repeat([]byte("<p>a long <b>html</b> line with words and http://example.com/link</p>\n"), 3000)
	for i := 0; i < len(msgs); i += 7 {
		msgs[i] = append(fmt.Appendf(nil, "Message-ID: <%d@example.com>\nContent-Type: text/html\n\n", i), big...)
	}
	st := &groupsStore{}
	w := NewWriter(st, WriterOptions{})
	defer w.Close()
	l := &Learner{Writer: w, Workers: 4, BatchSize: 16}
	if _, err := l.Run(context.Background(), sourceOf(msgs), Request{Class: classifier.Spam}); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.ids) != len(msgs) {
		t.Fatalf("%d messages committed, want %d", len(st.ids), len(msgs))
	}
	for i, id := range st.ids {
		if want := Prepare(msgs[i], tokenizer.TokenOptions{}, time.Now()).MsgID; id != want {
			t.Fatalf("message %d committed was %s, want %s (source order)", i, id, want)
		}
	}
}
