package tokenizer

import (
	"bytes"
	"strings"
)

// Limits bounds the work Parse does on one message. A zero field means
// "use the default".
type Limits struct {
	// MaxParts is the number of MIME parts (containers and leaves) kept;
	// later parts are dropped and DefectTooManyParts is recorded.
	MaxParts int
	// MaxDepth is how deep multiparts and message/rfc822 parts are
	// opened; deeper ones are kept as opaque leaves (DefectTooDeep).
	MaxDepth int
	// MaxDecodedBytes caps each part's transfer-decoded content
	// (DefectTruncated).
	MaxDecodedBytes int
	// MaxHTMLBytes caps how much of an HTML part is rendered
	// (DefectTruncated).
	MaxHTMLBytes int
	// BodyPartScanSize is SpamAssassin's body_part_scan_size: the
	// rendered text of each part is cut after about this many
	// characters (at a line or word end) before it joins Text and
	// Invisible. Negative means no cut.
	BodyPartScanSize int
	// MaxHeaderFields is the number of fields kept in one header block
	// (the message's, or a MIME part's); later fields are dropped and
	// DefectTooManyHeaders is recorded. Without it 100,000 header lines
	// cost over 50 MB and seconds to parse and tokenize.
	MaxHeaderFields int
	// MaxMessageBytes is how much of the raw message is parsed: a longer
	// one is cut there, and DefectTruncated is recorded. Parsing keeps several copies of what it reads (lines
	// with CRLF made LF, decoded parts, rendered HTML), so this bounds
	// the memory one message costs: without it 10 MB of HTML cost over
	// 50 MB. The text Bayes sees is cut much earlier anyway
	// (BodyPartScanSize per part).
	MaxMessageBytes int
}

// DefaultLimits returns the limits Parse uses: 1000 parts, 20 levels and
// 50000 characters of text per part, as SpamAssassin, and 4 MiB of
// decoded content and 1 MiB of HTML per part (2 MiB of HTML cost 45 MB
// to render), and 1000 fields per header
// block (SpamAssassin has no such limit; real mail has a few dozen, the
// Received chain at the top, which is kept), and the first 4 MiB of the
// message (spamd is given at most 512000 bytes by spamc, sa-learn 256 KB
// by default).
func DefaultLimits() Limits {
	return Limits{MaxParts: 1000, MaxDepth: 20, MaxDecodedBytes: 4 << 20, MaxHTMLBytes: 1 << 20, BodyPartScanSize: 50000,
		MaxHeaderFields: 1000, MaxMessageBytes: 4 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxDecodedBytes <= 0 {
		l.MaxDecodedBytes = d.MaxDecodedBytes
	}
	if l.MaxHTMLBytes <= 0 {
		l.MaxHTMLBytes = d.MaxHTMLBytes
	}
	if l.BodyPartScanSize == 0 {
		l.BodyPartScanSize = d.BodyPartScanSize
	}
	if l.MaxHeaderFields <= 0 {
		l.MaxHeaderFields = d.MaxHeaderFields
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	return l
}

// Parse parses raw with DefaultLimits. It never fails and never returns
// nil: whatever cannot be understood is recorded in Message.Defects.
func Parse(raw []byte) *Message { return ParseWithLimits(raw, DefaultLimits()) }

// Limits of SpamAssassin's parser (Constants.pm).
const (
	maxBodyLineLength  = 2048
	maxHeaderKeyLength = 256
	maxHeaderValLength = 8192
)

// ParseWithLimits parses raw, bounded by lim. See Parse.
func ParseWithLimits(raw []byte, lim Limits) (m *Message) {
	m = &Message{Size: len(raw)}
	p := &parser{lim: lim.withDefaults(), msg: m}
	defer func() {
		// A bug must not take the daemon down: keep what was parsed.
		if r := recover(); r != nil {
			m.addDefect(DefectInternal)
		}
	}()
	if len(raw) > p.lim.MaxMessageBytes {
		raw = raw[:p.lim.MaxMessageBytes]
		m.addDefect(DefectTruncated)
	}
	root := p.newMessageNode(raw, p.lim.MaxDepth, true)
	m.Header = root.hdr
	p.walk(root, 0)
	p.render(root)
	m.Relays = parseRelays(m.Header)
	for _, r := range m.Relays {
		if r.Unparseable {
			m.addDefect(DefectUnparseableRelay)
		}
	}
	return m
}

// DefectInternal records that Parse met a condition it did not expect;
// the Message holds what was parsed up to that point.
const DefectInternal Defect = "internal_error"

// DefectMissingMIMEHeaders records a MIME part whose header block was
// missing or not ended by a blank line.
const DefectMissingMIMEHeaders Defect = "missing_mime_headers"

func (m *Message) addDefect(d Defect) {
	if !m.HasDefect(d) {
		m.Defects = append(m.Defects, d)
	}
}

type parser struct {
	lim    Limits
	msg    *Message
	nparts int
}

// A node is one part of SpamAssassin's MIME tree.
type node struct {
	hdr      Header
	ctype    string // SpamAssassin's type of the node
	ct       contentType
	boundary string // boundary used to split this node (may be inherited)
	hasBound bool
	lines    [][]byte // raw content lines of a leaf
	children []*node
	subparse int // remaining nesting budget
	part     *Part
}

// last returns the decoded value of the last field named name, as
// SpamAssassin's header() does in scalar context.
func (h Header) last(name string) string {
	for i := len(h) - 1; i >= 0; i-- {
		if strings.EqualFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return ""
}

func (h Header) has(name string) bool {
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			return true
		}
	}
	return false
}

// splitLines splits b after every '\n'; the last line may lack one.
func splitLines(b []byte) [][]byte {
	n := bytes.Count(b, []byte{'\n'}) + 1
	lines := make([][]byte, 0, n)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, b)
			break
		}
		lines = append(lines, b[:i+1:i+1])
		b = b[i+1:]
	}
	return lines
}

// isHeaderStart matches /^[\041-\071\073-\176]+[ \t]*:/.
func isHeaderStart(l []byte) bool {
	i := 0
	for i < len(l) && l[i] >= 0x21 && l[i] <= 0x7e && l[i] != ':' {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	return i < len(l) && l[i] == ':'
}

// isMboxFrom matches /^From\s+(?!:)/.
func isMboxFrom(l []byte) bool {
	if !bytes.HasPrefix(l, []byte("From")) || len(l) < 5 || !isPerlSpace(l[4]) {
		return false
	}
	i := 4
	for i < len(l) && isPerlSpace(l[i]) {
		i++
	}
	// \s+ may backtrack, so "From :" still matches unless every
	// possible split is followed by ':'; only one blank then ':' fails.
	if i < len(l) && l[i] == ':' && i == 5 {
		return false
	}
	return true
}

func chompLF(l []byte) []byte {
	if n := len(l); n > 0 && l[n-1] == '\n' {
		l = l[:n-1]
	}
	return l
}

// newMessageNode reads a message's header like Mail::SpamAssassin::
// Message->new and returns the node holding its header and body lines.
func (p *parser) newMessageNode(raw []byte, subparse int, top bool) *node {
	lines := splitLines(raw)
	if len(lines) == 0 {
		lines = [][]byte{[]byte("\n")}
	}
	n := &node{subparse: subparse}
	if isMboxFrom(lines[0]) {
		if top {
			p.msg.MboxFrom = string(bytes.TrimRight(lines[0], "\r\n"))
		}
		lines = lines[1:]
	}
	squash := false
	if len(lines) > 0 && (bytes.Contains(lines[0], []byte("\r\n")) || bytes.Contains(lines[len(lines)-1], []byte("\r\n"))) {
		squash = true
	}
	norm := func(l []byte) []byte {
		if squash && bytes.HasSuffix(l, []byte("\r\n")) {
			c := make([]byte, len(l)-1)
			copy(c, l[:len(l)-2])
			c[len(c)-1] = '\n'
			return c
		}
		return l
	}
	var hdrLines [][]byte // lines of the field being read
	errs := 0
	bodyStart := 0
	flush := func() {
		if len(hdrLines) == 0 {
			return
		}
		// The field's lines joined, in one allocation for name and
		// value, once a colon is known to be there.
		colon, size := -1, 0
		for _, l := range hdrLines {
			if colon < 0 {
				if k := bytes.IndexByte(l, ':'); k >= 0 {
					colon = size + k
				}
			}
			size += len(l)
		}
		if colon < 0 {
			hdrLines = hdrLines[:0] // reused by the next field
			return
		}
		var field string
		if len(hdrLines) == 1 {
			field = string(hdrLines[0])
		} else {
			var b strings.Builder
			b.Grow(size)
			for _, l := range hdrLines {
				b.Write(l)
			}
			field = b.String()
		}
		hdrLines = hdrLines[:0]
		key := strings.TrimRight(field[:colon], " \t")
		val := field[colon+1:]
		if len(key) > maxHeaderKeyLength {
			key = key[:maxHeaderKeyLength]
		}
		if len(val) > maxHeaderValLength {
			val = val[:maxHeaderValLength]
		}
		p.addField(n, key, val)
		if top {
			if strings.IndexByte(key, 0) >= 0 || strings.IndexByte(val, 0) >= 0 {
				p.msg.addDefect(DefectNULInHeader)
			}
			if !isASCII(val) {
				p.msg.addDefect(DefectEightBitHeader)
			}
		}
	}
	i := 0
	for {
		eof := i >= len(lines)
		var cur []byte
		if eof {
			cur = []byte("\n")
		} else {
			cur = norm(lines[i])
			i++
		}
		if len(cur) > 0 && (cur[0] == ' ' || cur[0] == '\t') {
			hdrLines = append(hdrLines, cur)
			continue
		}
		flush()
		if len(cur) == 1 && cur[0] == '\n' {
			if eof {
				p.defect(top, DefectMissingHeaderBody)
			}
			bodyStart = i
			break
		}
		if bytes.HasPrefix(cur, []byte("--")) {
			p.defect(top, DefectMissingHeaderBody)
			bodyStart = i - 1
			break
		}
		if !isHeaderStart(cur) {
			p.defect(top, DefectBadHeaderLine)
			errs++
			if errs > 3 {
				p.defect(top, DefectMissingHeaderBody)
				bodyStart = i - 1
				break
			}
		}
		hdrLines = append(hdrLines, cur)
	}
	body := lines[bodyStart:]
	if top {
		p.msg.RawHeader = pristineHeader(lines[:bodyStart], squash)
		// Body is what follows the header block in the input.
		p.msg.Body = append([]byte(nil), bodyBytes(raw, lines, bodyStart)...)
	}
	if squash {
		nb := make([][]byte, len(body))
		for k, l := range body {
			nb[k] = norm(l)
		}
		body = nb
	}
	body = CollapseBlankRuns(body)
	n.ct = parseContentType(n.hdr.last("content-type"))
	n.ctype = n.ct.mediaType
	if top && n.ct.missing && n.hdr.has("content-type") {
		p.msg.addDefect(DefectBadContentType)
	}
	n.boundary, n.hasBound = n.ct.boundary, n.ct.hasBoundary
	if strings.HasPrefix(n.ctype, "multipart/") && len(body) > 1 && hasNonSpace(body[0]) {
		if !n.hasBound || !bytes.HasPrefix(body[0], []byte("--"+n.boundary)) {
			body = append([][]byte{[]byte("\n")}, body...)
		}
	}
	n.lines = body
	return n
}

// bodyBytes returns the bytes of raw from line index start on.
func bodyBytes(raw []byte, lines [][]byte, start int) []byte {
	if start >= len(lines) {
		return nil
	}
	total := 0
	for _, l := range lines[start:] {
		total += len(l)
	}
	return raw[len(raw)-total:]
}

func hasNonSpace(l []byte) bool {
	for _, c := range l {
		if !isPerlSpace(c) {
			return true
		}
	}
	return false
}

func (p *parser) defect(top bool, d Defect) {
	if top {
		p.msg.addDefect(d)
	}
}

// addField appends a field to n's header, unless the header already
// holds MaxHeaderFields.
func (p *parser) addField(n *node, key, val string) {
	if len(n.hdr) >= p.lim.MaxHeaderFields {
		p.msg.addDefect(DefectTooManyHeaders)
		return
	}
	raw := strings.TrimSuffix(val, "\n")
	n.hdr = append(n.hdr, Field{Name: key, Raw: raw, Value: decodeHeaderValue(key, val)})
}

// walk builds the MIME tree below n, as parse_body does, and records
// every node as a Part.
func (p *parser) walk(n *node, depth int) {
	if p.nparts >= p.lim.MaxParts {
		p.msg.addDefect(DefectTooManyParts)
		return
	}
	p.nparts++
	part := &Part{
		Header:           n.hdr,
		ContentType:      n.ctype,
		Params:           ctParams(n.hdr.last("content-type")),
		Charset:          strings.ToLower(n.ct.charset),
		Depth:            depth,
		TransferEncoding: strings.ToLower(n.hdr.last("content-transfer-encoding")),
	}
	n.part = part
	p.msg.Parts = append(p.msg.Parts, part)
	if disp := n.hdr.last("content-disposition"); disp != "" {
		t := disp
		if i := strings.IndexByte(t, ';'); i >= 0 {
			t = t[:i]
		}
		part.Disposition = strings.ToLower(strings.TrimSpace(t))
	}
	part.Filename = partName(n)

	if strings.HasPrefix(n.ctype, "multipart/") && n.hasBound && n.subparse > 0 && depth < p.lim.MaxDepth {
		p.splitMultipart(n)
		for _, c := range n.children {
			p.walk(c, depth+1)
		}
		return
	}
	if strings.HasPrefix(n.ctype, "multipart/") && n.hasBound && (n.subparse <= 0 || depth >= p.lim.MaxDepth) {
		p.msg.addDefect(DefectTooDeep)
	}
	// A leaf (_parse_normal).
	part.Leaf = true
	if strings.HasPrefix(n.ct.mediaType, "multipart/") && !n.hasBound {
		p.msg.addDefect(DefectMissingBoundary)
	}
	if !n.ct.missing {
		if !strings.HasPrefix(n.ct.mediaType, "multipart/") || n.hasBound {
			n.ctype = n.ct.mediaType
		} else {
			n.ctype = "text/plain"
		}
		part.ContentType = n.ctype
	}
	p.decodeLeaf(n)
	if strings.HasPrefix(n.ctype, "message/") && n.ctype != "message/partial" && n.subparse > 0 {
		if (n.ctype == "message/rfc822" || n.ctype == "message/global") && len(part.Decoded) > 0 {
			if depth+1 >= p.lim.MaxDepth {
				p.msg.addDefect(DefectTooDeep)
				return
			}
			child := p.newMessageNode(part.Decoded, n.subparse-1, false)
			n.children = append(n.children, child)
			part.Leaf = false
			p.walk(child, depth+1)
		}
	}
}

func partName(n *node) string {
	disp := n.hdr.last("content-disposition")
	if i := indexWordCI(disp, "name", 0); i >= 0 || strings.Contains(strings.ToLower(disp), "name=") {
		l := strings.ToLower(disp)
		if k := strings.Index(l, "name="); k >= 0 {
			v := disp[k+5:]
			v = strings.TrimLeft(v, " \t")
			v = strings.TrimPrefix(v, "\"")
			end := strings.IndexAny(v, "\";")
			if end < 0 {
				end = len(v)
			}
			if end > 0 {
				return v[:end]
			}
		}
	}
	return n.ct.name
}

// ctParams parses Content-Type parameters leniently into a map with
// lower-cased keys.
func ctParams(ct string) map[string]string {
	i := strings.IndexByte(ct, ';')
	if i < 0 {
		return nil
	}
	params := map[string]string{}
	rest := ct[i+1:]
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t;")
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, "\"") {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := strings.IndexByte(rest, ';')
			if end < 0 {
				val, rest = strings.TrimSpace(rest), ""
			} else {
				val, rest = strings.TrimSpace(rest[:end]), rest[end:]
			}
		}
		if key != "" {
			if _, dup := params[key]; !dup {
				params[key] = val
			}
		}
	}
	return params
}

// isBoundaryLine matches /^--BOUNDARY(--)?\s*$/ and reports whether the
// closing "--" was present.
func isBoundaryLine(l []byte, b string) (match, closing bool) {
	if len(l) < 2+len(b) || l[0] != '-' || l[1] != '-' || string(l[2:2+len(b)]) != b {
		return false, false
	}
	rest := l[2+len(b):]
	if len(rest) >= 2 && rest[0] == '-' && rest[1] == '-' {
		if allSpace(rest[2:]) {
			return true, true
		}
	}
	return allSpace(rest), false
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isPerlSpace(c) {
			return false
		}
	}
	return true
}

// appendLongLine appends l to arr, cut into pieces of at most 2048 bytes
// each ending in "\n", as SpamAssassin's multipart splitter does.
func appendLongLine(arr [][]byte, l []byte) [][]byte {
	for len(l) > maxBodyLineLength {
		piece := make([]byte, maxBodyLineLength+1)
		copy(piece, l[:maxBodyLineLength])
		piece[maxBodyLineLength] = '\n'
		arr = append(arr, piece)
		l = l[maxBodyLineLength:]
	}
	return append(arr, l)
}

// splitMultipart is SpamAssassin's _parse_multipart: a line-based
// splitter that tolerates a missing preamble boundary, a missing closing
// boundary, parts without headers and one level of re-used boundary.
func (p *parser) splitMultipart(n *node) {
	body := n.lines
	n.lines = nil
	b := n.boundary
	sub := n.subparse - 1

	start := -1
	for i, l := range body {
		if m, _ := isBoundaryLine(l, b); m && !bytesHasSuffixClosing(l, b) {
			start = i
			break
		}
	}
	if start >= 0 {
		if start+1 < len(body) && !isHeaderStart(body[start+1]) {
			p.msg.addDefect(DefectMissingMIMEHeaders)
		}
		body = body[start+1:]
	} else {
		p.msg.addDefect(DefectMissingBoundary)
	}

	cur := &node{}
	inBody := false
	var hdrLines [][]byte
	var arr [][]byte
	haveArr := false
	nested := false
	lineCount := len(body)
	sawClosing := false
	storeHeader := func() (key string) {
		whole := bytes.Join(hdrLines, nil)
		hdrLines = nil
		// split(/:\s*/, $header, 2)
		colon := bytes.IndexByte(whole, ':')
		if colon < 0 {
			return ""
		}
		key = string(whole[:colon])
		v := whole[colon+1:]
		for len(v) > 0 && isPerlSpace(v[0]) {
			v = v[1:]
		}
		p.addField(cur, key, string(v))
		return key
	}
	for idx, l := range body {
		foundEnd, foundLast := false, false
		if len(l) >= 2 && l[0] == '-' && l[1] == '-' {
			foundEnd, foundLast = isBoundaryLine(l, b)
		}
		if foundEnd && nested {
			foundEnd = false
			if foundLast {
				nested = false
			}
		}
		lineCount--
		if lineCount == 0 || foundEnd {
			if !foundEnd {
				arr = appendLongLine(arr, l)
				haveArr = true
			} else if haveArr && len(arr) > 0 {
				lastL := chompLF(arr[len(arr)-1])
				if len(lastL) == 0 {
					arr = arr[:len(arr)-1]
				} else {
					arr[len(arr)-1] = lastL
				}
			}
			if hdrLines != nil {
				// A part that ended inside its header block.
				storeHeader()
			}
			cur.ct = parseContentType(cur.hdr.last("content-type"))
			cur.ctype = cur.ct.mediaType
			if cur.ct.missing && n.ctype == "multipart/digest" {
				cur.ctype = "message/rfc822"
				cur.ct.mediaType = "message/rfc822"
				cur.ct.missing = false
			}
			cur.boundary, cur.hasBound = cur.ct.boundary, cur.ct.hasBoundary
			if !cur.hasBound || cur.boundary == "" {
				cur.boundary, cur.hasBound = b, true
			}
			cur.lines = arr
			cur.subparse = sub
			n.children = append(n.children, cur)
			if foundLast {
				sawClosing = true
				break
			}
			if lineCount > 0 && !isHeaderStart(body[idx+1]) {
				p.msg.addDefect(DefectMissingMIMEHeaders)
			}
			if len(n.children)+p.nparts >= p.lim.MaxParts {
				p.msg.addDefect(DefectTooManyParts)
				break
			}
			inBody = false
			cur = &node{}
			arr, haveArr = nil, false
			hdrLines = nil
			continue
		}
		if !inBody {
			if isHeaderStart(l) {
				if hdrLines != nil {
					storeHeader()
				}
				hdrLines = [][]byte{l}
				continue
			}
			if (l[0] == ' ' || l[0] == '\t') && hdrLines != nil {
				hdrLines = append(hdrLines, l)
				continue
			}
			if hdrLines != nil {
				key := storeHeader()
				if strings.EqualFold(key, "content-type") {
					if ct := parseContentType(cur.hdr.last("content-type")); ct.hasBoundary && ct.boundary == b {
						nested = true
					}
				}
			}
			inBody = true
			if len(l) == 1 || (len(l) == 2 && l[0] == '\r') {
				continue
			}
			p.msg.addDefect(DefectMissingMIMEHeaders)
		}
		arr = appendLongLine(arr, l)
		haveArr = true
	}
	if !sawClosing {
		p.msg.addDefect(DefectUnterminatedMIME)
	}
}

// bytesHasSuffixClosing reports whether a boundary line is the closing
// one; the preamble scan only stops at an opening boundary line.
func bytesHasSuffixClosing(l []byte, b string) bool {
	_, closing := isBoundaryLine(l, b)
	// SpamAssassin's preamble scan uses /^--B\s*$/, which a closing line
	// does not match.
	return closing
}

// decodeLeaf transfer-decodes a leaf as Node::decode does and fills
// Part.Decoded.
func (p *parser) decodeLeaf(n *node) {
	part := n.part
	var raw []byte
	if len(n.lines) == 1 {
		raw = n.lines[0]
	} else {
		raw = bytes.Join(n.lines, nil)
	}
	enc := strings.ToLower(n.hdr.last("content-transfer-encoding"))
	var dec []byte
	switch enc {
	case "quoted-printable":
		if badQP(raw) {
			p.msg.addDefect(DefectBadQuotedPrintable)
		}
		dec = decodeQP(raw)
		dec = crlfToLF(dec)
	case "base64":
		var ok bool
		dec, ok = decodeBase64(raw)
		if !ok && len(bytes.TrimSpace(raw)) > 0 {
			p.msg.addDefect(DefectBadBase64)
		}
		if hasWordPrefix(n.ctype, "text") || hasWordPrefix(n.ctype, "message") {
			dec = crlfToLF(dec)
		}
	default:
		dec = raw
	}
	if len(dec) > p.lim.MaxDecodedBytes {
		dec = dec[:p.lim.MaxDecodedBytes]
		p.msg.addDefect(DefectTruncated)
	}
	part.Decoded = dec
}

// badQP reports an '=' that starts neither an escape nor a soft break.
func badQP(b []byte) bool {
	for i := bytes.IndexByte(b, '='); i >= 0; {
		rest := b[i+1:]
		switch {
		case len(rest) >= 2 && isHex(rest[0]) && isHex(rest[1]):
		case len(rest) >= 1 && rest[0] == '\n', len(rest) >= 2 && rest[0] == '\r' && rest[1] == '\n':
		case len(bytes.TrimRight(rest, " \t\r\n")) == 0:
		default:
			return true
		}
		k := bytes.IndexByte(rest, '=')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

func crlfToLF(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// maxBlankLines is how many blank lines in a row Message.pm keeps.
const maxBlankLines = 20

// CollapseBlankRuns shortens every run of more than 20 blank
// (whitespace-only) lines to 20, as Mail::SpamAssassin::Message does to
// a message's body lines before parsing them: going backwards, a run
// found is cut after its first line. A run that starts the body keeps
// 21 (Message.pm counts it from its second line). lines is reused.
func CollapseBlankRuns[L ~string | ~[]byte](lines []L) []L {
	blank := func(l L) bool {
		for i := 0; i < len(l); i++ {
			if !isPerlSpace(l[i]) {
				return false
			}
		}
		return true
	}
	start := -1
	for cnt := len(lines) - 1; cnt >= 0; cnt-- {
		if blank(lines[cnt]) {
			if start < 0 {
				start = cnt
			}
			if cnt != 0 {
				continue
			}
		}
		if start >= 0 {
			if num := start - cnt; num > maxBlankLines {
				lines = append(lines[:cnt+2], lines[cnt+2+num-maxBlankLines:]...)
			}
			start = -1
		}
	}
	return lines
}

// pristineHeader is SpamAssassin's pristine_headers: the header lines as
// read, the separating blank line included, without the mbox From line;
// in a CRLF message a bare LF gets its CR (bug 7785).
func pristineHeader(lines [][]byte, crlf bool) string {
	var b strings.Builder
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	if crlf {
		size += len(lines) // a CR for each line ending at most
	}
	b.Grow(size)
	for _, l := range lines {
		if !crlf {
			b.Write(l)
			continue
		}
		for k, c := range l {
			if c == '\n' && (k == 0 || l[k-1] != '\r') {
				b.WriteByte('\r')
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}
