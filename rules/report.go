package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

// builtinReportTemplate is the report of a policy without "report" lines.
// Its layout (preamble, preview, the points table) is the one spamc users
// and scripts know from SpamAssassin.
const builtinReportTemplate = `Spam detection software, running on the system "_HOSTNAME_",
has_YESNO(, NOT)_ identified this incoming email as_YESNO( possible,)_ spam.  The original
message has been attached to this so you can view it or label
similar future email.  If you have any questions, see
_CONTACTADDRESS_ for details.

Content preview:  _PREVIEW_

Content analysis details:   (_SCORE_ points, _REQD_ required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
_SUMMARY_
`

// defaultReportWrapWidth is report_wrap_width's default.
const defaultReportWrapWidth = 75

// noDescription stands in for a rule without a describe line.
const noDescription = "No description available."

// Report is the report text: the REPORT verb's body and what report_safe
// wraps around a spam. It is the policy's report template (or the
// built-in one) with its tags expanded, ending in one empty line.
func (mk Markup) Report(res *Result, m *tokenizer.Message) string {
	tmpl := mk.ReportTemplate
	if tmpl == "" {
		tmpl = builtinReportTemplate
	}
	return strings.TrimRight(mk.expandTags(tmpl, res, m), "\n") + "\n\n"
}

// hitScore is a hit's points as reports print them: four columns, no
// decimal from 10 points on.
func hitScore(s float64) string {
	if s >= 10 || s <= -10 {
		return fmt.Sprintf("%4.0f", s)
	}
	return fmt.Sprintf("%4.1f", s)
}

// hitDetails splits each logged detail into bracketed pieces of 30 to 48
// characters (breaking at white space) as the report prints them.
func hitDetails(details []string) [][]string {
	var out [][]string
	for _, d := range details {
		var pieces []string
		for {
			loc := detailPiece.FindStringSubmatchIndex(d)
			if loc == nil {
				break
			}
			pieces = append(pieces, d[loc[2]:loc[3]])
			d = d[loc[1]:]
		}
		out = append(out, append(pieces, d))
	}
	return out
}

// detailPiece is the longest run of 30 to 48 characters (no newline)
// followed by white space at the start of a detail.
var detailPiece = regexp.MustCompile(`^([^\n]{30,48})\s`)

func (mk Markup) wrapWidth() int {
	if mk.ReportWrapWidth > 0 {
		return mk.ReportWrapWidth
	}
	return defaultReportWrapWidth
}

func describe(h Hit) string {
	if h.Description == "" {
		return noDescription
	}
	return h.Description
}

// summaryTag is _SUMMARY_: one entry per hit with its points, name, area
// and description (wrapped under the description column), and the hit's
// details in brackets below it.
func (mk Markup) summaryTag(res *Result) string {
	var b strings.Builder
	for _, h := range res.Hits {
		score := hitScore(h.Score)
		desc := wrapDescription(describe(h), 3+len(h.Rule)+len(score)+len(h.Area), strings.Repeat(" ", 28), mk.wrapWidth())
		fmt.Fprintf(&b, "%s %-22s %s%s\n", score, h.Rule, h.Area, desc)
		for _, pieces := range hitDetails(h.Details) {
			for _, p := range pieces {
				if len(p) > 47 {
					fmt.Fprintf(&b, "%78s\n", "["+p+"]")
				} else {
					fmt.Fprintf(&b, "%27s [%s]\n", "", p)
				}
			}
		}
	}
	return b.String()
}

// reportTag is _REPORT_ (X-Spam-Report under report_safe 0): the terse
// form of the summary, each line starting "* ".
func (mk Markup) reportTag(res *Result) string {
	var b strings.Builder
	for _, h := range res.Hits {
		score := hitScore(h.Score)
		desc := wrapDescription(describe(h), 4+len(h.Rule)+len(score)+len(h.Area), "*      ", mk.wrapWidth())
		fmt.Fprintf(&b, "* %s %s %s%s\n", score, h.Rule, h.Area, desc)
		var terse strings.Builder
		for _, pieces := range hitDetails(h.Details) {
			for _, p := range pieces {
				fmt.Fprintf(&terse, "[%s]\n", p)
			}
		}
		// Only the first detail line gets the "*" prefix, as in
		// SpamAssassin.
		if terse.Len() > 0 {
			b.WriteString("*      " + terse.String())
		}
	}
	return b.String()
}

// wrapDescription wraps a rule description that starts at column first,
// continuation lines starting with prefix.
func wrapDescription(desc string, first int, prefix string, width int) string {
	w := wrapText(desc, prefix, strings.Repeat(" ", first), width, false)
	return strings.TrimLeft(w, " \t\n\r\f\v")
}

var (
	previewOriginal = regexp.MustCompile(`(?m)-----Original Message-----.*$`)
	previewRule     = regexp.MustCompile(`[-_*.]{10,}`)
	previewSpaceRun = regexp.MustCompile(`\s+`)
	previewLabel    = regexp.MustCompile(`^Content preview:\s+`)
)

// cutLongLines cuts every line of s longer than n bytes (SpamAssassin
// counts the octets of the UTF-8 text) to n bytes followed by " [...]".
func cutLongLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		if len(body) > n {
			lines[i] = body[:n] + " [...]" + l[len(body):]
		}
	}
	return strings.Join(lines, "")
}

// contentPreview is _PREVIEW_: the first lines of the rendered body text
// (hidden HTML text included, Subject left out) up to about 200 characters, tidied and wrapped to fit after
// "Content preview:  ".
func contentPreview(m *tokenizer.Message) string {
	if m == nil || len(m.Rendered) < 2 {
		return ""
	}
	var s string
	for i, lines := 1, 3; i < len(m.Rendered) && len(s) < 200 && lines > 0; i, lines = i+1, lines-1 {
		s += m.Rendered[i]
	}
	s = cutLongLines(s, 200)
	s = strings.TrimSuffix(s, "\n") + "\n"
	s = previewOriginal.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "This is a multi-part message in MIME format.", "")
	s = previewRule.ReplaceAllString(s, "")
	s = previewSpaceRun.ReplaceAllString(s, " ")
	s = wrapText(s, "  ", "Content preview:  ", 75, true)
	return previewLabel.ReplaceAllString(s, "")
}
