package spamdproto

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxResponseLine bounds the status line and each header line of an
// answer, terminator included (spamc's line buffer holds 8187 bytes).
const maxResponseLine = 8192

// readResponse reads an answer the way spamc does: the status line, the
// headers up to the empty line, then (for the verbs that have one) the
// body until the server closes, which must match Content-length.
func readResponse(r *bufio.Reader, verb Verb, maxBody int64) (*Result, error) {
	line, err := readLine(r, maxResponseLine)
	if err != nil {
		return nil, responseLineError("read status line", err)
	}
	res, err := parseStatusLine(trimEOL(line))
	if err != nil {
		return nil, err
	}
	if res.Code != EX_OK {
		return res, &Error{Code: res.Code, Msg: statusDetail(res.Code, res.Status),
			Err: fmt.Errorf("%w: %q", ErrServerStatus, trimEOL(line))}
	}
	if verb == VerbPing {
		return res, nil
	}
	if err := readResponseHeaders(r, res); err != nil {
		return res, err
	}
	switch verb {
	case VerbTell:
		return res, nil
	case VerbCheck:
		if !res.HasSpam {
			return res, &Error{Code: EX_PROTOCOL, Msg: "answer to CHECK without a Spam header"}
		}
		return res, nil
	}
	if res.ContentLength < 0 {
		return res, &Error{Code: EX_PROTOCOL, Msg: "answer to " + string(verb) + " without Content-length"}
	}
	body, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return res, &Error{Code: EX_IOERR, Err: fmt.Errorf("read %s answer body: %w", verb, err)}
	}
	if int64(len(body)) > maxBody {
		return res, &Error{Code: EX_TOOBIG, Err: fmt.Errorf("%s answer body over the %d-byte limit", verb, maxBody)}
	}
	if int64(len(body)) != res.ContentLength {
		return res, &Error{Code: EX_PROTOCOL,
			Msg: fmt.Sprintf("Content-length mismatch: %d bytes claimed, %d bytes seen", res.ContentLength, len(body))}
	}
	res.Body = body
	return res, nil
}

// responseLineError classifies a failure to read a line of the answer:
// too long is a protocol error, anything else (EOF included) an I/O
// error, as spamc sees it.
func responseLineError(op string, err error) *Error {
	if errors.Is(err, errLineTooLong) {
		return &Error{Code: EX_PROTOCOL, Msg: "answer line too long", Err: err}
	}
	return &Error{Code: EX_IOERR, Err: fmt.Errorf("%s: %w", op, err)}
}

// parseStatusLine reads "SPAMD/<version> <code> <text>". The version must
// be a number of at least 1.0 and the code a decimal integer.
func parseStatusLine(line []byte) (*Result, error) {
	bad := func() error {
		return &Error{Code: EX_PROTOCOL, Msg: fmt.Sprintf("bad status line %q", line)}
	}
	rest, ok := bytes.CutPrefix(line, []byte("SPAMD/"))
	if !ok {
		return nil, bad()
	}
	fields := strings.Fields(string(rest))
	if len(fields) < 2 || perlNumber(fields[0]) < 1.0 {
		return nil, bad()
	}
	code, ok := parseStatusCode(fields[1])
	if !ok {
		return nil, bad()
	}
	res := &Result{Version: fields[0], Code: code, ContentLength: -1}
	// The text is everything after the code, as sent.
	s := strings.TrimLeft(string(rest), " \t")
	s = strings.TrimLeft(s[len(fields[0]):], " \t")
	res.Status = strings.TrimSpace(s[len(fields[1]):])
	return res, nil
}

// parseStatusCode accepts an optionally signed decimal integer.
func parseStatusCode(s string) (int, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// statusDetail strips the fixed text our own server puts before the
// detail ("Bad header line: "), so that Error.Error does not repeat it.
func statusDetail(code int, text string) string {
	if d, ok := strings.CutPrefix(text, StatusText(code)+": "); ok {
		return d
	}
	if text == StatusText(code) {
		return ""
	}
	return text
}

// readResponseHeaders reads header lines up to the empty line into res.
// Names are matched without regard to case; unknown headers are ignored.
func readResponseHeaders(r *bufio.Reader, res *Result) error {
	for {
		line, err := readLine(r, maxResponseLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return &Error{Code: EX_IOERR, Msg: "EOF during answer headers", Err: err}
			}
			return responseLineError("read answer header", err)
		}
		line = trimEOL(line)
		if len(line) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue // spamc ignores what it does not recognise
		}
		value = bytes.TrimSpace(value)
		switch strings.ToLower(string(name)) {
		case "content-length":
			n, ok := parseDigits(value)
			if !ok || len(value) == 0 {
				return &Error{Code: EX_PROTOCOL, Msg: fmt.Sprintf("bad Content-length %q", value)}
			}
			res.ContentLength = n
		case "spam":
			parseSpamHeader(string(value), res)
		case "didset":
			res.DidSet = targetsIn(value)
		case "didremove":
			res.DidRemove = targetsIn(value)
		}
	}
}

// parseSpamHeader reads "True ; 1000.0 / 5.0" (the part after "Spam:").
// A value in another shape is ignored, as by spamc and Client.pm.
func parseSpamHeader(value string, res *Result) {
	f := strings.Fields(value)
	if len(f) != 5 || f[1] != ";" || f[3] != "/" {
		return
	}
	res.HasSpam = true
	res.SpamFlag, res.ScoreText, res.ThresholdText = f[0], f[2], f[4]
	res.Spam = strings.EqualFold(f[0], "true") || strings.EqualFold(f[0], "yes")
	res.Score = perlNumber(f[2])
	res.Threshold = perlNumber(f[4])
}
