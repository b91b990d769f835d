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

// DumpMagic writes the "non-token data" lines of sa-learn --dump magic.
func DumpMagic(ctx context.Context, w io.Writer, r DumpReader, sc classifier.Scope) error {
	m, err := r.Magic(ctx, sc)
	if err != nil {
		return fmt.Errorf("dump magic: %w", err)
	}
	return classifier.FormatMagic(w, m)
}

// DumpData writes one sa-learn --dump data line per token: its Robinson
// probability (0.500 when it cannot be computed), counts, atime and hex
// key. With re non-nil only tokens whose hex key matches are written
// (sa-learn matches the raw token bytes, which a hex form makes usable).
func DumpData(ctx context.Context, w io.Writer, r DumpReader, sc classifier.Scope, p classifier.Params, re *regexp.Regexp) error {
	m, err := r.Magic(ctx, sc)
	if err != nil {
		return fmt.Errorf("dump data: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	err = r.ForEachToken(ctx, sc, func(k tokenizer.Key, c classifier.Counts) error {
		if re != nil && !re.MatchString(k.String()) {
			return nil
		}
		return classifier.FormatToken(bw, k, c, classifier.DumpProbability(c, m.NSpam, m.NHam, p))
	})
	if err != nil {
		return fmt.Errorf("dump data: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dump data: %w", err)
	}
	return nil
}
