package tokenizer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// maxURILength is SpamAssassin's MAX_URI_LENGTH.
const maxURILength = 8192

// tagURIs collects the URIs of one start tag (HTML.pm html_uri).
func (r *htmlRenderer) tagURIs(tag string, attrs []htmlAttr) {
	switch tag {
	case "body", "table", "tr", "td":
		if v, ok := attrVal(attrs, "background"); ok {
			r.pushURI(v)
		}
	case "a", "area", "link":
		if v, ok := attrVal(attrs, "href"); ok {
			v = strings.ReplaceAll(v, "\uFEFF", "")
			r.pushURI(v)
			if u := canonHTMLURI(v); tag == "a" && len(u) > 7 && strings.EqualFold(u[:7], "mailto:") {
				r.mailto = append(r.mailto, u)
			}
		}
		if v, ok := attrVal(attrs, "data-saferedirecturl"); ok {
			r.pushURI(v)
		}
	case "img", "frame", "iframe", "embed", "script", "bgsound":
		if v, ok := attrVal(attrs, "src"); ok {
			r.pushURI(v)
		}
	case "form":
		if v, ok := attrVal(attrs, "action"); ok {
			r.pushURI(v)
		}
	case "base":
		v, _ := attrVal(attrs, "href")
		if v == "" || v == "0" {
			return
		}
		u := canonHTMLURI(v)
		r.pushURI(u)
		if schemeWithSlashes(u) {
			r.baseHref = baseDirectory(u)
		}
	case "meta":
		eq, ok1 := attrVal(attrs, "http-equiv")
		content, ok2 := attrVal(attrs, "content")
		if !ok1 || !ok2 || !strings.Contains(strings.ToLower(eq), "refresh") {
			return
		}
		lc := strings.ToLower(content)
		// /\burl\s*=/i, then strip everything through the last such match.
		pos := -1
		for i := 0; ; {
			k := strings.Index(lc[i:], "url")
			if k < 0 {
				break
			}
			k += i
			j := k + 3
			for j < len(lc) && isPerlSpace(lc[j]) {
				j++
			}
			if (k == 0 || !isWordByte(lc[k-1])) && j < len(lc) && lc[j] == '=' {
				j++
				for j < len(lc) && isPerlSpace(lc[j]) {
					j++
				}
				pos = j
			}
			i = k + 1
		}
		if pos < 0 {
			return
		}
		u := content[pos:]
		if i := strings.IndexByte(u, ';'); i >= 0 {
			u = strings.TrimRight(u[:i], " \t\r\n\f\v")
		}
		r.pushURI(u)
	}
}

// schemeWithSlashes matches m@^(?:https?|ftp):/{0,2}@i.
func schemeWithSlashes(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http:") || strings.HasPrefix(l, "https:") || strings.HasPrefix(l, "ftp:")
}

// baseDirectory turns a <base href> into the directory relative links
// resolve against: a trailing "name.ext" is dropped and a '/' ensured.
func baseDirectory(u string) string {
	// s@^([a-z]+:/{0,2}[^/]+/.*?)[^/\.]+\.[^/\.]{2,4}$@$1@i
	i := 0
	for i < len(u) && (u[i]|0x20 >= 'a' && u[i]|0x20 <= 'z') {
		i++
	}
	if i > 0 && i < len(u) && u[i] == ':' {
		j := i + 1
		for k := 0; k < 2 && j < len(u) && u[j] == '/'; k++ {
			j++
		}
		k := j
		for k < len(u) && u[k] != '/' {
			k++
		}
		if k > j && k < len(u) {
			dir := u[:k+1]
			restPath := u[k+1:]
			last := strings.LastIndexByte(restPath, '/')
			file := restPath[last+1:]
			if dot := strings.LastIndexByte(file, '.'); dot > 0 && len(file)-dot-1 >= 2 && len(file)-dot-1 <= 4 && strings.IndexByte(file[:dot], '.') < 0 {
				u = dir + restPath[:last+1]
			}
		}
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// canonHTMLURI trims blanks and NBSP and caps the length (canon_uri).
func canonHTMLURI(u string) string {
	u = strings.TrimFunc(u, func(c rune) bool { return c < 0x80 && isPerlSpace(byte(c)) || c == 0xa0 })
	if len(u) > maxURILength {
		u = u[:maxURILength]
	}
	return u
}

func (r *htmlRenderer) pushURI(u string) {
	u = canonHTMLURI(u)
	if u == "" {
		return
	}
	l := strings.ToLower(u)
	if !(strings.HasPrefix(l, "data:") || strings.HasPrefix(l, "mailto:") || strings.HasPrefix(l, "file:") ||
		strings.HasPrefix(l, "cid:") || strings.HasPrefix(l, "tel:")) {
		u = targetURI(r.baseHref, u)
		if u == "" {
			return
		}
	}
	r.addURI(u)
}

// uriParts is a URI split by the RFC 3986 appendix B expression; a nil
// pointer means the component is absent.
type uriParts struct {
	scheme, authority, query, fragment *string
	path                               string
}

func splitURI(u string) uriParts {
	var p uriParts
	// scheme: [^:/?#]+ followed by ':'
	if i := strings.IndexAny(u, ":/?#"); i > 0 && u[i] == ':' {
		s := u[:i]
		p.scheme = &s
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "//") {
		rest := u[2:]
		i := strings.IndexAny(rest, "/?#")
		if i < 0 {
			i = len(rest)
		}
		a := rest[:i]
		p.authority = &a
		u = rest[i:]
	}
	i := strings.IndexAny(u, "?#")
	if i < 0 {
		i = len(u)
	}
	p.path = u[:i]
	u = u[i:]
	if strings.HasPrefix(u, "?") {
		j := strings.IndexByte(u, '#')
		if j < 0 {
			j = len(u)
		}
		q := u[1:j]
		p.query = &q
		u = u[j:]
	}
	if strings.HasPrefix(u, "#") {
		f := u[1:]
		if k := strings.IndexByte(f, '\n'); k >= 0 {
			f = f[:k]
		}
		p.fragment = &f
	}
	return p
}

func removeDotSegments(in string) string {
	if strings.HasPrefix(in, "./") {
		in = "/" + in[2:]
	} else if strings.HasPrefix(in, "../") {
		in = "/" + in[3:]
	}
	var out strings.Builder
	for in != "" && in != "0" {
		switch {
		case in == "/." || strings.HasPrefix(in, "/./"):
			in = "/" + strings.TrimPrefix(strings.TrimPrefix(in, "/."), "/")
		case in == "/.." || strings.HasPrefix(in, "/../"):
			in = "/" + strings.TrimPrefix(strings.TrimPrefix(in, "/.."), "/")
			o := out.String()
			k := strings.LastIndexByte(o, '/')
			if k < 0 {
				k = 0
			}
			out.Reset()
			out.WriteString(o[:k])
		default:
			j := 0
			if in[0] == '/' {
				j = 1
			}
			k := strings.IndexByte(in[j:], '/')
			if k < 0 {
				k = len(in) - j
			}
			out.WriteString(in[:j+k])
			in = in[j+k:]
		}
	}
	return out.String()
}

// targetURI resolves r against base as HTML.pm's target_uri does (a
// relaxed RFC 3986 5.2 that also guesses http: for "//www..." links).
func targetURI(base, ref string) string {
	r := splitURI(ref)
	b := splitURI(base)
	if r.scheme != nil && b.scheme != nil && *r.scheme == *b.scheme {
		r.scheme = nil
	}
	var t uriParts
	if r.scheme != nil {
		t.scheme, t.authority, t.query = r.scheme, r.authority, r.query
		t.path = removeDotSegments(r.path)
	} else {
		if r.authority != nil {
			t.authority, t.query = r.authority, r.query
			t.path = removeDotSegments(r.path)
		} else {
			if r.path == "" {
				t.path = b.path
				if r.query != nil {
					t.query = r.query
				} else {
					t.query = b.query
				}
			} else {
				if strings.HasPrefix(r.path, "/") {
					t.path = removeDotSegments(r.path)
				} else {
					t.path = removeDotSegments(mergeURIPath(b.authority, b.path, r.path))
				}
				t.query = r.query
			}
			t.authority = b.authority
		}
		t.scheme = b.scheme
	}
	t.fragment = r.fragment
	var sb strings.Builder
	if t.scheme != nil && *t.scheme != "" && *t.scheme != "0" {
		sb.WriteString(*t.scheme)
		sb.WriteByte(':')
	} else if t.authority != nil {
		la := strings.ToLower(*t.authority)
		if wwwOrFTP(la, "www") {
			sb.WriteString("http:")
		} else if wwwOrFTP(la, "ftp") {
			sb.WriteString("ftp:")
		}
	}
	if t.authority != nil {
		sb.WriteString("//")
		sb.WriteString(*t.authority)
	}
	sb.WriteString(t.path)
	if t.query != nil {
		sb.WriteByte('?')
		sb.WriteString(*t.query)
	}
	if t.fragment != nil {
		sb.WriteByte('#')
		sb.WriteString(*t.fragment)
	}
	return sb.String()
}

// wwwOrFTP matches /^www\d*\./ (or ftp).
func wwwOrFTP(s, p string) bool {
	if !strings.HasPrefix(s, p) {
		return false
	}
	i := len(p)
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i < len(s) && s[i] == '.'
}

func mergeURIPath(baseAuth *string, basePath, rPath string) string {
	if baseAuth != nil && (basePath == "" || basePath == "0") {
		return "/" + rPath
	}
	if i := strings.LastIndexByte(basePath, '/'); i >= 0 {
		basePath = basePath[:i+1]
	} else {
		basePath = ""
	}
	return basePath + rPath
}

// ---- URIs in text (PerMsgStatus::_process_text_uri_list) ----

func isEndDelim(c byte) bool {
	switch c {
	case '>', '<', '"', '`', '}', ']', '{', '[', '|', ' ', '\t', '\n', '\v', '\f', '\r', 0x1b, 0xa0:
		return true
	}
	return false
}

func isStartDelim(c byte) bool {
	switch c {
	case '>', '<', '"', '\'', '`', ',', '{', '[', '(', '|', ' ', '\t', '\n', '\v', '\f', '\r', 0x1b, 0xa0:
		return true
	}
	return false
}

func isSchemelessStartDelim(c byte) bool {
	switch c {
	case '!', '"', '#', '$', '&', '\'', '(', ')', '*', '+', ',', '/', ':', ';', '<', '=', '>', '?', '@',
		'[', '\\', ']', '^', '`', '{', '|', '}', '~', ' ', '\t', '\n', '\v', '\f', '\r', 0x1b, 0xa0:
		return true
	}
	return false
}

func isEmailEndDelim(c byte) bool {
	return isEndDelim(c) || c == ',' || c == '(' || c == '\'' || c >= 0x80
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// runLen counts bytes from i for which stop is false.
func runLen(s string, i int, stop func(byte) bool) int {
	j := i
	for j < len(s) && !stop(s[j]) {
		j++
	}
	return j - i
}

type textURIKind int

const (
	uriKnownScheme textURIKind = iota
	uriMail
	uriSchemeless
)

type textURIMatch struct {
	raw    string
	kind   textURIKind
	schost string
}

// matchTextURIAt tries the Thunderbird-like expression at position p.
func matchTextURIAt(s string, p int, hasAt bool) (textURIMatch, int, bool) {
	// Known scheme or www./ftp. prefix.
	k := -1
	c0 := s[p] | 0x20
	switch {
	case c0 != 'h' && c0 != 'f' && c0 != 'w':
	case hasPrefixFold(s[p:], "http://"):
		k = p + 7
	case hasPrefixFold(s[p:], "https://"):
		k = p + 8
	case hasPrefixFold(s[p:], "ftp://"):
		k = p + 6
	case hasPrefixFold(s[p:], "www"):
		j := p + 3
		for d := 0; d < 2 && j < len(s) && s[j] >= '0' && s[j] <= '9'; d++ {
			j++
		}
		if j < len(s) && s[j] == '.' {
			k = j + 1
		}
	}
	if k < 0 && c0 == 'f' && hasPrefixFold(s[p:], "ftp.") {
		k = p + 4
	}
	if k >= 0 {
		if n := runLen(s, k, isEndDelim); n >= 1 && n <= 2048 {
			return textURIMatch{raw: s[p : k+n], kind: uriKnownScheme}, k + n, true
		}
	}
	// mailto: or local@domain.
	if c0 == 'm' && hasPrefixFold(s[p:], "mailto:") {
		if n := runLen(s, p+7, isEmailEndDelim); n >= 1 && n <= 2048 {
			return textURIMatch{raw: s[p : p+7+n], kind: uriMail}, p + 7 + n, true
		}
	}
	if !hasAt {
	} else if n := runLen(s, p, func(c byte) bool { return c == '@' || isEmailEndDelim(c) }); n >= 1 && n <= 251 && p+n < len(s) && s[p+n] == '@' {
		d := p + n + 1
		if m := runLen(s, d, isEmailEndDelim); m >= 1 && m <= 251 {
			return textURIMatch{raw: s[p : d+m], kind: uriMail}, d + m, true
		}
	}
	// Schemeless host name with a known TLD.
	if p == 0 || isSchemelessStartDelim(s[p-1]) {
		if m, end, ok := matchSchemeless(s, p); ok {
			return m, end, true
		}
	}
	return textURIMatch{}, 0, false
}

func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func isAlnumHyphen(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func matchSchemeless(s string, p int) (textURIMatch, int, bool) {
	if p >= len(s) || !isAlnum(s[p]) {
		return textURIMatch{}, 0, false
	}
	n := 1 + runLen(s, p+1, func(c byte) bool { return !isHostByte(c) })
	if n > 252 {
		n = 252
	}
	// Try host ends from the longest; the host must end in ".TLD" with
	// the TLD not followed by [A-Za-z0-9-] or by '.' and an alphanumeric.
	for e := p + n; e > p+1; e-- {
		// Checked first, as it rules out most ends: skipping an end
		// here rather than stopping at the dot check below changes
		// nothing, since no shorter host has a dot either.
		if e < len(s) && (isAlnumHyphen(s[e]) || s[e] == '.' && e+1 < len(s) && isAlnum(s[e+1])) {
			continue
		}
		dot := strings.LastIndexByte(s[p:e], '.')
		if dot <= 0 {
			break
		}
		dot += p
		tld := s[dot+1 : e]
		if tld == "" || !isAlnumTLD(tld) {
			continue
		}
		if !isTLD(strings.ToLower(tld)) {
			continue
		}
		if end, ok := schemelessTail(s, e); ok {
			return textURIMatch{raw: s[p:end], kind: uriSchemeless, schost: s[p:e]}, end, true
		}
	}
	return textURIMatch{}, 0, false
}

func isAlnumTLD(t string) bool {
	for i := 0; i < len(t); i++ {
		if !isAlnumHyphen(t[i]) {
			return false
		}
	}
	return true
}

// schemelessTail matches \.?(?::\d{1,5})?(?:/[^delim]{1,2048})? followed
// by a delimiter or the end, trying the longest forms first.
func schemelessTail(s string, e int) (int, bool) {
	endOK := func(i int) bool { return i >= len(s) || isEndDelim(s[i]) }
	dots := []int{e}
	if e < len(s) && s[e] == '.' {
		dots = []int{e + 1, e}
	}
	for _, d := range dots {
		ports := []int{}
		if d < len(s) && s[d] == ':' {
			nd := 0
			for nd < 5 && d+1+nd < len(s) && s[d+1+nd] >= '0' && s[d+1+nd] <= '9' {
				nd++
			}
			for k := nd; k >= 1; k-- {
				ports = append(ports, d+1+k)
			}
		}
		ports = append(ports, d)
		for _, q := range ports {
			if q < len(s) && s[q] == '/' {
				if n := runLen(s, q+1, isEndDelim); n >= 1 && n <= 2048 {
					return q + 1 + n, true
				}
			}
			if endOK(q) {
				return q, true
			}
		}
	}
	return 0, false
}

func isWordAt(s string, i int) bool { return i >= 0 && i < len(s) && isWordByte(s[i]) }

// uriStartOK is the expression's start condition: a word boundary, an
// ISO-2022 shift sequence or a start delimiter right before p.
func uriStartOK(s string, p int) bool {
	if isWordAt(s, p-1) != isWordAt(s, p) {
		return true
	}
	if p >= 3 && s[p-3] == 0x1b && s[p-2] == '(' && s[p-1] != '\n' {
		return true
	}
	return p > 0 && isStartDelim(s[p-1])
}

// uriRunByte marks [A-Za-z0-9_-], the bytes that can come before the
// first '.' or ':' of a URI found without an '@' (textURIs).
var uriRunByte = func() (a [256]bool) {
	for c := range a {
		a[c] = isAlnumHyphen(byte(c)) || c == '_'
	}
	return a
}()

// emailAhead reports whether an '@' follows p after a run, from q, of
// bytes that are no address delimiter (so an address may start at p).
func emailAhead(s string, p, q int) bool {
	e := q
	for e < len(s) && s[e] != '@' && !isEmailEndDelim(s[e]) {
		e++
	}
	return e > p && e < len(s) && s[e] == '@'
}

// textURIs finds the URIs in rendered text lines and returns them in the
// form SpamAssassin adds them (scheme supplied), in order of appearance.
func textURIs(lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range lines {
		hasAt := strings.IndexByte(s, '@') >= 0
		for p := 0; p < len(s); {
			// Without an '@' on the line only a URI starting with a
			// letter or digit can match here (matchTextURIAt).
			if !hasAt && !isAlnum(s[p]) || !uriStartOK(s, p) {
				p++
				continue
			}
			// Every URI matchTextURIAt finds but an address has a '.'
			// or ':' (after its scheme, www or ftp, or in its host
			// name) with only bytes of [A-Za-z0-9_-] before it; an
			// address has an '@' after a run of bytes that are no
			// address delimiter (which the bytes of [A-Za-z0-9_-] are
			// not either). When neither holds from p, no URI starts at
			// p or anywhere in the run of [A-Za-z0-9_-] from p.
			q := p
			for q < len(s) && uriRunByte[s[q]] {
				q++
			}
			if (q == len(s) || s[q] != '.' && s[q] != ':') && !(hasAt && emailAhead(s, p, q)) {
				p = max(q, p+1)
				continue
			}
			m, end, ok := matchTextURIAt(s, p, hasAt)
			if !ok {
				p++
				continue
			}
			p = end
			if u, ok := cleanTextURI(m, seen); ok {
				out = append(out, u)
			}
		}
	}
	return out
}

func cleanTextURI(m textURIMatch, seen map[string]bool) (string, bool) {
	raw := m.raw
	// ')' ends a URI unless a '(' came before it.
	q := strings.IndexByte(raw, '(')
	if q < 0 {
		q = len(raw)
	}
	if k := strings.LastIndexByte(raw[:q], ')'); k >= 0 {
		raw = raw[:k]
	}
	raw = strings.TrimRight(raw, "-~!@#^&*()_+=:;'?,.")
	if seen[raw] {
		return "", false
	}
	seen[raw] = true
	if m.kind == uriMail && strings.IndexByte(raw, '@') < 0 {
		return "", false
	}
	if m.kind == uriSchemeless && !isFQDNValid(m.schost) {
		return "", false
	}
	lr := strings.ToLower(raw)
	if strings.HasPrefix(lr, "cid:") || strings.HasPrefix(lr, "mid:") {
		return "", false
	}
	if isBareScheme(raw) {
		return "", false
	}
	u := raw
	if !(strings.HasPrefix(lr, "http:") || strings.HasPrefix(lr, "https:") || strings.HasPrefix(lr, "ftp:") || strings.HasPrefix(lr, "mailto:")) {
		switch {
		case strings.HasPrefix(lr, "ftp."):
			u = "ftp://" + u
		case wwwDigitsDot(lr):
			u = "http://" + u
		case slashThenAt(u):
			u = "http://" + u
		case strings.IndexByte(u, '@') >= 0:
			at := strings.IndexByte(u, '@')
			if strings.IndexByte(u[at+1:], '.') < 1 {
				return "", false
			}
			if strings.Contains(u, "&nbsp;") {
				return "", false
			}
			u = stripMailMisparse(u)
			u = "mailto:" + u
		default:
			if strings.IndexByte(u, '.') < 0 {
				return "", false
			}
			u = "http://" + u
		}
	}
	if hasPrefixFold(u, "mailto:") {
		if hasPercentHex(u) {
			u = urlEncode(u)
		}
		at := strings.IndexByte(u, '@')
		if at < 0 {
			return "", false
		}
		host := u[at+1:]
		if i := strings.IndexAny(host, "?&>"); i >= 0 {
			host = host[:i]
		}
		for strings.HasSuffix(host, "%20") {
			host = strings.TrimSuffix(host, "%20")
		}
		if !isDomainValid(host) {
			return "", false
		}
	}
	return u, true
}

// isBareScheme matches /^\w+:\/{0,2}$/.
func isBareScheme(s string) bool {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ':' {
		return false
	}
	rest := s[i+1:]
	return rest == "" || rest == "/" || rest == "//"
}

func wwwDigitsDot(l string) bool {
	if !strings.HasPrefix(l, "www") {
		return false
	}
	i := 3
	for d := 0; d < 2 && i < len(l) && l[i] >= '0' && l[i] <= '9'; d++ {
		i++
	}
	return i < len(l) && l[i] == '.'
}

// slashThenAt matches /\/.+\@/.
func slashThenAt(u string) bool {
	i := strings.IndexByte(u, '/')
	j := strings.LastIndexByte(u, '@')
	return i >= 0 && j > i+1
}

// stripMailMisparse removes /^(?:skype|e?-?mail)?:+/i.
func stripMailMisparse(u string) string {
	l := strings.ToLower(u)
	for _, p := range []string{"skype", "e-mail", "email", "-mail", "mail", ""} {
		if strings.HasPrefix(l, p) && len(l) > len(p) && l[len(p)] == ':' {
			i := len(p)
			for i < len(u) && u[i] == ':' {
				i++
			}
			return u[i:]
		}
	}
	return u
}

func hasPercentHex(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2]) {
			return true
		}
	}
	return false
}

// urlEncode is Util::url_encode: %XX escapes of harmless printable
// characters are decoded, and raw control, 8-bit, '"', '%', '<' and '>'
// bytes are escaped.
func urlEncode(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			x, y := s[i+1]|0x20, s[i+2]|0x20
			keep := (x == '2' && y == '0') || (x == '7' && y == 'f') ||
				x == '0' || x == '1' || x == '8' || x == '9' || (x >= 'a' && x <= 'f')
			if keep {
				sb.WriteString(s[i : i+3])
			} else {
				sb.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			}
			i += 2
			continue
		}
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '%' || c == '<' || c == '>' {
			fmt.Fprintf(&sb, "%%%02x", c)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// isTLD reports whether t (lower case) is a top-level domain in the
// ICANN section of the Public Suffix List, standing in for
// SpamAssassin's util_rb_tld list.
func isTLD(t string) bool {
	if t == "" {
		return false
	}
	ps, icann := publicsuffix.PublicSuffix(t)
	return icann && ps == t
}

// IsTLD reports whether t (any case) is a top-level domain, as
// SpamAssassin's valid_tlds list holds them.
func IsTLD(t string) bool { return isTLD(strings.ToLower(t)) }

// isDomainValid is RegistryBoundaries::is_domain_valid: the name must
// end in ".TLD" with a known TLD and contain no blanks.
func isDomainValid(d string) bool {
	d = strings.ToLower(d)
	for i := 0; i < len(d); i++ {
		if isPerlSpace(d[i]) {
			return false
		}
	}
	i := strings.LastIndexByte(d, '.')
	if i < 0 || i == len(d)-1 {
		return false
	}
	return isTLD(d[i+1:])
}

// isFQDNValid is Util::is_fqdn_valid.
func isFQDNValid(h string) bool {
	h = strings.ToLower(strings.TrimRight(h, "."))
	if len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for len(labels) > 0 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	cnt := len(labels)
	if cnt < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) < 1 || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		if cnt <= 2 && strings.IndexByte(l, '_') >= 0 {
			return false
		}
		cnt--
	}
	return true
}

// uriHasDomain reports whether RegistryBoundaries::uri_to_domain finds a
// registrable domain (or an IP address) in u.
func uriHasDomain(u string) bool {
	u = strings.ToLower(u)
	for _, p := range []string{"javascript:", "cid:", "file:"} {
		if strings.HasPrefix(u, p) {
			return false
		}
	}
	if strings.HasPrefix(u, "mailto:") {
		u = u[7:]
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		if strings.Count(u, "@") > 1 {
			return false
		}
		i := strings.LastIndexByte(u, '@')
		if i < 0 {
			return false
		}
		u = u[i+1:]
	} else {
		i := 0
		for i < len(u) && u[i] >= 'a' && u[i] <= 'z' {
			i++
		}
		if i > 0 && i < len(u) && u[i] == ':' {
			j := i + 1
			for k := 0; k < 2 && j < len(u) && u[j] == '/'; k++ {
				j++
			}
			u = u[j:]
		}
		if k := strings.IndexAny(u, "/?#"); k >= 0 {
			u = u[:k]
		}
		if k := strings.LastIndexByte(u, '@'); k >= 0 {
			u = u[k+1:]
		}
		if k := strings.LastIndexByte(u, ':'); k >= 0 && allDigitsOrEmpty(u[k+1:]) {
			u = u[:k]
		}
	}
	for i := 0; i+2 < len(u); i++ {
		if u[i] == '%' {
			x, y := u[i+1], u[i+2]
			if (x == '2' && (y >= '1' && y <= '9' || y >= 'a' && y <= 'f')) ||
				(x >= '3' && x <= '6' && isLowerHex(y)) ||
				(x == '7' && (y >= '0' && y <= '9' || y >= 'a' && y <= 'e')) {
				return false
			}
		}
	}
	if isIPAddress(u) {
		return true
	}
	return isFQDNValid(u) && isDomainValid(u)
}

func allDigitsOrEmpty(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isIPAddress(s string) bool {
	s = strings.TrimPrefix(s, "ipv6:")
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// canonicalizeURI is Util::uri_list_canonicalize for one URI (without
// configured redirector patterns): the URI itself plus its decoded,
// normalised and de-obfuscated variants, and the same for any URI it
// redirects to.
func canonicalizeURI(u string) []string {
	uris := []string{u}
	var nuris []string
	for idx := 0; idx < len(uris) && idx < 64; idx++ {
		uri := strings.ReplaceAll(uris[idx], "\n", "")
		uri = trimPerlSpace(uri)
		uri = strings.ReplaceAll(uri, "\r", "")
		uris[idx] = uri
		if len(uri) <= 1 || uri[0] == '#' || uri[0] == '?' || uri[0] == '&' || (uri[0] == '/' && !strings.HasPrefix(uri, "//")) {
			continue
		}
		nuri := uri
		colon := strings.IndexByte(nuri, ':')
		at := strings.IndexByte(nuri, '@')
		if hasPrefixFold(nuri, "mailto:") || (at >= 0 && (colon < 0 || colon > at)) {
			nuris = append(nuris, mailVariants(nuri)...)
			continue
		}
		nuri = strings.ReplaceAll(nuri, "\\", "/")
		if hasPrefixFold(nuri, "http:") || hasPrefixFold(nuri, "https:") {
			c := strings.IndexByte(nuri, ':')
			j := c + 1
			for k := 0; k < 2 && j < len(nuri) && nuri[j] == '/'; k++ {
				j++
			}
			nuri = nuri[:c+1] + "//" + nuri[j:]
		}
		if hasPercentHex(nuri) {
			nuri = urlEncode(nuri)
		}
		if !hasSchemePrefix(nuri) {
			if strings.HasPrefix(nuri, "ftp.") {
				nuri = "ftp://" + nuri
			} else {
				nuri = "http://" + nuri
			}
		}
		// http://host?x -> http://host/?x
		if hasPrefixFold(nuri, "http://") || hasPrefixFold(nuri, "https://") {
			s := strings.Index(nuri, "//") + 2
			k := strings.IndexAny(nuri[s:], "/?#")
			if k > 0 && (nuri[s+k] == '?' || nuri[s+k] == '#') {
				nuri = nuri[:s+k] + "/" + nuri[s+k:]
			}
		}
		nuri = decodeNumericRefsInURI(nuri)
		if nuri != uri {
			nuris = append(nuris, nuri)
		}
		nuris = append(nuris, httpVariants(nuri, &uris)...)
	}
	seen := make(map[string]bool, len(uris)+len(nuris))
	var out []string
	for _, l := range [][]string{uris, nuris} {
		for _, x := range l {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

// hasSchemePrefix matches /^[-_a-z0-9]+:/i.
func hasSchemePrefix(s string) bool {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || s[i] == '-' || s[i] == '_') {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ':'
}

func mailVariants(nuri string) []string {
	var out []string
	at := strings.IndexByte(nuri, '@')
	if at >= 1 {
		rest := nuri[at+1:]
		if q := strings.IndexByte(rest, '?'); q >= 1 {
			out = append(out, nuri[:at+1+q])
		}
		if q := strings.IndexAny(rest, "?&"); q >= 1 && rest[q] == '&' {
			out = append(out, nuri[:at+1+q])
		}
	}
	if strings.Contains(nuri, "%20") {
		s := nuri
		if hasPrefixFold(s, "mailto:") {
			s = s[7:]
		}
		for strings.HasPrefix(s, "%20") {
			s = s[3:]
		}
		if a := strings.IndexByte(s, '@'); a >= 1 {
			r := s[a+1:]
			e := strings.IndexAny(r, "?&%")
			if e < 0 {
				e = len(r)
			}
			if e >= 1 {
				out = append(out, "mailto:"+s[:a+1+e])
			}
		}
	}
	// /^[^?&]*<([^\@>]+\@[^>]+)>/: the right-most '<' before any '?'
	// or '&' that is followed by "local@domain>" wins.
	pre := nuri
	if q := strings.IndexAny(pre, "?&"); q >= 0 {
		pre = pre[:q]
	}
	for i := strings.LastIndexByte(pre, '<'); i >= 0; i = strings.LastIndexByte(pre[:i], '<') {
		body := nuri[i+1:]
		a := strings.IndexAny(body, "@>")
		if a >= 1 && body[a] == '@' {
			if gt := strings.IndexByte(body[a+1:], '>'); gt >= 1 {
				out = append(out, "mailto:"+body[:a+1+gt])
				break
			}
		}
	}
	return out
}

// decodeNumericRefsInURI decodes &#NN; for printable ASCII and the
// character references of dots.
func decodeNumericRefsInURI(s string) string {
	if !strings.Contains(s, "&#") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		if !strings.HasPrefix(s[i:], "&#") {
			sb.WriteByte(s[i])
			i++
			continue
		}
		j := i + 2
		hex := j < len(s) && (s[j] == 'x' || s[j] == 'X')
		if hex {
			j++
		}
		k := j
		for k < len(s) && (s[k] >= '0' && s[k] <= '9' || hex && isHex(s[k])) {
			k++
		}
		if k > j && k < len(s) && s[k] == ';' {
			digits := strings.TrimLeft(s[j:k], "0")
			base := 10
			if hex {
				base = 16
			}
			n, err := strconv.ParseInt(digits, base, 64)
			if digits == "" {
				n, err = 0, nil
			}
			if err == nil {
				lowerHex := strings.ToLower(s[i+2 : k])
				switch {
				case !hex && n >= 33 && n <= 126 && len(digits) <= 3 && s[j] != 'x':
					sb.WriteByte(byte(n))
					i = k + 1
					continue
				case hex && n >= 0x21 && n <= 0x7e && len(digits) == 2:
					sb.WriteByte(byte(n))
					i = k + 1
					continue
				case lowerHex == "x2e" || lowerHex == "12290" || lowerHex == "x3002" || lowerHex == "65294" || lowerHex == "xff0e" || lowerHex == "65377" || lowerHex == "xff61":
					sb.WriteByte('.')
					i = k + 1
					continue
				}
			}
		}
		sb.WriteByte(s[i])
		i++
	}
	return sb.String()
}

// httpVariants adds the host-level variants of an http(s) URI and queues
// any URI it redirects to.
func httpVariants(nuri string, queue *[]string) []string {
	var out []string
	l := strings.ToLower(nuri)
	var protoLen int
	switch {
	case strings.HasPrefix(l, "http://"):
		protoLen = 7
	case strings.HasPrefix(l, "https://"):
		protoLen = 8
	default:
		return nil
	}
	proto := nuri[:protoLen]
	rest0 := nuri[protoLen:]
	// ([^\@/?#]*\@)? then ([^/?#:]+)
	auth := ""
	if k := strings.IndexAny(rest0, "@/?#"); k >= 0 && rest0[k] == '@' {
		auth = rest0[:k+1]
		rest0 = rest0[k+1:]
	}
	hostEnd := strings.IndexAny(rest0, "/?#:")
	if hostEnd < 0 {
		hostEnd = len(rest0)
	}
	if hostEnd == 0 {
		return nil
	}
	host := rest0[:hostEnd]
	rest := rest0[hostEnd:]
	port := ""
	hasPort := false
	if strings.HasPrefix(rest, ":") {
		k := 1
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			k++
		}
		port = rest[1:k]
		hasPort = true
	}
	restNoPort := ""
	if !hasPort || port == "" {
		if proto == "http://" {
			port = "80"
		} else {
			port = "443"
		}
		if hasPort {
			restNoPort = rest
		}
	} else {
		restNoPort = rest
	}
	if hasPort {
		if proto == "http://" {
			if strings.HasPrefix(restNoPort, ":80") && !isWordAt(restNoPort, 3) {
				restNoPort = restNoPort[3:]
				out = append(out, proto+host+restNoPort)
			}
		} else if strings.HasPrefix(restNoPort, ":443") && !isWordAt(restNoPort, 4) {
			restNoPort = restNoPort[4:]
			out = append(out, proto+host+restNoPort)
		}
	}
	nhost := strings.ToLower(host)
	if strings.IndexFunc(host, func(c rune) bool { return c <= 0x20 }) >= 0 {
		host = strings.Map(func(c rune) rune {
			if c <= 0x20 {
				return -1
			}
			return c
		}, host)
		out = append(out, proto+host+rest)
	}
	// Generic redirector: an http(s): URL inside the rest of the URI.
	lr := strings.ToLower(rest)
	for i := 0; i < len(lr); {
		k := strings.Index(lr[i:], "http")
		if k < 0 {
			break
		}
		k += i
		j := k + 4
		if j < len(lr) && lr[j] == 's' {
			j++
		}
		if j < len(lr) && lr[j] == ':' {
			j++
			n := runLen(rest, j, func(c byte) bool { return c == '&' || c == '#' })
			if n >= 1 {
				target := rest[k : j+n]
				if strings.IndexByte(target, '.') >= 0 {
					*queue = append(*queue, target)
				}
				break
			}
		}
		i = k + 1
	}
	if k := strings.LastIndexByte(host, '@'); k >= 0 {
		host = host[k+1:]
		out = append(out, proto+host+rest)
	}
	if t := strings.TrimRightFunc(host, func(c rune) bool { return !(c < 0x80 && isAlnum(byte(c))) }); t != host {
		host = t
		out = append(out, proto+host+rest)
	}
	if chunks, ok := dottedNumericHost(host); ok {
		out = append(out, proto+strings.Join(chunks, "")+rest)
	} else if len(host) > 2 && (host[:2] == "0x" || host[:2] == "0X") && allHex(host[2:]) {
		h := host[2:]
		if len(h) > 8 {
			h = h[len(h)-8:]
		}
		n, _ := strconv.ParseUint(h, 16, 64)
		out = append(out, proto+ulongToIP(strconv.FormatUint(n, 10))+rest)
	} else if host != "" && allDigits(host) {
		out = append(out, proto+ulongToIP(host)+rest)
	} else if proto == "http://" && auth == "" && nhost != "localhost" && port == "80" {
		label := strings.TrimPrefix(nhost, "www.")
		if label != "" && strings.IndexByte(label, '.') < 0 && !isDomainValid(nhost) {
			out = append(out, proto+"www."+label+".com"+rest)
		}
	}
	return out
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return s != ""
}

// dottedNumericHost recognises hosts of four decimal, octal or hex
// numbers and rewrites each as SpamAssassin does.
func dottedNumericHost(host string) ([]string, bool) {
	parts := strings.Split(host, ".")
	if len(parts) != 4 {
		return nil, false
	}
	chunks := make([]string, 4)
	for i, p := range parts {
		if p == "" {
			return nil, false
		}
		if len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X") && allHex(p[2:]) {
			n, err := strconv.ParseUint(p[2:], 16, 64)
			if err != nil {
				n = ^uint64(0)
			}
			p = strconv.FormatUint(n, 10)
		} else if !allDigits(p) {
			return nil, false
		}
		// s/^0+([1-3][0-7]{0,2}|[4-7][0-7]?)\b/oct/
		if strings.HasPrefix(p, "0") {
			z := strings.TrimLeft(p, "0")
			if z != "" {
				n := 0
				switch {
				case z[0] >= '1' && z[0] <= '3':
					n = 1
					for n < 3 && n < len(z) && z[n] >= '0' && z[n] <= '7' {
						n++
					}
				case z[0] >= '4' && z[0] <= '7':
					n = 1
					if n < len(z) && z[n] >= '0' && z[n] <= '7' {
						n++
					}
				}
				if n > 0 && n == len(z) {
					v, _ := strconv.ParseUint(z, 8, 64)
					p = strconv.FormatUint(v, 10)
				}
			}
		}
		p = strings.TrimLeft(p, "0")
		if i < 3 {
			p += "."
		}
		chunks[i] = p
	}
	return chunks, true
}

// ulongToIP is decode_ulong_to_ip: the first four bytes of the number's
// %08x rendering.
func ulongToIP(dec string) string {
	n, err := strconv.ParseUint(dec, 10, 64)
	if err != nil {
		n = ^uint64(0)
	}
	h := fmt.Sprintf("%08x", n)
	if len(h)%2 == 1 {
		h += "0"
	}
	var b [4]int
	for i := 0; i < 4; i++ {
		b[i] = int(unhex(h[2*i]))<<4 | int(unhex(h[2*i+1]))
	}
	return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
}

// collectURIs builds get_uri_list: every canonical form of the URIs found
// in the rendered text (kept only when some form has a valid domain) and
// of the URIs found in HTML attributes. parsed holds the URIs found in
// the text, in the form SpamAssassin keys them in get_uri_detail_list
// (its "parsed" type).
func collectURIs(text []string, htmlURIs []string) (out []string, parsed map[string]bool) {
	seen := map[string]bool{}
	parsed = map[string]bool{}
	add := func(list []string) {
		for _, c := range list {
			if len(c) > maxURILength {
				c = c[:maxURILength]
			}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	for _, u := range textURIs(text) {
		cl := canonicalizeURI(u)
		ok := false
		for _, c := range cl {
			if uriHasDomain(c) {
				ok = true
				break
			}
		}
		if ok {
			parsed[u] = true
			add(cl)
		}
	}
	for _, u := range htmlURIs {
		add(canonicalizeURI(u))
	}
	return out, parsed
}

func (r *htmlRenderer) addURI(u string) {
	if r.uriSeen == nil {
		r.uriSeen = map[string]bool{}
	}
	if !r.uriSeen[u] {
		r.uriSeen[u] = true
		r.uris = append(r.uris, u)
	}
}
