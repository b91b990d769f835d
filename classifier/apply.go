package classifier

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gospamd/gospamd/tokenizer"
)

// keyID is a token key as a map key: a uint64 hashes and compares faster
// than a [5]byte, and orders as the key's bytes do.
type keyID uint64

func idOf(k tokenizer.Key) keyID {
	return keyID(k[0])<<32 | keyID(k[1])<<24 | keyID(k[2])<<16 | keyID(k[3])<<8 | keyID(k[4])
}

// keyOf is the key of id.
func keyOf(id keyID) tokenizer.Key {
	return tokenizer.Key{byte(id >> 32), byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

// Apply learns and forgets ops, in order, in one synced Pebble batch, and
// returns what each op did. Later ops see the effect of earlier ones
// (learning the same message twice in one call gives Learned then
// AlreadyLearned).
//
// Semantics, per op (SpamAssassin's, bayes.md §5): the seen index is
// looked up under MsgID, then AltMsgID; the first entry found counts.
//   - Learn, not seen: nspam or nham += 1, every token's count += 1, its
//     atime = max(atime, op.Atime); seen[MsgID] = Class. Learned.
//   - Learn, seen as Class: nothing. AlreadyLearned.
//   - Learn, seen as the other class: with NoRelearn nothing (NotLearned);
//     else the message is forgotten as that class, then learned. Relearned.
//   - Forget, seen: the counts it added are removed (clamped at 0, a token
//     at 0/0 is deleted, atimes unchanged) and the seen entry deleted.
//     Forgotten. Forget, not seen: NotLearned.
//
// NTOKENS, NSPAM, NHAM and the newest/oldest atime are kept as
// SpamAssassin keeps them: newest and oldest follow every token written,
// oldest only grows at expiry.
//
// On error nothing is written. Apply is a write: see Store's concurrency
// contract.
func (s *Store) Apply(ctx context.Context, ops []Op) ([]Result, error) {
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	for i := range ops {
		if err := validateOp(&ops[i]); err != nil {
			return nil, fmt.Errorf("bayes op %d: %w", i, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.clearMagicAfterWrite()
	start := time.Now()

	a := newApplier(s.db, s.cache)
	if len(ops) >= seenPrefetchOps {
		if err := a.prefetchSeen(ops); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(ops))
	for i := range ops {
		r, err := a.decide(&ops[i])
		if err != nil {
			return nil, err
		}
		results[i] = r
	}
	if len(a.actions) == 0 {
		return results, nil
	}
	if err := a.load(ops); err != nil {
		return nil, err
	}
	a.run(ops)
	if s.ingest != nil {
		if err := s.ingest.commit(s.db, a.write); err != nil {
			return nil, err
		}
	} else if err := commitBatch(s.db, a.write); err != nil {
		return nil, err
	}
	// The counters first, then the tokens: a scan that reads the new
	// counts of a token then reads the new message counts.
	s.magic.clear()
	a.remember()
	s.metrics.ObserveCommit(len(ops), time.Since(start))
	return results, nil
}

// ValidateOp checks what Apply requires of op, on either backend: a
// scope without NUL bytes, a learn with a MsgID and a class of Spam or
// Ham, a forget with a MsgID or an AltMsgID.
func ValidateOp(op *Op) error { return validateOp(op) }

func validateOp(op *Op) error {
	if err := validScope(op.Scope); err != nil {
		return err
	}
	if op.Forget {
		if op.MsgID == "" && op.AltMsgID == "" {
			return fmt.Errorf("forget without a message id")
		}
		return nil
	}
	if op.MsgID == "" {
		return fmt.Errorf("learn without a message id")
	}
	if op.Class != Spam && op.Class != Ham {
		return fmt.Errorf("learn as unknown class %q", byte(op.Class))
	}
	return nil
}

// seenRef names one seen entry.
type seenRef struct {
	scope Scope
	msgid string
}

// tokenState is one token's record while a batch is applied.
type tokenState struct {
	counts  Counts
	existed bool // in the database before the batch
	exists  bool // now
	touched bool // changed by the batch
	// lastAction is the index+1 of the last action that counted this
	// token, so a key repeated in one op counts once.
	lastAction int
}

// scopeState is what a batch changes in one scope.
type scopeState struct {
	magic  Magic
	index  keyIndex // numbers into keys and states
	keys   []tokenizer.Key
	states []tokenState
}

// tokenAction adds delta (+1 or -1) to the class count of op's tokens.
type tokenAction struct {
	op    int
	class Class
	delta int
	// at are the indices of op's tokens in their scopeState, set by load.
	at []int32
}

// applier holds the in-memory state of one Apply.
type applier struct {
	db    *pebble.DB
	cache *tokenCache
	seen  map[seenRef]Class // overlay; 0 = deleted
	// stored, when not nil, holds the entries of the store that the
	// batch may look up (see prefetchSeen); a ref not in it is not seen.
	stored  map[seenRef]Class
	actions []tokenAction
	scopes  map[Scope]*scopeState
	nextOp  int
}

func newApplier(db *pebble.DB, cache *tokenCache) *applier {
	return &applier{db: db, cache: cache, seen: map[seenRef]Class{}, scopes: map[Scope]*scopeState{}}
}

// lookupSeen returns the class of a seen entry, with the batch's own
// changes applied.
func (a *applier) lookupSeen(ref seenRef) (Class, bool, error) {
	if c, ok := a.seen[ref]; ok {
		return c, c != 0, nil
	}
	if a.stored != nil {
		c, ok := a.stored[ref]
		return c, ok, nil
	}
	return readSeen(a.db, ref.scope, ref.msgid)
}

// seenPrefetchOps is the batch size from which Apply reads the seen
// entries of all its ops at once (prefetchSeen).
const seenPrefetchOps = 16

// prefetchSeen reads the stored seen entries of every MsgID and
// AltMsgID of ops into a.stored, for lookupSeen.
func (a *applier) prefetchSeen(ops []Op) error {
	refs := make([]seenRef, 0, 2*len(ops))
	have := make(map[seenRef]bool, 2*len(ops))
	for i := range ops {
		for _, id := range [2]string{ops[i].MsgID, ops[i].AltMsgID} {
			if ref := (seenRef{ops[i].Scope, id}); id != "" && !have[ref] {
				have[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	stored, err := readSeenMany(a.db, refs)
	if err != nil {
		return err
	}
	a.stored = stored
	return nil
}

// findSeen tries MsgID then AltMsgID.
func (a *applier) findSeen(op *Op) (seenRef, Class, bool, error) {
	for _, id := range [2]string{op.MsgID, op.AltMsgID} {
		if id == "" {
			continue
		}
		ref := seenRef{op.Scope, id}
		c, ok, err := a.lookupSeen(ref)
		if err != nil || ok {
			return ref, c, ok, err
		}
	}
	return seenRef{}, 0, false, nil
}

// A Decision is what one op does, given the seen index: its Result, and
// the counts it changes, Unlearn first (the message's earlier class is
// taken off: its message count and every one of its tokens' counts of
// that class −1, clamped at 0, and its seen entry deleted) then Learn
// (the class is added: message count and token counts +1, seen entry
// MsgID = Learn). A zero Unlearn or Learn changes nothing.
type Decision struct {
	Result         Result
	Unlearn, Learn Class
}

// Decide is Apply's decision table (bayes.md §5; see Store.Apply) for
// op, given the class the message was seen as (seen false: not seen
// under MsgID nor AltMsgID). Both backends follow it: the Pebble store
// calls it; the Redis store's learn script (classifier/redisstore,
// learnLua) is its transcription into Lua, run on the server so that
// the seen check and the count update are one atomic step, and
// redisstore's tests check the two agree case by case.
func Decide(op *Op, seenClass Class, seen bool) Decision {
	switch {
	case op.Forget && !seen:
		return Decision{Result: NotLearned}
	case op.Forget:
		return Decision{Result: Forgotten, Unlearn: seenClass}
	case !seen:
		return Decision{Result: Learned, Learn: op.Class}
	case seenClass == op.Class:
		return Decision{Result: AlreadyLearned}
	case op.NoRelearn:
		return Decision{Result: NotLearned}
	}
	return Decision{Result: Relearned, Unlearn: seenClass, Learn: op.Class}
}

// decide resolves op against the seen index and queues its token
// actions; ops must be decided in order.
func (a *applier) decide(op *Op) (Result, error) {
	opIndex := a.nextOp
	a.nextOp++
	ref, seenClass, seen, err := a.findSeen(op)
	if err != nil {
		return 0, err
	}
	d := Decide(op, seenClass, seen)
	if d.Unlearn != 0 {
		a.queue(opIndex, op.Scope, d.Unlearn, -1)
		a.seen[ref] = 0
	}
	if d.Learn != 0 {
		a.queue(opIndex, op.Scope, d.Learn, +1)
		a.seen[seenRef{op.Scope, op.MsgID}] = d.Learn
	}
	return d.Result, nil
}

func (a *applier) queue(op int, sc Scope, class Class, delta int) {
	a.actions = append(a.actions, tokenAction{op: op, class: class, delta: delta})
	if _, ok := a.scopes[sc]; !ok {
		a.scopes[sc] = &scopeState{}
	}
}

// load reads the magic of every scope the actions touch and the counts
// of every distinct token, once each.
func (a *applier) load(ops []Op) error {
	for sc, ss := range a.scopes {
		m, err := readMagic(a.db, sc)
		if err != nil {
			return err
		}
		ss.magic = m
	}
	// The index is sized for half the tokens of the batch: about a
	// third of them are distinct.
	sizes := map[Scope]int{}
	ntokens := 0
	for _, act := range a.actions {
		sizes[ops[act.op].Scope] += len(ops[act.op].Tokens)
		ntokens += len(ops[act.op].Tokens)
	}
	for sc, ss := range a.scopes {
		ss.index = newKeyIndex(sizes[sc] / 2)
	}
	at := make([]int32, 0, ntokens)
	for n := range a.actions {
		act := &a.actions[n]
		op := &ops[act.op]
		ss := a.scopes[op.Scope]
		start := len(at)
		for _, k := range op.Tokens {
			i, added := ss.index.number(idOf(k), int32(len(ss.keys)))
			if added {
				ss.keys = append(ss.keys, k)
			}
			at = append(at, i)
		}
		act.at = at[start:len(at):len(at)]
	}
	for sc, ss := range a.scopes {
		if err := a.cache.fill(a.db, sc, ss.magic.NTokens, len(ss.keys)); err != nil {
			return err
		}
		counts := make([]Counts, len(ss.keys))
		// Read only what the cache does not know.
		if missAt := a.cache.known(sc, ss.keys, counts); len(missAt) > 0 {
			missKeys := make([]tokenizer.Key, len(missAt))
			for j, i := range missAt {
				missKeys[j] = ss.keys[i]
			}
			missed := make([]Counts, len(missKeys))
			if err := lookupSorted(a.db, sc, missKeys, missed); err != nil {
				return err
			}
			for j, i := range missAt {
				counts[i] = missed[j]
			}
		}
		ss.states = make([]tokenState, len(ss.keys))
		for i, c := range counts {
			known := c.Spam != 0 || c.Ham != 0
			ss.states[i] = tokenState{counts: c, existed: known, exists: known}
		}
	}
	return nil
}

// remember puts the committed state of every token the batch read or
// wrote into the cache. Call it only after the commit succeeded.
func (a *applier) remember() {
	for sc, ss := range a.scopes {
		counts := make([]Counts, len(ss.keys))
		for i := range ss.keys {
			if ss.states[i].exists {
				counts[i] = ss.states[i].counts
			}
		}
		a.cache.put(sc, ss.keys, counts)
	}
}

// run applies the queued actions in order to the in-memory state.
func (a *applier) run(ops []Op) {
	for n, act := range a.actions {
		op := &ops[act.op]
		ss := a.scopes[op.Scope]
		m := &ss.magic
		addMessages(m, act.class, act.delta)
		stamp := n + 1
		for _, i := range act.at {
			st := &ss.states[i]
			if st.lastAction == stamp {
				continue
			}
			st.lastAction = stamp
			if act.delta > 0 {
				learnToken(m, st, act.class, op.Atime)
			} else {
				forgetToken(m, st, act.class)
			}
		}
	}
}

func addMessages(m *Magic, class Class, delta int) {
	n := &m.NHam
	if class == Spam {
		n = &m.NSpam
	}
	*n = satAdd64(*n, int64(delta))
}

// satAdd64 is a+b held within [0, MaxInt64]: a restored count near
// MaxInt64 stays there instead of wrapping to a negative number (which
// would then read as 0).
func satAdd64(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case a+b < 0:
		return 0
	}
	return a + b
}

func learnToken(m *Magic, st *tokenState, class Class, atime int64) {
	c := &st.counts
	if class == Spam {
		c.Spam = satAdd(c.Spam)
	} else {
		c.Ham = satAdd(c.Ham)
	}
	c.Atime = max(c.Atime, atime)
	if !st.exists {
		st.exists = true
		m.NTokens++
	}
	st.touched = true
	noteAtime(m, c.Atime)
}

func forgetToken(m *Magic, st *tokenState, class Class) {
	c := &st.counts
	if class == Spam {
		c.Spam = satSub(c.Spam)
	} else {
		c.Ham = satSub(c.Ham)
	}
	if c.Spam == 0 && c.Ham == 0 {
		if st.exists {
			st.exists = false
			st.touched = true
			m.NTokens = max(m.NTokens-1, 0)
		}
		*c = Counts{}
		return
	}
	st.touched = true
	noteAtime(m, c.Atime)
}

// noteAtime widens the magic newest/oldest atimes to include atime. An
// oldest atime of 0 means "not yet set".
func noteAtime(m *Magic, atime int64) {
	if atime > m.NewestAtime {
		m.NewestAtime = atime
	}
	if m.OldestAtime == 0 || atime < m.OldestAtime {
		m.OldestAtime = atime
	}
}

func satAdd(v uint32) uint32 {
	if v == math.MaxUint32 {
		return v
	}
	return v + 1
}

func satSub(v uint32) uint32 {
	if v == 0 {
		return 0
	}
	return v - 1
}

// A keySink takes a batch's writes in key order.
type keySink interface {
	set(key, val []byte) error
	del(key []byte) error
}

// commitBatch commits what write puts in one synced Pebble batch.
func commitBatch(db *pebble.DB, write func(keySink) error) error {
	batch := db.NewBatch()
	defer batch.Close()
	if err := write(batchSink{batch}); err != nil {
		return err
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit bayes learn batch: %w", err)
	}
	return nil
}

// batchSink writes into a Pebble batch.
type batchSink struct{ b *pebble.Batch }

func (s batchSink) set(key, val []byte) error { return s.b.Set(key, val, nil) }
func (s batchSink) del(key []byte) error      { return s.b.Delete(key, nil) }

// write puts the batch's changes into b in ascending key order (every
// scope's magic, then seen entries, then tokens: see Store), as a table
// must be written.
func (a *applier) write(b keySink) error {
	scopes := make([]Scope, 0, len(a.scopes))
	for sc := range a.scopes {
		scopes = append(scopes, sc)
	}
	slices.Sort(scopes)
	for _, sc := range scopes {
		if err := b.set(magicKey(sc), encodeMagic(a.scopes[sc].magic)); err != nil {
			return fmt.Errorf("write bayes magic: %w", err)
		}
	}
	refs := make([]seenRef, 0, len(a.seen))
	for ref := range a.seen {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(x, y seenRef) int {
		if c := strings.Compare(string(x.scope), string(y.scope)); c != 0 {
			return c
		}
		return strings.Compare(x.msgid, y.msgid)
	})
	for _, ref := range refs {
		var err error
		if c := a.seen[ref]; c != 0 {
			err = b.set(seenKey(ref.scope, ref.msgid), []byte{byte(c)})
		} else {
			err = b.del(seenKey(ref.scope, ref.msgid))
		}
		if err != nil {
			return fmt.Errorf("write bayes seen entry: %w", err)
		}
	}
	var key, val []byte
	for _, sc := range scopes {
		ss := a.scopes[sc]
		for _, i := range keyOrder(ss.keys) {
			st := &ss.states[i]
			if !st.touched {
				continue
			}
			key = appendTokenKey(key[:0], sc, ss.keys[i])
			var err error
			switch {
			case st.exists:
				val = encodeCounts(val[:0], st.counts)
				err = b.set(key, val)
			case st.existed:
				err = b.del(key)
			}
			if err != nil {
				return fmt.Errorf("write bayes token: %w", err)
			}
		}
	}
	return nil
}

// keyOrder returns the indices of keys in key order.
func keyOrder(keys []tokenizer.Key) []int {
	order := make([]int, len(keys))
	if len(keys) >= 1<<24 {
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(x, y int) int { return bytes.Compare(keys[x][:], keys[y][:]) })
		return order
	}
	// A 40-bit key and a 24-bit index in one uint64 sort as the keys do,
	// without a comparison function.
	packed := make([]uint64, len(keys))
	for i, k := range keys {
		packed[i] = uint64(idOf(k))<<24 | uint64(i)
	}
	sortPacked(packed)
	for j, p := range packed {
		order[j] = int(p & (1<<24 - 1))
	}
	return order
}

// Touch raises the atime of the known keys of scope sc to atime, as a
// scan does for the tokens it used. Unknown keys are ignored. The write
// is not synced (losing a touch in a crash is harmless). Touch is a
// write: see Store's concurrency contract.
func (s *Store) Touch(ctx context.Context, sc Scope, keys []tokenizer.Key, atime int64) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if err := validScope(sc); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.clearMagicAfterWrite()
	counts := make([]Counts, len(keys))
	if err := lookupSorted(s.db, sc, keys, counts); err != nil {
		return err
	}
	m, err := readMagic(s.db, sc)
	if err != nil {
		return err
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	var key, val []byte
	for i, c := range counts {
		if (c.Spam == 0 && c.Ham == 0) || c.Atime >= atime {
			continue
		}
		c.Atime = atime
		counts[i] = c
		noteAtime(&m, atime)
		key = appendTokenKey(key[:0], sc, keys[i])
		val = encodeCounts(val[:0], c)
		if err := batch.Set(key, val, nil); err != nil {
			return fmt.Errorf("write bayes touch: %w", err)
		}
	}
	if batch.Empty() {
		return nil
	}
	if err := batch.Set(magicKey(sc), encodeMagic(m), nil); err != nil {
		return fmt.Errorf("write bayes magic: %w", err)
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("commit bayes touch: %w", err)
	}
	return nil
}
