package scan

import (
	"context"

	"github.com/gospamd/gospamd/internal/workslot"
)

// A coreGate admits the scans that compute at once, typically as many
// as there are cores (GOMAXPROCS). More would only share the cores, each
// taking longer, the long ones most (the Go scheduler slices them every
// 10 ms and sends them to the back of the queue); held back, they wait
// in arrival order instead, and a scan's time (gospamd_scan_seconds) is
// its own. A nil gate admits every scan at once.
type coreGate chan struct{}

func newCoreGate(n int) coreGate {
	if n <= 0 {
		return nil
	}
	return make(coreGate, n)
}

// enter waits for a core until ctx is done; release the hold returned
// (nil from a nil gate: nothing to release).
func (g coreGate) enter(ctx context.Context) (*coreHold, error) {
	if g == nil {
		return nil, nil
	}
	select {
	case g <- struct{}{}:
		return &coreHold{g: g, held: true}, nil
	default:
	}
	select {
	case g <- struct{}{}:
		return &coreHold{g: g, held: true}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A coreHold is one scan's admission through a coreGate. As a
// workslot.Slot it is given back while the scan waits on the network
// (DNS) or on the Bayes writer's commit. Used by the scan's goroutine
// only.
type coreHold struct {
	g    coreGate
	held bool
}

// Release gives the core back, if held.
func (h *coreHold) Release() {
	if h.held {
		<-h.g
		h.held = false
	}
}

// Reacquire waits for a core again, until ctx is done.
func (h *coreHold) Reacquire(ctx context.Context) bool {
	if h.held {
		return true
	}
	select {
	case h.g <- struct{}{}:
		h.held = true
	case <-ctx.Done():
	}
	return h.held
}

type coreHoldKey struct{}

// offCore runs wait, which blocks on something other than this
// machine's cores (the writer's commit), with the scan's core given back
// (its request's slot, if any, kept).
func offCore(ctx context.Context, wait func()) {
	h, _ := ctx.Value(coreHoldKey{}).(*coreHold)
	if h == nil {
		wait()
		return
	}
	workslot.Wait(workslot.With(ctx, h), wait)
}
