package classifier

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gospamd/gospamd/tokenizer"
)

// Backup writes scope sc in sa-learn --backup's text format, from one
// consistent snapshot: see WriteBackup.
func (s *Store) Backup(ctx context.Context, sc Scope, w io.Writer) error {
	if err := validScope(sc); err != nil {
		return err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	return WriteBackup(ctx, w, snapshotReader{snap}, sc)
}

// snapshotReader reads one Pebble snapshot as a BackupSource.
type snapshotReader struct{ r pebble.Reader }

func (s snapshotReader) Magic(ctx context.Context, sc Scope) (Magic, error) {
	return readMagic(s.r, sc)
}

func (s snapshotReader) ForEachToken(ctx context.Context, sc Scope, fn func(tokenizer.Key, Counts) error) error {
	return forEachToken(ctx, s.r, sc, fn)
}

func (s snapshotReader) ForEachSeen(ctx context.Context, sc Scope, fn func(string, Class) error) error {
	return forEachSeen(ctx, s.r, sc, fn)
}

// A BackupSource is what WriteBackup reads.
type BackupSource interface {
	Magic(ctx context.Context, sc Scope) (Magic, error)
	ForEachToken(ctx context.Context, sc Scope, fn func(tokenizer.Key, Counts) error) error
	ForEachSeen(ctx context.Context, sc Scope, fn func(msgid string, c Class) error) error
}

// WriteBackup writes scope sc of src in sa-learn --backup's text format:
// the version line, num_spam, num_nonspam, one
// "t\tspam\tham\tatime\thex" line per token and one "s\tclass\tmsgid"
// line per seen entry, tab-separated.
func WriteBackup(ctx context.Context, w io.Writer, src BackupSource, sc Scope) error {
	m, err := src.Magic(ctx, sc)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "v\t%d\tdb_version # this must be the first line!!!\n", DBVersion)
	fmt.Fprintf(bw, "v\t%d\tnum_spam\n", m.NSpam)
	fmt.Fprintf(bw, "v\t%d\tnum_nonspam\n", m.NHam)
	var line []byte
	err = src.ForEachToken(ctx, sc, func(k tokenizer.Key, c Counts) error {
		line = append(line[:0], "t\t"...)
		line = strconv.AppendUint(line, uint64(c.Spam), 10)
		line = append(line, '\t')
		line = strconv.AppendUint(line, uint64(c.Ham), 10)
		line = append(line, '\t')
		line = strconv.AppendInt(line, c.Atime, 10)
		line = append(line, '\t')
		line = hex.AppendEncode(line, k[:])
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return fmt.Errorf("back up bayes tokens: %w", err)
	}
	err = src.ForEachSeen(ctx, sc, func(msgid string, c Class) error {
		_, err := fmt.Fprintf(bw, "s\t%c\t%s\n", c, msgid)
		return err
	})
	if err != nil {
		return fmt.Errorf("back up bayes seen index: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write bayes backup: %w", err)
	}
	return nil
}

// RestoreStats says what Restore read.
type RestoreStats struct {
	Version     int   // backup format version, 2 or 3
	NSpam, NHam int64 // from the num_spam and num_nonspam lines
	Tokens      int64 // distinct tokens stored
	Seen        int64 // seen entries stored
	Skipped     int64 // lines ignored: 0/0 tokens, bad tokens, bad seen lines, unknown lines
	Clamped     int64 // tokens with a negative count or a future atime, corrected
}

var versionLine = regexp.MustCompile(`^v\s+(\d+)\s+db_version`)

// A ParsedBackup is an sa-learn --backup file read into memory, checked
// and corrected as sa-learn --restore corrects it: what every backend's
// Restore writes.
type ParsedBackup struct {
	Stats RestoreStats
	// Magic is the scope's counters after the restore: NSPAM and NHAM
	// from the file, NTOKENS and the oldest and newest atime from the
	// tokens, the expiry and journal counters reset.
	Magic Magic
	// Tokens in key order, one per key (a token listed twice keeps its
	// last line, as a hash assignment would).
	Tokens []BackupToken
	// Seen maps message ids to classes.
	Seen map[string]Class
}

// A BackupToken is one token line of a backup.
type BackupToken struct {
	Key    tokenizer.Key
	Counts Counts
}

// ReadBackup reads and checks a backup in sa-learn --backup's format.
// Like sa-learn --restore it needs the version line first (version 2,
// whose tokens are the raw strings and are hashed, or 3, hex keys),
// skips tokens with no counts, clamps negative counts to 0 and future
// atimes to now. Beyond sa-learn, negative atimes become 0, token counts
// over 2^32-1 are held at 2^32-1 and message counts past 2^63-1 at
// 2^63-1.
func ReadBackup(ctx context.Context, r io.Reader, now int64) (*ParsedBackup, error) {
	var st RestoreStats
	var (
		tokens            []BackupToken
		seen              = map[string]Class{}
		haveSpam, haveHam bool
	)
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	if !scanner.Scan() {
		if err := scanner.Err(); err != nil {
			return nil, fmt.Errorf("read bayes backup: %w", err)
		}
		return nil, errors.New("bayes backup is empty")
	}
	first := strings.TrimRight(scanner.Text(), "\r")
	match := versionLine.FindStringSubmatch(first)
	if match == nil {
		return nil, errors.New("bayes backup: the database version must be the first line")
	}
	st.Version, _ = strconv.Atoi(match[1])
	if st.Version != 2 && st.Version != 3 {
		return nil, fmt.Errorf("bayes backup: database version %s is unsupported, must be 2 or 3", match[1])
	}
	for lineNo := 2; scanner.Scan(); lineNo++ {
		if lineNo%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := strings.TrimRight(scanner.Text(), "\r")
		if len(line) < 2 || !isSpace(line[1]) {
			st.Skipped++
			continue
		}
		kind, rest := line[:1], strings.TrimLeft(line[1:], " \t\f\v")
		switch kind {
		case "v":
			f := splitFields(rest, 2)
			if len(f) < 2 {
				st.Skipped++
				continue
			}
			switch f[1] {
			case "num_spam":
				st.NSpam, haveSpam = max(perlInt(f[0]), 0), true
			case "num_nonspam":
				st.NHam, haveHam = max(perlInt(f[0]), 0), true
			default:
				st.Skipped++
			}
		case "t":
			f := splitFields(rest, 4)
			if len(f) < 4 {
				st.Skipped++
				continue
			}
			spam, ham, atime := perlInt(f[0]), perlInt(f[1]), perlInt(f[2])
			clamped := false
			if spam < 0 {
				spam, clamped = 0, true
			}
			if ham < 0 {
				ham, clamped = 0, true
			}
			if spam == 0 && ham == 0 {
				st.Skipped++
				continue
			}
			switch {
			case atime > now:
				atime, clamped = now, true
			case atime < 0: // so that no age (newest minus atime) overflows
				atime, clamped = 0, true
			}
			var key tokenizer.Key
			if st.Version < 3 {
				key = tokenizer.KeyOf(f[3])
			} else if k, ok := tokenizer.ParseKey(strings.ToLower(f[3])); ok {
				key = k
			} else {
				st.Skipped++
				continue
			}
			if clamped {
				st.Clamped++
			}
			tokens = append(tokens, BackupToken{key, Counts{Spam: clampUint32(uint64(spam)), Ham: clampUint32(uint64(ham)), Atime: atime}})
		case "s":
			f := splitFields(rest, 2)
			if len(f) < 2 || (f[0] != "s" && f[0] != "h") || f[1] == "" || strings.IndexByte(f[1], 0) >= 0 {
				st.Skipped++
				continue
			}
			seen[f[1]] = Class(f[0][0])
		default:
			st.Skipped++
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read bayes backup: %w", err)
	}
	if !haveSpam || !haveHam {
		return nil, errors.New("bayes backup: num_spam or num_nonspam line missing")
	}

	// A token listed twice keeps its last line, as a hash assignment would.
	slices.SortStableFunc(tokens, func(a, b BackupToken) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	deduped := tokens[:0]
	for i, t := range tokens {
		if i+1 < len(tokens) && tokens[i+1].Key == t.Key {
			continue
		}
		deduped = append(deduped, t)
	}
	tokens = deduped

	m := emptyMagic()
	m.NSpam, m.NHam = st.NSpam, st.NHam
	m.NTokens = int64(len(tokens))
	m.OldestAtime = now + 100000 // sa-learn's value when there are no tokens
	for _, t := range tokens {
		m.NewestAtime = max(m.NewestAtime, t.Counts.Atime)
		m.OldestAtime = min(m.OldestAtime, t.Counts.Atime)
	}
	st.Tokens = int64(len(tokens))
	st.Seen = int64(len(seen))
	return &ParsedBackup{Stats: st, Magic: m, Tokens: tokens, Seen: seen}, nil
}

// SeenIDs returns the backup's seen message ids in order.
func (b *ParsedBackup) SeenIDs() []string {
	ids := make([]string, 0, len(b.Seen))
	for id := range b.Seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Restore replaces all data of scope sc with the backup read from r, in
// one synced batch: on error the scope is unchanged. The backup is read
// and corrected as ReadBackup says, and the expiry and journal counters
// are reset; learning on top of saturated counts saturates too, never
// wraps. Restore is a write: see Store's concurrency contract.
func (s *Store) Restore(ctx context.Context, sc Scope, r io.Reader) (RestoreStats, error) {
	if err := s.checkWritable(); err != nil {
		return RestoreStats{}, err
	}
	if err := validScope(sc); err != nil {
		return RestoreStats{}, err
	}
	b, err := ReadBackup(ctx, r, time.Now().Unix())
	if err != nil {
		return RestoreStats{}, err
	}
	ids := b.SeenIDs()
	err = s.rewriteScope(sc, "restore", func(batch *pebble.Batch) error {
		if err := batch.Set(magicKey(sc), encodeMagic(b.Magic), nil); err != nil {
			return fmt.Errorf("write bayes magic: %w", err)
		}
		var key, val []byte
		for _, t := range b.Tokens {
			key = appendTokenKey(key[:0], sc, t.Key)
			val = encodeCounts(val[:0], t.Counts)
			if err := batch.Set(key, val, nil); err != nil {
				return fmt.Errorf("write bayes token: %w", err)
			}
		}
		for _, id := range ids {
			if err := batch.Set(seenKey(sc, id), []byte{byte(b.Seen[id])}, nil); err != nil {
				return fmt.Errorf("write bayes seen entry: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return RestoreStats{}, err
	}
	return b.Stats, nil
}

// Clear deletes every token, seen entry and counter of scope sc, in one
// synced batch. Clear is a write: see Store's concurrency contract.
func (s *Store) Clear(ctx context.Context, sc Scope) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	if err := validScope(sc); err != nil {
		return err
	}
	return s.rewriteScope(sc, "clear", nil)
}

// rewriteScope replaces everything scope sc holds with what fill writes
// (nothing when fill is nil) in one synced batch, under the write lock.
func (s *Store) rewriteScope(sc Scope, what string, fill func(*pebble.Batch) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.clearMagicAfterWrite()
	// Rewritten wholesale: scans read from the store until it is reloaded.
	s.cache.dropScope(sc)
	defer s.cache.dropScope(sc)
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := deleteScope(batch, sc); err != nil {
		return err
	}
	if fill != nil {
		if err := fill(batch); err != nil {
			return err
		}
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit bayes %s: %w", what, err)
	}
	s.magic.clear() // before the deferred drop of the tokens
	return nil
}

// deleteScope adds the deletion of all of sc's keys to b.
func deleteScope(b *pebble.Batch, sc Scope) error {
	if err := b.Delete(magicKey(sc), nil); err != nil {
		return fmt.Errorf("delete bayes magic: %w", err)
	}
	for _, kind := range []byte{kindToken, kindSeen} {
		p := scopePrefix(kind, sc)
		if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			return fmt.Errorf("delete bayes scope %q: %w", sc, err)
		}
	}
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\n' || c == '\r'
}

// splitFields splits s at whitespace runs into at most n fields, the last
// one taking the rest of s (Perl's split /\s+/ with a limit).
func splitFields(s string, n int) []string {
	var f []string
	for len(f) < n-1 {
		i := strings.IndexFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
		if i < 0 {
			break
		}
		f = append(f, s[:i])
		s = strings.TrimLeft(s[i:], " \t\f\v\n\r")
	}
	return append(f, s)
}

// perlInt converts the leading integer of s as Perl's numeric context
// would (ignoring any fraction): "12" → 12, "-3x" → -3, "x" → 0.
func perlInt(s string) int64 {
	s = strings.TrimLeft(s, " \t")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0
	}
	v, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		if s[0] == '-' {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return v
}
