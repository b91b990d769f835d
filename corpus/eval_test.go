package corpus

import (
	"bytes"
	"context"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// scored builds messages from (label, score) pairs.
func scored(pairs ...any) []Scored {
	var out []Scored
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Scored{Label: pairs[i].(Label), Score: pairs[i+1].(float64)})
	}
	return out
}

func TestLabel(t *testing.T) {
	for _, l := range []Label{Ham, Spam} {
		got, err := ParseLabel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLabel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if Ham.String() != "ham" || Spam.String() != "spam" {
		t.Errorf("labels print as %q, %q", Ham, Spam)
	}
	if l, err := ParseLabel("SPAM"); err != nil || l != Spam {
		t.Errorf("ParseLabel(SPAM) = %v, %v", l, err)
	}
	if _, err := ParseLabel("junk"); err == nil {
		t.Error("ParseLabel(junk) succeeded")
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name      string
		in        []Scored
		threshold float64
		want      Summary
	}{
		{
			name:      "no errors",
			in:        scored(Ham, 0.0, Ham, 1.0, Spam, 9.0, Spam, 12.0),
			threshold: 5,
			want:      Summary{Ham: 2, Spam: 2, Threshold: 5, AUC: 1},
		},
		{
			name:      "score equal to threshold is spam",
			in:        scored(Ham, 5.0, Ham, 4.999, Spam, 5.0, Spam, 4.999),
			threshold: 5,
			want:      Summary{Ham: 2, Spam: 2, FP: 1, FN: 1, FPPercent: 50, FNPercent: 50, Threshold: 5, AUC: 0.5},
		},
		{
			name:      "one false positive in four ham, one false negative in two spam",
			in:        scored(Ham, 1.0, Ham, 2.0, Ham, 3.0, Ham, 7.0, Spam, 4.0, Spam, 8.0),
			threshold: 5,
			// Spam 4 beats ham 1,2,3 (3 wins); spam 8 beats all 4: 7/8.
			want: Summary{Ham: 4, Spam: 2, FP: 1, FN: 1, FPPercent: 25, FNPercent: 50, Threshold: 5, AUC: 7.0 / 8},
		},
		{
			name:      "only ham: no AUC, no FN percent",
			in:        scored(Ham, 1.0, Ham, 6.0),
			threshold: 5,
			want:      Summary{Ham: 2, FP: 1, FPPercent: 50, Threshold: 5, AUC: math.NaN()},
		},
		{
			name:      "empty",
			threshold: 5,
			want:      Summary{Threshold: 5, AUC: math.NaN()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.in, tt.threshold, nil)
			if !summaryEqual(got, tt.want) {
				t.Errorf("Summarize = %+v\nwant        %+v", got, tt.want)
			}
		})
	}
}

func summaryEqual(a, b Summary) bool {
	if math.IsNaN(a.AUC) != math.IsNaN(b.AUC) {
		return false
	}
	if !math.IsNaN(a.AUC) && math.Abs(a.AUC-b.AUC) > 1e-12 {
		return false
	}
	a.AUC, b.AUC = 0, 0
	return a == b
}

func TestSummarizeBayesValue(t *testing.T) {
	in := []Scored{
		{Label: Ham, Score: 9, Bayes: 0.1, HasBayes: true},
		{Label: Spam, Score: 0, Bayes: 0.9, HasBayes: true},
	}
	got := Summarize(in, 0.5, BayesValue)
	if got.FP != 0 || got.FN != 0 || got.AUC != 1 {
		t.Errorf("Summarize on Bayes = %+v, want no errors and AUC 1", got)
	}
}

func TestROCAUC(t *testing.T) {
	tests := []struct {
		name string
		in   []Scored
		want float64
	}{
		{"perfect separation", scored(Ham, -1.0, Ham, 0.0, Spam, 3.0, Spam, 10.0), 1},
		{"inverted", scored(Spam, -1.0, Spam, 0.0, Ham, 3.0, Ham, 10.0), 0},
		{"all tied", scored(Ham, 2.0, Ham, 2.0, Spam, 2.0, Spam, 2.0, Spam, 2.0), 0.5},
		// Pairs (spam, ham): (2,1) win, (2,3) loss, (3,1) win, (3,3) tie = 2.5 of 4.
		{"hand computed with a tie", scored(Ham, 1.0, Ham, 3.0, Spam, 2.0, Spam, 3.0), 2.5 / 4},
		// Spam 5 beats all 3 ham; spam 0 beats ham -2 and ties ham 0: 4.5 of 6.
		{"hand computed, unsorted input", scored(Spam, 5.0, Ham, 4.0, Ham, 0.0, Spam, 0.0, Ham, -2.0), 4.5 / 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ROCAUC(tt.in, nil); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("ROCAUC = %v, want %v", got, tt.want)
			}
		})
	}
	if got := ROCAUC(scored(Spam, 1.0), nil); !math.IsNaN(got) {
		t.Errorf("ROCAUC without ham = %v, want NaN", got)
	}
}

func TestSummaryFormat(t *testing.T) {
	var b bytes.Buffer
	s := Summary{Ham: 800, Spam: 400, FP: 2, FN: 30, FPPercent: 0.25, FNPercent: 7.5, Threshold: 5, AUC: 0.98765}
	if err := s.Format(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1200", "800 ham", "400 spam", "2 of 800 ham (0.25%)", "30 of 400 spam (7.50%)", "threshold: 5", "0.9877"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := (Summary{AUC: math.NaN()}).Format(&b); err != nil || !strings.Contains(b.String(), "n/a") {
		t.Errorf("report without AUC: %v\n%s", err, b.String())
	}
}

func TestScoresRoundTrip(t *testing.T) {
	in := []Scored{
		{Label: Spam, Score: 12.345, Bayes: 0.9999, HasBayes: true, Path: "spam/00001.abc", Tests: []string{"BAYES_99", "HTML_MESSAGE"}},
		{Label: Ham, Score: -0.5, Path: "ham.mbox:3"},
		{Label: Ham, Score: 0, Bayes: 0, HasBayes: true, Path: "odd\tname\n\"x\"", Tests: []string{"ALL_TRUSTED"}},
		{Label: Spam, Score: 1e3, Bayes: 0.5, HasBayes: true, Path: `"quoted`},
	}
	var b bytes.Buffer
	if err := WriteScores(&b, in); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(b.String(), "\n"); lines != len(in) {
		t.Errorf("wrote %d lines for %d messages:\n%s", lines, len(in), b.String())
	}
	first := strings.SplitN(b.String(), "\n", 2)[0]
	if want := "spam\t12.345\t0.9999\tspam/00001.abc\tBAYES_99,HTML_MESSAGE"; first != want {
		t.Errorf("first line = %q, want %q", first, want)
	}
	out, err := ReadScores(strings.NewReader("# comment\n\n" + b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", out, in)
	}
}

func TestReadScoresErrors(t *testing.T) {
	for _, bad := range []string{
		"spam\t1.0\t-\tpath\n",    // 4 fields
		"junk\t1.0\t-\tpath\t\n",  // label
		"ham\tx\t-\tpath\t\n",     // score
		"ham\t1\tmaybe\tpath\t\n", // bayes
		"ham\t1\t-\t\"open\t\n",   // path quoting
	} {
		if _, err := ReadScores(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadScores(%q) succeeded", bad)
		}
	}
}

func TestStratifiedFolds(t *testing.T) {
	tests := []struct {
		name      string
		ham, spam int
		k         int
	}{
		{"even", 50, 50, 5},
		{"uneven", 37, 11, 4},
		{"more folds than spam", 20, 3, 5},
		{"one fold", 4, 6, 1},
		{"empty", 0, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := make([]Label, 0, tt.ham+tt.spam)
			// Interleave the classes so folds cannot be balanced by accident.
			for i := 0; i < max(tt.ham, tt.spam); i++ {
				if i < tt.spam {
					labels = append(labels, Spam)
				}
				if i < tt.ham {
					labels = append(labels, Ham)
				}
			}
			folds := StratifiedFolds(labels, tt.k, 42)
			if len(folds) != tt.k {
				t.Fatalf("got %d folds, want %d", len(folds), tt.k)
			}
			seen := make([]int, len(labels))
			var sizes []int
			var perLabel [2][]int
			for _, f := range folds {
				var n [2]int
				for _, i := range f {
					if i < 0 || i >= len(labels) {
						t.Fatalf("index %d out of range", i)
					}
					seen[i]++
					n[labels[i]]++
				}
				sizes = append(sizes, len(f))
				perLabel[Ham] = append(perLabel[Ham], n[Ham])
				perLabel[Spam] = append(perLabel[Spam], n[Spam])
			}
			for i, c := range seen {
				if c != 1 {
					t.Errorf("index %d appears in %d folds", i, c)
				}
			}
			for name, counts := range map[string][]int{"size": sizes, "ham": perLabel[Ham], "spam": perLabel[Spam]} {
				if slices.Max(counts)-slices.Min(counts) > 1 {
					t.Errorf("fold %s counts %v differ by more than one", name, counts)
				}
			}
			if again := StratifiedFolds(labels, tt.k, 42); !reflect.DeepEqual(again, folds) {
				t.Errorf("same seed gave different folds")
			}
		})
	}
}

func TestStratifiedFoldsShuffles(t *testing.T) {
	labels := make([]Label, 100)
	a := StratifiedFolds(labels, 4, 1)
	b := StratifiedFolds(labels, 4, 2)
	if reflect.DeepEqual(a, b) {
		t.Error("different seeds gave the same folds")
	}
	// Without shuffling, dealing 0..99 round-robin puts 0,4,8,... in fold 0.
	var dealt []int
	for i := 0; i < 100; i += 4 {
		dealt = append(dealt, i)
	}
	if slices.Equal(a[0], dealt) {
		t.Error("folds are not shuffled")
	}
}

func TestFolds(t *testing.T) {
	folds := Folds(10, 3, 7)
	var all []int
	for _, f := range folds {
		all = append(all, f...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("Folds(10, 3) covers %v", all)
	}
}

// FuzzSplitMbox checks that the messages of any input tile its end, each
// starting at a From line, and that counting agrees with reading.
func FuzzSplitMbox(f *testing.F) {
	seed, err := os.ReadFile("testdata/mboxes/three")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("From a@b  Mon Jan  6 10:00:00 2003\r\nX: y\r\n\r\nbody"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var msgs [][]byte
		err := splitMbox(context.Background(), bytes.NewReader(data), 0, true, func(n int, m []byte, tooBig bool) error {
			if n != len(msgs)+1 || tooBig {
				t.Fatalf("message %d (tooBig %v) after %d", n, tooBig, len(msgs))
			}
			if !mboxFromLine.Match(m) {
				t.Fatalf("message does not start with a From line: %q", m)
			}
			msgs = append(msgs, m)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(data, bytes.Join(msgs, nil)) {
			t.Fatal("messages do not tile the input")
		}
		count := 0
		err = splitMbox(context.Background(), bytes.NewReader(data), 0, false, func(int, []byte, bool) error { count++; return nil })
		if err != nil || count != len(msgs) {
			t.Fatalf("counting gave %d, %v; reading gave %d", count, err, len(msgs))
		}
	})
}

func BenchmarkROCAUC(b *testing.B) {
	s := plotSample()
	for len(s) < 10000 {
		s = append(s, s...)
	}
	b.ResetTimer()
	for b.Loop() {
		ROCAUC(s, nil)
	}
}
