package corpus

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// synthetic builds a labelled hit matrix: every spam hits SPAMMY, every
// ham hits HAMMY; NOISY hits a third of each class; the fixed rule
// BAYES_99 hits all spam.
func synthetic(nHam, nSpam int) []Scored {
	var s []Scored
	for i := range nHam {
		tests := []string{"HAMMY"}
		if i%3 == 0 {
			tests = append(tests, "NOISY")
		}
		s = append(s, Scored{Label: Ham, Tests: tests})
	}
	for i := range nSpam {
		tests := []string{"SPAMMY", "BAYES_99"}
		if i%3 == 0 {
			tests = append(tests, "NOISY")
		}
		s = append(s, Scored{Label: Spam, Tests: tests})
	}
	return s
}

func TestFitScores(t *testing.T) {
	rules := []FitRule{
		{Name: "SPAMMY"}, {Name: "NOISY"}, {Name: "NEVER_HITS"},
		{Name: "HAMMY", Nice: true},
		{Name: "BAYES_99", Fixed: true, Score: 3.5},
	}
	res, err := FitScores(context.Background(), synthetic(300, 100), rules, FitOptions{Folds: 5, Iterations: 800})
	if err != nil {
		t.Fatal(err)
	}
	sc := res.Scores
	tests := []struct {
		what string
		ok   bool
	}{
		{"separable data is classified without errors in cross-validation", res.CV.FP == 0 && res.CV.FN == 0},
		{"and on the whole corpus", res.Train.FP == 0 && res.Train.FN == 0},
		{"a spam rule plus the fixed rule reach the threshold", sc["SPAMMY"]+sc["BAYES_99"] >= 5},
		{"the fixed rule keeps its score", sc["BAYES_99"] == 3.5},
		{"a rule hitting both classes alike scores less than the clean one", sc["NOISY"] < sc["SPAMMY"]},
		{"a rule hitting both classes alike is not worth a point", sc["NOISY"] < 1},
		{"scores of spam rules are never negative", sc["NOISY"] >= 0 && sc["SPAMMY"] >= 0},
		{"a nice rule is never positive", sc["HAMMY"] <= 0},
		{"scores are clamped", sc["SPAMMY"] <= 5 && sc["HAMMY"] >= -5},
		{"a rule without evidence keeps its prior", sc["NEVER_HITS"] == 0.5},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: scores %v", tt.what, sc)
		}
	}
}

// Ham errors cost more than spam errors: when one rule hits spam and
// ham alike, the fitter keeps the ham below the threshold and gives up
// the spam.
func TestFitScoresPrefersFalseNegatives(t *testing.T) {
	var s []Scored
	for range 50 {
		s = append(s, Scored{Label: Ham, Tests: []string{"AMBIGUOUS"}})
		s = append(s, Scored{Label: Spam, Tests: []string{"AMBIGUOUS"}})
	}
	res, err := FitScores(context.Background(), s, []FitRule{{Name: "AMBIGUOUS"}}, FitOptions{Folds: 1, Iterations: 500})
	if err != nil {
		t.Fatal(err)
	}
	if res.Train.FP != 0 || res.Train.FN != 50 {
		t.Errorf("FP %d FN %d (score %v), want every ham kept: FP 0, FN 50", res.Train.FP, res.Train.FN, res.Scores["AMBIGUOUS"])
	}
}

func TestWriteScoresCF(t *testing.T) {
	var b bytes.Buffer
	err := WriteScoresCF(&b, []string{"generated", ""}, []ScoreLine{
		{Rule: "ZED", Scores: [4]float64{1.2345, 1.2345, 0, -0.0001}},
		{Rule: "ALPHA", Scores: [4]float64{-1, -1, -0.5, -0.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# generated\n#\n\nscore ALPHA -1 -1 -0.5 -0.5\nscore ZED   1.235 1.235 0 0\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(b.String(), "e-") {
		t.Error("scores written with an exponent")
	}
}

func TestFitScoresMinHits(t *testing.T) {
	data := synthetic(300, 100)
	// RARE hits two spam only: too little support at MinHits 3.
	data[300].Tests = append(data[300].Tests, "RARE")
	data[301].Tests = append(data[301].Tests, "RARE")
	rules := []FitRule{{Name: "SPAMMY"}, {Name: "RARE"}, {Name: "HAMMY", Nice: true}, {Name: "BAYES_99", Fixed: true, Score: 3.5}}
	tests := []struct {
		minHits  int
		rarePrio bool // RARE keeps its prior
	}{
		{0, false},
		{2, false},
		{3, true},
	}
	for _, tt := range tests {
		res, err := FitScores(context.Background(), data, rules, FitOptions{Folds: 1, Iterations: 300, MinHits: tt.minHits})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Scores["RARE"] == 0.5; got != tt.rarePrio {
			t.Errorf("MinHits %d: RARE scores %v, want prior kept = %v", tt.minHits, res.Scores["RARE"], tt.rarePrio)
		}
	}
}

func TestSelectFit(t *testing.T) {
	data := synthetic(300, 100)
	for i := range data {
		data[i].Date = time.Date(2002, 8, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	rules := []FitRule{{Name: "SPAMMY"}, {Name: "NOISY"}, {Name: "HAMMY", Nice: true}, {Name: "BAYES_99", Fixed: true, Score: 3.5}}
	opt, trials, err := SelectFit(context.Background(), data, rules, FitOptions{Iterations: 300}, []float64{2, 10}, []float64{0.1, 1}, 0.7, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 4 {
		t.Fatalf("%d trials, want 4", len(trials))
	}
	for _, tr := range trials {
		if tr.Valid.Ham != 90 || tr.Valid.Spam != 30 {
			t.Errorf("validation part has %d ham, %d spam; want the newest 90 and 30", tr.Valid.Ham, tr.Valid.Spam)
		}
	}
	best := trials[0]
	for _, tr := range trials {
		if tr.Cost < best.Cost {
			best = tr
		}
	}
	if opt.HamWeight != best.Options.HamWeight || opt.L2 != best.Options.L2 {
		t.Errorf("chose %v/%v, the cheapest trial is %v/%v", opt.HamWeight, opt.L2, best.Options.HamWeight, best.Options.L2)
	}
	if _, _, err := SelectFit(context.Background(), data, rules, FitOptions{}, nil, nil, 0.7, 10, 1); err == nil {
		t.Error("SelectFit without candidates succeeded")
	}
}

// Bands of one chain never score in reverse order, even when the
// corpus would have them so: here the higher band hits only ham and
// the lower only spam, and both end up at the same score, inside
// their bounds.
func TestFitScoresChainIsMonotone(t *testing.T) {
	var s []Scored
	for range 60 {
		s = append(s, Scored{Label: Spam, Tests: []string{"B_60", "SPAMMY"}})
		s = append(s, Scored{Label: Ham, Tests: []string{"B_80"}})
		s = append(s, Scored{Label: Ham, Tests: []string{"B_00"}})
	}
	rules := []FitRule{
		{Name: "SPAMMY"},
		{Name: "B_80", Bounded: true, Lo: 0.001, Hi: 4, Score: 2.7, Chain: "b", Rank: 0.8},
		{Name: "B_00", Bounded: true, Lo: -4, Hi: -0.001, Score: -1.5, Chain: "b", Rank: 0},
		{Name: "B_60", Bounded: true, Lo: 0.001, Hi: 4, Score: 2.5, Chain: "b", Rank: 0.6},
	}
	unchained := make([]FitRule, len(rules))
	copy(unchained, rules)
	for i := range unchained {
		unchained[i].Chain = ""
	}
	free, err := FitScores(context.Background(), s, unchained, FitOptions{Folds: 1, Iterations: 800})
	if err != nil {
		t.Fatal(err)
	}
	if free.Scores["B_80"] >= free.Scores["B_60"] {
		t.Fatalf("without the chain B_80 %v ≥ B_60 %v: the data do not test the chain", free.Scores["B_80"], free.Scores["B_60"])
	}
	res, err := FitScores(context.Background(), s, rules, FitOptions{Folds: 1, Iterations: 800})
	if err != nil {
		t.Fatal(err)
	}
	sc := res.Scores
	if !(sc["B_00"] <= sc["B_60"] && sc["B_60"] <= sc["B_80"]) {
		t.Errorf("chained scores B_00 %v, B_60 %v, B_80 %v: not in band order", sc["B_00"], sc["B_60"], sc["B_80"])
	}
	if sc["B_00"] > -0.001 || sc["B_00"] < -4 || sc["B_60"] < 0.001 || sc["B_80"] > 4 {
		t.Errorf("scores %v outside their bounds", sc)
	}
}

// A rule never scores more than the log of its own spam-to-ham
// hit-rate ratio: one hitting ham and spam alike scores 0 although it
// helps no ham over the threshold, and one hitting spam three times as
// often as ham stays below ln 3, however much the fit would like it
// higher to lift spam that nothing else marks.
func TestFitScoresEvidenceCap(t *testing.T) {
	var s []Scored
	for i := range 300 {
		tests := []string{}
		if i%3 == 0 {
			tests = append(tests, "ALIKE")
		}
		if i%10 == 0 {
			tests = append(tests, "WEAK")
		}
		s = append(s, Scored{Label: Ham, Tests: tests})
	}
	for i := range 100 {
		tests := []string{"SPAMMY"}
		if i%3 == 0 {
			tests = append(tests, "ALIKE")
		}
		if i%10 < 3 {
			tests = append(tests, "WEAK")
		}
		s = append(s, Scored{Label: Spam, Tests: tests})
	}
	rules := []FitRule{{Name: "SPAMMY"}, {Name: "ALIKE"}, {Name: "WEAK"}}
	res, err := FitScores(context.Background(), s, rules, FitOptions{Folds: 1, Iterations: 800, L2: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	capped := math.Log((30.0 + 1) / 102 / ((30.0 + 1) / 302))
	if sc := res.Scores; sc["ALIKE"] > 0.05 || sc["WEAK"] > capped+0.001 || sc["SPAMMY"] < 4 {
		t.Errorf("scores %v; want ALIKE ≈ 0, WEAK ≤ %.3f, SPAMMY high", sc, capped)
	}
	res, err = FitScores(context.Background(), s, rules, FitOptions{Folds: 1, Iterations: 800, L2: 0.01, NoEvidenceCap: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scores["WEAK"] <= capped+0.001 {
		t.Errorf("without the cap WEAK scores %v ≤ %.3f: the data do not test the cap", res.Scores["WEAK"], capped)
	}
}
