package classifier

import (
	"math"
	"slices"
)

// Params are the tunables of the Bayes math. The zero value is not useful;
// start from DefaultParams.
type Params struct {
	// MinSpam and MinHam are the smallest numbers of learned spam and ham
	// messages at which a scope is used for scoring
	// (bayes_min_spam_num, bayes_min_ham_num).
	MinSpam, MinHam int64
	// UseHapaxes uses tokens seen in a single message (bayes_use_hapaxes);
	// without it a token needs spam+ham >= 2.
	UseHapaxes bool
	// MaxTokens is how many of the most interesting tokens are combined.
	MaxTokens int
	// MinProbStrength is how far from 0.5 a token's probability must lie
	// to be combined.
	MinProbStrength float64
	// S and X are Robinson's strength and assumed probability of an
	// unknown token.
	S, X float64
}

// DefaultParams returns SpamAssassin 4.0's defaults.
func DefaultParams() Params {
	return Params{
		MinSpam:         200,
		MinHam:          200,
		UseHapaxes:      true,
		MaxTokens:       150,
		MinProbStrength: 0.346,
		S:               0.030,
		X:               0.538,
	}
}

// TokenProbability returns Robinson's f(w) for a token with counts c in a
// scope that learned nspam spam and nham ham messages. ok is false when
// the token tells nothing: it is unknown (0/0), it is a hapax and hapaxes
// are not used, or the scope has learned no spam or no ham.
func TokenProbability(c Counts, nspam, nham int64, p Params) (f float64, ok bool) {
	if nspam <= 0 || nham <= 0 {
		return 0, false
	}
	s, n := float64(c.Spam), float64(c.Ham)
	threshold := 1.0
	if !p.UseHapaxes {
		threshold = 2
	}
	if s+n < threshold {
		return 0, false
	}
	ns, nh := float64(nspam), float64(nham)
	ratio := (s * nh) / (n*ns + s*nh)
	total := s + n
	return (p.S*p.X + total*ratio) / (p.S + total), true
}

// renormaliseBelow is the value under which the running products of
// Combine are split into mantissa and exponent so they cannot underflow.
const renormaliseBelow = 1e-200

// Combine returns Fisher's chi-square combination of the token
// probabilities probs, with the running spam and ham products seeded by
// the class priors nspam/(nspam+nham) and nham/(nspam+nham). It returns
// 0.5 when there is nothing to combine (no probabilities or no messages).
func Combine(nspam, nham int64, probs []float64) float64 {
	total := float64(nspam + nham)
	if len(probs) == 0 || total <= 0 {
		return 0.5
	}
	spamProduct := float64(nspam) / total
	hamProduct := float64(nham) / total
	var spamExp, hamExp int
	for _, f := range probs {
		spamProduct *= 1 - f
		hamProduct *= f
		if spamProduct < renormaliseBelow {
			var e int
			spamProduct, e = math.Frexp(spamProduct)
			spamExp += e
		}
		if hamProduct < renormaliseBelow {
			var e int
			hamProduct, e = math.Frexp(hamProduct)
			hamExp += e
		}
	}
	spamLog := math.Log(spamProduct) + float64(spamExp)*math.Ln2
	hamLog := math.Log(hamProduct) + float64(hamExp)*math.Ln2
	k := len(probs)
	spam := 1 - chi2Q(-2*spamLog, k)
	ham := 1 - chi2Q(-2*hamLog, k)
	return (spam - ham + 1) / 2
}

// chi2Q is the probability that a chi-square variable with 2*halfDOF
// degrees of freedom exceeds x2, capped at 1.
func chi2Q(x2 float64, halfDOF int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < halfDOF; i++ {
		term *= m / float64(i)
		sum += term
	}
	return math.Min(sum, 1)
}

// Classify scores one message whose tokens have the given counts (zero
// Counts for unknown tokens) in a scope that learned nspam spam and nham
// ham messages. It keeps the p.MaxTokens tokens whose probability lies
// farthest from 0.5, drops those closer than p.MinProbStrength, and
// combines the rest. used holds the indices into counts of the kept
// tokens, strongest first; they are the tokens whose atime a scan
// touches. ok is false, and no BAYES rule fires, when the scope has
// learned fewer than p.MinSpam spam or p.MinHam ham, or no token is kept.
func Classify(nspam, nham int64, counts []Counts, p Params) (prob float64, used []int, ok bool) {
	if nspam < p.MinSpam || nham < p.MinHam {
		return 0.5, nil, false
	}
	// The strongest p.MaxTokens tokens, ties in token order, less those
	// weaker than p.MinProbStrength. Sorted by strength those come after
	// every stronger one, so they are left out before sorting (fewer to
	// sort), and strength then token order is a total order, so an
	// unstable sort gives the stable sort's order. (Counts are unsigned:
	// a strength is never NaN.)
	candidates := make([]scoredToken, 0, len(counts))
	for i, c := range counts {
		f, known := TokenProbability(c, nspam, nham, p)
		if !known {
			continue
		}
		strength := math.Abs(f - 0.5)
		if strength < p.MinProbStrength {
			continue
		}
		candidates = append(candidates, scoredToken{index: i, f: f, strength: strength})
	}
	slices.SortFunc(candidates, func(a, b scoredToken) int {
		switch {
		case a.strength > b.strength:
			return -1
		case a.strength < b.strength:
			return 1
		}
		return a.index - b.index
	})
	if len(candidates) > p.MaxTokens {
		candidates = candidates[:max(p.MaxTokens, 0)]
	}
	if len(candidates) == 0 {
		return 0.5, nil, false
	}
	probs := make([]float64, len(candidates))
	used = make([]int, len(candidates))
	for i, c := range candidates {
		used[i], probs[i] = c.index, c.f
	}
	return Combine(nspam, nham, probs), used, true
}

// scoredToken is a token of Classify: its index, probability and
// strength (distance from 0.5).
type scoredToken struct {
	index       int
	f, strength float64
}

// A Band is one BAYES_xx rule: it fires for a probability p when
// (Lo == 0 or p > Lo) and p <= Hi.
type Band struct {
	Rule   string
	Lo, Hi float64
}

// Contains reports whether the band's rule fires for prob.
func (b Band) Contains(prob float64) bool {
	return (b.Lo == 0 || prob > b.Lo) && prob <= b.Hi
}

var bayesBands = [...]Band{
	{"BAYES_00", 0, 0.01},
	{"BAYES_05", 0.01, 0.05},
	{"BAYES_20", 0.05, 0.20},
	{"BAYES_40", 0.20, 0.40},
	{"BAYES_50", 0.40, 0.60},
	{"BAYES_60", 0.60, 0.80},
	{"BAYES_80", 0.80, 0.95},
	{"BAYES_95", 0.95, 0.99},
	{"BAYES_99", 0.99, 1.00},
	{"BAYES_999", 0.999, 1.00},
}

// Bands returns the BAYES_xx rules in ascending order of their ranges.
// The slice is a fresh copy.
func Bands() []Band {
	out := make([]Band, len(bayesBands))
	copy(out, bayesBands[:])
	return out
}

// BandRules returns the names of the BAYES_xx rules that fire for prob,
// in Bands order: one rule, or BAYES_99 and BAYES_999 together.
func BandRules(prob float64) []string {
	var rules []string
	for _, b := range bayesBands {
		if b.Contains(prob) {
			rules = append(rules, b.Rule)
		}
	}
	return rules
}
