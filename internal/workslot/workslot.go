// Package workslot lets a server's unit of work give its concurrency slot
// back while it waits on something other than this machine, and take one
// again before it computes further.
//
// A server bounds the scans that run at once (spamd's --max-children) to
// bound CPU and memory. A scan that waits a second for a DNS list server
// uses neither, yet would keep its slot, and with ten slots a hundred such
// scans would finish in ten waves. The server puts a Slot in the scan's
// context (With); the network tests wrap each wait in Wait, which releases
// the slot for the wait's duration and takes one again (queueing like any
// new request) before returning.
//
// A Slot is used by the one goroutine that runs the unit of work; Wait
// must not be called from other goroutines of it.
package workslot

import "context"

// A Slot is one unit of work's hold on a server's concurrency limit.
type Slot interface {
	// Release gives the slot back; the caller holds it.
	Release()
	// Reacquire takes a slot again, waiting until one is free or ctx is
	// done; false when it gave up (the work then goes on without one).
	Reacquire(ctx context.Context) bool
}

type key struct{}

// With returns ctx carrying s.
func With(ctx context.Context, s Slot) context.Context { return context.WithValue(ctx, key{}, s) }

// Nest returns ctx carrying s within the slot ctx carries already, if
// any (a scan's hold on the cores within its server's request slot):
// Wait then gives back s and the outer slot, and takes the outer one
// again first, so that s is never held while waiting for the other.
func Nest(ctx context.Context, s Slot) context.Context {
	if outer, _ := ctx.Value(key{}).(Slot); outer != nil {
		s = nested{inner: s, outer: outer}
	}
	return With(ctx, s)
}

type nested struct{ inner, outer Slot }

func (n nested) Release() {
	n.inner.Release()
	n.outer.Release()
}

func (n nested) Reacquire(ctx context.Context) bool {
	outer := n.outer.Reacquire(ctx)
	return n.inner.Reacquire(ctx) && outer
}

// Wait runs wait (which blocks on something outside this machine) with
// the slot of ctx, if any, released, and takes it back before returning.
func Wait(ctx context.Context, wait func()) {
	s, _ := ctx.Value(key{}).(Slot)
	if s == nil {
		wait()
		return
	}
	s.Release()
	defer s.Reacquire(context.WithoutCancel(ctx))
	wait()
}
