package corpus

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// A RuleFreq is how often one rule hit the ham and the spam of a
// mass-check, as SpamAssassin's hit-frequencies reports it.
type RuleFreq struct {
	Rule        string
	Ham, Spam   int     // messages of each class the rule hit
	HamPct      float64 // 100·Ham / ham messages
	SpamPct     float64 // 100·Spam / spam messages
	SO          float64 // SpamPct / (SpamPct + HamPct): 1 only spam, 0 only ham
	Score       float64 // the rule's score (see Freqs)
	HasScore    bool
	HamN, SpamN int // class sizes, for the report
}

// Freqs counts every rule's hits per class over scored (rules named in
// no message are left out, unless they are keys of scores, which gives
// each rule's score). The result is ordered by S/O, highest first, then
// by hits, then by name.
func Freqs(scored []Scored, scores map[string]float64) []RuleFreq {
	var nHam, nSpam int
	hits := map[string]*RuleFreq{}
	get := func(name string) *RuleFreq {
		f := hits[name]
		if f == nil {
			f = &RuleFreq{Rule: name}
			hits[name] = f
		}
		return f
	}
	for name := range scores {
		get(name)
	}
	for _, s := range scored {
		switch s.Label {
		case Ham:
			nHam++
		case Spam:
			nSpam++
		}
		for _, t := range s.Tests {
			f := get(t)
			if s.Label == Spam {
				f.Spam++
			} else {
				f.Ham++
			}
		}
	}
	out := make([]RuleFreq, 0, len(hits))
	for _, f := range hits {
		f.HamN, f.SpamN = nHam, nSpam
		if nHam > 0 {
			f.HamPct = 100 * float64(f.Ham) / float64(nHam)
		}
		if nSpam > 0 {
			f.SpamPct = 100 * float64(f.Spam) / float64(nSpam)
		}
		f.SO = math.NaN()
		if f.HamPct+f.SpamPct > 0 {
			f.SO = f.SpamPct / (f.SpamPct + f.HamPct)
		}
		f.Score, f.HasScore = scores[f.Rule]
		out = append(out, *f)
	}
	so := func(f RuleFreq) float64 {
		if math.IsNaN(f.SO) {
			return -1
		}
		return f.SO
	}
	slices.SortFunc(out, func(a, b RuleFreq) int {
		return cmp.Or(cmp.Compare(so(b), so(a)), cmp.Compare(b.Ham+b.Spam, a.Ham+a.Spam), strings.Compare(a.Rule, b.Rule))
	})
	return out
}

// WriteFreqs writes freqs as a table in the columns of SpamAssassin's
// hit-frequencies: the share of all messages, of spam and of ham each
// rule hit, S/O and score.
func WriteFreqs(w io.Writer, freqs []RuleFreq) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%8s %8s %8s %6s %7s %6s %6s  %s\n", "OVERALL%", "SPAM%", "HAM%", "S/O", "SCORE", "SPAM", "HAM", "NAME")
	for _, f := range freqs {
		overall := 0.0
		if n := f.HamN + f.SpamN; n > 0 {
			overall = 100 * float64(f.Ham+f.Spam) / float64(n)
		}
		so := "   -  "
		if !math.IsNaN(f.SO) {
			so = fmt.Sprintf("%6.3f", f.SO)
		}
		score := "      -"
		if f.HasScore {
			score = fmt.Sprintf("%7.3f", f.Score)
		}
		fmt.Fprintf(&b, "%8.3f %8.3f %8.3f %s %s %6d %6d  %s\n", overall, f.SpamPct, f.HamPct, so, score, f.Spam, f.Ham, f.Rule)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write rule frequencies: %w", err)
	}
	return nil
}
