package scan

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
)

// An Envelope is what an SMTP transaction said about a message, before
// any header of it was written by our side.
type Envelope struct {
	// ClientIP is the connecting client's address; HELO the name it
	// gave; ClientName its reverse DNS name ("" if none was found).
	ClientIP   netip.Addr
	ClientName string
	HELO       string
	// MailFrom is the reverse path (MAIL FROM, "" for the null sender);
	// RcptTo the accepted recipients.
	MailFrom string
	RcptTo   []string
}

// IsZero reports whether the envelope carries nothing (the spamd case).
func (e Envelope) IsZero() bool {
	return !e.ClientIP.IsValid() && e.HELO == "" && e.MailFrom == "" && len(e.RcptTo) == 0
}

// Prepend returns raw with the trace lines a receiving MTA writes in
// front: Return-Path (RFC 5321 §4.4) and a Received line naming the
// client as SpamAssassin's relay parser reads it, so that the relay
// rules and the trust path see the SMTP client. by is our host name.
// Only the lines the envelope has data for are written.
func (e Envelope) Prepend(raw []byte, by string, now time.Time) []byte {
	var b bytes.Buffer
	b.Grow(len(raw) + 256)
	b.WriteString("Return-Path: <" + clean(e.MailFrom) + ">\r\n")
	if e.ClientIP.IsValid() {
		ip := e.ClientIP.Unmap()
		lit := ip.String()
		if ip.Is6() {
			lit = "IPv6:" + lit
		}
		helo := clean(e.HELO)
		if helo == "" {
			helo = "[" + lit + "]"
		}
		name := clean(e.ClientName)
		if name == "" {
			name = "unknown" // as Postfix writes a client without reverse DNS
		}
		b.WriteString("Received: from " + helo + " (" + name + " [" + lit + "])\r\n")
		if by == "" {
			by = "localhost"
		}
		b.WriteString("\tby " + clean(by) + " (gospamd) with ESMTP")
		if len(e.RcptTo) == 1 {
			b.WriteString("\r\n\tfor <" + clean(e.RcptTo[0]) + ">")
		}
		b.WriteString("; " + now.Format(time.RFC1123Z) + "\r\n")
	}
	// The message's own line ending decides ours, so the header block
	// stays consistent.
	out := b.Bytes()
	if !bytes.Contains(firstLine(raw), []byte("\r\n")) {
		out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	}
	return append(out, raw...)
}

// clean drops characters that would break a header line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
}

func firstLine(raw []byte) []byte {
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[:i+1]
	}
	return raw
}
