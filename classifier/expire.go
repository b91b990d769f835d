package classifier

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gospamd/gospamd/tokenizer"
)

// Expiry constants of SpamAssassin 4.0 (BayesStore.pm).
const (
	DefaultMaxDBSize = 150000 // bayes_expiry_max_db_size

	expiryPeriod      = 43200 // 12 h: the atime step and the minimum interval
	expiryMaxExponent = 9     // scan deltas up to expiryPeriod << 9 (256 days)
	expiryKeepPct     = 0.75  // keep this share of MaxDBSize
	expiryMinKeep     = 100000
	expiryMinGoal     = 1000
	expiryEstimateAge = 30 * 86400
)

// ExpireOptions tune Expire.
type ExpireOptions struct {
	// MaxDBSize is bayes_expiry_max_db_size; 0 means DefaultMaxDBSize.
	MaxDBSize int64
	// Force runs even when expiry is not due (sa-learn --force-expire).
	Force bool
	// Now is the current time; zero means time.Now().
	Now time.Time
}

// ExpireStats say what Expire did.
type ExpireStats struct {
	// Ran is false when expiry was not due (nothing was changed).
	Ran bool
	// Kept and Deleted count tokens; Hapaxes and LowFreq are the kept
	// tokens seen once, and with both counts below 8.
	Kept, Deleted    int64
	Hapaxes, LowFreq int64
	// Delta is the atime delta used: tokens older than the newest atime
	// minus Delta were deleted. 0 when nothing was deleted.
	Delta int64
	// Skipped says why no token was deleted although expiry ran.
	Skipped string
}

// expiryDue is SpamAssassin's expiry_due for magic m.
func expiryDue(m Magic, maxSize, now int64) bool {
	if now-m.LastExpire < expiryPeriod {
		return false
	}
	return m.NTokens > expiryMinKeep && m.NTokens >= maxSize &&
		m.NewestAtime-m.OldestAtime >= expiryPeriod && m.DBVersion >= DBVersion
}

// Expire removes old tokens from scope sc when expiry is due (or forced),
// with SpamAssassin's algorithm (bayes.md §8): keep max(75% of MaxDBSize,
// 100 000) tokens by deleting those whose atime is older than the newest
// atime minus a delta, the delta being estimated from the previous run or
// found by scanning powers of two of 12 hours. It stamps the last-expiry
// counters even when it deletes nothing. Expire is a write: see Store's
// concurrency contract.
func (s *Store) Expire(ctx context.Context, sc Scope, opt ExpireOptions) (ExpireStats, error) {
	var st ExpireStats
	if err := s.checkWritable(); err != nil {
		return st, err
	}
	if err := validScope(sc); err != nil {
		return st, err
	}
	maxSize := opt.MaxDBSize
	if maxSize <= 0 {
		maxSize = DefaultMaxDBSize
	}
	nowTime := opt.Now
	if nowTime.IsZero() {
		nowTime = time.Now()
	}
	now := nowTime.Unix()

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.clearMagicAfterWrite()
	// Rewritten wholesale: scans read from the store until it is reloaded.
	s.cache.dropScope(sc)
	defer s.cache.dropScope(sc)
	m, err := readMagic(s.db, sc)
	if err != nil {
		return st, err
	}
	if !opt.Force && !expiryDue(m, maxSize, now) {
		return st, nil
	}
	st.Ran = true
	st.Kept = m.NTokens
	newest := min(m.NewestAtime, now)

	keep := max(int64(float64(maxSize)*expiryKeepPct), expiryMinKeep)
	goal := m.NTokens - keep
	if goal < expiryMinGoal {
		st.Skipped = fmt.Sprintf("reduction goal %d is under %d tokens", goal, expiryMinGoal)
		m.LastExpire = now
		return st, s.writeMagic(sc, m)
	}

	var delta int64
	if m.LastExpireReduce > 0 {
		delta = int64(float64(m.LastExpireDelta) * float64(m.LastExpireReduce) / float64(goal))
	}
	var ratio float64
	if m.LastExpireReduce == 0 || m.LastExpireReduce > goal {
		ratio = float64(m.LastExpireReduce) / float64(goal)
	} else {
		ratio = float64(goal) / float64(m.LastExpireReduce)
	}
	if now-m.LastExpire > expiryEstimateAge || m.LastExpireDelta < expiryPeriod ||
		m.LastExpireReduce < expiryMinGoal || delta < expiryPeriod || ratio > 1.5 {
		// Count, for each power of two i, the tokens at least
		// expiryPeriod*i older than the newest.
		const maxMult = 1 << expiryMaxExponent
		var counts [expiryMaxExponent + 2]int64 // counts[e] for i = 1<<e
		aged := false
		err := forEachToken(ctx, s.db, sc, func(_ tokenizer.Key, c Counts) error {
			age := newest - max(c.Atime, 0) // atimes are never negative (Restore clamps them); old stores may hold some
			for e := 0; e <= expiryMaxExponent && age >= expiryPeriod<<e; e++ {
				counts[e]++
				aged = true
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("scan bayes token ages: %w", err)
		}
		if !aged {
			// SpamAssassin gives up here without stamping anything.
			st.Skipped = "no token is older than 12 hours"
			return st, nil
		}
		// The largest multiple that removes more than the goal, doubled:
		// the next one out removes at most the goal.
		mult := 0
		for e := expiryMaxExponent; e >= 0; e-- {
			if counts[e] > goal {
				mult = 2 << e
				break
			}
		}
		if mult == 0 {
			mult = 1
		}
		e := int(math.Log2(float64(mult)))
		if mult > maxMult || counts[e] < expiryMinGoal {
			st.Skipped = "no atime delta removes enough tokens"
			m.LastExpire = now
			return st, s.writeMagic(sc, m)
		}
		delta = expiryPeriod * int64(mult)
	}

	tooOld := newest - delta
	batch := s.db.NewBatch()
	defer batch.Close()
	var kept, deleted, hapaxes, lowFreq int64
	oldest := int64(math.MaxInt64)
	var key, val []byte
	err = forEachToken(ctx, s.db, sc, func(k tokenizer.Key, c Counts) error {
		key = appendTokenKey(key[:0], sc, k)
		if c.Atime < tooOld {
			deleted++
			return batch.Delete(key, nil)
		}
		if c.Atime > newest {
			c.Atime = newest
			val = encodeCounts(val[:0], c)
			if err := batch.Set(key, val, nil); err != nil {
				return err
			}
		}
		kept++
		oldest = min(oldest, c.Atime)
		switch {
		case uint64(c.Spam)+uint64(c.Ham) == 1: // uint32 sums wrap
			hapaxes++
		case c.Spam < 8 && c.Ham < 8:
			lowFreq++
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("expire bayes tokens: %w", err)
	}
	if kept < expiryMinKeep {
		st.Skipped = fmt.Sprintf("delta %d would keep only %d tokens", delta, kept)
		m.LastExpire = now
		m.LastExpireReduce = 0
		m.LastExpireDelta = 0
		return st, s.writeMagic(sc, m)
	}
	m.DBVersion = DBVersion
	m.NewestAtime = newest
	m.NTokens = kept
	m.OldestAtime = oldest
	m.LastExpire = now
	m.LastExpireDelta = delta
	m.LastExpireReduce = deleted
	if err := batch.Set(magicKey(sc), encodeMagic(m), nil); err != nil {
		return st, fmt.Errorf("write bayes magic: %w", err)
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return st, fmt.Errorf("commit bayes expiry: %w", err)
	}
	s.magic.clear() // before the deferred drop of the tokens
	st.Kept, st.Deleted, st.Hapaxes, st.LowFreq, st.Delta = kept, deleted, hapaxes, lowFreq, delta
	return st, nil
}

// writeMagic stores m as sc's magic, synced.
func (s *Store) writeMagic(sc Scope, m Magic) error {
	if err := s.db.Set(magicKey(sc), encodeMagic(m), pebble.Sync); err != nil {
		return fmt.Errorf("write bayes magic: %w", err)
	}
	return nil
}
