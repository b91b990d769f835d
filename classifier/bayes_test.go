package classifier

import (
	"math"
	"slices"
	"testing"
)

// Vectors from the spec (bayes.md §6), computed with SpamAssassin 4.0.1.
func TestTokenProbability(t *testing.T) {
	p := DefaultParams()
	tests := []struct {
		name        string
		spam, ham   uint32
		nspam, nham int64
		noHapaxes   bool
		want        float64
		wantKnown   bool
	}{
		{name: "12 spam 1 ham", spam: 12, ham: 1, nspam: 250, nham: 312, want: 0.936487, wantKnown: true},
		{name: "spam hapax", spam: 1, ham: 0, nspam: 250, nham: 312, want: 0.986544, wantKnown: true},
		{name: "ham hapax", spam: 0, ham: 1, nspam: 250, nham: 312, want: 0.015670, wantKnown: true},
		{name: "3 ham", spam: 0, ham: 3, nspam: 250, nham: 312, want: 0.005327, wantKnown: true},
		{name: "unknown", spam: 0, ham: 0, nspam: 250, nham: 312, wantKnown: false},
		{name: "hapax without hapaxes", spam: 1, ham: 0, nspam: 250, nham: 312, noHapaxes: true, wantKnown: false},
		{name: "two without hapaxes", spam: 0, ham: 2, nspam: 250, nham: 312, noHapaxes: true, want: 0.007951, wantKnown: true},
		{name: "no ham learned", spam: 3, ham: 0, nspam: 250, nham: 0, wantKnown: false},
		{name: "no spam learned", spam: 0, ham: 3, nspam: 0, nham: 10, wantKnown: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := p
			params.UseHapaxes = !tt.noHapaxes
			f, ok := TokenProbability(Counts{Spam: tt.spam, Ham: tt.ham}, tt.nspam, tt.nham, params)
			if ok != tt.wantKnown {
				t.Fatalf("known = %v, want %v", ok, tt.wantKnown)
			}
			if !ok {
				return
			}
			if math.Abs(f-tt.want) > 5e-5 {
				t.Errorf("f = %.6f, want %.6f", f, tt.want)
			}
		})
	}
}

func TestGrahamRatioVector(t *testing.T) {
	// p for s=12, n=1 at Ns=250, Nh=312 is 0.937406; with S -> 0 f(w) -> p.
	params := DefaultParams()
	params.S = 0
	f, ok := TokenProbability(Counts{Spam: 12, Ham: 1}, 250, 312, params)
	if !ok || math.Abs(f-0.937406) > 5e-7 {
		t.Errorf("ratio = %.6f, %v; want 0.937406", f, ok)
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		name        string
		nspam, nham int64
		probs       []float64
		want        float64
	}{
		{"spammy four", 250, 312, []float64{0.99, 0.95, 0.9, 0.2}, 0.890462074477386},
		{"hammy three", 250, 312, []float64{0.01, 0.05, 0.1}, 0.0389604164685483},
		{"single token equal priors", 1000, 1000, []float64{0.9}, 0.7},
		{"nothing to combine", 10, 10, nil, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Combine(tt.nspam, tt.nham, tt.probs)
			if math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Combine = %.15f, want %.15f", got, tt.want)
			}
		})
	}
}

func TestCombineUnderflow(t *testing.T) {
	// 5000 very spammy tokens drive the ham product far below the smallest
	// float64; renormalisation must keep the result finite and spammy.
	probs := make([]float64, 5000)
	for i := range probs {
		probs[i] = 0.999
	}
	got := Combine(300, 300, probs)
	if math.IsNaN(got) || got < 0.999 || got > 1 {
		t.Errorf("Combine of 5000 tokens at 0.999 = %v, want close to 1", got)
	}
	for i := range probs {
		probs[i] = 0.001
	}
	got = Combine(300, 300, probs)
	if math.IsNaN(got) || got > 0.001 || got < 0 {
		t.Errorf("Combine of 5000 tokens at 0.001 = %v, want close to 0", got)
	}
}

func TestClassify(t *testing.T) {
	p := DefaultParams()
	// Counts chosen so that f(w) matches the spec vectors at Ns=250, Nh=312:
	// 12/1 -> 0.936, 1/0 -> 0.987, 0/1 -> 0.0157, 0/3 -> 0.0053.
	spammy := Counts{Spam: 12, Ham: 1}
	spamHapax := Counts{Spam: 1}
	hamHapax := Counts{Ham: 1}
	ham3 := Counts{Ham: 3}
	neutral := Counts{Spam: 10, Ham: 12} // f close to 0.5: dropped
	unknown := Counts{}

	tests := []struct {
		name        string
		nspam, nham int64
		counts      []Counts
		wantOK      bool
		wantUsed    []int
		wantProbs   []float64 // what Combine must have been given, in used order
	}{
		{
			name: "below min spam", nspam: 199, nham: 300,
			counts: []Counts{spammy}, wantOK: false,
		},
		{
			name: "below min ham", nspam: 300, nham: 199,
			counts: []Counts{spammy}, wantOK: false,
		},
		{
			name: "only unknown and neutral", nspam: 250, nham: 312,
			counts: []Counts{unknown, neutral}, wantOK: false,
		},
		{
			name: "strongest first, neutral and unknown dropped", nspam: 250, nham: 312,
			counts:    []Counts{spammy, unknown, neutral, ham3, spamHapax, hamHapax},
			wantOK:    true,
			wantUsed:  []int{3, 4, 5, 0},
			wantProbs: []float64{0.005327, 0.986544, 0.015670, 0.936487},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := p
			params.MinSpam, params.MinHam = 200, 200
			prob, used, ok := Classify(tt.nspam, tt.nham, tt.counts, params)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if prob != 0.5 || used != nil {
					t.Errorf("not ok but prob %v used %v", prob, used)
				}
				return
			}
			if !slices.Equal(used, tt.wantUsed) {
				t.Errorf("used = %v, want %v", used, tt.wantUsed)
			}
			want := Combine(tt.nspam, tt.nham, tt.wantProbs)
			if math.Abs(prob-want) > 1e-4 {
				t.Errorf("prob = %v, want %v", prob, want)
			}
		})
	}
}

func TestClassifyKeepsAtMostMaxTokens(t *testing.T) {
	p := DefaultParams()
	counts := make([]Counts, 400)
	for i := range counts {
		counts[i] = Counts{Spam: uint32(1 + i%5)}
	}
	_, used, ok := Classify(1000, 1000, counts, p)
	if !ok || len(used) != 150 {
		t.Fatalf("ok %v, kept %d tokens, want 150", ok, len(used))
	}
	p.MaxTokens = 10
	_, used, _ = Classify(1000, 1000, counts, p)
	if len(used) != 10 {
		t.Fatalf("kept %d tokens with MaxTokens 10", len(used))
	}
}

func TestBandRules(t *testing.T) {
	tests := []struct {
		prob float64
		want []string
	}{
		{0, []string{"BAYES_00"}},
		{0.005, []string{"BAYES_00"}},
		{0.01, []string{"BAYES_00"}},
		{0.010001, []string{"BAYES_05"}},
		{0.05, []string{"BAYES_05"}},
		{0.1, []string{"BAYES_20"}},
		{0.3, []string{"BAYES_40"}},
		{0.5, []string{"BAYES_50"}},
		{0.7, []string{"BAYES_60"}},
		{0.890462074477386, []string{"BAYES_80"}},
		{0.95, []string{"BAYES_80"}},
		{0.97, []string{"BAYES_95"}},
		{0.99, []string{"BAYES_95"}},
		{0.995, []string{"BAYES_99"}},
		{0.999, []string{"BAYES_99"}},
		{0.9995, []string{"BAYES_99", "BAYES_999"}},
		{1, []string{"BAYES_99", "BAYES_999"}},
	}
	for _, tt := range tests {
		if got := BandRules(tt.prob); !slices.Equal(got, tt.want) {
			t.Errorf("BandRules(%v) = %v, want %v", tt.prob, got, tt.want)
		}
	}
}

func TestBandsIsACopy(t *testing.T) {
	b := Bands()
	if len(b) != 10 || b[0].Rule != "BAYES_00" || b[9].Rule != "BAYES_999" {
		t.Fatalf("Bands() = %v", b)
	}
	b[0].Hi = 0.5
	if Bands()[0].Hi != 0.01 {
		t.Error("modifying the returned slice changed the table")
	}
}

// The mean log-odds answer decides where chi-square combining cannot:
// strong tokens both ways leave Combine near 0.5, while the mean still
// leans to the side that pulls harder; tokens balanced exactly, or none,
// leave it at 0.5 too.
func TestMeanLogOdds(t *testing.T) {
	repeat := func(n int, fs ...float64) []float64 {
		var out []float64
		for range n {
			out = append(out, fs...)
		}
		return out
	}
	both := repeat(20, 0.99, 0.1)
	if c := Combine(1000, 1000, both); c <= 0.4 || c > 0.6 {
		t.Fatalf("Combine of tokens pulling both ways = %v, want the undecided middle", c)
	}
	tests := []struct {
		name   string
		probs  []float64
		lo, hi float64
	}{
		{"none", nil, 0.5, 0.5},
		{"balanced", repeat(10, 0.9, 0.1), 0.5 - 1e-9, 0.5 + 1e-9},
		{"strong spam, weaker ham", both, 0.75, 0.8},
		{"strong ham, weaker spam", repeat(20, 0.01, 0.9), 0.2, 0.25},
		{"all spam", repeat(5, 0.99), 0.98, 0.999},
	}
	for _, tt := range tests {
		if got := MeanLogOdds(tt.probs); got < tt.lo || got > tt.hi {
			t.Errorf("%s: MeanLogOdds = %v, want in [%v, %v]", tt.name, got, tt.lo, tt.hi)
		}
	}
}
