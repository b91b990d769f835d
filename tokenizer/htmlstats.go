package tokenizer

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HTMLStats are the facts SpamAssassin's HTML.pm gathers while rendering
// one HTML part, which the html_* eval tests read (HTMLEval.pm). Ratios
// are nil-able in Perl (undefined when their denominator never counted);
// here the Has* flags say whether a value is defined.
//
// HTMLStats is computed on demand by Part.HTMLStats and not kept by the
// Message; callers cache it.
type HTMLStats struct {
	// Inside is the open count of each tag name seen (lower case): +1 per
	// start tag, -1 per end tag, never below 0. A tag that was ever seen
	// has a key, even at 0. "!doctype" is set to 0 by a DOCTYPE.
	Inside map[string]int

	// Tags counts every start and end tag (and a DOCTYPE); Elements the
	// ones that are HTML 4 elements (or o:/stN: namespace tags). TagsSeen
	// and ElementsSeen count only first sightings of a name.
	Tags, Elements, TagsSeen, ElementsSeen int
	// ClosedExtra counts end tags with no open start tag.
	ClosedExtra int
	// Obfuscation counts text runs that continue a word across markup
	// (e.g. "V<b></b>iagra").
	Obfuscation int
	// Backhair counts distinct word-split shapes ("3_4"): a word of 1–7
	// characters split by markup.
	Backhair map[string]int

	// MinSize and MaxSize are the smallest and largest font sizes set
	// (default 3).
	MinSize, MaxSize int
	// ImageArea sums width×height of <img> tags that give both (percent
	// widths ×8, heights ×6, zero or unparsable sizes count 200).
	ImageArea int
	// Length is the length of the HTML source, in characters.
	Length int
	// HTMLLength is the length of the rendered text (visible and hidden),
	// in characters; NonSpaceLen the same without whitespace.
	HTMLLength, NonSpaceLen int

	// Comments are the markup comments as written ("<!-- … -->", also
	// bogus ones such as "<!foo>" and "</ x>").
	Comments []string
	// Scripts are the text runs inside <script>.
	Scripts []string
	// Titles are the texts of each <title>.
	Titles []string
	// Anchors are the texts of each <a>, "<img>\n" standing for an image.
	Anchors []string
	// Links pair each <a>'s href (trimmed, as written; "" without one)
	// with its text, in document order; Links[i].Text == Anchors[i].
	Links []HTMLLink
	// Charsets are the charsets named by <meta http-equiv=Content-Type>.
	Charsets []string

	// Flags are the boolean html_test names that were set: "html",
	// "font_face_bad", "font_low_contrast", "font_invalid_color",
	// "form_action_mailto", "embeds".
	Flags map[string]bool

	// IframeSrc is true when an <iframe> had a non-empty src.
	IframeSrc bool
	// URITruncated is true when a tag URI was cut at 8192 bytes.
	URITruncated bool

	anchorOpen bool // an <a> was seen (Anchors has an entry to extend)
	titleOpen  bool
}

// An HTMLLink is one <a> element: its href and its text.
type HTMLLink struct {
	Href, Text string
}

// Value returns the numeric value of a named statistic, as html_range and
// html_eval look them up, and whether it is defined.
func (s *HTMLStats) Value(name string) (float64, bool) {
	switch name {
	case "html":
		return 1, true
	case "length":
		return float64(s.Length), true
	case "html_length":
		return float64(s.HTMLLength), true
	case "non_space_len":
		return float64(s.NonSpaceLen), true
	case "image_area":
		return float64(s.ImageArea), true
	case "min_size":
		return float64(s.MinSize), true
	case "max_size":
		return float64(s.MaxSize), true
	case "closed_extra_ratio":
		if s.Tags == 0 {
			return 0, false
		}
		return float64(s.ClosedExtra) / float64(s.Tags), true
	case "bad_tag_ratio":
		if s.Tags == 0 {
			return 0, false
		}
		return float64(s.Tags-s.Elements) / float64(s.Tags), true
	case "non_element_ratio":
		if s.TagsSeen == 0 {
			return 0, false
		}
		return float64(s.TagsSeen-s.ElementsSeen) / float64(s.TagsSeen), true
	case "obfuscation_ratio":
		if s.Tags == 0 || s.Obfuscation == 0 {
			return 0, false
		}
		return float64(s.Obfuscation) / float64(s.Tags), true
	case "backhair_count":
		if s.Backhair == nil {
			return 0, false
		}
		return float64(len(s.Backhair)), true
	}
	if s.Flags[name] {
		return 1, true
	}
	return 0, false
}

// TextList returns a named list of texts ("comment", "script", "title",
// "anchor") as html_text_match reads them.
func (s *HTMLStats) TextList(name string) ([]string, bool) {
	switch name {
	case "comment":
		return s.Comments, s.Comments != nil
	case "script":
		return s.Scripts, s.Scripts != nil
	case "title":
		return s.Titles, s.Titles != nil
	case "anchor":
		return s.Anchors, s.Anchors != nil
	}
	return nil, false
}

// IsHTML reports whether the part is rendered as HTML: a non-empty leaf
// whose type is text/html or whose file name ends in .htm(l)/.shtm(l).
func (p *Part) IsHTML() bool {
	if !p.Leaf || len(p.Decoded) == 0 {
		return false
	}
	if p.ContentType == "text/html" {
		return true
	}
	name := strings.ToLower(p.Filename)
	return strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".htm") ||
		strings.HasSuffix(name, ".shtml") || strings.HasSuffix(name, ".shtm")
}

// HTMLStats renders the part's HTML again and returns what HTML.pm
// records about it, or nil when the part is not HTML (see IsHTML). The
// source is capped at DefaultLimits().MaxHTMLBytes like rendering is.
func (p *Part) HTMLStats() *HTMLStats {
	if !p.IsHTML() {
		return nil
	}
	src := p.Text
	if lim := DefaultLimits().MaxHTMLBytes; len(src) > lim {
		src = src[:lim]
	}
	return htmlStatsOf(src)
}

func htmlStatsOf(src string) *HTMLStats {
	st := &HTMLStats{
		Inside:  map[string]int{},
		MinSize: 3, MaxSize: 3,
		Length: utf8.RuneCountInString(src),
		Flags:  map[string]bool{"html": true},
	}
	res := renderHTMLWith(src, st)
	st.HTMLLength = utf8.RuneCountInString(res.all)
	space := 0
	for _, c := range res.all {
		if res.allWide && isPerlUnicodeSpace(c) || !res.allWide && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v') {
			space++
		}
	}
	st.NonSpaceLen = st.HTMLLength - space
	return st
}

var htmlNamespaceTag = regexp.MustCompile(`^(?:o|st\d):[\w-]+/?$`)

// tagCount is the counting at the top of html_tag; it reports whether the
// tag is a namespace tag (which HTML.pm handles no further).
func (s *HTMLStats) tagCount(tag string, num int) bool {
	ns := htmlNamespaceTag.MatchString(tag)
	_, seen := s.Inside[tag]
	if htmlElements[tag] || ns {
		s.Elements++
		if !seen {
			s.ElementsSeen++
		}
	}
	s.Tags++
	if !seen {
		s.TagsSeen++
	}
	s.Inside[tag] += num
	if s.Inside[tag] < 0 {
		s.Inside[tag] = 0
		s.ClosedExtra++
	}
	return ns
}

// htmlElements are HTML.pm's %elements (not the %tricks).
var htmlElements = func() map[string]bool {
	m := map[string]bool{}
	for t := range htmlKnownTags {
		m[t] = true
	}
	for _, t := range []string{"bgsound", "embed", "listing", "plaintext", "xmp"} {
		delete(m, t)
	}
	return m
}()

var fontFaceOK = regexp.MustCompile(`(?i)^\s*["'.]?[a-z ][a-z -]*[a-z]\d?["']?(?:,\s*["']?[a-z][a-z -]*[a-z]\d?["']?)*;?$`)
var metaCharset = regexp.MustCompile(`(?i)\bcharset\s*=\s*["']?([^"']+)`)

// tagTests is html_tests, run for start tags of known elements after
// styles and URIs.
func (s *HTMLStats) tagTests(tag string, attrs []htmlAttr) {
	if tag == "font" {
		if face, ok := attrVal(attrs, "face"); ok && !fontFaceOK.MatchString(face) {
			s.Flags["font_face_bad"] = true
		}
	}
	if tag == "img" && s.Inside["a"] > 0 && s.anchorOpen {
		s.Anchors[len(s.Anchors)-1] += "<img>\n"
		s.Links[len(s.Links)-1].Text += "<img>\n"
	}
	if tag == "img" {
		w, okw := attrVal(attrs, "width")
		h, okh := attrVal(attrs, "height")
		if okw && okh {
			width, height := imgDim(w, 8), imgDim(h, 6)
			if width <= 0 {
				width = 200
			}
			if height <= 0 {
				height = 200
			}
			s.ImageArea += width * height
		}
	}
	if tag == "form" {
		if a, ok := attrVal(attrs, "action"); ok && strings.Contains(strings.ToLower(a), "mailto:") {
			s.Flags["form_action_mailto"] = true
		}
	}
	if tag == "object" || tag == "embed" {
		s.Flags["embeds"] = true
	}
	if tag == "a" {
		href := ""
		if v, ok := attrVal(attrs, "href"); ok {
			href = canonHTMLURI(v)
		}
		s.Anchors = append(s.Anchors, "")
		s.Links = append(s.Links, HTMLLink{Href: href})
		s.anchorOpen = true
	}
	if tag == "title" {
		s.Titles = append(s.Titles, "")
		s.titleOpen = true
	}
	if tag == "meta" {
		he, ok1 := attrVal(attrs, "http-equiv")
		c, ok2 := attrVal(attrs, "content")
		if ok1 && ok2 && strings.Contains(strings.ToLower(he), "content-type") {
			if m := metaCharset.FindStringSubmatch(c); m != nil {
				s.Charsets = append(s.Charsets, m[1])
			}
		}
	}
	if tag == "iframe" {
		if src, ok := attrVal(attrs, "src"); ok && canonHTMLURI(src) != "" {
			s.IframeSrc = true
		}
	}
	for _, a := range attrs {
		switch a.key {
		case "href", "src", "background", "action":
			if len(strings.TrimSpace(a.val)) > maxURILength {
				s.URITruncated = true
			}
		}
	}
}

// imgDim reads /^(\d+)(%)?$/; a percentage is multiplied by pct.
func imgDim(v string, pct int) int {
	n, i := 0, 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		if n < 1e8 {
			n = n*10 + int(v[i]-'0')
		}
		i++
	}
	switch {
	case i == 0:
		return 0
	case i == len(v):
		return n
	case i == len(v)-1 && v[i] == '%':
		return n * pct
	}
	return 0
}

// text is the statistics half of html_text, run before the text is
// displayed; prev is the last rendered chunk, if any.
func (s *HTMLStats) text(t string, inScript, inStyle bool, prev *htmlChunk, st *textStyle) {
	if inScript {
		s.Scripts = append(s.Scripts, t)
		return
	}
	if inStyle {
		return
	}
	if s.Inside["a"] > 0 && s.anchorOpen {
		s.Anchors[len(s.Anchors)-1] += t
		s.Links[len(s.Links)-1].Text += t
	}
	if s.Inside["title"] > 0 && s.titleOpen {
		s.Titles[len(s.Titles)-1] += t
	}
	if hasVisibleHTMLChar(t) {
		s.fontFlags(st)
	}
	if prev == nil {
		return
	}
	if first, ok := firstRune(t); ok && isWordish(first) {
		if last, ok := lastRune(prev.text); ok && isWordish(last) {
			s.Obfuscation++
		}
	}
	if a := trailingWordish(prev.text); a > 0 {
		if b := leadingWordish(t); b > 0 {
			if s.Backhair == nil {
				s.Backhair = map[string]int{}
			}
			s.Backhair[strconv.Itoa(a)+"_"+strconv.Itoa(b)]++
		}
	}
}

// fontFlags records the low-contrast and invalid-color findings of
// html_font_invisible.
func (s *HTMLStats) fontFlags(st *textStyle) {
	fg, bg := st.fg, st.bg
	if last6(fg) == last6(bg) {
		s.Flags["font_low_contrast"] = true
		return
	}
	if f, ok := hexRGB(fg); ok {
		if b, ok := hexRGB(bg); ok {
			dr := 0.2126 * float64(f[0]-b[0])
			dg := 0.7152 * float64(f[1]-b[1])
			db := 0.0722 * float64(f[2]-b[2])
			if dr*dr+dg*dg+db*db < 144 {
				s.Flags["font_low_contrast"] = true
				return
			}
		}
	}
	if fg == "invalid" || bg == "invalid" {
		s.Flags["font_invalid_color"] = true
	}
}

// comment is html_comment / html_declaration for a comment-like token.
func (s *HTMLStats) comment(raw string) {
	if strings.HasPrefix(raw, "<?") {
		return // a processing instruction
	}
	s.Comments = append(s.Comments, raw)
}

func (s *HTMLStats) doctype() {
	s.Elements++
	s.Tags++
	s.Inside["!doctype"] = 0
}

func (s *HTMLStats) size(n int) {
	if n > s.MaxSize {
		s.MaxSize = n
	} else if n < s.MinSize {
		s.MinSize = n
	}
}

// isWordish is the class [^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e].
func isWordish(r rune) bool {
	if r < 0x80 {
		return !(isPerlSpace(byte(r)) || r >= 0x21 && r <= 0x2f || r >= 0x3a && r <= 0x40 || r >= 0x5b && r <= 0x60 || r >= 0x7b && r <= 0x7e)
	}
	return !isPerlUnicodeSpace(r)
}

func isPerlWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func firstRune(s string) (rune, bool) {
	if s == "" {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r, true
}

func lastRune(s string) (rune, bool) {
	if s == "" {
		return 0, false
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r, true
}

// trailingWordish is the length of /\b([wordish]{1,7})\z/, or 0.
func trailingWordish(s string) int {
	runes := []rune(s)
	n := 0
	for n < len(runes) && n < 8 && isWordish(runes[len(runes)-1-n]) {
		n++
	}
	for k := min(n, 7); k > 0; k-- {
		i := len(runes) - k
		before := i > 0 && isPerlWord(runes[i-1])
		if before != isPerlWord(runes[i]) {
			return k
		}
	}
	return 0
}

// leadingWordish is the length of /^([wordish]{1,7})\b/, or 0.
func leadingWordish(s string) int {
	runes := []rune(s)
	n := 0
	for n < len(runes) && n < 8 && isWordish(runes[n]) {
		n++
	}
	for k := min(n, 7); k > 0; k-- {
		after := k < len(runes) && isPerlWord(runes[k])
		if after != isPerlWord(runes[k-1]) {
			return k
		}
	}
	return 0
}

// RenderedText is Node::rendered's text of a text/plain or text/html
// leaf: for HTML the rendered text, visible and hidden, else Rendered.
// wide tells whether Perl holds it as a character string (then \s and
// \w have their Unicode meaning), as for HTMLStats.
func (p *Part) RenderedText() (text string, wide bool) {
	if p.allText != "" || p.IsHTML() {
		return p.allText, p.wide.all
	}
	return p.Rendered, !isASCII(p.Rendered)
}
