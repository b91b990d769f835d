package panel

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// A bar is one column of a stacked verdict graph.
type bar struct {
	start                   time.Time
	ham, tag, reject, other int
}

func (b bar) total() int { return b.ham + b.tag + b.reject + b.other }

// bars groups minutes into columns of per minutes each, oldest first.
func bars(minutes []MinuteCount, per int) []bar {
	var out []bar
	for i := 0; i < len(minutes); i += per {
		b := bar{start: minutes[i].Minute}
		for _, m := range minutes[i:min(i+per, len(minutes))] {
			b.ham += m.Ham
			b.tag += m.Tag
			b.reject += m.Reject
			b.other += m.Unscanned + m.Errors
		}
		out = append(out, b)
	}
	return out
}

// Graph dimensions, in SVG user units.
const (
	graphW, graphH      = 560, 170
	graphLeft, graphBot = 36, 18
	graphTop            = 8
)

// verdictGraph draws bars as stacked columns (ham, tag, reject, other
// from the bottom) with a y axis of scans per column and time labels
// every labelEvery columns. Only numbers and fixed strings go into the
// markup, so it is safe as template.HTML.
func verdictGraph(title string, bs []bar, labelEvery int, layout string) template.HTML {
	peak := 1
	for _, b := range bs {
		peak = max(peak, b.total())
	}
	peak = niceCeil(peak)
	plotW := float64(graphW - graphLeft - 4)
	plotH := float64(graphH - graphBot - graphTop)
	colW := plotW / float64(max(len(bs), 1))
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="graph" viewBox="0 0 %d %d" role="img" aria-label="%s">`, graphW, graphH, template.HTMLEscapeString(title))
	for _, frac := range []float64{0, .5, 1} {
		y := float64(graphTop) + plotH*(1-frac)
		fmt.Fprintf(&sb, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, graphLeft, y, graphW-4, y)
		fmt.Fprintf(&sb, `<text x="%d" y="%.1f" text-anchor="end">%d</text>`, graphLeft-4, y+4, int(float64(peak)*frac))
	}
	for i, b := range bs {
		x := float64(graphLeft) + float64(i)*colW
		y := float64(graphTop) + plotH
		for _, part := range []struct {
			n     int
			class string
		}{{b.ham, "ham"}, {b.tag, "tag"}, {b.reject, "reject"}, {b.other, "other"}} {
			if part.n == 0 {
				continue
			}
			h := plotH * float64(part.n) / float64(peak)
			y -= h
			fmt.Fprintf(&sb, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %d</title></rect>`,
				part.class, x+0.5, y, max(colW-1, 0.5), h, b.start.Format(layout), part.class, part.n)
		}
		if labelEvery > 0 && i%labelEvery == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%d">%s</text>`, x, graphH-4, b.start.Format(layout))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // numbers and fixed strings only
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
