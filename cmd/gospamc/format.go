package main

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/spamdproto"
)

// spamcVerdict reads the Spam header as spamc's sscanf("Spam: %5s ; %20s
// / %20s") does: a flag of at most 5 characters and a score of at most 20
// (longer ones do not match at all), a threshold cut to 20. Only "true"
// in any case is spam (so REPORT_IFSPAM's "Yes" is not). ok is false when
// spamc would not have recognised the header.
func spamcVerdict(res *spamdproto.Result) (isSpam int, score, threshold float32, ok bool) {
	if !res.HasSpam || len(res.SpamFlag) > 5 || len(res.ScoreText) > 20 {
		return exTooBig, 0, 0, false
	}
	isSpam = exNotSpam
	if strings.EqualFold(res.SpamFlag, "true") {
		isSpam = exIsSpam
	}
	return isSpam, clampScore(spamcFloat(res.ScoreText)), clampScore(spamcFloat(res.ThresholdText)), true
}

// scoreLine is spamc's "%.1f/%.1f\n".
func scoreLine(score, threshold float32) string {
	return strconv.FormatFloat(float64(score), 'f', 1, 64) + "/" + strconv.FormatFloat(float64(threshold), 'f', 1, 64) + "\n"
}

func clampScore(f float32) float32 {
	return min(max(f, -1e10), 1e10)
}

// spamcFloat is spamc's locale-independent number parser, in single
// precision: the integer part with strtol, then the digits after a dot
// as an integer divided by 10 to the number of characters after the dot.
// It differs from strconv: "-0.0" is 0, "1" is 1, and only the first 19
// characters count.
func spamcFloat(s string) float32 {
	if len(s) > 19 {
		s = s[:19]
	}
	neg := strings.HasPrefix(s, "-")
	whole, rest := strtol(s)
	ret := float32(whole)
	if !strings.HasPrefix(rest, ".") {
		return ret
	}
	frac := rest[1:]
	postdot, _ := strtol(frac)
	p := float32(postdot)
	if p >= -0.00001 && p <= 0.00001 {
		return ret
	}
	divider := int32(1)
	for range len(frac) {
		divider *= 10
	}
	if neg {
		return ret - p/float32(divider)
	}
	return ret + p/float32(divider)
}

// strtol parses like C's strtol in base 10 and returns the rest of the
// string; with no digits the rest is the whole string.
func strtol(s string) (int64, string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := int64(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	if i == start {
		return 0, s
	}
	if neg {
		n = -n
	}
	return n, s[i:]
}

// appendOriginalBody completes a HEADERS answer with the body of the
// message as read, after the first "\r\n\r\n" or "\n\n" (whichever comes
// first), as spamc --headers does, within the output limit. It returns
// false when the message has no end of headers.
func appendOriginalBody(m *message, limit int) bool {
	start := -1
	for i := 0; i < len(m.raw); i++ {
		if m.raw[i] == '\r' && bytes.HasPrefix(m.raw[i:], []byte("\r\n\r\n")) {
			start = i + 4
			break
		}
		if m.raw[i] == '\n' && bytes.HasPrefix(m.raw[i:], []byte("\n\n")) {
			start = i + 2
			break
		}
	}
	if start < 0 {
		return false
	}
	body := m.raw[start:]
	n := min(len(body), max(limit-len(m.out), 0))
	// spamc copies with strncpy: a NUL byte ends the copy, the rest of
	// the length is NULs.
	chunk := make([]byte, n)
	if z := bytes.IndexByte(body[:n], 0); z >= 0 {
		copy(chunk, body[:z])
	} else {
		copy(chunk, body[:n])
	}
	m.out = append(m.out, chunk...)
	return true
}
