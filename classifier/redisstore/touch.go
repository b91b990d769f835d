package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// Renewing the TTLs of the tokens scans used.
//
// SpamAssassin's scan, once Bayes has answered, renews the TTL of every
// token that decided the answer (tok_touch_all: one EXPIRE each, as a
// second batch of commands after the lookup), so that a token in use
// does not expire merely because no learn has counted it lately. A scan
// here notes those tokens instead (NoteUsed); one goroutine per store
// renews them in the background, a batch of EXPIREs for all the scans
// of the last touchDelay in one round trip per touchChunk keys, each
// token once however many scans used it. A scan never waits for it.
//
// A token this process renewed in the current or the previous
// touchFresh period (so between one and two periods ago at most) is not
// renewed again: against a TTL of weeks, a renewal an hour later
// changes nothing that matters, and a busy site's scans use the same
// tokens over and over. (SpamAssassin renews on every scan.) A
// learn always renews every token it counts, in its own script.
const (
	// touchDelay is how long notes gather before a renewal round: a
	// renewal is at most this late, against a TTL of weeks.
	touchDelay = 250 * time.Millisecond
	// touchChunk is the most EXPIREs one pipeline carries.
	touchChunk = 2000
	// maxPendingTouch bounds the keys waiting for renewal: past it
	// (the server slow or down) notes are dropped, and those tokens
	// merely expire on their old TTL unless used again.
	maxPendingTouch = 100000
	// touchFresh is how long a renewal is remembered; the memory holds
	// the keys renewed in the current and the previous period, at
	// most maxPendingTouch each (a period that fills up ends early).
	touchFresh = time.Hour
)

// toucher is the background renewal of a Store; see NoteUsed.
type toucher struct {
	mu      sync.Mutex
	pending map[string]struct{} // Redis keys of tokens to renew
	dropped int                 // notes dropped since the last round
	closed  bool

	// renewed and renewedBefore are the keys renewed in this period
	// and the previous one (touchFresh each), which are not renewed
	// again; only the renewal goroutine uses them.
	renewed, renewedBefore map[string]struct{}
	periodStart            time.Time

	wake    chan struct{} // a round is wanted (capacity 1)
	stop    chan struct{} // closed by Close
	stopped chan struct{} // closed when the goroutine is gone
}

// NoteUsed queues keys of scope sc (the tokens a scan's answer used) for
// their TTL renewal in the background, when the store has a token TTL
// and may write. It never blocks; keys is not retained.
func (s *Store) NoteUsed(sc classifier.Scope, keys []tokenizer.Key) {
	t := s.touch
	if t == nil || len(keys) == 0 || validScope(sc) != nil {
		return
	}
	p := prefix(sc)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	for _, k := range keys {
		if len(t.pending) >= maxPendingTouch {
			t.dropped++
			continue
		}
		t.pending[tokenKey(p, k)] = struct{}{}
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// startToucher starts the renewal goroutine (only for a writable store
// with a token TTL).
func (s *Store) startToucher() {
	if s.opt.ReadOnly || s.tokenTTL == 0 {
		return
	}
	s.touch = &toucher{pending: map[string]struct{}{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{}),
		renewed: map[string]struct{}{}, renewedBefore: map[string]struct{}{}, periodStart: time.Now()}
	go s.runToucher()
}

// stopToucher ends the renewal goroutine after one last round.
func (s *Store) stopToucher() {
	t := s.touch
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.stopped
		return
	}
	t.closed = true
	t.mu.Unlock()
	close(t.stop)
	<-t.stopped
}

func (s *Store) runToucher() {
	t := s.touch
	defer close(t.stopped)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("redis bayes token renewal stopped", "panic", r)
		}
	}()
	for {
		select {
		case <-t.stop:
			s.touchRound()
			return
		case <-t.wake:
		}
		// Let the notes of the next scans gather.
		select {
		case <-t.stop:
			s.touchRound()
			return
		case <-time.After(touchDelay):
		}
		s.touchRound()
	}
}

// touchRound renews the pending keys' TTLs; a failure drops them (the
// store's health logs an outage once).
func (s *Store) touchRound() {
	t := s.touch
	t.mu.Lock()
	batch, dropped := t.pending, t.dropped
	t.pending, t.dropped = make(map[string]struct{}, len(batch)), 0
	t.mu.Unlock()
	if dropped > 0 {
		s.log.Debug("redis bayes token renewals dropped: the server is behind", "dropped", dropped)
	}
	if len(batch) == 0 {
		return
	}
	now := time.Now()
	if now.Sub(t.periodStart) >= touchFresh || len(t.renewed) >= maxPendingTouch {
		t.renewedBefore, t.renewed, t.periodStart = t.renewed, make(map[string]struct{}, len(t.renewed)), now
	}
	keys := make([]string, 0, len(batch))
	for k := range batch {
		if _, ok := t.renewed[k]; ok {
			continue
		}
		if _, ok := t.renewedBefore[k]; ok {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.CommandTimeout)
	defer cancel()
	if err := s.expireKeys(ctx, "renew tokens", keys); err != nil {
		s.log.Debug("redis bayes token renewal failed", "keys", len(keys), "err", err)
		return
	}
	for _, k := range keys {
		t.renewed[k] = struct{}{}
	}
}

// expireKeys sets the token TTL on keys (that exist), touchChunk keys a
// round trip.
func (s *Store) expireKeys(ctx context.Context, op string, keys []string) error {
	ttl := time.Duration(s.tokenTTL) * time.Second
	for start := 0; start < len(keys); start += touchChunk {
		chunk := keys[start:min(start+touchChunk, len(keys))]
		err := s.call(ctx, op, func(ctx context.Context) error {
			_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for _, k := range chunk {
					pipe.Expire(ctx, k, ttl)
				}
				return nil
			})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

var _ classifier.UsedNoter = (*Store)(nil)
var _ classifier.ScanLookuper = (*Store)(nil)
