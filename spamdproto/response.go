package spamdproto

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Answers are written the way spamd 4.0.1 writes them, byte for byte:
//
//	SPAMD/1.1 0 EX_OK            every scan verb and TELL
//	SPAMD/1.0 0 EX_OK            PROCESS/HEADERS from a client below 1.2
//	SPAMD/1.5 0 PONG             PING
//	SPAMD/1.0 <code> <text>      errors (see Error)
//
// Header order is Content-length, then Spam. Each answer is built in full
// and handed to the connection in one write (a large body as a second
// buffer of the same writev), so a client never sees half a header block.

const (
	statusOK     = "SPAMD/1.1 0 EX_OK\r\n"
	statusOKOld  = "SPAMD/1.0 0 EX_OK\r\n"
	statusPong   = "SPAMD/1.5 0 PONG\r\n"
	headerEnd    = "\r\n"
	spamHdrStart = "Spam: "

	// smallAnswer is the body size up to which the body is copied behind
	// the header bytes instead of being written as a second buffer.
	smallAnswer = 32 << 10
)

// FormatScore renders a score for a Spam header or X-Spam-Status: one
// decimal, except that a ham whose rounded score is not below the rounded
// threshold shows threshold − 0.1 (4.96 of 5.0 shows "4.9"), as
// SpamAssassin's get_tag_value_for_score does. That difference is a Perl
// number, so it prints with up to 15 significant digits ("4.9", and "1"
// for a threshold of 1.1).
func FormatScore(score, threshold float64, isSpam bool) string {
	s := strconv.FormatFloat(score, 'f', 1, 64)
	t := strconv.FormatFloat(threshold, 'f', 1, 64)
	rs, _ := strconv.ParseFloat(s, 64)
	rt, _ := strconv.ParseFloat(t, 64)
	if isSpam || rs < rt {
		return s
	}
	return strconv.FormatFloat(rt-0.1, 'g', 15, 64)
}

// FormatThreshold renders a required score: one decimal ("5.0").
func FormatThreshold(threshold float64) string {
	return strconv.FormatFloat(threshold, 'f', 1, 64)
}

// SpamHeader is the answer's Spam header line without CRLF, for example
// "Spam: True ; 1000.0 / 5.0". REPORT_IFSPAM says Yes/No instead of
// True/False.
func SpamHeader(verb Verb, res ScanResult) string {
	flag := "False"
	switch {
	case verb == VerbReportIfSpam && res.IsSpam():
		flag = "Yes"
	case verb == VerbReportIfSpam:
		flag = "No"
	case res.IsSpam():
		flag = "True"
	}
	return spamHdrStart + flag + " ; " + FormatScore(res.Score(), res.Threshold(), res.IsSpam()) +
		" / " + FormatThreshold(res.Threshold())
}

// SortedSymbols returns the names of the rules hit, sorted and
// comma-joined, empty names dropped: the SYMBOLS body.
func SortedSymbols(res ScanResult) string {
	names := slices.Clone(res.Symbols())
	names = slices.DeleteFunc(names, func(s string) bool { return s == "" })
	slices.Sort(names)
	return strings.Join(names, ",")
}

// HeaderPart cuts a message after its first empty line (LF or CRLF line
// endings, the empty line included), as spamd does for HEADERS. A message
// without an empty line is returned whole.
func HeaderPart(msg []byte) []byte {
	for i := 0; ; {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return msg
		}
		i += j + 1
		switch {
		case i < len(msg) && msg[i] == '\n':
			return msg[:i+1]
		case i+1 < len(msg) && msg[i] == '\r' && msg[i+1] == '\n':
			return msg[:i+2]
		}
	}
}

// WriteScanResponse writes the answer to a scan verb (CHECK, SYMBOLS,
// REPORT, REPORT_IFSPAM, PROCESS, HEADERS) for req's version.
//
//   - CHECK: status, Spam, blank line; no body, any version.
//   - SYMBOLS, REPORT, REPORT_IFSPAM: from 1.3 Content-length, Spam, blank
//     line, body; below 1.3 no Content-length, and SYMBOLS gets a CRLF.
//   - PROCESS, HEADERS: from 1.3 Content-length and Spam; from 1.2
//     Content-length only; below that "SPAMD/1.0 0 EX_OK" and the message
//     right after the status line.
func WriteScanResponse(w io.Writer, req *Request, res ScanResult) error {
	head, body := scanAnswer(req, res)
	var err error
	if len(body) <= smallAnswer {
		_, err = w.Write(append(head, body...))
	} else {
		bufs := net.Buffers{head, body}
		_, err = bufs.WriteTo(w)
	}
	if err != nil {
		return fmt.Errorf("write %s answer: %w", req.Verb, err)
	}
	return nil
}

// scanAnswer builds the answer as header bytes and body bytes.
func scanAnswer(req *Request, res ScanResult) (head, body []byte) {
	v := req.VersionNumber()
	var h bytes.Buffer
	switch req.Verb {
	case VerbProcess, VerbHeaders:
		body = res.Rewritten()
		if req.Verb == VerbHeaders {
			body = HeaderPart(body)
		}
		switch {
		case v >= 1.3:
			h.WriteString(statusOK)
			writeContentLength(&h, len(body))
			h.WriteString(SpamHeader(req.Verb, res))
			h.WriteString("\r\n" + headerEnd)
		case v >= 1.2:
			h.WriteString(statusOK)
			writeContentLength(&h, len(body))
			h.WriteString(headerEnd)
		default:
			h.WriteString(statusOKOld)
		}
	case VerbCheck:
		h.WriteString(statusOK)
		h.WriteString(SpamHeader(req.Verb, res))
		h.WriteString("\r\n" + headerEnd)
	default: // SYMBOLS, REPORT, REPORT_IFSPAM
		switch {
		case req.Verb == VerbSymbols:
			s := SortedSymbols(res)
			if v < 1.3 {
				s += "\r\n"
			}
			body = []byte(s)
		case req.Verb == VerbReport || res.IsSpam():
			body = []byte(res.Report())
		}
		h.WriteString(statusOK)
		if v >= 1.3 {
			writeContentLength(&h, len(body))
		}
		h.WriteString(SpamHeader(req.Verb, res))
		h.WriteString("\r\n" + headerEnd)
	}
	return h.Bytes(), body
}

func writeContentLength(b *bytes.Buffer, n int) {
	b.WriteString("Content-length: ")
	b.WriteString(strconv.Itoa(n))
	b.WriteString("\r\n")
}

// WriteTellResponse writes a TELL answer: status, DidSet and DidRemove
// when something changed, then the header terminator twice, as spamd
// writes it.
func WriteTellResponse(w io.Writer, res TellResult) error {
	var b strings.Builder
	b.WriteString(statusOK)
	if res.DidSet.Any() {
		b.WriteString("DidSet: " + res.DidSet.String() + "\r\n")
	}
	if res.DidRemove.Any() {
		b.WriteString("DidRemove: " + res.DidRemove.String() + "\r\n")
	}
	b.WriteString(headerEnd + headerEnd)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write TELL answer: %w", err)
	}
	return nil
}

// WritePong writes the PING answer, "SPAMD/1.5 0 PONG".
func WritePong(w io.Writer) error {
	if _, err := io.WriteString(w, statusPong); err != nil {
		return fmt.Errorf("write PONG: %w", err)
	}
	return nil
}
