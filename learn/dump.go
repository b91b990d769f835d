package learn

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// DumpReader is the read side of the store that dumps need.
type DumpReader interface {
	Magic(ctx context.Context, sc classifier.Scope) (classifier.Magic, error)
	ForEachToken(ctx context.Context, sc classifier.Scope, fn func(tokenizer.Key, classifier.Counts) error) error
}

// dumpLine is sa-learn --dump's printf layout: probability, spam count,
// ham count, atime, then two spaces and the label.
const dumpLine = "%3.3f %10d %10d %10d  %s\n"

// DumpMagic writes the "non-token data" lines of sa-learn --dump magic,
// in sa-learn's order and layout.
func DumpMagic(w io.Writer, m classifier.Magic) error {
	rows := []struct {
		v     int64
		label string
	}{
		{m.DBVersion, "bayes db version"},
		{m.NSpam, "nspam"},
		{m.NHam, "nham"},
		{m.NTokens, "ntokens"},
		{m.OldestAtime, "oldest atime"},
		{m.NewestAtime, "newest atime"},
		{m.LastJournalSync, "last journal sync atime"},
		{m.LastExpire, "last expiry atime"},
		{m.LastExpireDelta, "last expire atime delta"},
		{m.LastExpireReduce, "last expire reduction count"},
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, dumpLine, 0.0, 0, r.v, 0, "non-token data: "+r.label); err != nil {
			return fmt.Errorf("write magic dump: %w", err)
		}
	}
	return nil
}

// DumpData writes one sa-learn --dump data line per token: its Robinson
// probability (0.500 when it cannot be computed), counts, atime and hex
// key. With re non-nil only tokens whose hex key matches are written.
func DumpData(ctx context.Context, w io.Writer, r DumpReader, sc classifier.Scope, p classifier.Params, re *regexp.Regexp) error {
	m, err := r.Magic(ctx, sc)
	if err != nil {
		return fmt.Errorf("dump data: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	err = r.ForEachToken(ctx, sc, func(k tokenizer.Key, c classifier.Counts) error {
		hex := k.String()
		if re != nil && !re.MatchString(hex) {
			return nil
		}
		prob, ok := classifier.TokenProbability(c, m.NSpam, m.NHam, p)
		if !ok || prob == 0 {
			prob = 0.5
		}
		_, err := fmt.Fprintf(bw, dumpLine, prob, c.Spam, c.Ham, c.Atime, hex)
		return err
	})
	if err != nil {
		return fmt.Errorf("dump data: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dump data: %w", err)
	}
	return nil
}
