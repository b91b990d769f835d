package learn

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

func openTestStore(t *testing.T) *classifier.Store {
	t.Helper()
	s, err := classifier.Open(filepath.Join(t.TempDir(), "bayes"), classifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func testOp(i int, class classifier.Class) classifier.Op {
	return classifier.Op{
		MsgID:  fmt.Sprintf("msg-%d@test", i),
		Class:  class,
		Tokens: []tokenizer.Key{tokenizer.KeyOf("common"), tokenizer.KeyOf(fmt.Sprintf("tok-%d", i))},
		Atime:  1700000000 + int64(i),
	}
}

// Many goroutines learning at once through one writer: every learn is
// acknowledged once, the counters add up, and relearning is idempotent.
func TestWriterConcurrentLearns(t *testing.T) {
	store := openTestStore(t)
	w := NewWriter(store, WriterOptions{MaxBatch: 16})
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	results := make([]classifier.Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			class := classifier.Ham
			if i%3 == 0 {
				class = classifier.Spam
			}
			results[i], errs[i] = w.Learn(ctx, testOp(i, class))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != classifier.Learned {
			t.Fatalf("learn %d: %v, %v", i, results[i], errs[i])
		}
	}
	// Learning the same message again as the same class changes nothing;
	// as the other class it moves.
	if r, err := w.Learn(ctx, testOp(0, classifier.Spam)); err != nil || r != classifier.AlreadyLearned {
		t.Errorf("relearn same class: %v, %v", r, err)
	}
	if r, err := w.Learn(ctx, testOp(0, classifier.Ham)); err != nil || r != classifier.Relearned {
		t.Errorf("relearn other class: %v, %v", r, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := store.Magic(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.NSpam != 99 || m.NHam != 201 {
		t.Errorf("nspam/nham = %d/%d, want 99/201", m.NSpam, m.NHam)
	}
	counts := make([]classifier.Counts, 1)
	if err := store.Lookup(ctx, "", []tokenizer.Key{tokenizer.KeyOf("common")}, counts); err != nil {
		t.Fatal(err)
	}
	if counts[0].Spam != 99 || counts[0].Ham != 201 {
		t.Errorf("shared token counts = %+v, want 99 spam 201 ham", counts[0])
	}
	if _, err := w.Learn(ctx, testOp(1000, classifier.Ham)); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("learn after Close: %v, want ErrWriterClosed", err)
	}
}

type failingStore struct{}

func (failingStore) Apply(context.Context, []classifier.Op) ([]classifier.Result, error) {
	return nil, errors.New("disk full")
}

type panickingStore struct{}

func (panickingStore) Apply(context.Context, []classifier.Op) ([]classifier.Result, error) {
	panic("boom")
}

// A failing or panicking store reports the error to every caller of the
// batch and the writer keeps serving.
func TestWriterStoreFailures(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store Store
	}{{"error", failingStore{}}, {"panic", panickingStore{}}} {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(tt.store, WriterOptions{})
			defer w.Close()
			for i := range 3 {
				if _, err := w.Learn(context.Background(), testOp(i, classifier.Spam)); err == nil {
					t.Fatalf("learn %d: no error from a failing store", i)
				}
			}
		})
	}
}

// Exclusive work runs between batches on the writer goroutine, and a
// cancelled caller gets its context error without blocking the writer.
func TestWriterExclusiveAndCancel(t *testing.T) {
	store := openTestStore(t)
	w := NewWriter(store, WriterOptions{})
	defer w.Close()
	ctx := context.Background()
	if _, err := w.Learn(ctx, testOp(1, classifier.Spam)); err != nil {
		t.Fatal(err)
	}
	if err := w.Exclusive(ctx, func(ctx context.Context) error { return store.Clear(ctx, "") }); err != nil {
		t.Fatal(err)
	}
	m, err := store.Magic(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.NSpam != 0 || m.NTokens != 0 {
		t.Errorf("after clear: %+v", m)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Learn(cctx, testOp(2, classifier.Spam)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled learn: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := w.Learn(ctx, testOp(3, classifier.Spam)); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writer stuck after a cancelled learn")
	}
}
