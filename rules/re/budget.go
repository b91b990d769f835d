package re

import (
	"runtime"
	"sync/atomic"
)

// A StateBudget bounds the memory that the dfas of many patterns keep in
// their state caches, together. The caches grow with the text a process
// sees (a dfa builds the states each new subject needs and keeps them for
// the next), so without a bound a long-running daemon's would grow with
// its mail. A dfa that would grow past the budget empties its own cache
// instead and starts over: the dfas that need the most states make room.
// Answers do not change, only the time to build states again.
//
// A dfa always keeps room for budgetFloorStates states, whatever the
// budget says, so that a full budget does not make small dfas start over
// on every subject; the budget can be exceeded by that much. The dfas of
// a Set are not charged (a Set's are few and bounded by setMaxStates).
//
// A StateBudget is safe for concurrent use.
type StateBudget struct {
	limit int64
	used  atomic.Int64
}

// NewStateBudget returns a budget of limit bytes.
func NewStateBudget(limit int64) *StateBudget { return &StateBudget{limit: limit} }

// Used returns how many bytes the dfas charged to b hold now.
func (b *StateBudget) Used() int64 { return b.used.Load() }

// Limit returns the budget in bytes.
func (b *StateBudget) Limit() int64 { return b.limit }

// take charges n bytes if they fit and reports whether they did.
func (b *StateBudget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

const (
	// dfaStateBytes is about what a state costs besides its row of
	// transitions: its slot in the table (8 bytes), the dstate (32),
	// its key (24 on average) and its slots in the index (8 to 16).
	dfaStateBytes = 80
	// budgetFloorStates is the room a dfa keeps whatever its budget.
	budgetFloorStates = 32
)

// A dfaCharge is what one dfa holds of its budget; it outlives the dfa
// just long enough to give the bytes back (runtime.AddCleanup).
type dfaCharge struct {
	budget *StateBudget
	bytes  atomic.Int64
}

// tableBytes is what a table of n states costs.
func (d *dfa) tableBytes(n int) int64 {
	return int64(n) * int64(4*len(d.repr)+dfaStateBytes)
}

// useBudget charges d's cache to b from now on.
func (d *dfa) useBudget(b *StateBudget) {
	if d.twin != nil {
		d.twin.useBudget(b)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := &dfaCharge{budget: b}
	n := d.tableBytes(len(d.table.Load().states))
	b.used.Add(n)
	c.bytes.Store(n)
	d.charge = c
	runtime.AddCleanup(d, func(c *dfaCharge) { c.budget.used.Add(-c.bytes.Load()) }, c)
}

// chargeTable charges d's budget for a table of n states, in place of
// the current one; it reports false, charging nothing, when that does not
// fit and the table is past the floor. d.mu is held.
func (d *dfa) chargeTable(n int) bool {
	c := d.charge
	if c == nil {
		return true
	}
	delta := d.tableBytes(n) - c.bytes.Load()
	if delta > 0 && n > budgetFloorStates && !c.budget.take(delta) {
		return false
	}
	if delta <= 0 || n <= budgetFloorStates {
		c.budget.used.Add(delta)
	}
	c.bytes.Add(delta)
	return true
}
