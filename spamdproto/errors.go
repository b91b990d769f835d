package spamdproto

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Status codes of the protocol, from sysexits.h. spamd answers with EX_OK,
// EX_UNAVAILABLE, EX_PROTOCOL and EX_TIMEOUT; the rest are spamc exit codes
// that a server may still use (gospamd answers EX_SOFTWARE after a
// recovered panic, EX_TEMPFAIL when every slot stays busy and EX_TOOBIG
// for a request over the hard size limit). Real spamc never looks at the
// number: any error line makes it fall back to printing the original
// message (or, with -x, exit with EX_IOERR).
const (
	EX_OK          = 0
	EX_USAGE       = 64
	EX_DATAERR     = 65
	EX_NOINPUT     = 66
	EX_NOUSER      = 67
	EX_NOHOST      = 68
	EX_UNAVAILABLE = 69
	EX_SOFTWARE    = 70
	EX_OSERR       = 71
	EX_OSFILE      = 72
	EX_CANTCREAT   = 73
	EX_IOERR       = 74
	EX_TEMPFAIL    = 75
	EX_PROTOCOL    = 76
	EX_NOPERM      = 77
	EX_CONFIG      = 78
	EX_TIMEOUT     = 79
	EX_TOOBIG      = 98
)

// statusText is the fixed client-facing text of each code: the word spamd
// puts after the number on an error line ("Bad header line", "Service
// Unavailable", "Timeout"), and a sysexits.h-style phrase for the codes
// spamd itself never sends.
var statusText = map[int]string{
	EX_OK:          "EX_OK",
	EX_USAGE:       "Usage error",
	EX_DATAERR:     "Data format error",
	EX_NOINPUT:     "Cannot open input",
	EX_NOUSER:      "Addressee unknown",
	EX_NOHOST:      "Host name unknown",
	EX_UNAVAILABLE: "Service Unavailable",
	EX_SOFTWARE:    "Internal software error",
	EX_OSERR:       "System error",
	EX_OSFILE:      "Critical OS file missing",
	EX_CANTCREAT:   "Cannot create output file",
	EX_IOERR:       "Input/output error",
	EX_TEMPFAIL:    "Temporary failure",
	EX_PROTOCOL:    "Bad header line",
	EX_NOPERM:      "Permission denied",
	EX_CONFIG:      "Configuration error",
	EX_TIMEOUT:     "Timeout",
	EX_TOOBIG:      "Message too big",
}

// StatusText returns the fixed text for a status code ("Bad header line"
// for EX_PROTOCOL), or "Error" for a number outside the table.
func StatusText(code int) string {
	if s, ok := statusText[code]; ok {
		return s
	}
	return "Error"
}

// Error is a failed request: the status code sent to the client, the
// client-facing detail, and the cause.
//
// # What the client sees
//
// The answer is one line, `SPAMD/1.0 <Code> <StatusText(Code)>: <Msg>`
// (without ": <Msg>" when Msg is empty), then the server closes. Msg must
// be generic: protocol details the client itself caused, like spamd's
// "(EOF during headers)", never paths, configuration or internal errors.
//
// # What the log sees
//
// Err, the wrapped cause, goes to the log only. Error() includes it.
type Error struct {
	Code int    // EX_* status code
	Msg  string // client-facing detail, may be empty
	Err  error  // cause, for logs; may be nil
}

// Error implements error: code name, client text, then the cause.
func (e *Error) Error() string {
	s := "spamd status " + strconv.Itoa(e.Code) + " " + StatusText(e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WireLine is the complete error answer, CRLF included.
func (e *Error) WireLine() string {
	s := "SPAMD/1.0 " + strconv.Itoa(e.Code) + " " + StatusText(e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s + "\r\n"
}

// WriteError writes e's one-line answer to w.
func WriteError(w io.Writer, e *Error) error {
	if _, err := io.WriteString(w, e.WireLine()); err != nil {
		return fmt.Errorf("write error answer: %w", err)
	}
	return nil
}

// AsError returns err as an *Error: the one it wraps, or EX_SOFTWARE with
// no client detail around it.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: EX_SOFTWARE, Err: err}
}

func protocolError(msg string, cause error) *Error {
	return &Error{Code: EX_PROTOCOL, Msg: msg, Err: cause}
}

func unavailableError(msg string, cause error) *Error {
	return &Error{Code: EX_UNAVAILABLE, Msg: msg, Err: cause}
}

func tooBigError(cause error) *Error {
	return &Error{Code: EX_TOOBIG, Err: cause}
}
