package corpus

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Label is the true class of a corpus message.
type Label int

// The two classes.
const (
	Ham Label = iota
	Spam
)

// String returns "ham" or "spam".
func (l Label) String() string {
	switch l {
	case Ham:
		return "ham"
	case Spam:
		return "spam"
	}
	return "Label(" + strconv.Itoa(int(l)) + ")"
}

// ParseLabel is the inverse of String; it ignores case.
func ParseLabel(s string) (Label, error) {
	switch strings.ToLower(s) {
	case "ham":
		return Ham, nil
	case "spam":
		return Spam, nil
	}
	return 0, fmt.Errorf("parse label %q: want ham or spam", s)
}

// Scored is the outcome of scanning one corpus message.
type Scored struct {
	Label    Label    // true class
	Score    float64  // total score
	Bayes    float64  // Bayes probability in [0,1], valid when HasBayes
	HasBayes bool     // whether Bayes gave an answer
	Path     string   // Item.Path of the message
	Tests    []string // names of the rules that hit
	// Date orders the message in a time split (see MessageDate); zero
	// when undated or not known.
	Date time.Time
}

// ScoreValue reads Scored.Score; it is the default value of Summarize,
// ROCAUC and PlotHistogram.
func ScoreValue(s Scored) float64 { return s.Score }

// BayesValue reads Scored.Bayes, for evaluating the classifier alone.
// Callers should drop messages without HasBayes first.
func BayesValue(s Scored) float64 { return s.Bayes }

// A Summary is how well a value separates ham from spam at a threshold.
type Summary struct {
	Ham, Spam int     // messages of each class
	FP        int     // ham at or above Threshold
	FN        int     // spam below Threshold
	FPPercent float64 // 100·FP/Ham, 0 without ham
	FNPercent float64 // 100·FN/Spam, 0 without spam
	Threshold float64
	AUC       float64 // see ROCAUC; NaN unless both classes are present
}

// Summarize counts false positives and negatives when a message is called
// spam iff value(message) >= threshold, and computes the ROC AUC of value.
// A nil value means ScoreValue.
func Summarize(s []Scored, threshold float64, value func(Scored) float64) Summary {
	if value == nil {
		value = ScoreValue
	}
	sum := Summary{Threshold: threshold}
	for _, m := range s {
		spam := value(m) >= threshold
		switch m.Label {
		case Ham:
			sum.Ham++
			if spam {
				sum.FP++
			}
		case Spam:
			sum.Spam++
			if !spam {
				sum.FN++
			}
		}
	}
	if sum.Ham > 0 {
		sum.FPPercent = 100 * float64(sum.FP) / float64(sum.Ham)
	}
	if sum.Spam > 0 {
		sum.FNPercent = 100 * float64(sum.FN) / float64(sum.Spam)
	}
	sum.AUC = ROCAUC(s, value)
	return sum
}

// ROCAUC returns the area under the ROC curve of value as a spam
// detector: the probability that a random spam gets a higher value than a
// random ham, ties counting one half (the Mann-Whitney U statistic divided
// by ham·spam). 1 is perfect separation, 0.5 is chance, 0 is perfectly
// inverted. It is NaN when either class is absent. A nil value means
// ScoreValue; NaN values tie with each other and rank below all others.
func ROCAUC(s []Scored, value func(Scored) float64) float64 {
	if value == nil {
		value = ScoreValue
	}
	type point struct {
		v    float64
		spam bool
	}
	pts := make([]point, 0, len(s))
	var nHam, nSpam float64
	for _, m := range s {
		switch m.Label {
		case Ham:
			nHam++
		case Spam:
			nSpam++
		default:
			continue
		}
		pts = append(pts, point{value(m), m.Label == Spam})
	}
	if nHam == 0 || nSpam == 0 {
		return math.NaN()
	}
	slices.SortFunc(pts, func(a, b point) int { return cmp.Compare(a.v, b.v) })
	// Walk groups of equal values; every spam beats the ham below its
	// group and half of the ham inside it.
	var wins, hamBelow float64
	for i := 0; i < len(pts); {
		j := i
		var gHam, gSpam float64
		for ; j < len(pts) && cmp.Compare(pts[j].v, pts[i].v) == 0; j++ {
			if pts[j].spam {
				gSpam++
			} else {
				gHam++
			}
		}
		wins += gSpam * (hamBelow + gHam/2)
		hamBelow += gHam
		i = j
	}
	return wins / (nHam * nSpam)
}

// Format writes s as a short human-readable report.
func (s Summary) Format(w io.Writer) error {
	auc := "n/a"
	if !math.IsNaN(s.AUC) {
		auc = strconv.FormatFloat(s.AUC, 'f', 4, 64)
	}
	_, err := fmt.Fprintf(w,
		"messages:  %d (%d ham, %d spam)\n"+
			"threshold: %s\n"+
			"false pos: %d of %d ham (%.2f%%)\n"+
			"false neg: %d of %d spam (%.2f%%)\n"+
			"ROC AUC:   %s\n",
		s.Ham+s.Spam, s.Ham, s.Spam,
		strconv.FormatFloat(s.Threshold, 'f', -1, 64),
		s.FP, s.Ham, s.FPPercent,
		s.FN, s.Spam, s.FNPercent,
		auc)
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// WriteScores writes one line per message:
//
//	label TAB score TAB bayes TAB path TAB tests
//
// label is "ham" or "spam", score has three decimals, bayes four or is
// "-" without HasBayes, tests are comma-separated (empty when none hit).
// A path containing a tab, newline, carriage return or backslash, or
// starting with a double quote, is written as a Go quoted string.
func WriteScores(w io.Writer, s []Scored) error {
	bw := bufio.NewWriter(w)
	var line []byte
	for _, m := range s {
		line = append(line[:0], m.Label.String()...)
		line = append(line, '\t')
		line = strconv.AppendFloat(line, m.Score, 'f', 3, 64)
		line = append(line, '\t')
		if m.HasBayes {
			line = strconv.AppendFloat(line, m.Bayes, 'f', 4, 64)
		} else {
			line = append(line, '-')
		}
		line = append(line, '\t')
		if strings.ContainsAny(m.Path, "\t\n\r\\") || strings.HasPrefix(m.Path, `"`) {
			line = strconv.AppendQuote(line, m.Path)
		} else {
			line = append(line, m.Path...)
		}
		line = append(line, '\t')
		for i, t := range m.Tests {
			if i > 0 {
				line = append(line, ',')
			}
			line = append(line, t...)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write scores: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	return nil
}

// ReadScores parses what WriteScores wrote. Blank lines and lines
// starting with "#" are ignored.
func ReadScores(r io.Reader) ([]Scored, error) {
	var out []Scored
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m, err := parseScoreLine(line)
		if err != nil {
			return nil, fmt.Errorf("read scores: line %d: %w", lineNo, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read scores: %w", err)
	}
	return out, nil
}

func parseScoreLine(line string) (Scored, error) {
	var m Scored
	f := strings.Split(line, "\t")
	if len(f) != 5 {
		return m, fmt.Errorf("want 5 tab-separated fields, got %d", len(f))
	}
	var err error
	if m.Label, err = ParseLabel(f[0]); err != nil {
		return m, err
	}
	if m.Score, err = strconv.ParseFloat(f[1], 64); err != nil {
		return m, fmt.Errorf("parse score: %w", err)
	}
	if f[2] != "-" {
		if m.Bayes, err = strconv.ParseFloat(f[2], 64); err != nil {
			return m, fmt.Errorf("parse bayes: %w", err)
		}
		m.HasBayes = true
	}
	m.Path = f[3]
	if strings.HasPrefix(m.Path, `"`) {
		if m.Path, err = strconv.Unquote(m.Path); err != nil {
			return m, fmt.Errorf("parse path: %w", err)
		}
	}
	if f[4] != "" {
		m.Tests = strings.Split(f[4], ",")
	}
	return m, nil
}

// Folds splits the indices 0..n-1 into k disjoint folds of sizes within
// one of each other, shuffled deterministically by seed. Each fold is
// sorted. It panics if k < 1.
func Folds(n, k int, seed int64) [][]int {
	return StratifiedFolds(make([]Label, n), k, seed)
}

// StratifiedFolds splits the indices of labels into k disjoint folds for
// cross-validation. Each label's indices are shuffled deterministically
// by seed (the same inputs give the same folds on every platform and Go
// version) and dealt round-robin, so every fold holds within one of the
// same number of messages of each label, and fold sizes differ by at most
// one overall. Each fold is sorted. It panics if k < 1.
func StratifiedFolds(labels []Label, k int, seed int64) [][]int {
	if k < 1 {
		panic(fmt.Sprintf("corpus: StratifiedFolds with k = %d folds", k))
	}
	byLabel := map[Label][]int{}
	var order []Label
	for i, l := range labels {
		if _, ok := byLabel[l]; !ok {
			order = append(order, l)
		}
		byLabel[l] = append(byLabel[l], i)
	}
	slices.Sort(order)
	rng := newSplitMix64(uint64(seed))
	folds := make([][]int, k)
	next := 0 // fold that receives the next index; carries across labels
	for _, l := range order {
		idx := byLabel[l]
		rng.shuffle(idx)
		for _, i := range idx {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}

// splitMix64 is a small, fully specified PRNG (Steele et al.), used so
// folds never change with the standard library's generators.
type splitMix64 struct{ state uint64 }

func newSplitMix64(seed uint64) *splitMix64 { return &splitMix64{state: seed} }

func (r *splitMix64) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, n) by rejection sampling.
func (r *splitMix64) below(n uint64) uint64 {
	limit := -n % n // 2^64 mod n: reject the first limit values
	for {
		v := r.next()
		if v >= limit {
			return v % n
		}
	}
}

// shuffle permutes s uniformly (Fisher-Yates).
func (r *splitMix64) shuffle(s []int) {
	for i := len(s) - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		s[i], s[j] = s[j], s[i]
	}
}
