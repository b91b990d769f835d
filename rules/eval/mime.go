package eval

import (
	"regexp"
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

// SpamAssassin's MIMEEval reads the message's MIME tree as its own parser
// split it: every node's header and the raw (still encoded) lines of each
// leaf. mimeWalk re-splits the pristine body the same way, recording the
// structural oddities Message.pm flags on the way.

// mimeNode is one node of the raw MIME tree.
type mimeNode struct {
	ctype, boundary, charset, name string
	cte, disposition               string // lower-cased, trimmed
	ctRaw                          string // the Content-Type value, "" if none
	leaf                           bool
	raw                            []string // leaf body lines, each with its line ending
	children                       []*mimeNode
}

// mimeTree is the result of the walk: nodes in pre-order, and flags.
type mimeTree struct {
	nodes []*mimeNode
	flags map[string]bool // missing_mime_headers, missing_mime_head_body_separator, mime_epilogue_exists, mimepart_limit_exceeded
	// boundaryState is Message.pm's mime_boundary_state: +1 for an
	// opening boundary found, -1 for its closing one.
	boundaryState map[string]int
	parts         int
}

const maxMIMEParts = 1000

func (c *Context) mime() *mimeTree {
	return cached(c, "mime", func() *mimeTree {
		t := &mimeTree{flags: map[string]bool{}, boundaryState: map[string]int{}}
		hdr := map[string]string{}
		for _, f := range c.Msg.Header {
			k := strings.ToLower(f.Name)
			if _, ok := hdr[k]; !ok {
				hdr[k] = f.Value
			}
		}
		root := t.node(hdr)
		// The body as Message.pm reads it: runs of blank lines cut to
		// 20, and a multipart body that starts with neither a blank
		// line nor its boundary given a blank line first (bug 6845), so
		// that its first lines are not read as a part's MIME header.
		body := tokenizer.CollapseBlankRuns(splitLines(c.Msg.Body))
		if strings.HasPrefix(root.ctype, "multipart/") && len(body) > 1 && strings.TrimLeft(body[0], " \t\r\n\f\v") != "" &&
			(root.boundary == "" || !strings.HasPrefix(body[0], "--"+root.boundary)) {
			body = append([]string{"\n"}, body...)
		}
		t.fill(root, body, 0)
		return t
	})
}

// splitLines splits b after each "\n".
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.SplitAfter(string(b), "\n")[:strings.Count(string(b), "\n")+boolInt(b[len(b)-1] != '\n')]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var (
	ctBoundary = lazyRegexp(`(?i)\bboundary\s*=\s*("[^"]+|[^\s";]+)`)
	ctCharset  = lazyRegexp(`(?i)\bcharset\s*=\s*["']?(.*?)["']?(?:;|$)`)
	ctName     = lazyRegexp(`(?i)\b(?:file)?name\s*=\s*["']?(.*?)["']?(?:;|$)`)
	ctType     = lazyRegexp(`^([^/]+(?:/[^/\s]*)?)`)
	ctBadChars = lazyRegexp(`[\x00-\x20\x7f-\xff"(),:-?@\[-\]]`)
)

// parseContentType is Util::parse_content_type: the lower-cased type
// (text/* other than html, x-vcard and calendar read as text/plain; a
// missing type is text/plain), boundary, charset and name.
func parseContentType(ct string) (typ, boundary, charset, name string) {
	if ct == "" {
		return "text/plain", "", "us-ascii", ""
	}
	if m := ctBoundary().FindStringSubmatchIndex(ct); m != nil {
		b := ct[m[2]:m[3]]
		if b[0] == '"' || m[1] == len(ct) || strings.ContainsRune(" \t\r\n;", rune(ct[m[1]])) {
			boundary = strings.ReplaceAll(b, `"`, "")
		}
	}
	if m := ctCharset().FindStringSubmatch(ct); m != nil {
		charset = m[1]
	}
	if m := ctName().FindStringSubmatch(ct); m != nil {
		name = m[1]
	}
	t := strings.TrimLeft(ct, " \t\r\n")
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	if m := ctType().FindString(t); m != "" {
		t = m
	}
	t = strings.ToLower(t)
	if t == "" || (strings.HasPrefix(t, "text") && (len(t) == 4 || !isWordByte(t[4])) &&
		t != "text/x-vcard" && t != "text/calendar" && t != "text/html") {
		t = "text/plain"
	}
	t = ctBadChars().ReplaceAllString(t, "")
	return t, boundary, charset, name
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// node builds a node from a header map (lower-cased names).
func (t *mimeTree) node(hdr map[string]string) *mimeNode {
	n := &mimeNode{ctRaw: hdr["content-type"]}
	n.ctype, n.boundary, n.charset, n.name = parseContentType(n.ctRaw)
	n.cte = strings.ToLower(strings.TrimSpace(hdr["content-transfer-encoding"]))
	n.disposition = strings.ToLower(strings.TrimSpace(hdr["content-disposition"]))
	t.nodes = append(t.nodes, n)
	return n
}

var headerLine = lazyRegexp(`^[\x21-\x39\x3b-\x7e]+[ \t]*:`)
var headerLineStrict = lazyRegexp(`^[\x21-\x39\x3b-\x7e]+:`)

// fill gives n its body: children for a multipart with a boundary, raw
// lines otherwise.
func (t *mimeTree) fill(n *mimeNode, body []string, depth int) {
	if strings.HasPrefix(n.ctype, "multipart/") && n.boundary != "" && depth < 20 {
		t.multipart(n, body, depth)
		return
	}
	n.leaf = true
	n.raw = body
}

// isBoundary matches /^--BOUNDARY(--)?\s*$/ and reports whether it is the
// closing form.
func isBoundary(line, b string) (is, closing bool) {
	if !strings.HasPrefix(line, "--") || !strings.HasPrefix(line[2:], b) {
		return false, false
	}
	rest := line[2+len(b):]
	if strings.HasPrefix(rest, "--") && strings.TrimRight(rest[2:], " \t\r\n\f\v") == "" {
		return true, true
	}
	if strings.TrimRight(rest, " \t\r\n\f\v") == "" {
		return true, false
	}
	return false, false
}

// multipart is _parse_multipart.
func (t *mimeTree) multipart(n *mimeNode, body []string, depth int) {
	b := n.boundary
	for i, l := range body {
		if is, closing := isBoundary(l, b); is && !closing {
			t.boundaryState[b] = 1
			if i+1 < len(body) && !headerLineStrict().MatchString(body[i+1]) {
				t.flags["missing_mime_headers"] = true
			}
			body = body[i+1:]
			break
		}
	}
	var hdr map[string]string
	var curName, curVal string
	haveHeader := false
	inBody := false
	var partLines []string
	partLinesSet := false
	nested := false
	flushHeader := func() {
		if haveHeader {
			k := strings.ToLower(strings.TrimRight(curName, " \t"))
			if _, ok := hdr[k]; !ok {
				hdr[k] = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(curVal, "\r", ""), "\n", ""))
			}
			haveHeader = false
		}
	}
	newPart := func() {
		hdr = map[string]string{}
		inBody, haveHeader, partLines, partLinesSet = false, false, nil, false
	}
	newPart()
	left := len(body)
	for idx, line := range body {
		left--
		found, closing := isBoundary(line, b)
		if found && nested {
			found = false
			if closing {
				nested = false
			}
		}
		if left == 0 || found {
			if !found {
				partLines = append(partLines, line)
				partLinesSet = true
			} else if partLinesSet && len(partLines) > 0 {
				last := strings.TrimSuffix(partLines[len(partLines)-1], "\n")
				if last == "" {
					partLines = partLines[:len(partLines)-1]
				} else {
					partLines[len(partLines)-1] = last
				}
			}
			flushHeader()
			child := t.node(hdr)
			n.children = append(n.children, child)
			if child.boundary == "" {
				child.boundary = b
			}
			t.fill(child, partLines, depth+1)
			if closing && found {
				t.boundaryState[b]--
				// epilogue
				for _, rest := range body[idx+1:] {
					if strings.TrimLeft(rest, " \t\r\n\f\v.") != "" {
						t.flags["mime_epilogue_exists"] = true
						break
					}
				}
				return
			}
			if left > 0 && !headerLineStrict().MatchString(body[idx+1]) {
				t.flags["missing_mime_headers"] = true
			}
			t.parts++
			if t.parts == maxMIMEParts {
				t.flags["mimepart_limit_exceeded"] = true
				return
			}
			newPart()
			continue
		}
		if !inBody {
			if headerLine().MatchString(line) {
				flushHeader()
				i := strings.IndexByte(line, ':')
				curName, curVal, haveHeader = line[:i], line[i+1:], true
				continue
			}
			if (line[0] == ' ' || line[0] == '\t') && haveHeader {
				curVal += line
				continue
			}
			flushHeader()
			if ct, ok := hdr["content-type"]; ok {
				if _, nb, _, _ := parseContentType(ct); nb != "" && nb == b {
					nested = true
				}
			}
			inBody = true
			if strings.TrimRight(line, "\r\n") == "" {
				continue
			}
			t.flags["missing_mime_head_body_separator"] = true
		}
		partLines = append(partLines, line)
		partLinesSet = true
	}
}

// mimeStats is _check_attachments: counts and ratios over the MIME tree.
type mimeStats struct {
	vals     map[string]float64 // check_for_mime names
	charsets []string           // mime_html_charsets
}

func (c *Context) mimeStats() *mimeStats {
	return cached(c, "mimestats", func() *mimeStats {
		s := &mimeStats{vals: map[string]float64{
			"mime_base64_count": 0, "mime_base64_encoded_text": 0, "mime_body_html_count": 0,
			"mime_body_text_count": 0, "mime_faraway_charset": 0, "mime_missing_boundary": 0,
			"mime_multipart_alternative": 0, "mime_multipart_ratio": 1, "mime_qp_count": 0,
			"mime_qp_long_line": 0, "mime_qp_ratio": 0, "mime_ascii_text_illegal": 0,
			"mime_text_unicode_ratio": 0,
		}}
		locales := c.okLocales()
		qpBytes, qpCount := 0, 0.0
		normal, unicode := 0, 0
		type leafBytes struct {
			typ     string
			bytes   int
			counted bool
		}
		var leaves []leafBytes
		for _, p := range c.mime().nodes {
			if p.ctype == "multipart/alternative" {
				s.vals["mime_multipart_alternative"] = 1
			}
			cte, cd, charset := p.cte, p.disposition, strings.ToLower(p.charset)
			switch {
			case p.ctype == "text/html":
				s.vals["mime_body_html_count"]++
			case strings.HasPrefix(strings.ToLower(p.ctype), "text"):
				s.vals["mime_body_text_count"]++
			}
			if strings.Contains(cte, "base64") {
				s.vals["mime_base64_count"]++
			} else if strings.Contains(cte, "quoted-printable") {
				s.vals["mime_qp_count"]++
			}
			if cd != "" && strings.Contains(cd, "attachment") {
				s.vals["mime_attachment"]++
			}
			if strings.HasPrefix(p.ctype, "text") && strings.Contains(cte, "base64") &&
				(charset == "" || asciiCharset().MatchString(charset)) &&
				!(strings.HasPrefix(cd, "attachment") || strings.HasPrefix(cd, "inline")) {
				s.vals["mime_base64_encoded_text"] = 1
			}
			if badISOCharset().MatchString(charset) && !goodISOCharset().MatchString(charset) {
				s.vals["mime_bad_iso_charset"] = 1
			}
			if strings.ContainsFunc(charset, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
				s.charsets = append(s.charsets, charset)
				if locales != nil && !charsetOKForLocales(charset, locales) {
					s.vals["mime_faraway_charset"] = 1
				}
			}
			if !p.leaf {
				continue
			}
			lb := leafBytes{typ: p.ctype, counted: !strings.Contains(cd, "attachment")}
			for _, line := range p.raw {
				if s.vals["mime_multipart_alternative"] != 0 && !strings.Contains(cd, "attachment") &&
					(p.ctype == "text/plain" || p.ctype == "text/html") {
					lb.bytes += len(line)
				}
				if cte == "quoted-printable" && !strings.HasPrefix(line, "SPAM: ") {
					if len(line) > 79 {
						s.vals["mime_qp_long_line"] = 1
					}
					qpBytes += len(line)
					if strings.Contains(line, "=") {
						if n := len(qpEncoded().FindAllStringIndex(line, -1)); n > 0 {
							qpCount += float64(n)
							if m := qpTrailing().FindStringSubmatch(line); m != nil {
								qpCount -= float64(len(m[1])) / 3
							}
						}
					}
				}
				if p.ctype == "text/plain" && (p.charset == "" || charset == "us-ascii") {
					if strings.ContainsFunc(line, func(r rune) bool { return r == 0 || r == '\r' || r >= 0x80 }) {
						s.vals["mime_ascii_text_illegal"]++
					}
				}
				if p.ctype == "text/plain" && (cte == "" || cte == "7bit" || cte == "8bit") {
					subs := len(unicodeEntity().FindAllStringIndex(line, -1))
					normal += len(line) - 8*subs
					unicode += subs
				}
			}
			leaves = append(leaves, lb)
		}
		if qpBytes > 0 {
			s.vals["mime_qp_ratio"] = qpCount / float64(qpBytes)
			s.vals["mime_qp_count"] = qpCount
		}
		if normal > 0 {
			s.vals["mime_text_unicode_ratio"] = float64(unicode) / float64(normal)
		}
		if s.vals["mime_multipart_alternative"] != 0 {
			text, html := -1, -1
			for i := len(leaves) - 1; i >= 0; i-- {
				if !leaves[i].counted {
					continue
				}
				if html < 0 && leaves[i].typ == "text/html" {
					html = leaves[i].bytes
				} else if text < 0 && leaves[i].typ == "text/plain" {
					text = leaves[i].bytes
				}
				if html >= 0 && text >= 0 {
					break
				}
			}
			if text >= 0 && html > 0 {
				s.vals["mime_multipart_ratio"] = float64(text) / float64(html)
			}
		}
		for _, v := range c.mime().boundaryState {
			if v != 0 {
				s.vals["mime_missing_boundary"] = 1
				break
			}
		}
		return s
	})
}

var (
	asciiCharset   = lazyRegexp(`us-ascii|ansi_x3\.4-1968|iso-ir-6|ansi_x3\.4-1986|iso_646\.irv:1991|ascii|iso646-us|us|ibm367|cp367|csascii`)
	badISOCharset  = lazyRegexp(`(?i)iso-\S+-\S+\b`)
	goodISOCharset = lazyRegexp(`iso-(?:8859-\d{1,2}|2022-(?:jp|kr))\b`)
	qpEncoded      = lazyRegexp(`=(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E])`)
	qpTrailing     = lazyRegexp(`((?:=09|=20)+)\s*$`)
	unicodeEntity  = lazyRegexp(`&#x[0-9A-F]{4};`)
	likelyFPCaps   = lazyRegexp(`(?i)^[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*$`)
)

func addMIME(m map[string]Func) {
	m["check_for_mime"] = checkForMIME
	m["check_for_mime_html"] = checkForMIMEHTML
	m["check_for_mime_html_only"] = checkForMIMEHTMLOnly
	m["check_mime_multipart_ratio"] = checkMIMEMultipartRatio
	m["check_msg_parse_flags"] = checkMsgParseFlags
	m["check_for_ascii_text_illegal"] = checkForASCIITextIllegal
	m["check_abundant_unicode_ratio"] = checkAbundantUnicodeRatio
	m["check_for_faraway_charset"] = checkForFarawayCharset
	m["check_for_uppercase"] = checkForUppercase
	m["check_ma_non_text"] = checkMANonText
	m["check_base64_length"] = checkBase64Length
	m["check_qp_ratio"] = checkQPRatio
}

// checkForMIME (check_for_mime(NAME)): the MIME statistic NAME
// (mime_base64_count, mime_qp_long_line, mime_attachment…) is non-zero.
func checkForMIME(c *Context, args []string) (bool, error) {
	if err := needArgs("check_for_mime", args, 1); err != nil {
		return false, err
	}
	return c.mimeStats().vals[args[0]] != 0, nil
}

func topIsHTML(c *Context) bool {
	return strings.HasPrefix(strings.ToLower(c.get("Content-Type")), "text/html")
}

// checkForMIMEHTML (check_for_mime_html()): the message is text/html or
// has a text/html part.
func checkForMIMEHTML(c *Context, _ []string) (bool, error) {
	if topIsHTML(c) {
		return true, nil
	}
	return c.mimeStats().vals["mime_body_html_count"] > 0, nil
}

// checkForMIMEHTMLOnly (check_for_mime_html_only()): HTML parts and no
// other text parts.
func checkForMIMEHTMLOnly(c *Context, _ []string) (bool, error) {
	if topIsHTML(c) {
		return true, nil
	}
	v := c.mimeStats().vals
	return v["mime_body_html_count"] > 0 && v["mime_body_text_count"] == 0, nil
}

// checkMIMEMultipartRatio (check_mime_multipart_ratio(MIN, MAX)): in a
// multipart/alternative, text/plain bytes per text/html byte is in
// [MIN, MAX).
func checkMIMEMultipartRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("check_mime_multipart_ratio", args, 2); err != nil {
		return false, err
	}
	r := c.mimeStats().vals["mime_multipart_ratio"]
	return r >= perlNum(args[0]) && r < perlNum(args[1]), nil
}

// checkMsgParseFlags (check_msg_parse_flags(FLAG)): the parser flagged
// FLAG: missing_head_body_separator, missing_mime_head_body_separator,
// missing_mime_headers, mime_epilogue_exists, truncated_header,
// mimepart_limit_exceeded.
func checkMsgParseFlags(c *Context, args []string) (bool, error) {
	if err := needArgs("check_msg_parse_flags", args, 1); err != nil {
		return false, err
	}
	switch args[0] {
	case "missing_head_body_separator":
		return c.Msg.HasDefect("missing_head_body_separator"), nil
	case "truncated_header":
		for _, f := range c.Msg.Header {
			if len(f.Name) >= 256 || len(f.Raw) >= 8192 {
				return true, nil
			}
		}
		return false, nil
	}
	return c.mime().flags[args[0]], nil
}

// checkForASCIITextIllegal (check_for_ascii_text_illegal()): a us-ascii
// text/plain part has NUL, CR or 8-bit bytes.
func checkForASCIITextIllegal(c *Context, _ []string) (bool, error) {
	return c.mimeStats().vals["mime_ascii_text_illegal"] > 0, nil
}

var ratioArg = lazyRegexp(`^\d{0,3}\.\d{1,3}$`)

// checkAbundantUnicodeRatio (check_abundant_unicode_ratio(RATIO)): 7/8-bit
// text/plain carries "&#xNNNN;" entities at RATIO or more per character.
func checkAbundantUnicodeRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("check_abundant_unicode_ratio", args, 1); err != nil {
		return false, err
	}
	if !ratioArg().MatchString(args[0]) {
		return false, nil
	}
	v := c.mimeStats().vals["mime_text_unicode_ratio"]
	return v >= perlNum(args[0]), nil
}

// checkForFarawayCharset (check_for_faraway_charset()): the top-level
// charset is outside ok_locales and the body is mostly 8-bit.
func checkForFarawayCharset(c *Context, _ []string) (bool, error) {
	locales := c.okLocales()
	if locales == nil || !c.has("Content-Type") {
		return false, nil
	}
	cs := charsetFromCT(c.get("Content-Type"))
	if cs == "" || charsetOKForLocales(cs, locales) {
		return false, nil
	}
	body := strings.Join(c.Msg.Rendered, "\n")
	hi := 0
	for i := 0; i < len(body); i++ {
		if body[i] >= 0x80 {
			hi++
		}
	}
	return len(body)-hi <= hi && hi > 3, nil
}

var (
	ctCharsetDQ = lazyRegexp(`(?i)charset="([^"]+)"`)
	ctCharsetSQ = lazyRegexp(`(?i)charset='([^']+)'`)
	ctCharsetNQ = lazyRegexp(`(?i)charset=(\S+)`)
)

func charsetFromCT(ct string) string {
	for _, re := range []*regexp.Regexp{ctCharsetDQ(), ctCharsetSQ(), ctCharsetNQ()} {
		if m := re.FindStringSubmatch(ct); m != nil {
			return m[1]
		}
	}
	return ""
}

var (
	base64Run    = lazyRegexp(`^(?:[A-Za-z0-9+/=]{60,76} ){2}`)
	iso2022Block = lazyRegexp(`(?s)\x1b\$B.*\x1b\(B`)
)

// uppercasePercent is the share of upper-case letters among letters and
// digits in the body, 0 when the body is short (< 200 bytes) or in a
// charset whose text often looks like capitals.
func (c *Context) uppercasePercent() float64 {
	return cached(c, "uppercase", func() float64 {
		var charsets []string
		if c.has("Content-Type") {
			if cs := charsetFromCT(c.get("Content-Type")); cs != "" {
				charsets = append(charsets, cs)
			}
		}
		charsets = append(charsets, c.mimeStats().charsets...)
		for _, cs := range charsets {
			if likelyFPCaps().MatchString(cs) {
				return 0
			}
		}
		length, lower, upper := 0, 0, 0
		for _, line := range c.Msg.Rendered {
			if !hasInnerSpace(line) || base64Run().MatchString(line) {
				continue
			}
			if strings.IndexByte(line, 0x1b) >= 0 {
				// Every block starts with ESC.
				line = iso2022Block().ReplaceAllString(line, "")
			}
			length += len(line)
			for i := 0; i < len(line); i++ {
				switch b := line[i]; {
				case b >= 'a' && b <= 'z', b >= '0' && b <= '9':
					lower++
				case b >= 'A' && b <= 'Z':
					upper++
				}
			}
		}
		if length < 200 || upper+lower == 0 {
			return 0
		}
		return float64(upper) / float64(upper+lower) * 100
	})
}

// hasInnerSpace reports whether s has a run of white space (Go's \s:
// tab, newline, form feed, carriage return, space) between two other
// bytes, what /\S\s+\S/ matches.
func hasInnerSpace(s string) bool {
	for i := 1; i < len(s); i++ {
		if isGoSpace(s[i]) && !isGoSpace(s[i-1]) {
			for i < len(s) && isGoSpace(s[i]) {
				i++
			}
			// A run that reaches the end is the last one.
			return i < len(s)
		}
	}
	return false
}

// isGoSpace reports whether b is in Go's \s.
func isGoSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// checkForUppercase (check_for_uppercase(MIN, MAX)): the body's share of
// capitals (percent) is in (MIN, MAX].
func checkForUppercase(c *Context, args []string) (bool, error) {
	if err := needArgs("check_for_uppercase", args, 2); err != nil {
		return false, err
	}
	u := c.uppercasePercent()
	return u > perlNum(args[0]) && u <= perlNum(args[1]), nil
}

// checkMANonText (check_ma_non_text()): a multipart/alternative holds a
// part that is not text (multipart/related and application/rtf allowed).
func checkMANonText(c *Context, _ []string) (bool, error) {
	var walk func(n *mimeNode, inAlt bool) bool
	walk = func(n *mimeNode, inAlt bool) bool {
		if inAlt && n.ctype != "multipart/related" && n.ctype != "application/rtf" &&
			!strings.HasPrefix(n.ctype, "text/") && n.leaf {
			return true
		}
		for _, ch := range n.children {
			if walk(ch, inAlt || n.ctype == "multipart/alternative") {
				return true
			}
		}
		return false
	}
	nodes := c.mime().nodes
	return len(nodes) > 0 && walk(nodes[0], false), nil
}

// checkBase64Length (check_base64_length(MIN[, MAX])): the longest line
// of a base64 part (line ending included) is in [MIN, MAX].
func checkBase64Length(c *Context, args []string) (bool, error) {
	if err := needArgs("check_base64_length", args, 1); err != nil {
		return false, err
	}
	longest := cached(c, "base64len", func() int {
		n := 0
		for _, p := range c.mime().nodes {
			if !p.leaf || p.ctype == "application/ics" || p.cte != "base64" {
				continue
			}
			for _, l := range p.raw {
				n = max(n, len(l))
			}
		}
		return n
	})
	if len(args) > 1 && float64(longest) > perlNum(args[1]) {
		return false, nil
	}
	return float64(longest) >= perlNum(args[0]), nil
}

// checkQPRatio (check_qp_ratio(MIN)): quoted-printable escapes per QP
// byte is at least MIN.
func checkQPRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("check_qp_ratio", args, 1); err != nil {
		return false, err
	}
	return c.mimeStats().vals["mime_qp_ratio"] >= perlNum(args[0]), nil
}
