package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// render fills the per-part text and the message's Text, Invisible and
// URIs from the leaves of the tree rooted at root.
func (p *parser) render(root *node) {
	var leaves []*node
	var collect func(n *node)
	collect = func(n *node) {
		if n.part == nil {
			return
		}
		if len(n.children) == 0 {
			if n.ctype != "" {
				leaves = append(leaves, n)
			}
			return
		}
		for _, c := range n.children {
			collect(c)
		}
	}
	collect(root)

	// Render every leaf first, to size the builders (from above: the
	// scan size counts characters).
	type leafKind struct{ isText, isHTML bool }
	kinds := make([]leafKind, len(leaves))
	sizeAll, sizeVis, sizeInv := 0, 0, 0
	scan := p.lim.BodyPartScanSize
	upTo := func(s string) int {
		if scan > 0 {
			return min(len(s), utf8.UTFMax*scan)
		}
		return len(s)
	}
	for i, n := range leaves {
		isText, isHTML := p.renderLeaf(n)
		kinds[i] = leafKind{isText, isHTML}
		if isText {
			part := n.part
			if isHTML {
				sizeAll += upTo(part.allText)
			} else {
				sizeAll += upTo(part.Rendered)
			}
			sizeVis += upTo(part.Rendered)
			sizeInv += upTo(part.Invisible)
		}
	}
	var vis, inv strings.Builder
	vis.Grow(sizeVis + len(leaves))
	if sizeInv > 0 {
		inv.Grow(sizeInv + len(leaves))
	}
	var allWide, visWide, invWide bool
	var htmlURIs, mailto []string
	for i, n := range leaves {
		if vis.Len() > 0 {
			vis.WriteByte('\n')
		}
		if inv.Len() > 0 {
			inv.WriteByte('\n')
		}
		isText, isHTML := kinds[i].isText, kinds[i].isHTML
		if !isText {
			continue
		}
		part := n.part
		if isHTML {
			allWide = allWide || part.wide.all
			visWide = visWide || part.wide.visible
			invWide = invWide || part.wide.invisible
		} else {
			w := !isASCII(part.Rendered)
			allWide, visWide = allWide || w, visWide || w
		}
		vis.WriteString(scanTruncate(part.Rendered, scan))
		inv.WriteString(scanTruncate(part.Invisible, scan))
		htmlURIs = append(htmlURIs, part.uris...)
		mailto = append(mailto, part.mailto...)
	}
	subject := p.msg.Header.last("subject")
	subject += "\n"
	p.msg.Text = bodyTextArray(subject, vis.String(), visWide)
	p.msg.Invisible = bodyTextArray("", inv.String(), invWide)
	rendered := p.msg.Text
	if inv.Len() > 0 || allWide != visWide {
		// The text with the invisible parts left in, only built when
		// it differs from the visible text.
		var all strings.Builder
		all.Grow(sizeAll + len(leaves))
		for i, n := range leaves {
			if all.Len() > 0 {
				all.WriteByte('\n')
			}
			switch {
			case !kinds[i].isText:
			case kinds[i].isHTML:
				all.WriteString(scanTruncate(n.part.allText, scan))
			default:
				all.WriteString(scanTruncate(n.part.Rendered, scan))
			}
		}
		rendered = bodyTextArray(subject, all.String(), allWide)
	}
	p.msg.Rendered = rendered
	var parsed map[string]bool
	p.msg.URIs, parsed = collectURIs(rendered, htmlURIs)
	for _, u := range mailto {
		if !parsed[u] {
			p.msg.MailtoLinks = append(p.msg.MailtoLinks, u)
		}
	}
}

// renderLeaf renders one leaf as Node::rendered does. Only text/plain and
// text/html (by type or by an .html file name) are rendered.
func (p *parser) renderLeaf(n *node) (isText, isHTML bool) {
	part := n.part
	typ := n.ctype
	if name := strings.ToLower(part.Filename); strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".htm") ||
		strings.HasSuffix(name, ".shtml") || strings.HasSuffix(name, ".shtm") {
		typ = "text/html"
	}
	if typ != "text/plain" && typ != "text/html" {
		return false, false
	}
	charset := n.ct.charset
	if !n.ct.hasCharset {
		charset = "us-ascii"
	}
	text, known := normalizeCharset(part.Decoded, charset, false)
	if !known {
		p.msg.addDefect(DefectUnknownCharset)
	}
	part.Text = text
	if len(part.Decoded) > 0 && typ == "text/html" {
		src := text
		if len(src) > p.lim.MaxHTMLBytes {
			src = src[:p.lim.MaxHTMLBytes]
			p.msg.addDefect(DefectTruncated)
		}
		r := renderHTML(src)
		part.Rendered = r.visible
		part.Invisible = r.invisible
		part.allText = r.all
		part.uris = r.uris
		part.mailto = r.mailto
		part.wide.all, part.wide.visible, part.wide.invisible = r.allWide, r.visibleWide, r.invisibleWide
		return true, true
	}
	part.Rendered = text
	return true, false
}

// isPerlUnicodeSpace is Perl's \s on a character string.
func isPerlUnicodeSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// bodyTextArray is get_body_text_array_common: blank-line separated
// paragraphs of text become lines, other whitespace runs become one
// space, the prefix (the Subject line) goes first, and lines longer than
// 2048 bytes are cut at a space. Every element keeps its "\n".
//
// wide tells whether Perl holds text as a character string. When it does
// not (all parts were ASCII and HTML entities gave only Latin-1
// characters), Perl's \s matches ASCII blanks only and the Latin-1
// characters reach the tokenizer as single octets, not UTF-8; the result
// then reproduces those octets.
func bodyTextArray(prefix, text string, wide bool) []string {
	if !wide && !isASCII(text) {
		text = latin1Octets(text)
		return splitShortLines(prefix, collapseBodySpace(text, false))
	}
	return splitShortLines(prefix, collapseBodySpace(text, true))
}

// latin1Octets turns a string of characters below U+0100 into one byte
// per character.
func latin1Octets(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return s
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// bodyPlainASCII marks the bytes collapseBodySpace copies as they are
// without a look: ASCII but NUL and Perl's whitespace.
var bodyPlainASCII = func() (a [256]bool) {
	for c := 1; c < 0x80; c++ {
		a[c] = !isPerlSpace(byte(c))
	}
	return a
}()

// collapseBodySpace applies s/\n+\s*\n+/\0/; s/\s+/ /; tr/\0/\n/ with
// Unicode (wide) or ASCII-only whitespace.
func collapseBodySpace(text string, wide bool) string {
	isSpace := func(s string) (bool, int) {
		if !wide || s[0] < 0x80 {
			return isPerlSpace(s[0]), 1
		}
		r, size := utf8.DecodeRuneInString(s)
		return isPerlUnicodeSpace(r), size
	}
	var sb strings.Builder
	sb.Grow(len(text))
	for i := 0; i < len(text); {
		// Copy a run of plain ASCII bytes at once, single spaces
		// between them included (a run of one space becomes itself).
		j := i
		for j < len(text) {
			c := text[j]
			if !bodyPlainASCII[c] && (c != ' ' || j+1 >= len(text) || !bodyPlainASCII[text[j+1]]) {
				break
			}
			j++
		}
		if j > i {
			sb.WriteString(text[i:j])
			i = j
			continue
		}
		sp, size := isSpace(text[i:])
		if !sp {
			if text[i] == 0 {
				// tr/\0/\n/ also turns NULs of the text into newlines.
				sb.WriteByte('\n')
				i++
				continue
			}
			sb.WriteString(text[i : i+size])
			i += size
			continue
		}
		// A whitespace run [i, j): newlines first..last at f..l.
		j = i
		f, l, nl := -1, -1, 0
		for j < len(text) {
			sp2, s2 := isSpace(text[j:])
			if !sp2 {
				break
			}
			if text[j] == '\n' {
				if f < 0 {
					f = j
				}
				l = j
				nl++
			}
			j += s2
		}
		if nl >= 2 {
			if f > i {
				sb.WriteByte(' ')
			}
			sb.WriteByte('\n')
			if l+1 < j {
				sb.WriteByte(' ')
			}
		} else {
			sb.WriteByte(' ')
		}
		i = j
	}
	return sb.String()
}

// splitShortLines is split_into_array_of_short_lines over prefix+text.
func splitShortLines(prefix, text string) []string {
	if prefix == "" && text == "" {
		return nil
	}
	if prefix != "" && !strings.HasSuffix(prefix, "\n") {
		return appendShortLines(nil, prefix+text)
	}
	// No line spans a prefix ending in a newline: split the two apart
	// rather than copy the text after it.
	out := make([]string, 0, strings.Count(prefix, "\n")+strings.Count(text, "\n")+1)
	return appendShortLines(appendShortLines(out, prefix), text)
}

// appendShortLines appends the lines of all, each cut to
// maxBodyLineLength at a space, to out.
func appendShortLines(out []string, all string) []string {
	for all != "" {
		k := strings.IndexByte(all, '\n')
		var line string
		if k < 0 {
			line, all = all, ""
		} else {
			line, all = all[:k+1], all[k+1:]
		}
		for len(line) > maxBodyLineLength {
			cut := strings.LastIndexByte(line[:maxBodyLineLength+1], ' ') + 1
			if cut == 0 {
				cut = maxBodyLineLength
			}
			out = append(out, line[:cut])
			line = line[cut:]
		}
		out = append(out, line)
	}
	return out
}

// scanTruncate cuts a part's rendered text the way body_part_scan_size
// does: after n characters, at the next newline or else the next space
// if one follows within 1024 characters, else at exactly n characters.
func scanTruncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	// Byte offset of character n.
	off, chars := 0, 0
	for off < len(s) && chars < n {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
		chars++
	}
	if off >= len(s) {
		return s
	}
	within := func(sep byte) (int, bool) {
		k := strings.IndexByte(s[off:], sep)
		if k < 0 {
			return 0, false
		}
		if utf8.RuneCountInString(s[off:off+k]) > 1024 {
			return 0, false
		}
		return off + k + 1, true
	}
	if end, ok := within('\n'); ok {
		return s[:end]
	}
	if end, ok := within(' '); ok {
		return s[:end]
	}
	return s[:off]
}
