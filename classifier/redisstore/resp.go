package redisstore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The RESP protocol (https://redis.io/docs/latest/develop/reference/protocol-spec/)
// as the lookup connections (conn.go, cache.go) speak it: requests are
// arrays of bulk strings, encoded straight into a reused buffer; replies
// are read one value header at a time from a bufio.Reader, bulk bodies
// returned as slices of its buffer, so that reading a scan's reply
// allocates nothing. The reader takes RESP2 and RESP3 (whose push
// messages, the tracking connection's invalidations, go to a handler
// wherever they come between values).

// respBufSize is the size of a lookup connection's read buffer, and so
// the longest simple string, error or bulk body a reply returns whole.
const respBufSize = 16 << 10

// maxArrayLen bounds the length of an array reply a reader accepts (far
// above any lookup's), so that garbage on the wire fails the read
// rather than making its caller wait for billions of elements.
const maxArrayLen = 1 << 24

// maxNesting bounds the depth of nested arrays skip follows.
const maxNesting = 16

// A reply is one value header.
type reply struct {
	// kind is the type byte: RESP2's '+' simple string, '-' error, ':'
	// integer, '$' bulk string, '*' array; RESP3's '_' null, '#'
	// boolean, ',' double, '(' big number, '!' bulk error, '='
	// verbatim string, '%' map, '~' set, '|' attribute, '>' push.
	kind byte
	// n is an integer's value, or a bulk string's, array's, set's or
	// push's length (a map's or attribute's in pairs), -1 for a null
	// one.
	n int64
	// data is a simple string's, error's, boolean's, double's or big
	// number's text, or a bulk string's, bulk error's or verbatim
	// string's body; nil for a null and for a body longer than
	// respBufSize-2 (which is skipped). It is valid until the next read.
	data []byte
}

// null reports whether rep is a null (RESP2's $-1 and *-1, RESP3's _).
func (rep reply) null() bool {
	return rep.kind == '_' || rep.n < 0 && (rep.kind == '$' || rep.kind == '*')
}

// elems is how many values follow an aggregate's header.
func (rep reply) elems() int64 {
	switch rep.kind {
	case '*', '~', '>':
		return max(rep.n, 0)
	case '%', '|':
		return 2 * rep.n
	}
	return 0
}

// errProtocol is a reply that is not RESP2: the connection can no
// longer be trusted.
var errProtocol = errors.New("redis protocol error")

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}

// A serverError is an error reply ("-ERR ...", "-WRONGTYPE ...").
type serverError string

func (e serverError) Error() string { return string(e) }

// respReader reads replies.
type respReader struct {
	br *bufio.Reader
	// push, when set, is given each push message (header rep) read
	// where read expects a value, and must read its elements (with
	// pushes off); read then goes on to the next value.
	push func(r *respReader, rep reply) error
}

// line reads one CRLF-terminated line, without its CRLF.
func (r *respReader) line() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, protocolError("line longer than %d bytes", respBufSize)
		}
		if errors.Is(err, io.EOF) && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return nil, protocolError("line not ended by CRLF")
	}
	return b[:len(b)-2], nil
}

// read reads the next value's header, and a bulk string's body; push
// messages before it go to r.push.
func (r *respReader) read() (reply, error) {
	for {
		rep, err := r.readOne()
		if err != nil || rep.kind != '>' || r.push == nil {
			return rep, err
		}
		h := r.push
		r.push = nil
		err = h(r, rep)
		r.push = h
		if err != nil {
			return reply{}, err
		}
	}
}

// readOne reads one value header, and a bulk string's body.
func (r *respReader) readOne() (reply, error) {
	b, err := r.line()
	if err != nil {
		return reply{}, err
	}
	if len(b) == 0 {
		return reply{}, protocolError("empty line")
	}
	rep := reply{kind: b[0]}
	switch rep.kind {
	case '+', '-', '#', ',', '(':
		rep.data = b[1:]
		return rep, nil
	case '_':
		if len(b) != 1 {
			return reply{}, protocolError("null with a value")
		}
		rep.n = -1
		return rep, nil
	case ':':
		if rep.n, err = parseInt(b[1:]); err != nil {
			return reply{}, err
		}
		return rep, nil
	case '*', '~', '>', '%', '|':
		if rep.n, err = parseInt(b[1:]); err != nil {
			return reply{}, err
		}
		if rep.n < -1 || rep.n > maxArrayLen || (rep.n < 0 && rep.kind != '*') {
			return reply{}, protocolError("aggregate %q length %d", rep.kind, rep.n)
		}
		return rep, nil
	case '$', '!', '=':
		if rep.n, err = parseInt(b[1:]); err != nil {
			return reply{}, err
		}
		if rep.n < -1 || rep.n > 512<<20 || (rep.n < 0 && rep.kind != '$') {
			return reply{}, protocolError("bulk length %d", rep.n)
		}
		if rep.n == -1 {
			return rep, nil
		}
		if rep.n <= respBufSize-2 {
			body, err := r.br.Peek(int(rep.n) + 2)
			if err != nil {
				return reply{}, unexpectedEOF(err)
			}
			if body[rep.n] != '\r' || body[rep.n+1] != '\n' {
				return reply{}, protocolError("bulk string not ended by CRLF")
			}
			// Discarding what Peek returned cannot fail, and leaves
			// the bytes in the buffer until the next read.
			_, _ = r.br.Discard(int(rep.n) + 2)
			rep.data = body[:rep.n:rep.n]
			return rep, nil
		}
		if _, err := r.br.Discard(int(rep.n)); err != nil {
			return reply{}, unexpectedEOF(err)
		}
		crlf, err := r.line()
		if err != nil {
			return reply{}, unexpectedEOF(err)
		}
		if len(crlf) != 0 {
			return reply{}, protocolError("bulk string not ended by CRLF")
		}
		return rep, nil
	}
	return reply{}, protocolError("unknown reply type %q", rep.kind)
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// skip reads the rest of a value whose header was rep: an aggregate's
// elements, at any depth up to maxNesting.
func (r *respReader) skip(rep reply, depth int) error {
	n := rep.elems()
	if n == 0 {
		return nil
	}
	if depth >= maxNesting {
		return protocolError("aggregates nested deeper than %d", maxNesting)
	}
	for range n {
		e, err := r.read()
		if err != nil {
			return err
		}
		if err := r.skip(e, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// readValue reads one whole value and returns its header (for an array,
// the elements are read and dropped).
func (r *respReader) readValue() (reply, error) {
	rep, err := r.read()
	if err != nil {
		return reply{}, err
	}
	return rep, r.skip(rep, 0)
}

// expectStatus reads one reply that must be a simple string (+OK,
// +QUEUED); an error reply is returned as a serverError.
func (r *respReader) expectStatus() error {
	rep, err := r.readValue()
	if err != nil {
		return err
	}
	switch rep.kind {
	case '+':
		return nil
	case '-', '!':
		return serverError(rep.data)
	}
	return protocolError("reply type %q where a status was expected", rep.kind)
}

// parseInt reads a RESP integer: an optional '-' and decimal digits.
func parseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, protocolError("invalid integer")
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, protocolError("invalid integer")
		}
		n = n*10 + int64(c-'0')
	}
	if n < 0 { // overflowed 19 digits
		return 0, protocolError("invalid integer")
	}
	if neg {
		n = -n
	}
	return n, nil
}

// appendArray appends an array header of n elements.
func appendArray(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// appendBulk appends s as a bulk string.
func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// appendCommand appends a command of string arguments.
func appendCommand(b []byte, args ...string) []byte {
	b = appendArray(b, len(args))
	for _, a := range args {
		b = appendBulk(b, a)
	}
	return b
}
