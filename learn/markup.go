package learn

import (
	"bytes"
	"regexp"
	"strings"
)

// StripMarkup returns raw with the markup of an earlier SpamAssassin (or
// gospamd) scan removed, so that learning a scanned message teaches the
// tokens of the message as it was sent:
//
//   - a report_safe wrapper (multipart/mixed whose part is the original as
//     message/rfc822 or text/plain with x-spam-type=original) is unwrapped;
//   - otherwise headers renamed to X-Spam-Prev-<Name> get their name back
//     (replacing the rewritten header) and every other X-Spam-* header is
//     dropped.
//
// Messages without an X-Spam-Checker-Version header are returned as they
// are. The mbox From line, if any, is kept.
func StripMarkup(raw []byte) []byte {
	mbox, msg := splitMboxLine(raw)
	hdr, body := splitHeaderBody(msg)
	if !headerHas(hdr, "X-Spam-Checker-Version") {
		return raw
	}
	crlf := bytes.Contains(hdr, []byte("\r\n"))
	if orig, ok := unwrapReportSafe(hdr, body); ok {
		return concat(mbox, orig)
	}
	h := string(hdr)
	if crlf {
		h = strings.ReplaceAll(h, "\r\n", "\n")
	}
	fields := splitFields(h)
	prev := map[string]string{} // lower-case name → restored field text
	var out []string
	for _, f := range fields {
		name, _, _ := strings.Cut(f, ":")
		lname := strings.ToLower(strings.TrimSpace(name))
		if rest, ok := strings.CutPrefix(lname, "x-spam-prev-"); ok {
			prev[rest] = f[len("X-Spam-Prev-"):]
		}
	}
	restored := map[string]bool{}
	for _, f := range fields {
		name, _, _ := strings.Cut(f, ":")
		lname := strings.ToLower(strings.TrimSpace(name))
		if strings.HasPrefix(lname, "x-spam-") {
			continue
		}
		if p, ok := prev[lname]; ok {
			if !restored[lname] {
				out = append(out, p)
				restored[lname] = true
			}
			continue
		}
		out = append(out, f)
	}
	for lname, p := range prev {
		if !restored[lname] && !strings.HasPrefix(strings.TrimSpace(p[strings.Index(p, ":")+1:]), "(nonexistent)") {
			out = append(out, p)
		}
	}
	h = strings.Join(out, "")
	if crlf {
		h = strings.ReplaceAll(h, "\n", "\r\n")
	}
	return concat(mbox, []byte(h), body)
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

func splitMboxLine(raw []byte) (mbox, rest []byte) {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return nil, raw
	}
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return raw, nil
	}
	return raw[:i+1], raw[i+1:]
}

// splitHeaderBody splits at the first empty line; the header keeps its
// final line ending and the empty line itself.
func splitHeaderBody(msg []byte) (hdr, body []byte) {
	for i := 0; i < len(msg); {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return msg, nil
		}
		line := msg[i : i+j+1]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return msg[:i+j+1], msg[i+j+1:]
		}
		i += j + 1
	}
	return msg, nil
}

// headerHas reports whether a line of hdr starts with name (any case)
// and a colon; it runs on every message learned.
func headerHas(hdr []byte, name string) bool {
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			hdr = nil
		}
		if len(line) > len(name) && line[len(name)] == ':' && strings.EqualFold(string(line[:len(name)]), name) {
			return true
		}
	}
	return false
}

// splitFields splits an LF header block into fields, continuation lines
// kept with their field; the final empty line is its own element.
func splitFields(h string) []string {
	var fields []string
	for len(h) > 0 {
		end := strings.IndexByte(h, '\n')
		if end < 0 {
			end = len(h) - 1
		}
		for end+1 < len(h) && (h[end+1] == ' ' || h[end+1] == '\t') {
			next := strings.IndexByte(h[end+1:], '\n')
			if next < 0 {
				end = len(h) - 1
				break
			}
			end += 1 + next
		}
		fields = append(fields, h[:end+1])
		h = h[end+1:]
	}
	return fields
}

var boundaryParam = regexp.MustCompile(`(?is)^\s*multipart/mixed;\s+boundary\s*=\s*["']?([^"';\r\n]+)["']?`)

// The Content-Description a report_safe wrapper gives the original.
const encapsulatedDescription = "original message before SpamAssassin"

func unwrapReportSafe(hdr, body []byte) ([]byte, bool) {
	var ct string
	for _, f := range splitFields(strings.ReplaceAll(string(hdr), "\r\n", "\n")) {
		if name, v, ok := strings.Cut(f, ":"); ok && strings.EqualFold(name, "Content-Type") {
			ct = strings.ReplaceAll(strings.TrimSpace(v), "\n", "")
		}
	}
	m := boundaryParam.FindStringSubmatch(ct)
	if m == nil {
		return nil, false
	}
	delim := []byte("--" + m[1])
	lines := bytes.SplitAfter(body, []byte("\n"))
	inHeader := false
	var partCT, partCD string
	for i, line := range lines {
		trimmed := bytes.TrimRight(line, "\r\n")
		if !inHeader {
			if bytes.Equal(trimmed, delim) {
				inHeader, partCT, partCD = true, "", ""
			}
			continue
		}
		if len(bytes.TrimSpace(trimmed)) == 0 {
			inHeader = false
			lct := strings.ToLower(partCT)
			if (strings.HasPrefix(lct, "message/rfc822") || strings.HasPrefix(lct, "text/plain")) && strings.Contains(lct, "x-spam-type=original") ||
				lct == "message/rfc822" && partCD == encapsulatedDescription {
				return originalUntil(lines[i+1:], delim), true
			}
			continue
		}
		if v, ok := cutHeader(trimmed, "Content-Type"); ok {
			partCT = v
		} else if v, ok := cutHeader(trimmed, "Content-Description"); ok {
			partCD = v
		}
	}
	return nil, false
}

func cutHeader(line []byte, name string) (string, bool) {
	if len(line) <= len(name) || line[len(name)] != ':' || !strings.EqualFold(string(line[:len(name)]), name) {
		return "", false
	}
	return strings.TrimSpace(string(line[len(name)+1:])), true
}

// originalUntil joins lines up to the next boundary line, dropping the
// empty line that precedes the boundary.
func originalUntil(lines [][]byte, delim []byte) []byte {
	end := len(lines)
	for i, line := range lines {
		if bytes.HasPrefix(line, delim) {
			end = i
			if i > 0 && len(bytes.TrimSpace(lines[i-1])) == 0 {
				end = i - 1
			}
			break
		}
	}
	return bytes.Join(lines[:end], nil)
}
