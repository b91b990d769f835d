package main

import (
	"bytes"
	"io"
)

// msgType is what reading standard input produced.
type msgType int

const (
	msgNone  msgType = iota // nothing read
	msgError                // read, but unusable (too big, bad BSMTP): written back as read
	msgRaw                  // a message
	msgBSMTP                // a message inside a BSMTP transaction (-B)
)

// message is the mail being filtered and what will be written out for
// it, spamc's struct message.
type message struct {
	typ msgType
	raw []byte // everything read from standard input
	// pre, msg and post split raw for -B: the SMTP commands before DATA,
	// the message with dot-stuffing removed, the final dot and what
	// follows. Without -B, msg is raw.
	pre, msg, post []byte

	// isSpam is exIsSpam or exNotSpam from the Spam header, exTooBig when
	// there was none.
	isSpam int
	out    []byte // what a successful run writes
}

// spamc's verdict values (isSpam) and its internal "too big" status,
// which never reaches the exit status unchanged.
const (
	exNotSpam = 0
	exIsSpam  = 1
	exTooBig  = 866
)

// useMsgForOut makes the output the original message, after a failure.
func (m *message) useMsgForOut() { m.out = m.msg }

// readMessage reads the message from standard input, at most maxSize
// bytes: nothing at all is EX_IOERR, more is exTooBig (the bytes read are
// kept to be passed through).
func readMessage(r io.Reader, o *options, m *message, log *logger) int {
	*m = message{typ: msgNone, isSpam: exTooBig}
	if o.maxSize < 0 {
		return exIOErr // spamc's unsigned size wraps around to a zero-byte read
	}
	var buf bytes.Buffer
	n, _ := io.CopyN(&buf, r, int64(o.maxSize)+1) // a read error ends the message, as in spamc
	if n <= 0 {
		return exIOErr
	}
	m.typ, m.raw = msgError, buf.Bytes()
	if n > int64(o.maxSize) {
		log.errorf(o.logToStderr, "skipped message, greater than max message size (%d bytes)", o.maxSize)
		return exTooBig
	}
	if o.bsmtp {
		return m.splitBSMTP()
	}
	m.typ, m.msg, m.out = msgRaw, m.raw, m.raw
	return exOK
}

// write writes the output for a finished run, spamc's message_write: the
// check or ping line only for a known verdict, the message as read for
// an unusable one, and for -B the SMTP commands around the dot-stuffed
// output. It returns false when there is nothing it may write or the
// write fails.
func (m *message) write(w io.Writer, o *options) bool {
	var err error
	switch {
	case o.check || o.ping:
		if m.isSpam != exIsSpam && m.isSpam != exNotSpam {
			return false
		}
		_, err = w.Write(m.out)
	case m.typ == msgError:
		_, err = w.Write(m.raw)
	case m.typ == msgRaw:
		_, err = w.Write(m.out)
	case m.typ == msgBSMTP:
		var b bytes.Buffer
		b.Write(m.pre)
		b.Write(dotStuff(m.out))
		b.Write(m.post)
		_, err = w.Write(b.Bytes())
	default:
		return false
	}
	return err == nil
}

// dump is the safe fallback: the message as read, then the rest of
// standard input.
func (m *message) dump(w io.Writer, stdin io.Reader, o *options) {
	if m.typ != msgNone {
		m.write(w, o)
	}
	_, _ = io.Copy(w, stdin)
}

// splitBSMTP finds the message inside a BSMTP transaction: after the
// first "DATA" line (any case, not the first line), up to a line with a
// lone dot; doubled leading dots are undone, in place, as spamc does.
func (m *message) splitBSMTP() int {
	raw := m.raw
	start := -1
	for p := 0; len(raw)-p > 8; {
		i := bytes.IndexByte(raw[p:len(raw)-8], '\n')
		if i < 0 {
			break
		}
		q := p + i + 1
		if bytes.EqualFold(raw[q:q+4], []byte("data")) {
			q += 4
			if raw[q] == '\r' {
				q++
			}
			if raw[q] == '\n' {
				start = q + 1
				break
			}
			q++
		}
		p = q
	}
	if start < 0 {
		return exDataErr
	}
	m.pre, m.msg = raw[:start], raw[start:]
	msg := m.msg
	prev := byte('\n')
	j := 0
	for i := 0; i < len(msg); i++ {
		if prev == '\n' && msg[i] == '.' {
			if i+1 == len(msg) || msg[i+1] == '\n' || (i+2 < len(msg) && msg[i+1] == '\r' && msg[i+2] == '\n') {
				m.post = msg[i:]
				m.msg = msg[:j]
				m.typ, m.out = msgBSMTP, m.msg
				return exOK
			}
			if i+1 < len(msg) && msg[i+1] == '.' {
				prev = '.'
				continue
			}
		}
		prev = msg[i]
		msg[j] = msg[i]
		j++
	}
	return exDataErr
}

// dotStuff doubles a dot that follows a newline, for SMTP.
func dotStuff(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\n."), []byte("\n.."))
}
