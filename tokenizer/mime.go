package tokenizer

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/gospamd/gospamd/internal/ascii"
)

// contentType is a Content-Type header value read the way SpamAssassin's
// Util::parse_content_type reads it: a lenient regex scan, not RFC 2045
// grammar, so that broken headers yield the same type, boundary and
// charset SpamAssassin would use.
type contentType struct {
	mediaType   string // lower-cased; every text/* but html, calendar and x-vcard is text/plain
	boundary    string
	hasBoundary bool
	charset     string
	hasCharset  bool
	name        string
	missing     bool // no (usable) Content-Type: the RFC 2045 default applies
}

func parseContentType(ct string) contentType {
	var r contentType
	if ct == "" {
		r.missing = true
		ct = "text/plain; charset=us-ascii"
	}
	r.boundary, r.hasBoundary = ctBoundary(ct)
	r.charset, r.hasCharset = ctParam(ct, "charset", false)
	r.name, _ = ctParam(ct, "name", true)

	t := strings.TrimLeft(ct, " \t\r\n\f\v")
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	// Keep "something/something" up to the first blank after the slash.
	if slash := strings.IndexByte(t, '/'); slash >= 0 {
		end := len(t)
		for i := slash + 1; i < len(t); i++ {
			if t[i] == '/' || isPerlSpace(t[i]) {
				end = i
				break
			}
		}
		t = t[:end]
	}
	t = strings.ToLower(t)
	if t == "" {
		r.missing = true
	}
	if t == "" || (hasWordPrefix(t, "text") && t != "text/x-vcard" && t != "text/calendar" && t != "text/html") {
		t = "text/plain"
	}
	// Drop characters that cannot appear in a media type.
	r.mediaType = strings.Map(func(c rune) rune {
		switch {
		case c <= 0x20 || c >= 0x7f:
			return -1
		case c == '"' || c == '(' || c == ')' || c == ',' || (c >= ':' && c <= '?') || c == '@' || (c >= '[' && c <= ']'):
			return -1
		}
		return c
	}, t)
	return r
}

// hasWordPrefix reports whether s starts with w followed by a non-word
// character or the end (Perl's /^w\b/).
func hasWordPrefix(s, w string) bool {
	if !strings.HasPrefix(s, w) {
		return false
	}
	return len(s) == len(w) || !isWordByte(s[len(w)])
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isPerlSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// indexWordCI finds key (lower-case ASCII) case-insensitively in s at a
// word boundary on its left, starting at from.
func indexWordCI(s, key string, from int) int {
	for i := from; i+len(key) <= len(s); i++ {
		if !strings.EqualFold(s[i:i+len(key)], key) {
			continue
		}
		if i > 0 && isWordByte(s[i-1]) {
			continue
		}
		return i
	}
	return -1
}

// ctAssign finds the next /\bKEY\s*=\s*/i in ct at or after from (with
// fileToo, KEY may also be prefixed by "file"). It returns the index of
// the value after the blanks, the position to resume searching at, and
// whether one was found.
func ctAssign(ct, key string, from int, fileToo bool) (value, next int, ok bool) {
	for {
		i := indexWordCI(ct, key, from)
		if fileToo {
			if j := indexWordCI(ct, "file"+key, from); j >= 0 && (i < 0 || j < i) {
				i = j + 4
			}
		}
		if i < 0 {
			return 0, 0, false
		}
		from = i + 1
		j := i + len(key)
		for j < len(ct) && isPerlSpace(ct[j]) {
			j++
		}
		if j >= len(ct) || ct[j] != '=' {
			continue
		}
		j++
		for j < len(ct) && isPerlSpace(ct[j]) {
			j++
		}
		return j, from, true
	}
}

func ctBoundary(ct string) (string, bool) {
	for from := 0; ; {
		j, next, ok := ctAssign(ct, "boundary", from, false)
		if !ok {
			return "", false
		}
		from = next
		if j < len(ct) && ct[j] == '"' {
			k := j + 1
			for k < len(ct) && ct[k] != '"' {
				k++
			}
			if k == j+1 {
				continue
			}
			return ct[j+1 : k], true
		}
		k := j
		for k < len(ct) && !isPerlSpace(ct[k]) && ct[k] != '"' && ct[k] != ';' {
			k++
		}
		if k == j {
			continue
		}
		// The value must be followed by blank, ';' or the end.
		if k < len(ct) && ct[k] == '"' {
			continue
		}
		return ct[j:k], true
	}
}

// ctParam extracts a parameter as parse_content_type's
// /\bNAME\s*=\s*["']?(.*?)["']?(?:;|$)/i does. With fileToo the name may
// be prefixed by "file".
func ctParam(ct, key string, fileToo bool) (string, bool) {
	j, _, ok := ctAssign(ct, key, 0, fileToo)
	if !ok {
		return "", false
	}
	if j < len(ct) && (ct[j] == '"' || ct[j] == '\'') {
		j++
	}
	v := ct[j:]
	// Lazy (.*?) up to the first ';' or the end of a line.
	end := len(v)
	for k := 0; k < len(v); k++ {
		if v[k] == ';' || (v[k] == '\n' && k == len(v)-1) {
			end = k
			break
		}
	}
	v = v[:end]
	if strings.HasSuffix(v, "\"") || strings.HasSuffix(v, "'") {
		v = v[:len(v)-1]
	}
	return v, true
}

// decodeQP decodes quoted-printable the lenient way SpamAssassin does:
// blanks before a line end go, soft line breaks go, =XX becomes a byte and
// every other '=' stays.
func decodeQP(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case ' ', '\t':
			j := i
			for j < len(in) && (in[j] == ' ' || in[j] == '\t') {
				j++
			}
			if j == len(in) || in[j] == '\n' || (in[j] == '\r' && j+1 < len(in) && in[j+1] == '\n') {
				i = j - 1
				continue
			}
			out = append(out, in[i:j]...)
			i = j - 1
		case '=':
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
				continue
			}
			if i+2 < len(in) && in[i+1] == '\r' && in[i+2] == '\n' {
				i += 2
				continue
			}
			if i+2 < len(in) && isHex(in[i+1]) && isHex(in[i+2]) {
				out = append(out, unhex(in[i+1])<<4|unhex(in[i+2]))
				i += 2
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// b64Values maps a byte to its value in the base64 alphabet, or -1.
var b64Values = func() (a [256]int8) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for c := range a {
		a[c] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		a[alphabet[i]] = int8(i)
	}
	return a
}()

// b64val is the value of c in the base64 alphabet, or -1.
func b64val(c byte) int { return int(b64Values[c]) }

// decodeBase64 decodes base64 as SpamAssassin's Util::base64_decode does:
// whitespace is ignored; well-formed input is decoded strictly (a '='
// inside the data counts as 'A'); anything else is decoded leniently by
// dropping foreign characters and trailing padding. ok is false when the
// lenient path was needed.
func decodeBase64(in []byte) (out []byte, ok bool) {
	clean := make([]byte, 0, len(in))
	valid := true
	for _, c := range in {
		if isPerlSpace(c) {
			continue
		}
		if b64val(c) < 0 && c != '=' {
			valid = false
		}
		clean = append(clean, c)
	}
	if valid && len(clean)%4 == 0 && len(clean) >= 2 {
		// "=" runs not at the very end decode as 'A' (zero bits).
		end := len(clean)
		for end > 0 && clean[end-1] == '=' {
			end--
		}
		if len(clean)-end <= 2 && end >= 2 {
			for i := 0; i < end; i++ {
				if clean[i] == '=' {
					clean[i] = 'A'
				}
			}
			return b64bits(clean[:end]), true
		}
		valid = false
	} else {
		valid = false
	}
	// Lenient path: keep the alphabet and '=', drop trailing '='; an inner
	// '=' counts as the last alphabet value, as the uudecode trick does.
	k := 0
	for _, c := range clean {
		if b64val(c) >= 0 || c == '=' {
			clean[k] = c
			k++
		}
	}
	clean = clean[:k]
	for len(clean) > 0 && clean[len(clean)-1] == '=' {
		clean = clean[:len(clean)-1]
	}
	for i, c := range clean {
		if c == '=' {
			clean[i] = '/'
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	return b64bits(clean), valid
}

func b64bits(s []byte) []byte {
	out := make([]byte, 0, len(s)*3/4+2)
	var acc uint32
	n := 0
	for _, c := range s {
		acc = acc<<6 | uint32(b64val(c))
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}

// w1252High maps bytes 0x80–0x9F of Windows-1252; 0 marks bytes the code
// page leaves undefined (they decode to U+FFFD, as Perl's Encode does).
var w1252High = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// decodeW1252 converts Windows-1252 bytes to UTF-8. strictOK is false if
// an undefined byte was met (it becomes U+FFFD).
func decodeW1252(b []byte) (s string, strictOK bool) {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	strictOK = true
	for _, c := range b {
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c < 0xA0:
			r := w1252High[c-0x80]
			if r == 0 {
				r = utf8.RuneError
				strictOK = false
			}
			sb.WriteRune(r)
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String(), strictOK
}

func has8bit(b []byte) bool { return !ascii.IsBytes(b) }

// w1252Guessable reports whether b holds only ASCII, NBSP, SHY and the
// common Windows-1252 punctuation and Latin-1 letters, the set for which
// SpamAssassin guesses Windows-1252 when the declared charset failed.
func w1252Guessable(b []byte) bool {
	for _, c := range b {
		switch {
		case c < 0x80, c == 0xa0, c == 0xa9, c == 0xad, c == 0x82, c == 0x84, c == 0x85,
			c >= 0x91 && c <= 0x97, c == 0x99,
			c >= 0xc0 && c <= 0xd6, c >= 0xd8 && c <= 0xde, c >= 0xe0 && c <= 0xf6, c >= 0xf8 && c <= 0xfe:
		default:
			return false
		}
	}
	return true
}

func isASCIICharset(cs string) bool {
	l := strings.ToLower(cs)
	switch l {
	case "ascii", "us-ascii", "ansi_x3.4-1986", "ansi x3.4-1986", "ansix3.4-1986", "ansi_x3.4-1968", "ansi x3.4-1968", "ansix3.4-1968", "iso646-us":
		return true
	}
	return false
}

// isExtendedASCIICharset matches the declared charsets for which pure
// 7-bit text needs no decoding.
func isExtendedASCIICharset(cs string) bool {
	l := strings.ToLower(cs)
	switch {
	case strings.HasPrefix(l, "iso"):
		r := strings.TrimPrefix(l, "iso")
		r = strings.TrimPrefix(strings.TrimPrefix(r, "-"), " ")
		if !strings.HasPrefix(r, "8859") {
			return false
		}
		r = r[4:]
		if r == "" {
			return true
		}
		if r[0] != '-' || len(r) < 2 || len(r) > 3 {
			return false
		}
		return allDigits(r[1:])
	case strings.HasPrefix(l, "windows-"):
		return len(l) == 12 && allDigits(l[8:])
	case l == "utf-8" || l == "utf8":
		return true
	case strings.HasPrefix(l, "koi8-") || strings.HasPrefix(l, "euc-"):
		r := l[strings.IndexByte(l, '-')+1:]
		if len(r) < 1 || len(r) > 2 {
			return false
		}
		for i := 0; i < len(r); i++ {
			if r[i] < 'a' || r[i] > 'z' {
				return false
			}
		}
		return true
	case l == "big5" || l == "gbk":
		return true
	case strings.HasPrefix(l, "gb"):
		r := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(l, "gb"), "-"), " ")
		if !strings.HasPrefix(r, "18030") {
			return false
		}
		r = r[5:]
		return r == "" || (len(r) == 5 && r[0] == '-' && r[1:3] == "20" && allDigits(r[3:]))
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lookupEncoding finds a decoder for a charset name the way Perl's
// Encode::find_encoding would, using the IANA and WHATWG tables.
func lookupEncoding(cs string) encoding.Encoding {
	l := strings.ToLower(strings.TrimSpace(cs))
	switch l {
	case "", "x-unknown", "unknown", "default", "x-user-defined":
		return nil
	case "utf-8", "utf8":
		return unicode.UTF8
	case "gb18030":
		return simplifiedchinese.GB18030
	}
	if e, err := ianaindex.MIME.Encoding(l); err == nil && e != nil {
		return e
	}
	if e, err := ianaindex.MIME.Encoding("cs" + l); err == nil && e != nil {
		return e
	}
	if e, err := htmlindex.Get(l); err == nil && e != nil {
		return e
	}
	return nil
}

func decodeWith(enc encoding.Encoding, b []byte) (string, bool) {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", false
	}
	// x/text substitutes U+FFFD for invalid input instead of failing.
	if bytes.Contains(out, []byte("\uFFFD")) && !bytes.Contains(b, []byte("\uFFFD")) {
		return string(out), false
	}
	return string(out), true
}

// normalizeCharset converts b, declared to be in charset, to UTF-8 the way
// SpamAssassin's Node::_normalize does with normalize_charset on (its
// default). insist is true for RFC 2047 words: then the declared charset
// is used as is, without trying UTF-8 first and without failing on bad
// bytes. known is false if no decoder was found for a charset that was
// needed.
func normalizeCharset(b []byte, charset string, insist bool) (s string, known bool) {
	eight := has8bit(b)
	if !eight && (isASCIICharset(charset) || isExtendedASCIICharset(charset)) {
		return string(b), true
	}
	known = true
	if eight && !insist && utf8.Valid(b) {
		return string(b), true
	}
	triedUTF8 := eight && !insist
	var rv string
	have := false
	l := strings.ToLower(charset)
	switch {
	case (l == "us-ascii" || l == "ascii") && !insist:
	case strings.HasPrefix(l, "utf-16") || strings.HasPrefix(l, "utf16") || strings.HasPrefix(l, "utf 16"):
		if e := detectUTF16(b); e != nil {
			rv, have = decodeWith(e, b)
		}
	default:
		var enc encoding.Encoding
		w1252 := false
		switch l {
		case "iso-8859-1", "iso8859-1", "windows-1252", "cp1252":
			w1252 = true
		case "utf-8", "utf8":
			enc = unicode.UTF8
		case "gb2312", "euc-cn", "csgb2312", "x-gbk-2312":
			// Perl's euc-cn is GB 2312 proper and fails on GBK
			// extensions, which x/text's decoder accepts.
			if validEUCCN(b) {
				enc = simplifiedchinese.GBK
			} else {
				enc = failingEncoding{}
			}
		default:
			enc = lookupEncoding(charset)
			if enc == nil {
				known = false
			}
		}
		switch {
		case w1252:
			var ok bool
			rv, ok = decodeW1252(b)
			have = ok || insist
		case enc == nil:
		case enc == (failingEncoding{}):
			if insist {
				rv, _ = decodeWith(simplifiedchinese.GBK, b)
				have = true
			}
		case triedUTF8 && enc == unicode.UTF8:
		default:
			var ok bool
			rv, ok = decodeWith(enc, b)
			have = ok || insist
			if enc == unicode.UTF8 && insist {
				rv, have = strings.ToValidUTF8(string(b), "\uFFFD"), true
			}
		}
	}
	if have {
		return rv, known
	}
	if !eight {
		return string(b), known
	}
	if w1252Guessable(b) {
		if s, ok := decodeW1252(b); ok {
			return s, known
		}
	}
	s, _ = decodeW1252(b)
	return s, known
}

// detectUTF16 guesses the byte order of BOM-less UTF-16 as SpamAssassin's
// detect_utf16 does (nil when it cannot tell).
func detectUTF16(b []byte) encoding.Encoding {
	if len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff) {
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	}
	le, be := 0, 0
	var sumEven, sumOdd int
	for i := 0; i+1 < len(b); i += 2 {
		sumEven += int(b[i]>>4) + int(b[i]&15)
		sumOdd += int(b[i+1]>>4) + int(b[i+1]&15)
		if b[i] == 0x20 && b[i+1] == 0 {
			le++
		}
		if b[i] == 0 && b[i+1] == 0x20 {
			be++
		}
	}
	if sumEven > sumOdd*4 {
		le++
	}
	if sumOdd*4 > sumEven {
		be++
	}
	switch {
	case le > be:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case be > le:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	}
	return nil
}

// noEncodedWordHeader lists the fields whose encoded-words SpamAssassin
// leaves undecoded.
func noEncodedWordHeader(name string) bool {
	l := lowerName(name)
	switch l {
	case "received", "message-id", "resent-message-id", "date", "resent-date", "mime-version", "references", "in-reply-to":
		return true
	}
	return strings.HasPrefix(l, "list-")
}

// decodeHeaderValue turns a raw field body into SpamAssassin's decoded
// header value (Node::header + _decode_header): folds become one space,
// leading and trailing whitespace goes, remaining line breaks are removed,
// raw 8-bit text is read as UTF-8 (else Windows-1252) and RFC 2047
// encoded-words are decoded to UTF-8.
func decodeHeaderValue(name, raw string) string {
	v := trimPerlSpace(unfoldSA(raw))
	if v == "" {
		return ""
	}
	if strings.IndexByte(v, '\n') >= 0 {
		var sb strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\r' && i+1 < len(v) && v[i+1] == '\n' {
				continue
			}
			if v[i] == '\n' {
				continue
			}
			sb.WriteByte(v[i])
		}
		v = sb.String()
	}
	if !isASCII(v) && !utf8.ValidString(v) {
		v, _ = normalizeCharset([]byte(v), "UTF-8", false)
	}
	if !strings.Contains(v, "=?") || noEncodedWordHeader(name) {
		return v
	}
	return decodeEncodedWords(v)
}

// trimPerlSpace removes Perl's ASCII whitespace from both ends of s.
func trimPerlSpace(s string) string {
	for len(s) > 0 && isPerlSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isPerlSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// unfoldSA replaces every line break followed by blanks with one space.
func unfoldSA(s string) string {
	if !hasFold(s) {
		return s // a field value's final newline folds nothing
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\t') {
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			sb.WriteByte(' ')
			i = j - 1
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// hasFold reports whether s has a newline followed by a blank or tab.
func hasFold(s string) bool {
	for i := strings.IndexByte(s, '\n'); i >= 0 && i+1 < len(s); {
		if s[i+1] == ' ' || s[i+1] == '\t' {
			return true
		}
		k := strings.IndexByte(s[i+1:], '\n')
		if k < 0 {
			return false
		}
		i += 1 + k
	}
	return false
}

// encodedWordAt matches =?charset?b|q?text?= at s[i:]; it returns the end
// offset and the parts, or end < 0.
func encodedWordAt(s string, i int) (end int, cs, enc, text string) {
	if i+1 >= len(s) || s[i] != '=' || s[i+1] != '?' {
		return -1, "", "", ""
	}
	j := i + 2
	for j < len(s) && (isWordByte(s[j]) || s[j] == '*' || s[j] == '-') {
		j++
	}
	if j == i+2 || j+2 >= len(s) || s[j] != '?' {
		return -1, "", "", ""
	}
	cs = s[i+2 : j]
	e := s[j+1]
	if e != 'b' && e != 'B' && e != 'q' && e != 'Q' {
		return -1, "", "", ""
	}
	if s[j+2] != '?' {
		return -1, "", "", ""
	}
	k := j + 3
	for k < len(s) && s[k] != '?' {
		k++
	}
	if k+1 >= len(s) || s[k+1] != '=' {
		return -1, "", "", ""
	}
	return k + 2, cs, string(e), s[j+3 : k]
}

func decodeEncodedWords(v string) string {
	// Whitespace between two adjacent encoded-words disappears.
	var squeezed strings.Builder
	for i := 0; i < len(v); {
		end, _, _, _ := encodedWordAt(v, i)
		if end < 0 {
			squeezed.WriteByte(v[i])
			i++
			continue
		}
		squeezed.WriteString(v[i:end])
		j := end
		for j < len(v) && isPerlSpace(v[j]) {
			j++
		}
		if j > end {
			if e2, _, _, _ := encodedWordAt(v, j); e2 >= 0 {
				i = j
				continue
			}
		}
		i = end
	}
	v = squeezed.String()

	type section struct {
		data []byte
		cs   string // lower-case charset, "" for plain text
	}
	var secs []section
	last := "\x00"
	add := func(data []byte, cs string) {
		if cs == last && len(secs) > 0 {
			secs[len(secs)-1].data = append(secs[len(secs)-1].data, data...)
		} else {
			secs = append(secs, section{data: append([]byte(nil), data...), cs: cs})
		}
		last = cs
	}
	for i := 0; i < len(v); {
		if end, cs, enc, text := encodedWordAt(v, i); end >= 0 {
			var data []byte
			if enc == "b" || enc == "B" {
				data, _ = decodeBase64([]byte(text))
			} else {
				data = decodeQP([]byte(strings.ReplaceAll(text, "_", "=20")))
			}
			add(data, strings.ToLower(cs))
			i = end
			continue
		}
		j := i + 1
		if v[i] != '=' {
			for j < len(v) && v[j] != '=' {
				j++
			}
		}
		add([]byte(v[i:j]), "")
		i = j
	}
	var out strings.Builder
	for _, s := range secs {
		if s.cs == "" {
			out.Write(s.data)
			continue
		}
		cs := s.cs
		if k := strings.IndexByte(cs, '*'); k >= 0 {
			cs = cs[:k]
		}
		d, _ := normalizeCharset(s.data, cs, true)
		out.WriteString(d)
	}
	return out.String()
}

// failingEncoding marks a declared charset whose strict decoding failed.
type failingEncoding struct{ encoding.Encoding }

// validEUCCN reports whether every 8-bit byte pair of b lies in the GB 2312
// (EUC-CN) code space.
func validEUCCN(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		if c < 0xa1 || c > 0xf7 || i+1 >= len(b) || b[i+1] < 0xa1 || b[i+1] > 0xfe {
			return false
		}
		i++
	}
	return true
}
