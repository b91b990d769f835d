package scan

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/workslot"
)

// A gate of one core admits one scan; the next waits until the first
// is done or gives its core up to wait elsewhere (offCore, workslot.Wait),
// and takes it back after.
func TestCoreGate(t *testing.T) {
	g := newCoreGate(1)
	ctx := context.Background()
	a, err := g.enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := g.enter(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second scan admitted while the only core is held: %v", err)
	}

	// While a waits off its core, b runs; a gets its core back once b
	// is done.
	actx := workslot.Nest(context.WithValue(ctx, coreHoldKey{}, a), a)
	for name, wait := range map[string]func(context.Context, func()){"offCore": offCore, "workslot.Wait": workslot.Wait} {
		var bDone atomic.Bool
		wait(actx, func() {
			b, err := g.enter(ctx)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			go func() {
				time.Sleep(10 * time.Millisecond)
				bDone.Store(true)
				b.Release()
			}()
		})
		if !bDone.Load() {
			t.Errorf("%s: the scan took its core back while another held it", name)
		}
		if !a.held {
			t.Errorf("%s: the core was not taken back", name)
		}
	}
	a.Release()
	a.Release() // twice is harmless
	if b, err := g.enter(short); err != nil {
		t.Errorf("core not free after release: %v", err)
	} else {
		b.Release()
	}

	var none coreGate
	if h, err := none.enter(ctx); h != nil || err != nil {
		t.Errorf("nil gate: %v, %v", h, err)
	}
}

// slotLog is a workslot.Slot that records what is done to it.
type slotLog struct {
	name string
	log  *[]string
}

func (s slotLog) Release() { *s.log = append(*s.log, "release "+s.name) }
func (s slotLog) Reacquire(context.Context) bool {
	*s.log = append(*s.log, "take "+s.name)
	return true
}

// A nested slot is given back before the outer one and taken back
// after it.
func TestNestOrder(t *testing.T) {
	var log []string
	ctx := workslot.With(context.Background(), slotLog{"outer", &log})
	ctx = workslot.Nest(ctx, slotLog{"inner", &log})
	workslot.Wait(ctx, func() { log = append(log, "wait") })
	want := "release inner,release outer,wait,take outer,take inner"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
