package corpus

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// PlotOptions configures PlotHistogram. The zero value plots Score in 40
// automatically ranged bins with a linear count axis and a threshold at 0.
type PlotOptions struct {
	Title  string // drawn above the plot; optional
	XLabel string // x axis caption; default "score"
	// Threshold is drawn as a dashed vertical line when within the range.
	Threshold float64
	// Value picks the plotted number; nil means ScoreValue.
	Value func(Scored) float64
	// Bins is the number of equal-width bins; 0 means 40.
	Bins int
	// Min and Max bound the x axis. When equal, the range covers the
	// values and the threshold, widened to round tick values. Values
	// outside the range are counted in the first or last bin.
	Min, Max float64
	// LogY draws counts on a logarithmic axis, so that a few false
	// positives show next to thousands of correct messages.
	LogY bool
}

// Geometry of the drawing, in SVG user units (pixels).
const (
	plotWidth   = 800
	plotHeight  = 450
	plotLeft    = 72 // room for y tick labels and caption
	plotRight   = 24 // margin right of the plot area
	plotTop     = 48 // room for the title
	plotBottom  = 56 // room for x tick labels and caption
	hamColour   = "#1f77b4"
	spamColour  = "#d62728"
	fillOpacity = "0.45"
	gridColour  = "#e3e3e3"
	axisColour  = "#444444"
	textColour  = "#222222"
	fontFamily  = "DejaVu Sans, Helvetica, Arial, sans-serif"
	defaultBins = 40
)

// PlotHistogram writes a self-contained SVG image of two overlaid
// histograms of opt.Value, one for ham and one for spam, with axes, a
// legend giving each class's count, and the threshold as a dashed line.
// The output depends only on s and opt, so it can be compared byte for
// byte. Messages whose value is NaN are left out.
func PlotHistogram(w io.Writer, s []Scored, opt PlotOptions) error {
	value := opt.Value
	if value == nil {
		value = ScoreValue
	}
	bins := opt.Bins
	if bins <= 0 {
		bins = defaultBins
	}
	xlabel := opt.XLabel
	if xlabel == "" {
		xlabel = "score"
	}

	// Collect values and the x range.
	var vals [2][]float64 // by Label
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range s {
		v := value(m)
		if math.IsNaN(v) || (m.Label != Ham && m.Label != Spam) {
			continue
		}
		vals[m.Label] = append(vals[m.Label], v)
		lo, hi = min(lo, v), max(hi, v)
	}
	var xTicks []float64
	var xStep float64
	if opt.Min < opt.Max {
		lo, hi = opt.Min, opt.Max
		xStep = niceStep((hi - lo) / 8)
		xTicks = ticksWithin(lo, hi, xStep)
	} else {
		if math.IsInf(lo, 0) { // no data
			lo, hi = opt.Threshold, opt.Threshold
		}
		lo, hi = min(lo, opt.Threshold), max(hi, opt.Threshold)
		if hi-lo < 1e-9 {
			lo, hi = lo-1, hi+1
		}
		xStep = niceStep((hi - lo) / 8)
		lo = math.Floor(lo/xStep) * xStep
		hi = math.Ceil(hi/xStep) * xStep
		if hi <= lo {
			hi = lo + xStep
		}
		xTicks = ticksWithin(lo, hi, xStep)
	}

	// Count.
	binWidth := (hi - lo) / float64(bins)
	var counts [2][]int
	maxCount := 0
	for l := range counts {
		counts[l] = make([]int, bins)
		for _, v := range vals[l] {
			b := int(math.Floor((v - lo) / binWidth))
			b = min(max(b, 0), bins-1)
			counts[l][b]++
			maxCount = max(maxCount, counts[l][b])
		}
	}

	// Scales.
	x0, x1 := float64(plotLeft), float64(plotWidth-plotRight)
	y0, y1 := float64(plotHeight-plotBottom), float64(plotTop) // y0 is the baseline
	xPos := func(v float64) float64 { return x0 + (v-lo)/(hi-lo)*(x1-x0) }
	var yPos func(c float64) float64
	var yTicks []float64
	var yStep float64
	if opt.LogY {
		top := 1.0
		for top < float64(maxCount) {
			top *= 10
		}
		if top < 10 {
			top = 10
		}
		bottom := 0.5 // so a bin of one message still shows
		span := math.Log10(top) - math.Log10(bottom)
		yPos = func(c float64) float64 {
			if c < bottom {
				return y0
			}
			return y0 - (math.Log10(c)-math.Log10(bottom))/span*(y0-y1)
		}
		for t := 1.0; t <= top; t *= 10 {
			yTicks = append(yTicks, t)
		}
	} else {
		yStep = niceStep(float64(max(maxCount, 1)) / 5)
		if yStep < 1 {
			yStep = 1
		}
		// Leave headroom so the tallest bar does not touch the frame.
		top := math.Ceil(float64(max(maxCount, 1))*1.05/yStep) * yStep
		yPos = func(c float64) float64 { return y0 - c/top*(y0-y1) }
		yTicks = ticksWithin(0, top, yStep)
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="12" fill="%s">
`, plotWidth, plotHeight, plotWidth, plotHeight, fontFamily, textColour)
	if opt.Title != "" {
		fmt.Fprintf(&b, "<title>%s</title>\n", escapeXML(opt.Title))
	}
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", plotWidth, plotHeight)
	if opt.Title != "" {
		fmt.Fprintf(&b, `<text x="%s" y="28" text-anchor="middle" font-size="16" font-weight="bold">%s</text>`+"\n",
			num((x0+x1)/2), escapeXML(opt.Title))
	}

	// Grid and tick labels.
	b.WriteString(`<g stroke="` + gridColour + `" stroke-width="1">` + "\n")
	for _, t := range yTicks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", num(x0), num(yPos(t)), num(x1), num(yPos(t)))
	}
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", num(xPos(t)), num(y0), num(xPos(t)), num(y1))
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g text-anchor="end">` + "\n")
	for _, t := range yTicks {
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`+"\n", num(x0-8), num(yPos(t)+4), tickLabel(t, yStep))
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g text-anchor="middle">` + "\n")
	for _, t := range xTicks {
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`+"\n", num(xPos(t)), num(y0+18), tickLabel(t, xStep))
	}
	b.WriteString("</g>\n")

	// Histograms: one closed step outline per class, ham first.
	for l, colour := range []string{hamColour, spamColour} {
		var p strings.Builder
		fmt.Fprintf(&p, "M%s %s", num(x0), num(y0))
		for i, c := range counts[l] {
			fmt.Fprintf(&p, "V%sH%s", num(yPos(float64(c))), num(xPos(lo+float64(i+1)*binWidth)))
		}
		fmt.Fprintf(&p, "V%sZ", num(y0))
		fmt.Fprintf(&b, `<path d="%s" fill="%s" fill-opacity="%s" stroke="%s" stroke-width="1.2" stroke-linejoin="miter"/>`+"\n",
			p.String(), colour, fillOpacity, colour)
	}

	// Axes.
	fmt.Fprintf(&b, `<path d="M%s %sV%sH%s" fill="none" stroke="%s" stroke-width="1.2"/>`+"\n",
		num(x0), num(y1), num(y0), num(x1), axisColour)

	// Threshold.
	if opt.Threshold >= lo && opt.Threshold <= hi {
		tx := xPos(opt.Threshold)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n",
			num(tx), num(y0), num(tx), num(y1-6))
		anchor, dx := "start", 5.0
		if tx > (x0+x1)/2 {
			anchor, dx = "end", -5
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s" font-size="11">threshold %s</text>`+"\n",
			num(tx+dx), num(y1+6), anchor, escapeXML(strconv.FormatFloat(opt.Threshold, 'f', -1, 64)))
	}

	// Legend, in the top corner away from the threshold label.
	const legendWidth, legendHeight = 150, 50
	lx := x1 - legendWidth - 10
	if opt.Threshold >= lo && opt.Threshold <= hi && xPos(opt.Threshold) > (x0+x1)/2 {
		lx = x0 + 10
	}
	ly := y1 + 16
	fmt.Fprintf(&b, `<g transform="translate(%s %s)">`+"\n", num(lx), num(ly))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`+"\n", legendWidth, legendHeight)
	for l, colour := range []string{hamColour, spamColour} {
		y := 10 + 20*l
		fmt.Fprintf(&b, `<rect x="10" y="%d" width="14" height="12" fill="%s" fill-opacity="%s" stroke="%s"/>`+"\n", y, colour, fillOpacity, colour)
		fmt.Fprintf(&b, `<text x="32" y="%d">%s (%d)</text>`+"\n", y+10, Label(l), len(vals[l]))
	}
	b.WriteString("</g>\n")

	// Axis captions.
	fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" font-size="13">%s</text>`+"\n",
		num((x0+x1)/2), plotHeight-14, escapeXML(xlabel))
	ylabel := "messages"
	if opt.LogY {
		ylabel = "messages (log scale)"
	}
	fmt.Fprintf(&b, `<text transform="translate(18 %s) rotate(-90)" text-anchor="middle" font-size="13">%s</text>`+"\n",
		num((y0+y1)/2), ylabel)
	b.WriteString("</svg>\n")

	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write histogram: %w", err)
	}
	return nil
}

// niceStep returns the smallest 1, 2 or 5 times a power of ten that is at
// least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// ticksWithin returns the multiples of step in [lo, hi].
func ticksWithin(lo, hi, step float64) []float64 {
	var out []float64
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9; i++ {
		t := i * step
		if math.Abs(t) < step*1e-9 {
			t = 0 // no "-0"
		}
		out = append(out, t)
	}
	return out
}

// tickLabel formats a tick value with as many decimals as step needs
// (all of them for log-axis ticks, whose step is 0).
func tickLabel(v, step float64) string {
	if step <= 0 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// num formats a coordinate with at most two decimals.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func escapeXML(s string) string { return xmlEscaper.Replace(s) }
