package redisstore

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// Apply learns and forgets ops, in order, each atomically on the server
// (one script run per op), in pipelines of at most maxPipelineTokens
// tokens (one round trip each; a batch of a few messages is one), and returns
// what each op did; the results are classifier.Store.Apply's.
//
// An error may leave some of the ops applied: the seen index makes a
// retry of those AlreadyLearned (or NotLearned for a forget), never a
// second count.
func (s *Store) Apply(ctx context.Context, ops []classifier.Op) ([]classifier.Result, error) {
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	for i := range ops {
		if err := classifier.ValidateOp(&ops[i]); err != nil {
			return nil, fmt.Errorf("bayes op %d: %w", i, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	keys := make([][]string, len(ops))
	args := make([][]any, len(ops))
	for i := range ops {
		keys[i], args[i] = s.opCall(&ops[i])
	}
	results := make([]classifier.Result, len(ops))
	for first := 0; first < len(ops); {
		last, tokens := first+1, len(ops[first].Tokens)
		for last < len(ops) && tokens+len(ops[last].Tokens) <= maxPipelineTokens {
			tokens += len(ops[last].Tokens)
			last++
		}
		if err := s.applyPipeline(ctx, keys, args, first, last, results); err != nil {
			return nil, err
		}
		first = last
	}
	s.metrics.ObserveCommit(len(ops), time.Since(start))
	return results, nil
}

// maxPipelineTokens bounds the tokens of the ops one pipeline carries:
// the server runs all of a pipeline's scripts before its last reply, and
// reading the replies must fit in one LearnTimeout, while a corpus
// learn commits batches of a hundred messages and more (a hundred
// thousand tokens), on a server that may fsync every write.
const maxPipelineTokens = 8192

// applyPipeline runs the learn scripts of ops first to last (keys and
// args by op) as one pipeline and puts what they did in results.
func (s *Store) applyPipeline(ctx context.Context, keys [][]string, args [][]any, first, last int, results []classifier.Result) error {
	pending := make([]int, 0, last-first)
	for i := first; i < last; i++ {
		pending = append(pending, i)
	}
	// Twice at most: a server restarted since the script was loaded
	// answers NOSCRIPT (and runs nothing) until it is loaded again.
	for attempt := 0; len(pending) > 0; attempt++ {
		var cmds []*redis.Cmd
		err := s.call(ctx, "learn", func(ctx context.Context) error {
			cmds = make([]*redis.Cmd, len(pending))
			_, err := s.learner.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for j, i := range pending {
					cmds[j] = s.learnScript.EvalSha(ctx, pipe, keys[i], args[i]...)
				}
				return nil
			})
			if err != nil && !isNoScript(err) {
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("commit bayes learn batch: %w", err)
		}
		var again []int
		for j, i := range pending {
			n, err := cmds[j].Int()
			switch {
			case err == nil && n >= int(classifier.Learned) && n <= int(classifier.NotLearned):
				results[i] = classifier.Result(n)
			case err == nil:
				return fmt.Errorf("redis bayes learn: unknown result %d", n)
			case isNoScript(err) && attempt == 0:
				again = append(again, i)
			default:
				return fmt.Errorf("redis bayes learn: %w", err)
			}
		}
		if len(again) > 0 {
			if err := s.call(ctx, "load script", func(ctx context.Context) error {
				return s.learnScript.Load(ctx, s.client).Err()
			}); err != nil {
				return err
			}
		}
		pending = again
	}
	return nil
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// opCall is the learn script's KEYS and ARGV for op, with its tokens
// made distinct.
func (s *Store) opCall(op *classifier.Op) ([]string, []any) {
	p := prefix(op.Scope)
	keys := make([]string, 6, 6+len(op.Tokens))
	id := op.MsgID
	if id == "" {
		id = op.AltMsgID
	}
	keys[0] = p + "s:" + id
	keys[1] = keys[0]
	if op.AltMsgID != "" {
		keys[1] = p + "s:" + op.AltMsgID
	}
	keys[2], keys[3], keys[4], keys[5] = p+"v:NSPAM", p+"v:NHAM", p+"v:DB_VERSION", p+"v:TOKEN_FORMAT"
	distinct := make(map[tokenizer.Key]struct{}, len(op.Tokens))
	for _, k := range op.Tokens {
		if _, dup := distinct[k]; dup {
			continue
		}
		distinct[k] = struct{}{}
		keys = append(keys, tokenKey(p, k))
	}
	mode := "l"
	if op.Forget {
		mode = "f"
	}
	class := string(rune(op.Class))
	if op.Forget {
		class = "-"
	}
	noRelearn := "0"
	if op.NoRelearn {
		noRelearn = "1"
	}
	return keys, []any{mode, class, noRelearn, s.tokenTTL, s.seenTTL}
}

// Touch renews the TTL of keys' tokens, as SpamAssassin does for the
// tokens a scan used (tok_touch_all); Redis keeps no atime, so atime is
// not stored. Without a token TTL it does nothing.
func (s *Store) Touch(ctx context.Context, sc classifier.Scope, keys []tokenizer.Key, atime int64) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if err := validScope(sc); err != nil {
		return err
	}
	if s.tokenTTL == 0 || len(keys) == 0 {
		return nil
	}
	p := prefix(sc)
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = tokenKey(p, k)
	}
	return s.expireKeys(ctx, "touch", rkeys)
}

// Backup writes scope sc in sa-learn --backup's format (see
// classifier.WriteBackup). It is not a snapshot: learns running
// meanwhile may or may not be in it.
func (s *Store) Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	if err := validScope(sc); err != nil {
		return err
	}
	return classifier.WriteBackup(ctx, w, s, sc)
}

// Restore replaces all data of scope sc with the backup read from r,
// read and corrected as classifier.ReadBackup says. Tokens get the token
// TTL, seen entries the seen TTL, each stretched by a random 70–170% as
// SpamAssassin's restore does, so that a restored database does not
// expire all at once. Unlike the Pebble store's, a restore is not
// atomic: an error in the middle leaves part of the backup written (run
// it again).
func (s *Store) Restore(ctx context.Context, sc classifier.Scope, r io.Reader) (classifier.RestoreStats, error) {
	if err := s.checkWritable(); err != nil {
		return classifier.RestoreStats{}, err
	}
	if err := validScope(sc); err != nil {
		return classifier.RestoreStats{}, err
	}
	b, err := classifier.ReadBackup(ctx, r, time.Now().Unix())
	if err != nil {
		return classifier.RestoreStats{}, err
	}
	if err := s.Clear(ctx, sc); err != nil {
		return classifier.RestoreStats{}, err
	}
	p := prefix(sc)
	jitter := func(ttl int64) time.Duration {
		return time.Duration(float64(ttl)*(rand.Float64()+0.7)) * time.Second
	}
	ids := b.SeenIDs()
	const chunk = 1000
	for start := 0; start < len(b.Tokens) || start < len(ids); start += chunk {
		err := s.call(ctx, "restore", func(ctx context.Context) error {
			_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for _, t := range b.Tokens[min(start, len(b.Tokens)):min(start+chunk, len(b.Tokens))] {
					key := tokenKey(p, t.Key)
					var fields []any
					if t.Counts.Spam > 0 {
						fields = append(fields, "s", t.Counts.Spam)
					}
					if t.Counts.Ham > 0 {
						fields = append(fields, "h", t.Counts.Ham)
					}
					pipe.HSet(ctx, key, fields...)
					if s.tokenTTL > 0 {
						pipe.Expire(ctx, key, jitter(s.tokenTTL))
					}
				}
				for _, id := range ids[min(start, len(ids)):min(start+chunk, len(ids))] {
					var ttl time.Duration
					if s.seenTTL > 0 {
						ttl = jitter(s.seenTTL)
					}
					pipe.Set(ctx, p+"s:"+id, string(rune(b.Seen[id])), ttl)
				}
				return nil
			})
			return err
		})
		if err != nil {
			return classifier.RestoreStats{}, fmt.Errorf("restore bayes backup: %w", err)
		}
	}
	// The counters last: a restore cut short leaves no message counts
	// claiming tokens that are not there.
	err = s.call(ctx, "restore", func(ctx context.Context) error {
		return s.client.MSet(ctx, p+"v:DB_VERSION", strconv.Itoa(classifier.DBVersion), p+"v:TOKEN_FORMAT", "2",
			p+"v:NSPAM", b.Magic.NSpam, p+"v:NHAM", b.Magic.NHam).Err()
	})
	if err != nil {
		return classifier.RestoreStats{}, fmt.Errorf("restore bayes counters: %w", err)
	}
	return b.Stats, nil
}

// Clear deletes every token, seen entry and variable of scope sc (for
// the global scope, every key of SpamAssassin's layout in the database,
// which SpamAssassin's own --clear leaves to redis-cli FLUSHDB). It is
// not atomic: learns running meanwhile may survive it.
func (s *Store) Clear(ctx context.Context, sc classifier.Scope) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if err := validScope(sc); err != nil {
		return err
	}
	p := globEscape(prefix(sc))
	// The variables first: a database without them is empty to a
	// reader even while its tokens are being deleted.
	for _, pattern := range []string{p + "v:*", p + "w:*", p + "s:*"} {
		keys, err := s.scanKeys(ctx, "clear", pattern)
		if err != nil {
			return err
		}
		for start := 0; start < len(keys); start += scanBatch {
			chunk := keys[start:min(start+scanBatch, len(keys))]
			if err := s.call(ctx, "clear", func(ctx context.Context) error {
				return s.client.Unlink(ctx, chunk...).Err()
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Expire does nothing: Redis expires tokens and seen entries by their
// TTLs (bayes_token_ttl, bayes_seen_ttl), as SpamAssassin's Redis store
// leaves it to the server.
func (s *Store) Expire(ctx context.Context, sc classifier.Scope, opt classifier.ExpireOptions) (classifier.ExpireStats, error) {
	if err := s.checkWritable(); err != nil {
		return classifier.ExpireStats{}, err
	}
	return classifier.ExpireStats{Skipped: "Redis expires tokens by their TTL (bayes_token_ttl)"}, nil
}

var _ classifier.Backend = (*Store)(nil)
var _ classifier.MagicLookuper = (*Store)(nil)
