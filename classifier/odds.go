package classifier

import "math"

// MeanLogOdds is a second answer from the tokens Classify combined: the
// logistic of the mean log-odds log(f/(1−f)) of their probabilities
// probs. Chi-square combining (Combine) answers 0.5 both when no token
// is strong and when strong tokens pull both ways; the mean log-odds
// still says which way pulls harder, so it decides much of the mail
// Combine leaves at BAYES_50. It is not SpamAssassin's and drives no
// BAYES_xx rule (the policy's check_bayes_odds rules read it). 0.5
// when probs is empty.
func MeanLogOdds(probs []float64) float64 {
	if len(probs) == 0 {
		return 0.5
	}
	var sum float64
	for _, f := range probs {
		// Token probabilities stay inside (0, 1) (Robinson's
		// smoothing); the clamp only guards the logarithm.
		f = min(max(f, 1e-6), 1-1e-6)
		sum += math.Log(f / (1 - f))
	}
	return 1 / (1 + math.Exp(-sum/float64(len(probs))))
}

// ClassifyOdds is Classify with MeanLogOdds of the same tokens as a
// second answer.
func ClassifyOdds(nspam, nham int64, counts []Counts, p Params) (prob, odds float64, used []int, ok bool) {
	prob, used, ok = Classify(nspam, nham, counts, p)
	if !ok {
		return prob, 0.5, used, ok
	}
	probs := make([]float64, 0, len(used))
	for _, i := range used {
		f, _ := TokenProbability(counts[i], nspam, nham, p)
		probs = append(probs, f)
	}
	return prob, MeanLogOdds(probs), used, ok
}
