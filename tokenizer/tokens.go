package tokenizer

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Bayes tokens
//
// A message becomes tokens from up to five sources (SpamAssassin's
// bayes_token_sources): the visible rendered text (Subject first), the
// text a reader would not see (prefixed "I*:"), the URIs, the header
// fields (prefixed "H<name>:") and, off by default, one digest per MIME
// part. Every line of text goes through the same steps (TokenizeLine):
//
//  1. bytes outside [A-Za-z0-9,@*!_'"$. -] that are not part of a UTF-8
//     sequence and not 0xA1–0xFF become spaces;
//  2. "..." (3–6 dots) and "--" (2–6 dashes) between word characters are
//     split off;
//  3. in body and URI text a Title-case word at the start of the text or
//     after ". " is lower-cased;
//  4. the text is split on spaces, each word trimmed of - ' " . , at both
//     ends and dropped if shorter than 3 bytes or a stopword;
//  5. in body and URI text a word with an @ also gives U*user, D*domain
//     and D* of each parent domain; a word that looks like a host name
//     gives UD:word and UD: of each parent;
//  6. a word longer than MaxTokenLength without a * becomes u8:<char>
//     tokens (one per 3- or 4-byte UTF-8 character) or, outside URIs,
//     sk:<first 7 characters>;
//  7. in body and URI text, copies without punctuation and lower-cased
//     copies are added;
//  8. the word itself is added, with the line's prefix.
//
// Each source stops after a fixed number of tokens (checked after each
// line, as SpamAssassin does), and the tokens of a message are
// de-duplicated: learning counts each distinct token once.

// A Region says where a line of text comes from. Header text, body text and
// URIs are tokenized slightly differently.
type Region uint8

// Regions, with SpamAssassin's numbering.
const (
	RegionHeader Region = iota
	RegionBody
	RegionURI
)

// Sources is a set of token sources (SpamAssassin's bayes_token_sources).
type Sources uint8

// Token sources.
const (
	// SourceHeader is the header fields and the relay pseudo-headers.
	SourceHeader Sources = 1 << iota
	// SourceVisible is the visible rendered text, Subject first.
	SourceVisible
	// SourceInvisible is the hidden HTML text, tokens prefixed "I*:".
	SourceInvisible
	// SourceURI is the URIs found in the message.
	SourceURI
	// SourceMIMEPart is one "MIME:<sha1>:<type>" token per leaf part.
	SourceMIMEPart

	// DefaultSources is SpamAssassin's default: all but SourceMIMEPart.
	DefaultSources = SourceHeader | SourceVisible | SourceInvisible | SourceURI
)

// Token caps per source: a source stops contributing once it has produced
// this many tokens (duplicates included), checked after each line.
const (
	maxBodyTokens      = 50000
	maxURITokens       = 10000
	maxInvisibleTokens = 50000
	maxHeaderTokens    = 10000
)

// DefaultMaxTokenLength is SpamAssassin's default bayes_max_token_length.
const DefaultMaxTokenLength = 15

// TokenOptions configures tokenization. The zero value is not useful; start
// from DefaultTokenOptions.
type TokenOptions struct {
	// MaxTokenLength is bayes_max_token_length: longer words (in bytes)
	// without a "*" are shortened to sk: or u8: tokens.
	MaxTokenLength int
	// Sources selects what is tokenized (bayes_token_sources).
	Sources Sources
	// IgnoreHeaders lists extra header names not to tokenize
	// (bayes_ignore_header), compared case-insensitively.
	IgnoreHeaders []string
	// Stopwords says which words are dropped (bayes_stopword_languages);
	// nil drops none.
	Stopwords Stopwords

	// Scan selects the tokens SpamAssassin looks up when scanning a
	// message rather than those sa-learn learns: a scan first deletes
	// every X-Spam-* field, while learning deletes only
	// X-Spam-Relays-Trusted (a quirk of Perl's /o flag in delete_header
	// that we reproduce).
	Scan bool
	// Metadata are more pseudo-headers of this message to tokenize
	// besides the relay ones. When scanning SpamAssassin adds
	// x-authordomain (the From domains) and x-senderdomain (the envelope
	// sender's domain), which the caller knows from its rules engine.
	// SpamAssassin's names are lower case.
	Metadata []Field
}

// DefaultTokenOptions returns SpamAssassin 4.0's defaults: tokens up to 15
// bytes, headers, visible and invisible text and URIs, English stopwords.
func DefaultTokenOptions() TokenOptions {
	return TokenOptions{
		MaxTokenLength: DefaultMaxTokenLength,
		Sources:        DefaultSources,
		Stopwords:      EnglishStopwords(),
	}
}

// Tokens returns the distinct Bayes tokens of m, in the order they were
// first produced (body, URIs, invisible text, MIME parts, headers).
func Tokens(m *Message, opt TokenOptions) []string {
	set := &tokenStringSet{seen: make(map[string]struct{}, 512)}
	tokenizeMessage(m, opt, newLineTokenizer(opt, set.add))
	return set.list
}

// TokenKeys returns the distinct keys of m's Bayes tokens, in the order
// they were first produced. Tokens are told apart by key, as SpamAssassin
// does.
func TokenKeys(m *Message, opt TokenOptions) []Key {
	sc := tokenScratchPool.Get().(*tokenScratch)
	set := &tokenKeySet{seen: sc.keySet(), list: make([]Key, 0, 256), digests: sc.digestCache()}
	t := newLineTokenizer(opt, set.add)
	t.norm, t.alt, t.out, t.skip = sc.norm, sc.alt, sc.out, sc.skip
	tokenizeMessage(m, opt, t)
	sc.release(set.seen, set.list, t)
	return set.list
}

// TokenizeLine returns the tokens of one line of text from region, each
// prefixed with prefix, with the default options (duplicates kept, in the
// order SpamAssassin produces them). It is step 1–8 of the package
// comment, for tests and tools.
func TokenizeLine(text, prefix string, region Region) []string {
	var out []string
	t := newLineTokenizer(DefaultTokenOptions(), func(tok []byte) {
		out = append(out, string(tok))
	})
	t.line(text, prefix, region)
	return out
}

// tokenizeMessage runs every enabled source of m through t, a line
// tokenizer made with opt that hands each token to its emit function.
func tokenizeMessage(m *Message, opt TokenOptions, t *lineTokenizer) {
	if opt.Sources&SourceVisible != 0 {
		t.source(m.Text, "", RegionBody, maxBodyTokens)
	}
	if opt.Sources&SourceURI != 0 {
		t.source(m.URIs, "", RegionURI, maxURITokens)
	}
	if opt.Sources&SourceInvisible != 0 {
		t.source(m.Invisible, "I*:", RegionBody, maxInvisibleTokens)
	}
	if opt.Sources&SourceMIMEPart != 0 {
		mimePartTokens(m, t.emit)
	}
	if opt.Sources&SourceHeader != 0 {
		t.count = 0
		for _, g := range headerTokenSources(m, opt) {
			for _, v := range g.values {
				t.line(v, g.prefix, RegionHeader)
			}
			if t.count >= maxHeaderTokens {
				break
			}
		}
	}
}

// mimePartShorthands names digests of common empty parts, as SpamAssassin
// does, to keep the tokens readable.
var mimePartShorthands = map[string]string{
	"da39a3ee5e6b4b0d3255bfef95601890afd80709:text/plain": "Empty-Plaintext",
	"da39a3ee5e6b4b0d3255bfef95601890afd80709:text/html":  "Empty-HTML",
	"da39a3ee5e6b4b0d3255bfef95601890afd80709:text/xml":   "Empty-XML",
	"adc83b19e793491b1c6ea0fd8b46cd9f32e592fc:text/plain": "OneNL-Plaintext",
	"adc83b19e793491b1c6ea0fd8b46cd9f32e592fc:text/html":  "OneNL-HTML",
	"71853c6197a6a7f222db0f1978c7cb232b87c5ee:text/plain": "TwoNL-Plaintext",
	"71853c6197a6a7f222db0f1978c7cb232b87c5ee:text/html":  "TwoNL-HTML",
}

// mimePartTokens emits "MIME:<sha1 of decoded content>:<type>" for every
// leaf part.
func mimePartTokens(m *Message, emit func([]byte)) {
	for _, p := range m.Parts {
		if !p.Leaf {
			continue
		}
		sum := sha1.Sum(p.Decoded)
		d := hex.EncodeToString(sum[:]) + ":" + p.ContentType
		if s, ok := mimePartShorthands[d]; ok {
			d = s
		}
		emit([]byte("MIME:" + d))
	}
}

// tokenStringSet collects distinct token strings in first-seen order.
type tokenStringSet struct {
	seen map[string]struct{}
	list []string
}

func (s *tokenStringSet) add(tok []byte) {
	if len(tok) == 0 {
		return
	}
	if _, ok := s.seen[string(tok)]; ok {
		return
	}
	str := string(tok)
	s.seen[str] = struct{}{}
	s.list = append(s.list, str)
}

// tokenKeySet collects distinct token keys in first-seen order.
type tokenKeySet struct {
	seen    keySet
	list    []Key
	digests *digestCache
}

// A keySet is a set of Keys: an open-addressing table of the keys packed
// into integers, probed linearly. A key is a digest, so its bits need no
// further hashing beyond a multiplication to spread them; this is several
// times cheaper than a map[Key], which every token of a message goes
// through.
type keySet struct {
	slots []uint64 // a key packed with keyPresent set; 0 is empty
	n     int
	shift uint // 64 - log2(len(slots))
}

const keyPresent = 1 << 40

// newKeySet returns an empty set of size slots, a power of two.
func newKeySet(size int) keySet { return keySetOn(make([]uint64, size)) }

// keySetOn returns a set on slots (empty, a power of two in length).
func keySetOn(slots []uint64) keySet {
	shift := uint(64)
	for n := len(slots); n > 1; n >>= 1 {
		shift--
	}
	return keySet{slots: slots, shift: shift}
}

// packKey is k as a slot holds it.
func packKey(k Key) uint64 {
	return uint64(k[0])<<32 | uint64(k[1])<<24 | uint64(k[2])<<16 | uint64(k[3])<<8 | uint64(k[4]) | keyPresent
}

// insert adds k and reports whether it was not there yet.
func (s *keySet) insert(k Key) bool {
	v := packKey(k)
	mask := uint64(len(s.slots) - 1)
	for i := (v * 0x9E3779B97F4A7C15) >> s.shift; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case v:
			return false
		case 0:
			s.slots[i] = v
			s.n++
			if 2*s.n > len(s.slots) {
				s.grow()
			}
			return true
		}
	}
}

// reset empties the set, which holds exactly keys. The table a big
// message grew is kept for the messages after it, which fill a small
// part of it: for a set that sparse, the runs of slots starting at each
// key's home slot are cleared rather than the whole table. A run is
// cleared up to the first empty slot, so every slot of a key, which a
// run of full slots from the key's home reaches, is cleared, either by
// the key's own run or by an earlier one that went through it to the
// same end.
func (s *keySet) reset(keys []Key) {
	if len(keys)*keySetSparse >= len(s.slots) {
		clear(s.slots)
		s.n = 0
		return
	}
	s.clearRuns(keys)
}

// clearRuns empties the set, which holds exactly keys, run by run (see
// reset).
func (s *keySet) clearRuns(keys []Key) {
	mask := uint64(len(s.slots) - 1)
	for _, k := range keys {
		for i := (packKey(k) * 0x9E3779B97F4A7C15) >> s.shift; s.slots[i] != 0; i = (i + 1) & mask {
			s.slots[i] = 0
		}
	}
	s.n = 0
}

// keySetSparse is how many slots per key a set must have for reset to
// clear it key by key.
const keySetSparse = 16

// grow doubles the table.
func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.shift--
	mask := uint64(len(s.slots) - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := (v * 0x9E3779B97F4A7C15) >> s.shift
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = v
	}
}

func (s *tokenKeySet) add(tok []byte) {
	if len(tok) == 0 {
		return
	}
	if k := s.digests.key(tok); s.seen.insert(k) {
		s.list = append(s.list, k)
	}
}

// A lineTokenizer runs lines of text through steps 1–8. It reuses its
// buffers from line to line and is not safe for concurrent use.
type lineTokenizer struct {
	maxLen int
	stop   Stopwords
	emit   func([]byte)
	count  int // tokens emitted since last reset

	norm []byte // the normalised line
	alt  []byte // second buffer for the run-splitting step
	out  []byte // the token being emitted
	skip []byte // the sk: form of a long word
}

func newLineTokenizer(opt TokenOptions, emit func([]byte)) *lineTokenizer {
	maxLen := opt.MaxTokenLength
	if maxLen <= 0 {
		maxLen = DefaultMaxTokenLength
	}
	return &lineTokenizer{maxLen: maxLen, stop: opt.Stopwords, emit: emit}
}

// source tokenizes the lines of one token source, each prefixed with
// prefix, and stops after the line that brings the source's token count
// to limit.
func (t *lineTokenizer) source(lines []string, prefix string, region Region, limit int) {
	t.count = 0
	for _, s := range lines {
		t.line(s, prefix, region)
		if t.count >= limit {
			break
		}
	}
}

// put emits prefix followed by the parts.
func (t *lineTokenizer) put(prefix string, parts ...[]byte) {
	t.out = append(t.out[:0], prefix...)
	for _, p := range parts {
		t.out = append(t.out, p...)
	}
	t.count++
	t.emit(t.out)
}

// putString emits a token made of a fixed prefix and a word.
func (t *lineTokenizer) putString(prefix, mid string, word []byte) {
	t.out = append(t.out[:0], prefix...)
	t.out = append(t.out, mid...)
	t.out = append(t.out, word...)
	t.count++
	t.emit(t.out)
}

// tokNormASCII maps an ASCII byte to itself if step 1 keeps it and to a
// space if not.
var tokNormASCII = func() (a [128]byte) {
	for c := range a {
		a[c] = ' '
	}
	for c := 'a'; c <= 'z'; c++ {
		a[c] = byte(c)
		a[c-'a'+'A'] = byte(c - 'a' + 'A')
	}
	for c := '0'; c <= '9'; c++ {
		a[c] = byte(c)
	}
	for _, c := range ",@*!_'\"$. -" {
		a[c] = byte(c)
	}
	return a
}()

func tokIsCont(c byte) bool { return c >= 0x80 && c <= 0xBF }

// tokIsWord reports whether c matches Perl's \w on a byte string.
func tokIsWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func tokIsUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// normalize is step 1: it copies text into t.norm with every byte that is
// not kept replaced by a space. Every byte maps to one byte, so the text
// is copied whole and the bytes not kept are overwritten: an ASCII byte
// outside the kept set, and a byte 0x80–0xA0 that is not part of a UTF-8
// sequence (a lead byte 0xC0 and up without its continuation bytes, and
// a stray 0xA1–0xBF, stay).
func (t *lineTokenizer) normalize(text string) []byte {
	b := append(t.norm[:0], text...)
	n := len(b)
	for i := 0; i < n; {
		c := b[i]
		if c < 0x80 {
			b[i] = tokNormASCII[c]
			i++
			continue
		}
		switch {
		case c >= 0xC0 && c <= 0xDF && i+1 < n && tokIsCont(b[i+1]):
			i += 2
		case c >= 0xE0 && c <= 0xEF && i+2 < n && tokIsCont(b[i+1]) && tokIsCont(b[i+2]):
			i += 3
		case c >= 0xF0 && c <= 0xF4 && i+3 < n && tokIsCont(b[i+1]) && tokIsCont(b[i+2]) && tokIsCont(b[i+3]):
			i += 4
		case c >= 0xA1:
			i++
		default:
			b[i] = ' '
			i++
		}
	}
	t.norm = b
	return b
}

// tokSplitRuns is step 2 for one separator: a run of min–max sep bytes
// between two word bytes gets a space on either side. Like Perl's s///g,
// the word byte after a run is consumed by the match, so it cannot start
// the next one.
func tokSplitRuns(dst, src []byte, sep byte, min, max int) []byte {
	dst = dst[:0]
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		if tokIsWord(c) && i+1 < n && src[i+1] == sep {
			j := i + 1
			for j < n && src[j] == sep {
				j++
			}
			if r := j - i - 1; r >= min && r <= max && j < n && tokIsWord(src[j]) {
				dst = append(dst, c, ' ')
				dst = append(dst, src[i+1:j]...)
				dst = append(dst, ' ', src[j])
				i = j + 1
				continue
			}
		}
		dst = append(dst, c)
		i++
	}
	return dst
}

// tokHasRun reports whether b holds two consecutive sep bytes after a word byte.
func tokHasRun(b []byte, sep byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if b[i+1] == sep && b[i+2] == sep && tokIsWord(b[i]) {
			return true
		}
	}
	return false
}

// tokLowerTitleCase is step 3, done in place. SpamAssassin replaces
// /(?:^|\.\s+)([A-Z])([^A-Z]+)(?:\s|$)/ by a space, the lower-cased
// capital, the rest and a space; since the text around a match is
// already space-separated at both ends and a dropped trailing "." would
// be trimmed from its word anyway, lower-casing the capital is the whole
// visible effect. The scan reproduces where the regex matches: a match
// consumes the text up to the last space before the next capital (or to
// the end), and the search resumes after it.
func tokLowerTitleCase(b []byte) {
	n := len(b)
	p := 0
	for p < n {
		var capAt int
		switch {
		case p == 0 && tokIsUpper(b[0]):
			capAt = 0
		case b[p] == '.':
			q := p + 1
			for q < n && b[q] == ' ' {
				q++
			}
			if q == p+1 || q >= n || !tokIsUpper(b[q]) {
				p++
				continue
			}
			capAt = q
		default:
			// Only a '.' can start a match past the start.
			k := bytes.IndexByte(b[p+1:], '.')
			if k < 0 {
				return
			}
			p += 1 + k
			continue
		}
		j := capAt + 1
		e := j
		for e < n && !tokIsUpper(b[e]) {
			e++
		}
		if e == j { // [^A-Z]+ needs one byte
			p++
			continue
		}
		end := -1
		if e == n {
			end = n
		} else {
			for k := e - 1; k > j; k-- {
				if b[k] == ' ' {
					end = k + 1
					break
				}
			}
		}
		if end < 0 {
			p++
			continue
		}
		b[capAt] += 'a' - 'A'
		p = end
	}
}

// line tokenizes one line of text from region, emitting each token with
// prefix.
func (t *lineTokenizer) line(text, prefix string, region Region) {
	b := t.normalize(text)
	// Most lines have no two dots or dashes in a row at all: look for
	// them with the library's fast search first.
	if bytes.Contains(b, []byte("..")) && tokHasRun(b, '.') {
		t.alt = tokSplitRuns(t.alt, b, '.', 3, 6)
		b, t.alt = t.alt, b
	}
	if bytes.Contains(b, []byte("--")) && tokHasRun(b, '-') {
		t.alt = tokSplitRuns(t.alt, b, '-', 2, 6)
		b, t.alt = t.alt, b
	}
	t.norm = b
	body := region == RegionBody || region == RegionURI
	if body {
		tokLowerTitleCase(b)
	}
	n := len(b)
	for i := 0; i < n; {
		for i < n && b[i] == ' ' {
			i++
		}
		start := i
		for i < n && b[i] != ' ' {
			i++
		}
		if start < i {
			t.word(b[start:i], prefix, region, body)
		}
	}
}

func tokIsTrim(c byte) bool {
	return c == '-' || c == '\'' || c == '"' || c == '.' || c == ','
}

// word is steps 4–8 for one space-delimited word.
func (t *lineTokenizer) word(w []byte, prefix string, region Region, body bool) {
	for len(w) > 0 && tokIsTrim(w[0]) {
		w = w[1:]
	}
	for len(w) > 0 && tokIsTrim(w[len(w)-1]) {
		w = w[:len(w)-1]
	}
	if len(w) < 3 {
		return
	}
	if t.stop != nil && t.stop.IsStopword(w) {
		return
	}
	if body {
		if at := tokMailAddrSplit(w); at > 0 {
			t.mailAddrTokens(w[:at], w[at+1:])
		} else if tokLooksLikeHost(w) {
			t.put("UD:", w)
			for rest := w; ; {
				dot := tokIndexByte(rest, '.')
				if dot <= 0 || dot == len(rest)-1 {
					break
				}
				rest = rest[dot+1:]
				t.put("UD:", rest)
			}
		}
	}
	if len(w) > t.maxLen && tokIndexByte(w, '*') < 0 {
		if tokHasTwoCont(w) && t.utf8CharTokens(w, prefix) {
			return
		}
		if region != RegionURI {
			w = tokSkip(w, &t.skip)
		}
	}
	if body {
		t.decompose(w, prefix)
	}
	t.put(prefix, w)
}

func tokIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// tokMailAddrSplit returns the index of the @ that splits w into a user and
// a domain as /(.+)\@(.+)$/ would, if w matches /\S\@\S/, else -1.
func tokMailAddrSplit(w []byte) int {
	found := false
	for i := 1; i+1 < len(w); i++ {
		if w[i] == '@' {
			found = true
			break
		}
	}
	if !found {
		return -1
	}
	for i := len(w) - 2; i >= 1; i-- {
		if w[i] == '@' {
			return i
		}
	}
	return -1
}

// tokLooksLikeHost reports whether w matches /\S\.[a-z]/i.
func tokLooksLikeHost(w []byte) bool {
	for i := 1; i+1 < len(w); i++ {
		if w[i] == '.' {
			c := w[i+1] | 0x20
			if c >= 'a' && c <= 'z' {
				return true
			}
		}
	}
	return false
}

// mailAddrTokens emits U*user, D*domain and D* for each parent domain
// (step 5, and SpamAssassin's _tokenize_mail_addrs).
func (t *lineTokenizer) mailAddrTokens(user, domain []byte) {
	t.put("U*", user)
	t.put("D*", domain)
	for rest := domain; ; {
		dot := tokIndexByte(rest, '.')
		if dot <= 0 || dot == len(rest)-1 {
			break
		}
		rest = rest[dot+1:]
		t.put("D*", rest)
	}
}

// tokHasTwoCont reports whether w has two consecutive bytes 0x80–0xBF.
func tokHasTwoCont(w []byte) bool {
	for i := 0; i+1 < len(w); i++ {
		if tokIsCont(w[i]) && tokIsCont(w[i+1]) {
			return true
		}
	}
	return false
}

// utf8CharTokens emits prefix+"u8:"+c for every 3- or 4-byte UTF-8
// character c in w and reports whether there was any.
func (t *lineTokenizer) utf8CharTokens(w []byte, prefix string) bool {
	any := false
	for i := 0; i < len(w); {
		c := w[i]
		if c >= 0xE0 && c <= 0xEF && i+2 < len(w) && tokIsCont(w[i+1]) && tokIsCont(w[i+2]) {
			t.putString(prefix, "u8:", w[i:i+3])
			i += 3
			any = true
			continue
		}
		if c >= 0xF0 && c <= 0xF4 && i+3 < len(w) && tokIsCont(w[i+1]) && tokIsCont(w[i+2]) && tokIsCont(w[i+3]) {
			t.putString(prefix, "u8:", w[i:i+4])
			i += 4
			any = true
			continue
		}
		i++
	}
	return any
}

// tokSkip shortens w to "sk:" and its first seven characters (UTF-8
// sequences count as one), if at least two bytes follow them; otherwise w
// is returned unchanged. The result is built in *scratch.
func tokSkip(w []byte, scratch *[]byte) []byte {
	i := 0
	for k := 0; k < 7; k++ {
		if i >= len(w) {
			return w
		}
		c := w[i]
		switch {
		case c >= 0xC0 && c <= 0xDF && i+1 < len(w) && tokIsCont(w[i+1]):
			i += 2
		case c >= 0xE0 && c <= 0xEF && i+2 < len(w) && tokIsCont(w[i+1]) && tokIsCont(w[i+2]):
			i += 3
		case c >= 0xF0 && c <= 0xF4 && i+3 < len(w) && tokIsCont(w[i+1]) && tokIsCont(w[i+2]) && tokIsCont(w[i+3]):
			i += 4
		default:
			i++
		}
	}
	if len(w)-i < 2 {
		return w
	}
	s := append((*scratch)[:0], "sk:"...)
	s = append(s, w[:i]...)
	*scratch = s
	return s
}

// tokIsDecompKeep reports whether c matches [\w:*] on a byte string.
func tokIsDecompKeep(c byte) bool { return tokIsWord(c) || c == ':' || c == '*' }

// Classes of tokDecompClass: a byte decompose drops, an upper-case letter.
const (
	tokDecompDrop uint8 = 1 << iota
	tokDecompUpper
)

// tokDecompClass classifies every byte for decompose's first look.
var tokDecompClass = func() (a [256]uint8) {
	for c := range a {
		if !tokIsDecompKeep(byte(c)) {
			a[c] |= tokDecompDrop
		}
		if tokIsUpper(byte(c)) {
			a[c] |= tokDecompUpper
		}
	}
	return a
}()

// decompose is step 7: copies of w without punctuation and lower-cased.
func (t *lineTokenizer) decompose(w []byte, prefix string) {
	var class uint8
	for _, c := range w {
		class |= tokDecompClass[c]
	}
	if class == 0 {
		return
	}
	punct, upper := class&tokDecompDrop != 0, class&tokDecompUpper != 0
	if punct {
		t.out = append(t.out[:0], prefix...)
		for _, c := range w {
			if tokIsDecompKeep(c) {
				t.out = append(t.out, c)
			}
		}
		t.count++
		t.emit(t.out)
	}
	if upper {
		t.out = append(t.out[:0], prefix...)
		for _, c := range w {
			if tokIsUpper(c) {
				c += 'a' - 'A'
			}
			t.out = append(t.out, c)
		}
		t.count++
		t.emit(t.out)
		if punct {
			t.out = append(t.out[:0], prefix...)
			for _, c := range w {
				if tokIsDecompKeep(c) {
					if tokIsUpper(c) {
						c += 'a' - 'A'
					}
					t.out = append(t.out, c)
				}
			}
			t.count++
			t.emit(t.out)
		}
	}
}

// Stopwords decides which words are too common to be tokens
// (SpamAssassin's bayes_stopword_<lang> expressions, matched against the
// whole trimmed word, case-insensitively).
type Stopwords interface {
	IsStopword(word []byte) bool
}

// englishStopwordList are the words of SpamAssassin 4.0's default English
// stopword expression (60_bayes_stopwords.cf), lower case; isEnglishStopword
// is its switch (TestEnglishStopwordSwitch compares them).
const englishStopwordList = `able all already and any are because both can come each email even
	few first for from give has have http information into it's just
	know like long look made mail mailing mailto make many more most
	much need not now number off one only out own people place right
	same see such that the this through time using web where why with
	without work world year years you you're your`

// isEnglishStopword reports whether w is in englishStopwordList: a switch
// the compiler turns into a search by length and bytes, faster than a map
// lookup for a word of every token.
func isEnglishStopword(w string) bool {
	switch w {
	case "able", "all", "already", "and", "any", "are", "because", "both", "can",
		"come", "each", "email", "even", "few", "first", "for", "from", "give", "has",
		"have", "http", "information", "into", "it's", "just", "know", "like", "long",
		"look", "made", "mail", "mailing", "mailto", "make", "many", "more", "most",
		"much", "need", "not", "now", "number", "off", "one", "only", "out", "own",
		"people", "place", "right", "same", "see", "such", "that", "the", "this",
		"through", "time", "using", "web", "where", "why", "with", "without", "work",
		"world", "year", "years", "you", "you're", "your":
		return true
	}
	return false
}

// englishStopwordStarts has, for each length, bit c-'a' set when an
// English stopword of that length starts with c.
var englishStopwordStarts = func() (a [12]uint32) {
	for _, w := range strings.Fields(englishStopwordList) {
		a[len(w)] |= 1 << (w[0] - 'a')
	}
	return a
}()

type englishStopwordSet struct{}

// EnglishStopwords returns the default English stopwords (71 words).
func EnglishStopwords() Stopwords { return englishStopwordSet{} }

func (englishStopwordSet) IsStopword(w []byte) bool {
	if len(w) < 3 || len(w) > 11 {
		return false
	}
	// Most words are ruled out by their length and first letter.
	first := w[0] | 0x20
	if first < 'a' || first > 'z' || englishStopwordStarts[len(w)]&(1<<(first-'a')) == 0 {
		return false
	}
	var buf [11]byte
	for i, c := range w {
		if tokIsUpper(c) {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return isEnglishStopword(string(buf[:len(w)]))
}

// StopwordList combines several Stopwords: a word is a stopword if any of
// them says so (bayes_stopword_languages with more than one language).
type StopwordList []Stopwords

// IsStopword reports whether any member calls w a stopword.
func (l StopwordList) IsStopword(w []byte) bool {
	for _, s := range l {
		if s.IsStopword(w) {
			return true
		}
	}
	return false
}

type stopwordPattern struct{ re *regexp.Regexp }

// StopwordPattern compiles a bayes_stopword_<lang> expression. As in
// SpamAssassin it must match the whole word, case-insensitively. The
// expression is matched against the word's bytes (\xHH escapes name
// bytes, as in Perl). Unlike Perl, (?i) also folds Latin-1 letters.
func StopwordPattern(expr string) (Stopwords, error) {
	expr = strings.ReplaceAll(expr, "(?^:", "(?:")
	expr = strings.ReplaceAll(expr, `\'`, "'")
	re, err := regexp.Compile(`^(?i)(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("compile bayes stopword expression: %w", err)
	}
	return stopwordPattern{re}, nil
}

func (s stopwordPattern) IsStopword(w []byte) bool {
	// Match bytes as Latin-1 runes so that \xHH in the expression means
	// one byte, as it does for Perl byte strings.
	ascii := true
	for _, c := range w {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s.re.Match(w)
	}
	r := make([]rune, len(w))
	for i, c := range w {
		r[i] = rune(c)
	}
	return s.re.MatchString(string(r))
}
