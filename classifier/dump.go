package classifier

import (
	"fmt"
	"io"

	"github.com/gospamd/gospamd/tokenizer"
)

// dumpLine is sa-learn --dump's printf layout (two spaces before the
// label).
const dumpLine = "%3.3f %10d %10d %10d  %s\n"

// FormatMagic writes m as sa-learn --dump magic prints it: one
// "non-token data" line per counter, in sa-learn's order.
func FormatMagic(w io.Writer, m Magic) error {
	lines := []struct {
		value int64
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
	for _, l := range lines {
		if _, err := fmt.Fprintf(w, dumpLine, 0.0, 0, l.value, 0, "non-token data: "+l.label); err != nil {
			return fmt.Errorf("write bayes magic dump: %w", err)
		}
	}
	return nil
}

// FormatToken writes one sa-learn --dump data line: probability, spam
// and ham counts, atime and the key in hex.
func FormatToken(w io.Writer, k tokenizer.Key, c Counts, prob float64) error {
	if _, err := fmt.Fprintf(w, dumpLine, prob, c.Spam, c.Ham, c.Atime, k.String()); err != nil {
		return fmt.Errorf("write bayes token dump: %w", err)
	}
	return nil
}

// DumpProbability is the probability sa-learn --dump data prints for a
// token: f(w), or 0.5 when it cannot be computed.
func DumpProbability(c Counts, nspam, nham int64, p Params) float64 {
	f, ok := TokenProbability(c, nspam, nham, p)
	if !ok || f == 0 {
		return 0.5
	}
	return f
}
