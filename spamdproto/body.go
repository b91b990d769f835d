package spamdproto

import (
	"errors"
	"io"
	"sync/atomic"
)

// errBufferBudget is the cause of an EX_TEMPFAIL answer given because the
// server's Config.MaxBufferedBytes were spent.
var errBufferBudget = errors.New("the server's buffered-bytes budget is spent")

// busyError is the answer to a request the server has no room for.
func busyError(cause error) *Error {
	return &Error{Code: EX_TEMPFAIL, Msg: "server busy", Err: cause}
}

// memBudget is the number of message bytes all of a server's requests may
// hold in memory together (Config.MaxBufferedBytes).
//
// # Concurrency
//
// take and give are safe for concurrent use. take never waits: a request
// that would wait for memory while holding some could wait for another
// that waits for it, so it is refused instead.
type memBudget struct {
	max  int64
	used atomic.Int64
}

func (b *memBudget) take(n int64) bool {
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *memBudget) give(n int64) { b.used.Add(-n) }

// reservation is one request's share of a memBudget: what its buffers
// hold. A nil reservation charges nothing (ReadRequest used on its own).
// It belongs to one goroutine.
type reservation struct {
	budget *memBudget
	held   int64
}

// take charges n more bytes, false when the budget has no room.
func (r *reservation) take(n int64) bool {
	if r == nil || n <= 0 {
		return true
	}
	if !r.budget.take(n) {
		return false
	}
	r.held += n
	return true
}

// give returns n bytes the request no longer holds.
func (r *reservation) give(n int64) {
	if r == nil {
		return
	}
	n = min(n, r.held)
	r.held -= n
	r.budget.give(n)
}

// release returns everything.
func (r *reservation) release() { r.give(r.held) }

// firstBodyChunk is the first buffer readUpTo allocates; it doubles from
// there. Most mail fits in it.
const firstBodyChunk = 64 << 10

// readUpTo reads r to EOF into one buffer, or stops after limit bytes and
// reports more when r had at least one byte beyond them. The buffer
// starts at firstBodyChunk and doubles, never past limit, so it never
// holds more than limit bytes (one more is read into a one-byte probe),
// and each growth is charged to mem before it is allocated: when mem
// refuses, the error wraps errBufferBudget. What was read is returned
// along with an error.
func readUpTo(r io.Reader, limit int64, mem *reservation) (buf []byte, more bool, err error) {
	for {
		if int64(len(buf)) == limit {
			var probe [1]byte
			n, err := io.ReadAtLeast(r, probe[:], 1)
			if n > 0 {
				return buf, true, nil
			}
			if errors.Is(err, io.EOF) {
				return buf, false, nil
			}
			return buf, false, err
		}
		if len(buf) == cap(buf) {
			grown := min(max(2*int64(cap(buf)), firstBodyChunk), limit)
			if !mem.take(grown - int64(cap(buf))) {
				return buf, false, errBufferBudget
			}
			nb := make([]byte, len(buf), grown)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF):
			return buf, false, nil
		case err != nil:
			return buf, false, err
		}
	}
}
