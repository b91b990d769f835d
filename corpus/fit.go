package corpus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A FitRule is one rule offered to the score fitter.
type FitRule struct {
	Name string
	// Fixed keeps Score as given instead of fitting it (the BAYES_xx
	// rules and GTUBE).
	Fixed bool
	// Score is the fixed score; unused when the rule is fitted.
	Score float64
	// Nice rules (tflags nice) may only take scores ≤ 0; every other
	// fitted rule only scores ≥ 0, so that no spam sign ever lowers a
	// total.
	Nice bool
	// Bounded replaces the sign's interval with [Lo, Hi], and makes
	// Score (kept within it) the prior the fit is pulled towards: the
	// BAYES_xx bands are fitted around SpamAssassin's scores, and the
	// undecided band (BAYES_50) kept near 0.
	Bounded bool
	Lo, Hi  float64
	// Chain names a group of rules whose fitted scores never decrease
	// in the order of their Rank: a higher Bayes band never scores
	// less than a lower one. "" for none.
	Chain string
	Rank  float64
}

// FitOptions tune FitScores. The zero value of a field means its
// default.
type FitOptions struct {
	// Threshold is the required_score the scores are fitted for (5).
	Threshold float64
	// HamWeight is how much more a ham message's loss counts than a
	// spam message's (10): false positives are minimised first. With
	// the logistic loss, 10 already keeps held-out false positives
	// near 0.1%; higher weights trade many false negatives for few.
	HamWeight float64
	// L2 is the strength of the pull of every fitted score towards its
	// prior, in units of one spam message's loss (0.5).
	L2 float64
	// Prior is where a fitted score sits without evidence (0.5; -0.5
	// for nice rules), so that a rule the corpus never exercises keeps
	// a small, safe score instead of being switched off.
	Prior float64
	// MaxScore bounds the magnitude of every fitted score (5).
	MaxScore float64
	// Temperature is the width, in score points, of the logistic
	// loss around the threshold (1).
	Temperature float64
	// Iterations of projected Adam gradient descent (2000).
	Iterations int
	// Folds of the cross-validation that estimates the fitted scores'
	// error on unseen mail (10; 0 means the default, 1 skips it).
	Folds int
	// Seed fixes the fold split.
	Seed int64
	// MinHits is the support a rule needs to be fitted: a rule hit by
	// fewer of the training messages keeps its prior score, since a
	// handful of hits tells more about those messages than about the
	// rule (0: every rule is fitted).
	MinHits int
	// NoEvidenceCap lifts the cap on a fitted rule's score at the log
	// of its own spam-to-ham hit-rate ratio (see hitMatrix.fit).
	NoEvidenceCap bool
}

func (o FitOptions) withDefaults() FitOptions {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Threshold, 5)
	def(&o.HamWeight, 10)
	def(&o.L2, 0.5)
	def(&o.Prior, 0.5)
	def(&o.MaxScore, 5)
	def(&o.Temperature, 1)
	if o.Iterations == 0 {
		o.Iterations = 2000
	}
	if o.Folds == 0 {
		o.Folds = 10
	}
	return o
}

// A FitResult holds fitted scores and how well they do.
type FitResult struct {
	// Scores are the fitted scores (fixed rules included, as given),
	// rounded to 3 decimals.
	Scores map[string]float64
	// CV summarises the held-out totals of the cross-validation: each
	// fold scored with scores fitted on the other folds. Zero when
	// Folds is 1.
	CV Summary
	// Train summarises the corpus scored with Scores.
	Train Summary
}

// FitScores fits one score per non-fixed rule to the rule hits of a
// labelled mass-check, for SpamAssassin's rule: a message is spam when
// its total reaches the threshold.
//
// # Method
//
// It minimises a class-weighted logistic loss of (total − threshold) /
// temperature, ham weighted HamWeight times spam so that false
// positives are avoided first and false negatives second, plus an L2
// pull towards the prior; scores are kept within their sign and
// ±MaxScore (or a Bounded rule's interval), under the rule's own
// evidence (see hitMatrix.fit), and in Rank order along each Chain, by
// projection after each Adam step. There is no intercept:
// the threshold is SpamAssassin's, and the fixed rules (Bayes) give the
// scale. Tests named in a message but missing from rules count for
// nothing. The error estimate is k-fold cross-validation over the
// messages; the hits themselves should come from a cross-validated
// mass-check, so that Bayes never saw the message it scored.
func FitScores(ctx context.Context, scored []Scored, rules []FitRule, opt FitOptions) (*FitResult, error) {
	opt = opt.withDefaults()
	if len(scored) == 0 {
		return nil, errors.New("fit scores: no messages")
	}
	m := newHitMatrix(scored, rules)
	all := make([]int, len(scored))
	for i := range all {
		all[i] = i
	}
	res := &FitResult{}
	if opt.Folds > 1 {
		labels := make([]Label, len(scored))
		for i, s := range scored {
			labels[i] = s.Label
		}
		held := make([]Scored, 0, len(scored))
		for _, fold := range StratifiedFolds(labels, opt.Folds, opt.Seed) {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("fit scores: %w", err)
			}
			test := map[int]bool{}
			for _, i := range fold {
				test[i] = true
			}
			var train []int
			for _, i := range all {
				if !test[i] {
					train = append(train, i)
				}
			}
			w := m.fit(train, opt)
			for _, i := range fold {
				s := scored[i]
				s.Score = m.total(i, w)
				held = append(held, s)
			}
		}
		res.CV = Summarize(held, opt.Threshold, ScoreValue)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fit scores: %w", err)
	}
	w := m.fit(all, opt)
	res.Scores = make(map[string]float64, len(rules))
	for j, r := range m.rules {
		if r.Fixed {
			res.Scores[r.Name] = r.Score
		} else {
			res.Scores[r.Name] = math.Round(w[j]*1000) / 1000
		}
	}
	rescored := make([]Scored, len(scored))
	for i, s := range scored {
		s.Score = 0
		for _, j := range m.hits[i] {
			s.Score += res.Scores[m.rules[j].Name]
		}
		rescored[i] = s
	}
	res.Train = Summarize(rescored, opt.Threshold, ScoreValue)
	return res, nil
}

// hitMatrix is the sparse message × rule hit matrix of a mass-check.
type hitMatrix struct {
	rules []FitRule
	hits  [][]int // per message, the indices of the rules it hit
	spam  []bool
}

func newHitMatrix(scored []Scored, rules []FitRule) *hitMatrix {
	m := &hitMatrix{rules: rules, hits: make([][]int, len(scored)), spam: make([]bool, len(scored))}
	index := make(map[string]int, len(rules))
	for j, r := range rules {
		index[r.Name] = j
	}
	for i, s := range scored {
		m.spam[i] = s.Label == Spam
		for _, t := range s.Tests {
			if j, ok := index[t]; ok {
				m.hits[i] = append(m.hits[i], j)
			}
		}
	}
	return m
}

// total is message i's score under w.
func (m *hitMatrix) total(i int, w []float64) float64 {
	var s float64
	for _, j := range m.hits[i] {
		s += w[j]
	}
	return s
}

// bounds returns the interval rule j's score is kept in, and its prior.
func (m *hitMatrix) bounds(j int, opt FitOptions) (lo, hi, prior float64) {
	r := m.rules[j]
	switch {
	case r.Fixed:
		return r.Score, r.Score, r.Score
	case r.Bounded:
		return r.Lo, r.Hi, min(max(r.Score, r.Lo), r.Hi)
	case r.Nice:
		return -opt.MaxScore, 0, -opt.Prior
	}
	return 0, opt.MaxScore, opt.Prior
}

// fit runs projected Adam on the messages idx and returns the scores.
func (m *hitMatrix) fit(idx []int, opt FitOptions) []float64 {
	n := len(m.rules)
	w := make([]float64, n)
	lo, hi, prior := make([]float64, n), make([]float64, n), make([]float64, n)
	for j := range n {
		lo[j], hi[j], prior[j] = m.bounds(j, opt)
		w[j] = prior[j]
	}
	const (
		rate   = 0.05
		beta1  = 0.9
		beta2  = 0.999
		adamEp = 1e-8
	)
	var nspam, nham int
	spamHits, hamHits := make([]int, n), make([]int, n)
	for _, i := range idx {
		hits := hamHits
		if m.spam[i] {
			hits = spamHits
			nspam++
		} else {
			nham++
		}
		for _, j := range m.hits[i] {
			hits[j]++
		}
	}
	for j := range n {
		support := spamHits[j] + hamHits[j]
		if support < opt.MinHits {
			lo[j], hi[j] = prior[j], prior[j]
			w[j] = prior[j]
			continue
		}
		if m.rules[j].Fixed || m.rules[j].Bounded || nspam == 0 || nham == 0 {
			continue
		}
		// A rule never scores more than its own evidence: the log of
		// how much more often it hits spam than ham (Laplace-smoothed
		// hit rates), in the score's units (the loss is logistic in
		// the total). A spam sign hitting as large a share of the ham
		// as of the spam scores 0, and one hitting a few percent of
		// each cannot add up with others of its kind to a false
		// positive; a nice rule likewise the other way round.
		llr := math.Log((float64(spamHits[j]) + 1) / float64(nspam+2) / ((float64(hamHits[j]) + 1) / float64(nham+2)))
		if opt.NoEvidenceCap {
			continue
		}
		if m.rules[j].Nice {
			lo[j] = max(lo[j], min(llr, 0))
		} else {
			hi[j] = min(hi[j], max(llr, 0))
		}
		prior[j] = min(max(prior[j], lo[j]), hi[j])
		w[j] = prior[j]
	}
	chains := m.chains()
	mom, vel, grad := make([]float64, n), make([]float64, n), make([]float64, n)
	for it := 1; it <= opt.Iterations; it++ {
		for j := range grad {
			grad[j] = 2 * opt.L2 * (w[j] - prior[j])
		}
		for _, i := range idx {
			z := (m.total(i, w) - opt.Threshold) / opt.Temperature
			// d/dz of weight·log(1+exp(-y·z)) is -y·weight·σ(-y·z).
			var g float64
			if m.spam[i] {
				g = -sigmoid(-z)
			} else {
				g = opt.HamWeight * sigmoid(z)
			}
			g /= opt.Temperature
			for _, j := range m.hits[i] {
				grad[j] += g
			}
		}
		c1 := 1 - math.Pow(beta1, float64(it))
		c2 := 1 - math.Pow(beta2, float64(it))
		for j := range w {
			if lo[j] == hi[j] {
				continue
			}
			mom[j] = beta1*mom[j] + (1-beta1)*grad[j]
			vel[j] = beta2*vel[j] + (1-beta2)*grad[j]*grad[j]
			w[j] -= rate * (mom[j] / c1) / (math.Sqrt(vel[j]/c2) + adamEp)
			w[j] = min(max(w[j], lo[j]), hi[j])
		}
		for _, c := range chains {
			monotone(w, c)
			for _, j := range c {
				w[j] = min(max(w[j], lo[j]), hi[j])
			}
		}
	}
	return w
}

// chains returns the rule indices of every Chain, each in Rank order.
func (m *hitMatrix) chains() [][]int {
	byName := map[string][]int{}
	var names []string
	for j, r := range m.rules {
		if r.Chain == "" || r.Fixed {
			continue
		}
		if _, ok := byName[r.Chain]; !ok {
			names = append(names, r.Chain)
		}
		byName[r.Chain] = append(byName[r.Chain], j)
	}
	slices.Sort(names)
	out := make([][]int, 0, len(names))
	for _, name := range names {
		c := byName[name]
		slices.SortStableFunc(c, func(a, b int) int { return cmp.Compare(m.rules[a].Rank, m.rules[b].Rank) })
		out = append(out, c)
	}
	return out
}

// monotone replaces w[idx...] by its least-squares non-decreasing fit
// (pool adjacent violators): the projection onto the scores of a
// chain that never decrease. Clamping the result into bounds that
// themselves never decrease along the chain keeps it non-decreasing.
func monotone(w []float64, idx []int) {
	type block struct {
		sum float64
		n   int
	}
	blocks := make([]block, 0, len(idx))
	for _, j := range idx {
		blocks = append(blocks, block{w[j], 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/float64(a.n) <= b.sum/float64(b.n) {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{a.sum + b.sum, a.n + b.n})
		}
	}
	k := 0
	for _, b := range blocks {
		for range b.n {
			w[idx[k]] = b.sum / float64(b.n)
			k++
		}
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// ScoreLine is one rule's scores for the four score sets, as written
// into a generated .cf file.
type ScoreLine struct {
	Rule   string
	Scores [4]float64
}

// WriteScoresCF writes a generated .cf file: the header lines as "# "
// comments, then one "score NAME s0 s1 s2 s3" line per rule, in name
// order.
func WriteScoresCF(w io.Writer, header []string, lines []ScoreLine) error {
	var b strings.Builder
	for _, h := range header {
		b.WriteString(strings.TrimRight("# "+h, " ") + "\n")
	}
	b.WriteString("\n")
	lines = slices.Clone(lines)
	slices.SortFunc(lines, func(a, c ScoreLine) int { return strings.Compare(a.Rule, c.Rule) })
	width := 0
	for _, l := range lines {
		width = max(width, len(l.Rule))
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "score %-*s", width, l.Rule)
		for _, s := range l.Scores {
			b.WriteString(" " + formatScore(s))
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	return nil
}

// formatScore writes s with at most 3 decimals in the form the .cf
// parser takes (no exponent, no "-0").
func formatScore(s float64) string {
	s = math.Round(s*1000) / 1000
	if s == 0 {
		return "0"
	}
	return strconv.FormatFloat(s, 'f', -1, 64)
}
