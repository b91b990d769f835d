package eval

import "unicode/utf8"

// findReceivedDate is rcvdDate.FindString, SpamAssassin's expression
// for the date in a Received header, (\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+),
// matched by hand: it ran on every Received header of every message.
//
// Every part after the optional character is forced (a run of digits or
// non-space characters, then a separator it cannot contain), so a start
// has at most one match, whichever the optional character takes; the
// leftmost start with one wins. TestFindReceivedDate checks it against
// the expression.
func findReceivedDate(s string) string {
	for i := 0; i < len(s); i++ {
		if !isSpaceByte(s[i]) {
			continue
		}
		// .? takes the character after the white space (any but a
		// newline) or nothing.
		if i+1 < len(s) && s[i+1] != '\n' {
			_, size := utf8.DecodeRuneInString(s[i+1:])
			if end := rcvdDateFrom(s, i+1+size); end > 0 {
				return s[i:end]
			}
		}
		if end := rcvdDateFrom(s, i+1); end > 0 {
			return s[i:end]
		}
	}
	return ""
}

// rcvdDateFrom matches \d+ \S\S\S \d+ \d+:\d+:\d+ \S+ at s[i:] and
// returns where it ends, or -1.
func rcvdDateFrom(s string, i int) int {
	if i = rdDigits(s, i); i < 0 {
		return -1
	}
	if i = rdByte(s, i, ' '); i < 0 {
		return -1
	}
	for range 3 {
		if i >= len(s) || isSpaceByte(s[i]) {
			return -1
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	for _, step := range [...]func(string, int) int{rdSpace, rdDigits, rdSpace, rdDigits, rdColon, rdDigits, rdColon, rdDigits, rdSpace} {
		if i = step(s, i); i < 0 {
			return -1
		}
	}
	start := i
	for i < len(s) && !isSpaceByte(s[i]) {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i == start {
		return -1
	}
	return i
}

// rdDigits matches \d+ (all of the run) at s[i:], rdByte one byte; both
// return where the match ends or -1 (as they do given -1).
func rdDigits(s string, i int) int {
	start := i
	for i >= 0 && i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i < 0 || i == start {
		return -1
	}
	return i
}

func rdByte(s string, i int, b byte) int {
	if i < 0 || i >= len(s) || s[i] != b {
		return -1
	}
	return i + 1
}

func rdSpace(s string, i int) int { return rdByte(s, i, ' ') }
func rdColon(s string, i int) int { return rdByte(s, i, ':') }
