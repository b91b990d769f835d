package spamdproto

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Verb is a request's command word.
type Verb string

// The verbs spamd 4.0 knows. Anything else is answered EX_PROTOCOL with
// the request line echoed.
const (
	VerbCheck        Verb = "CHECK"
	VerbSymbols      Verb = "SYMBOLS"
	VerbReport       Verb = "REPORT"
	VerbReportIfSpam Verb = "REPORT_IFSPAM"
	VerbProcess      Verb = "PROCESS"
	VerbHeaders      Verb = "HEADERS"
	VerbPing         Verb = "PING"
	VerbSkip         Verb = "SKIP"
	VerbTell         Verb = "TELL"
)

// knownVerbs maps request words to verbs (an immutable table).
var knownVerbs = map[string]Verb{
	"CHECK": VerbCheck, "SYMBOLS": VerbSymbols, "REPORT": VerbReport,
	"REPORT_IFSPAM": VerbReportIfSpam, "PROCESS": VerbProcess,
	"HEADERS": VerbHeaders, "PING": VerbPing, "SKIP": VerbSkip, "TELL": VerbTell,
}

// Scans reports whether the verb scans a message (everything but PING,
// SKIP and TELL).
func (v Verb) Scans() bool {
	switch v {
	case VerbCheck, VerbSymbols, VerbReport, VerbReportIfSpam, VerbProcess, VerbHeaders:
		return true
	}
	return false
}

// carriesMessage reports whether a body follows the headers.
func (v Verb) carriesMessage() bool { return v.Scans() || v == VerbTell }

// Limits bound what ReadRequest accepts. Zero fields take the defaults.
type Limits struct {
	// MaxLineLength bounds the request line and each header line,
	// terminator included. Default 8192.
	MaxLineLength int
	// MaxHeaders is the most header lines before the blank line; one more
	// is EX_PROTOCOL "(too many headers)". Default 255, as spamd.
	MaxHeaders int
	// MaxMessageSize is the largest message that gets scanned (after
	// inflating). A larger one is still read and kept, but marked
	// Oversized. Default 512000, spamc's default -s.
	MaxMessageSize int64
	// MaxBodySize is the hard limit on bytes read for one body, both on
	// the wire and after inflating; over it the request fails with
	// EX_TOOBIG. Default BodySizeFactor times MaxMessageSize, at least
	// MinDefaultMaxBodySize (and never below MaxMessageSize).
	//
	// A message between the two limits is held only to be answered
	// unscanned (PROCESS echoes it back), which is what a client whose
	// own limit (spamc -s, default 512000 as ours) is somewhat above the
	// server's expects; one over the hard limit gets EX_TOOBIG, on which
	// spamc passes the message through unchanged all the same. So the
	// hard limit needs to be only a small multiple of what is scanned, and
	// it bounds what every request may cost: with the defaults, ten
	// requests at once hold at most 20 MiB of message (compressed and
	// inflated), where a fixed 32 MiB limit let them hold 640 MiB.
	MaxBodySize int64
}

// Default limits.
const (
	DefaultMaxLineLength  = 8192
	DefaultMaxHeaders     = 255
	DefaultMaxMessageSize = 512000
	// BodySizeFactor and MinDefaultMaxBodySize make the default
	// MaxBodySize: 1 MiB with the default MaxMessageSize.
	BodySizeFactor        = 2
	MinDefaultMaxBodySize = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultMaxLineLength
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	if l.MaxBodySize <= 0 {
		l.MaxBodySize = math.MaxInt64
		if l.MaxMessageSize <= math.MaxInt64/BodySizeFactor {
			l.MaxBodySize = max(BodySizeFactor*l.MaxMessageSize, MinDefaultMaxBodySize)
		}
	}
	if l.MaxBodySize < l.MaxMessageSize {
		l.MaxBodySize = l.MaxMessageSize
	}
	return l
}

// Request is one parsed request.
//
// Header fields hold the last value of each header spamd recognises;
// names are case-sensitive (Content-Length with a capital L is ignored,
// as by spamd).
type Request struct {
	Verb Verb
	// Version is the protocol version as sent after "SPAMC/". It is
	// compared as a number, the way Perl does (see VersionNumber).
	Version string

	User    string // User header value; "" when absent
	HasUser bool
	// ContentLength is the Content-length header (the compressed length
	// with Compress), or -1 when absent.
	ContentLength int64
	Compress      bool   // Compress: zlib
	MessageClass  string // Message-class, raw
	Set           Targets
	Remove        Targets

	// Message is the body: the mail message, inflated. Nil for PING and
	// SKIP.
	Message []byte
	// WireSize is the number of body bytes read from the connection.
	WireSize int64
	// Oversized is set when Message is longer than Limits.MaxMessageSize:
	// the server answers without scanning.
	Oversized bool
}

// VersionNumber is Version read as Perl reads a string as a number: the
// longest numeric prefix, 0 when there is none ("1.5" is 1.5, "abc" 0).
func (r *Request) VersionNumber() float64 { return perlNumber(r.Version) }

// Class is the class a TELL Set applies: spam only for Message-class
// "spam" exactly.
func (r *Request) Class() Class {
	if r.MessageClass == "spam" {
		return ClassSpam
	}
	return ClassHam
}

// ReadRequest reads one complete request: ReadRequestHead, then for TELL
// CheckTell, then ReadBody. On error the *Error says what to answer;
// errors reading the connection are EX_IOERR wrapping the cause (the
// server turns a deadline into EX_TIMEOUT).
func ReadRequest(r *bufio.Reader, lim Limits) (*Request, error) {
	req, err := ReadRequestHead(r, lim)
	if err != nil {
		return nil, err
	}
	if req.Verb == VerbTell {
		if err := req.CheckTell(); err != nil {
			return nil, err
		}
	}
	if err := req.ReadBody(r, lim); err != nil {
		return nil, err
	}
	return req, nil
}

// ReadRequestHead reads the request line and, where the version calls for
// them, the header lines up to the blank line:
//
//   - message verbs read headers only above version 1.0 (a 1.0 body
//     starts right after the request line);
//   - TELL always reads headers;
//   - PING and SKIP read headers from version 1.5 on.
//
// Lines may end in CRLF (as every client sends) or a bare LF. When the
// request line was understood but a header was not, the request read so
// far is returned along with the error (for logging).
func ReadRequestHead(r *bufio.Reader, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	line, err := readLine(r, lim.MaxLineLength)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, protocolError("(closed before headers)", err)
		}
		return nil, lineError("read request line", err)
	}
	line = trimEOL(line)
	req, ok := parseRequestLine(line)
	if !ok {
		return nil, protocolError(echoLine(line), errors.New("unknown request line"))
	}
	v := req.VersionNumber()
	readHeaders := false
	switch {
	case req.Verb == VerbTell:
		readHeaders = true
	case req.Verb == VerbPing || req.Verb == VerbSkip:
		readHeaders = v >= 1.5
	default:
		readHeaders = v > 1.0
	}
	if readHeaders {
		if err := req.readHeaders(r, lim); err != nil {
			return req, err
		}
	}
	return req, nil
}

func parseRequestLine(line []byte) (*Request, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return nil, false
	}
	verb, ok := knownVerbs[string(line[:sp])]
	if !ok {
		return nil, false
	}
	rest, ok := bytes.CutPrefix(line[sp+1:], []byte("SPAMC/"))
	if !ok {
		return nil, false
	}
	return &Request{Verb: verb, Version: string(rest), ContentLength: -1}, true
}

// echoLine is the unknown request line as it goes back to the client:
// control bytes replaced, at most 200 bytes.
func echoLine(line []byte) string {
	const maxEcho = 200
	if len(line) > maxEcho {
		line = line[:maxEcho]
	}
	b := []byte(string(line))
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

func (req *Request) readHeaders(r *bufio.Reader, lim Limits) error {
	for n := 0; ; n++ {
		line, err := readLine(r, lim.MaxLineLength)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return protocolError("(EOF during headers)", err)
			}
			return lineError("read header line", err)
		}
		line = trimEOL(line)
		if len(line) == 0 {
			return nil
		}
		if n >= lim.MaxHeaders {
			return protocolError("(too many headers)", nil)
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return protocolError("(header not in 'Name: value' format)", nil)
		}
		if err := req.setHeader(string(line[:colon]), trimPerlSpace(line[colon+1:])); err != nil {
			return err
		}
	}
}

// setHeader applies one header the way spamd's parse_headers does.
func (req *Request) setHeader(name string, value []byte) error {
	switch name {
	case "Content-length":
		n, ok := parseDigits(value)
		if !ok {
			return protocolError("(Content-Length contains non-numeric bytes)", nil)
		}
		req.ContentLength = n
	case "User":
		for _, c := range value {
			if c < 0x20 {
				return protocolError("(User header contains control chars)", nil)
			}
		}
		req.User = string(value)
		req.HasUser = true
	case "Message-class":
		req.MessageClass = string(value)
	case "Set":
		req.Set = targetsIn(value)
	case "Remove":
		req.Remove = targetsIn(value)
	case "Compress":
		if !bytes.Contains(bytes.ToLower(value), []byte("zlib")) {
			return protocolError("(compression type not supported)", nil)
		}
		req.Compress = true
	}
	return nil
}

// targetsIn is spamd's test: "local" and "remote" anywhere, any case.
func targetsIn(value []byte) Targets {
	v := bytes.ToLower(value)
	return Targets{
		Local:  bytes.Contains(v, []byte("local")),
		Remote: bytes.Contains(v, []byte("remote")),
	}
}

// CheckTell refuses a TELL that sets and removes the same target.
func (req *Request) CheckTell() error {
	if req.Set.Local && req.Remove.Local {
		return protocolError("Unable to set local and remove local in the same operation.", nil)
	}
	if req.Set.Remote && req.Remove.Remote {
		return protocolError("Unable to set remote and remove remote in the same operation.", nil)
	}
	return nil
}

// ReadBody reads the message that follows the headers, for the verbs that
// carry one:
//
//   - Content-length N without Compress: N bytes, read as spamd reads
//     them, line by line until it has at least N: when byte N ends a line
//     (or N is the whole body) the body is those N bytes and whatever
//     follows is ignored (Mail::SpamAssassin::Client sends an extra CRLF
//     after N and never half-closes); fewer than N before EOF, or N ending
//     inside a line that continues, is EX_PROTOCOL "(Content-Length
//     mismatch: Expected N bytes, got M bytes)", M counting to the end of
//     that line (to EOF when it has no LF).
//   - Compress: zlib: up to N compressed bytes (or to EOF, whichever is
//     first), inflated; no Content-length is EX_UNAVAILABLE, a broken
//     stream EX_UNAVAILABLE "zlib: …".
//   - neither: everything up to the client's EOF.
//
// More than Limits.MaxBodySize bytes, on the wire or inflated, is
// EX_TOOBIG; more than Limits.MaxMessageSize sets Oversized.
//
// # Memory
//
// ReadBody never holds more than MaxBodySize bytes of message, however
// much the client sends or a zlib stream inflates to: bodies are read
// into a buffer that grows only as bytes arrive, up to the limit, and a
// compressed body is inflated twice, first only counting its size (so a
// zlib bomb is refused having allocated nothing), then into a buffer of
// exactly that size. The compressed bytes are held meanwhile.
func (req *Request) ReadBody(r *bufio.Reader, lim Limits) error {
	return req.readBody(r, lim, nil)
}

// readBody is ReadBody charging the buffers it allocates to mem (nil:
// nothing is charged). When mem refuses, the error is EX_TEMPFAIL
// wrapping errBufferBudget; what was charged stays charged until the
// caller releases mem.
func (req *Request) readBody(r *bufio.Reader, lim Limits, mem *reservation) error {
	if !req.Verb.carriesMessage() {
		return nil
	}
	lim = lim.withDefaults()
	var err error
	switch {
	case req.Compress:
		err = req.readCompressed(r, lim, mem)
	case req.ContentLength >= 0:
		err = req.readExact(r, lim, mem)
	default:
		err = req.readToEOF(r, lim, mem)
	}
	if err != nil {
		return err
	}
	req.Oversized = int64(len(req.Message)) > lim.MaxMessageSize
	return nil
}

// bodyReadError is the answer to a failure reading op from the client.
func bodyReadError(op string, err error) *Error {
	if errors.Is(err, errBufferBudget) {
		return busyError(fmt.Errorf("%s: %w", op, err))
	}
	return &Error{Code: EX_IOERR, Err: fmt.Errorf("%s: %w", op, err)}
}

func (req *Request) readExact(r *bufio.Reader, lim Limits, mem *reservation) error {
	n := req.ContentLength
	if n > lim.MaxBodySize {
		return tooBigError(fmt.Errorf("content-length %d over the %d-byte limit", n, lim.MaxBodySize))
	}
	buf, _, err := readUpTo(io.LimitReader(r, n), n, mem)
	req.WireSize = int64(len(buf))
	if err != nil {
		return bodyReadError("read message body", err)
	}
	if req.WireSize < n {
		return lengthMismatch(n, req.WireSize, io.ErrUnexpectedEOF)
	}
	if n == 0 || buf[n-1] != '\n' {
		rest, err := restOfLine(r, lim.MaxBodySize-n)
		switch {
		case errors.Is(err, errLineTooLong):
			return tooBigError(fmt.Errorf("content-length %d ends inside a line longer than the %d-byte limit", n, lim.MaxBodySize))
		case rest > 0:
			req.WireSize += rest
			return lengthMismatch(n, req.WireSize, errors.New("body longer than Content-length"))
		}
		// No byte beyond n before EOF, or none before the read deadline
		// (a client that sent exactly what it announced and waits): the
		// body is what it said.
	}
	req.Message = buf
	return nil
}

// lengthMismatch is spamd's answer to a body that does not have the
// Content-length it announced.
func lengthMismatch(expected, got int64, cause error) *Error {
	return protocolError(fmt.Sprintf("(Content-Length mismatch: Expected %d bytes, got %d bytes)", expected, got), cause)
}

// restOfLine reads and discards what follows in r up to and including
// the next LF, or to EOF, and returns how many bytes that was: how far
// spamd, which reads the body line by line until it has at least
// Content-length bytes, reads past a Content-length that ends inside a
// line. It holds no more than r's buffer. Past limit bytes it stops with
// errLineTooLong. An error after no byte at all (EOF, a deadline) is 0
// bytes; after some, those bytes.
func restOfLine(r *bufio.Reader, limit int64) (int64, error) {
	var n int64
	for {
		frag, err := r.ReadSlice('\n')
		n += int64(len(frag))
		if n > limit {
			return n, errLineTooLong
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return n, nil
		}
	}
}

func (req *Request) readToEOF(r *bufio.Reader, lim Limits, mem *reservation) error {
	buf, more, err := readUpTo(r, lim.MaxBodySize, mem)
	req.WireSize = int64(len(buf))
	if more {
		req.WireSize++
	}
	if err != nil {
		return bodyReadError("read message body to EOF", err)
	}
	if more {
		return tooBigError(fmt.Errorf("body without Content-length over the %d-byte limit", lim.MaxBodySize))
	}
	req.Message = buf
	return nil
}

func (req *Request) readCompressed(r *bufio.Reader, lim Limits, mem *reservation) error {
	if req.ContentLength < 0 {
		return unavailableError("Compress requires Content-length header", nil)
	}
	n := req.ContentLength
	if n > lim.MaxBodySize {
		return tooBigError(fmt.Errorf("compressed Content-length %d over the %d-byte limit", n, lim.MaxBodySize))
	}
	wire, _, err := readUpTo(io.LimitReader(r, n), n, mem)
	req.WireSize = int64(len(wire))
	if err != nil {
		return bodyReadError("read compressed body", err)
	}
	// First pass: the inflated size, stopping one byte past the limit.
	zr, err := zlib.NewReader(bytes.NewReader(wire))
	if err != nil {
		return unavailableError("zlib: invalid compressed data", fmt.Errorf("open zlib stream: %w", err))
	}
	size, err := io.Copy(io.Discard, io.LimitReader(zr, lim.MaxBodySize+1))
	if err != nil {
		return unavailableError("zlib: failed to find end of zlib stream", fmt.Errorf("inflate body: %w", err))
	}
	if size > lim.MaxBodySize {
		return tooBigError(fmt.Errorf("inflated body over the %d-byte limit", lim.MaxBodySize))
	}
	if err := zr.Close(); err != nil {
		return unavailableError("zlib: failed to find end of zlib stream", fmt.Errorf("close zlib stream: %w", err))
	}
	// Second pass: into a buffer of exactly that size. The stream was
	// checked whole above, so this cannot fail but for a bug.
	if size == 0 {
		return nil
	}
	if !mem.take(size) {
		return busyError(fmt.Errorf("inflate body of %d bytes: %w", size, errBufferBudget))
	}
	if err := zr.(zlib.Resetter).Reset(bytes.NewReader(wire), nil); err != nil {
		return unavailableError("zlib: invalid compressed data", fmt.Errorf("reopen zlib stream: %w", err))
	}
	msg := make([]byte, size)
	if _, err := io.ReadFull(zr, msg); err != nil {
		return unavailableError("zlib: failed to find end of zlib stream", fmt.Errorf("inflate body again: %w", err))
	}
	mem.give(int64(cap(wire)))
	req.Message = msg
	return nil
}

var errLineTooLong = errors.New("line too long")

// lineError classifies a failure to read a line: too long is a protocol
// error, anything else an I/O error carrying the cause.
func lineError(op string, err error) *Error {
	if errors.Is(err, errLineTooLong) {
		return protocolError("(line too long)", err)
	}
	return &Error{Code: EX_IOERR, Err: fmt.Errorf("%s: %w", op, err)}
}

// readLine returns the next line with its terminator. A last line without
// one is returned at EOF; io.EOF only comes with no bytes at all. The
// slice may alias r's buffer: it is valid until the next read.
func readLine(r *bufio.Reader, maxLen int) ([]byte, error) {
	frag, err := r.ReadSlice('\n')
	if err == nil {
		if len(frag) > maxLen {
			return nil, errLineTooLong
		}
		return frag, nil
	}
	line := append([]byte(nil), frag...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(line) > maxLen {
			return nil, errLineTooLong
		}
		frag, err = r.ReadSlice('\n')
		line = append(line, frag...)
	}
	if len(line) > maxLen {
		return nil, errLineTooLong
	}
	switch {
	case err == nil:
		return line, nil
	case errors.Is(err, io.EOF) && len(line) > 0:
		return line, nil
	}
	return nil, err
}

// trimEOL drops a final LF and the CR before it.
func trimEOL(line []byte) []byte {
	line, _ = bytes.CutSuffix(line, []byte("\n"))
	line, _ = bytes.CutSuffix(line, []byte("\r"))
	return line
}

// trimPerlSpace drops leading bytes Perl's \s matches.
func trimPerlSpace(b []byte) []byte {
	return bytes.TrimLeft(b, " \t\n\r\f\v")
}

// parseDigits accepts what spamd's /^\d*$/ accepts; the empty string is 0
// and a value too large for int64 saturates (and so is too big later).
func parseDigits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	return n, true
}

// perlNumber converts a string to a number as Perl does in numeric
// context: leading whitespace, then the longest prefix that is a decimal
// number (sign, digits, fraction, exponent); 0 when there is none.
func perlNumber(s string) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		frac := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			frac++
		}
		if digits+frac > 0 {
			i = j
			digits += frac
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	// Out of range, ParseFloat returns ±Inf with an error: Perl gives Inf too.
	f, _ := strconv.ParseFloat(s[start:i], 64)
	return f
}
