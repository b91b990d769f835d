package corpus

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// plotSample is a fixed corpus shaped like a real mass-check: ham
// clustered below the threshold with a short tail above it, spam spread
// widely above it with a few misses.
func plotSample() []Scored {
	var s []Scored
	for i := range 300 {
		u := math.Mod(float64(i)*0.6180339887, 1) // evenly spread in [0,1)
		s = append(s, Scored{Label: Ham, Score: -1.5 + 7*u*u*u})
	}
	for i := range 200 {
		u := math.Mod(float64(i)*0.7548776662, 1)
		s = append(s, Scored{Label: Spam, Score: 3 + 22*math.Sqrt(u)})
	}
	return s
}

func TestPlotHistogramGolden(t *testing.T) {
	tests := []struct {
		golden string
		opt    PlotOptions
	}{
		{"testdata/plot.golden.svg", PlotOptions{Title: "mass-check: ham & spam scores", Threshold: 5}},
		{"testdata/plot-log.golden.svg", PlotOptions{Title: "log scale, fixed range", Threshold: 5, LogY: true, Min: -5, Max: 30, Bins: 35}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := PlotHistogram(&b, plotSample(), tt.opt); err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(tt.golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(tt.golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("SVG differs from %s (run with -update after checking the picture)", tt.golden)
			}
		})
	}
}

// TestPlotHistogramWellFormed parses the SVG for several inputs,
// including degenerate ones, and checks what a reader must see in it.
func TestPlotHistogramWellFormed(t *testing.T) {
	tests := []struct {
		name string
		in   []Scored
		opt  PlotOptions
	}{
		{"sample", plotSample(), PlotOptions{Title: `<quotes> "&" 'apostrophes'`, Threshold: 5}},
		{"empty", nil, PlotOptions{Threshold: 5}},
		{"one value", scored(Ham, 2.0, Spam, 2.0), PlotOptions{Threshold: 2}},
		{"bayes", []Scored{{Label: Ham, Bayes: 0.01}, {Label: Spam, Bayes: 0.99}, {Label: Spam, Bayes: math.NaN()}},
			PlotOptions{Value: BayesValue, Threshold: 0.5, Min: 0, Max: 1, Bins: 20, XLabel: "Bayes probability", LogY: true}},
		{"threshold outside fixed range", plotSample(), PlotOptions{Threshold: 50, Min: 0, Max: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := PlotHistogram(&b, tt.in, tt.opt); err != nil {
				t.Fatal(err)
			}
			var texts []string
			paths := 0
			dec := xml.NewDecoder(&b)
			inText := false
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("SVG is not well-formed XML: %v", err)
				}
				switch tok := tok.(type) {
				case xml.StartElement:
					inText = tok.Name.Local == "text"
					if tok.Name.Local == "path" {
						paths++
					}
					for _, a := range tok.Attr {
						if strings.Contains(a.Value, "NaN") || strings.Contains(a.Value, "Inf") {
							t.Errorf("attribute %s=%q holds a non-number", a.Name.Local, a.Value)
						}
					}
				case xml.CharData:
					if inText {
						texts = append(texts, string(tok))
					}
				case xml.EndElement:
					inText = false
				}
			}
			all := strings.Join(texts, "|")
			for _, want := range []string{"ham (", "spam (", "messages"} {
				if !strings.Contains(all, want) {
					t.Errorf("no text %q in %q", want, all)
				}
			}
			if tt.opt.Title != "" && !strings.Contains(all, tt.opt.Title) {
				t.Errorf("title %q missing from %q", tt.opt.Title, all)
			}
			hasThreshold := strings.Contains(all, "threshold")
			inRange := !(tt.opt.Min < tt.opt.Max) || (tt.opt.Threshold >= tt.opt.Min && tt.opt.Threshold <= tt.opt.Max)
			if hasThreshold != inRange {
				t.Errorf("threshold label shown = %v, want %v", hasThreshold, inRange)
			}
			if paths < 3 { // two histograms and the axes
				t.Errorf("only %d paths drawn", paths)
			}
		})
	}
}
