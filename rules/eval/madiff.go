package eval

import (
	"strings"
	"unicode"

	"github.com/gospamd/gospamd/tokenizer"
)

// The multipart/alternative difference (BodyEval.pm): in a
// multipart/alternative, the text/plain and text/html versions should
// say the same words. madiff is, for the alternative whose HTML words
// differ most, the percentage of distinct HTML words the plain text
// does not have as often; madiffText and madiffHTML are the distinct
// word counts of the last alternative with HTML words.
type madiff struct {
	diff       float64
	text, html int
}

func addMadiff(m map[string]Func) {
	m["multipart_alternative_difference"] = multipartAlternativeDifference
	m["multipart_alternative_difference_count"] = multipartAlternativeDifferenceCount
}

// multipartAlternativeDifference
// (multipart_alternative_difference(MIN, MAX)): madiff is above MIN (or
// MIN is 0) and at most MAX (or MAX is "undef").
func multipartAlternativeDifference(c *Context, args []string) (bool, error) {
	if err := needArgs("multipart_alternative_difference", args, 2); err != nil {
		return false, err
	}
	d := c.madiff()
	lo := perlNum(args[0])
	return (lo == 0 || d.diff > lo) && (args[1] == "undef" || d.diff <= perlNum(args[1])), nil
}

// multipartAlternativeDifferenceCount
// (multipart_alternative_difference_count(RATIO, MINHTML)): more than
// MINHTML distinct HTML words, and distinct text words per HTML word
// above RATIO.
func multipartAlternativeDifferenceCount(c *Context, args []string) (bool, error) {
	if err := needArgs("multipart_alternative_difference_count", args, 2); err != nil {
		return false, err
	}
	d := c.madiff()
	if float64(d.html) <= perlNum(args[1]) {
		return false, nil
	}
	return float64(d.text)/float64(d.html) > perlNum(args[0]), nil
}

func (c *Context) madiff() madiff {
	return cached(c, "madiff", func() madiff { return madiffOf(c.Msg.Parts) })
}

// madiffOf is _multipart_alternative_difference.
func madiffOf(parts []*tokenizer.Part) madiff {
	var out madiff
	if len(parts) == 0 {
		return out
	}
	// An Exchange meeting request (multipart/alternative of text/html
	// and text/calendar alone) is left alone: content_summary is then
	// exactly those three types.
	if summary := contentSummary(parts); len(summary) == 3 && summary[0] == "multipart/alternative" &&
		summary[1] == "text/html" && summary[2] == "text/calendar" {
		return out
	}
	for i, ma := range parts {
		if !isMultipartAlternative(ma.ContentType) {
			continue
		}
		html, text := map[string]int{}, map[string]int{}
		for _, p := range parts[i+1:] {
			if p.Depth <= ma.Depth {
				break
			}
			typ, ok := renderedType(p)
			if !ok {
				continue
			}
			rnd, wide := p.RenderedText()
			if typ == "text/html" {
				countWords(html, rnd, wide)
				if len(html) == 0 && p.IsHTML() {
					if st := p.HTMLStats(); st != nil {
						if _, ok := st.Inside["img"]; ok {
							html["\n"] = 1 // a mark no word can be
						}
					}
				}
			} else {
				countWords(text, rnd, wide)
			}
		}
		orig := len(html)
		if orig == 0 {
			continue
		}
		out.html, out.text = orig, len(text)
		for w, n := range text {
			if h, ok := html[w]; ok && h-n < 1 {
				delete(html, w)
			}
		}
		if d := float64(len(html)) / float64(orig) * 100; d > out.diff {
			out.diff = d
		}
	}
	return out
}

// isMultipartAlternative is the type test /^multipart\/alternative\b/.
func isMultipartAlternative(t string) bool {
	rest, ok := strings.CutPrefix(t, "multipart/alternative")
	return ok && (rest == "" || !isWordByte(rest[0]))
}

// renderedType is the type Node::rendered gives a part that
// find_parts(qr@^text\b@) found: text/html for an .html file name,
// else the part's own type, and only text/plain and text/html render.
func renderedType(p *tokenizer.Part) (string, bool) {
	rest, ok := strings.CutPrefix(p.ContentType, "text")
	if !ok || rest != "" && isWordByte(rest[0]) {
		return "", false
	}
	typ := p.ContentType
	name := strings.ToLower(p.Filename)
	for _, ext := range []string{".html", ".htm", ".shtml", ".shtm"} {
		if strings.HasSuffix(name, ext) {
			typ = "text/html"
		}
	}
	return typ, typ == "text/plain" || typ == "text/html"
}

// countWords adds the whitespace-separated words of s that hold a word
// character (grep /\w/, split /\s+/), with Perl's Unicode meanings when
// wide.
func countWords(into map[string]int, s string, wide bool) {
	asciiSpace := func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' }
	isSpace := asciiSpace
	if wide {
		isSpace = func(r rune) bool {
			return asciiSpace(r) || r == 0x85 || r == 0xa0 || r == 0x1680 || r >= 0x2000 && r <= 0x200a ||
				r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000
		}
	}
	for _, w := range strings.FieldsFunc(s, isSpace) {
		word := strings.ContainsFunc(w, func(r rune) bool {
			if r < 0x80 {
				return isWordByte(byte(r))
			}
			return wide && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
		})
		if word {
			into[w]++
		}
	}
}

// contentSummary is Node::content_summary of the message: the root's
// type, then per child of the root its type and its descendants', joined
// with commas.
func contentSummary(parts []*tokenizer.Part) []string {
	out := []string{parts[0].ContentType}
	for _, p := range parts[1:] {
		if p.Depth == 1 {
			out = append(out, p.ContentType)
		} else if p.Depth > 1 {
			out[len(out)-1] += "," + p.ContentType
		}
	}
	return out
}
