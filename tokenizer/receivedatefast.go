package tokenizer

import (
	"regexp"
	"strings"
)

// Hand-written forms of ParseDate's three expressions that match a
// Received header's date (dateDMY, dateHMS, dateNumTZ): ParseDate runs on
// a header of every message learned, and the three regexps took most of
// its time. Each gives the leftmost match the regexp gives, with the same
// submatch indices; TestDateMatchersAsRegexps compares them. They take
// ASCII text: (?i) lets dateDMY's "sep" match a long s (U+017F), which
// ParseDate leaves to the regexp.

// findDMY is dateDMY.FindStringSubmatchIndex(s) for an ASCII s:
// ` (\d+) (jan|...|dec) (\d{4}) `, case-insensitive.
func findDMY(s string) ([8]int, bool) {
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(s[i:], ' ')
		if k < 0 {
			break
		}
		i += k
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		// j: the space after the day; then "mon yyyy " (9 bytes).
		if j == i+1 || j+10 > len(s) || s[j] != ' ' || !isMonthFold(s[j+1:j+4]) || s[j+4] != ' ' ||
			!isDigit(s[j+5]) || !isDigit(s[j+6]) || !isDigit(s[j+7]) || !isDigit(s[j+8]) || s[j+9] != ' ' {
			continue
		}
		return [8]int{i, j + 10, i + 1, j, j + 1, j + 4, j + 5, j + 9}, true
	}
	return [8]int{}, false
}

// isMonthFold reports whether m is a month's three-letter English name,
// in any case.
func isMonthFold(m string) bool {
	if len(m) != 3 {
		return false
	}
	switch string([]byte{m[0] | 0x20, m[1] | 0x20, m[2] | 0x20}) {
	case "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec":
		return true
	}
	return false
}

// findHMS is dateHMS.FindStringSubmatchIndex(s): ` (\d?\d):(\d\d)(?::(\d\d))? `.
func findHMS(s string) ([8]int, bool) {
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(s[i:], ' ')
		if k < 0 {
			break
		}
		i += k
		// \d?\d: two digits first, then one.
		for _, p := range [2]int{i + 3, i + 2} {
			if m, ok := hmsFrom(s, i, p); ok {
				return m, true
			}
		}
	}
	return [8]int{}, false
}

// hmsFrom matches dateHMS at i (a space) with the hour ending at p.
func hmsFrom(s string, i, p int) ([8]int, bool) {
	if p+4 > len(s) {
		return [8]int{}, false
	}
	for h := i + 1; h < p; h++ {
		if !isDigit(s[h]) {
			return [8]int{}, false
		}
	}
	if s[p] != ':' || !isDigit(s[p+1]) || !isDigit(s[p+2]) {
		return [8]int{}, false
	}
	q := p + 3 // after the minutes
	if q+4 <= len(s) && s[q] == ':' && isDigit(s[q+1]) && isDigit(s[q+2]) && s[q+3] == ' ' {
		return [8]int{i, q + 4, i + 1, p, p + 1, q, q + 1, q + 3}, true
	}
	if s[q] == ' ' {
		return [8]int{i, q + 1, i + 1, p, p + 1, q, -1, -1}, true
	}
	return [8]int{}, false
}

// findNumTZ is dateNumTZ.FindStringSubmatch(s): ` ([-+])(\d\d)(\d\d) `.
func findNumTZ(s string) ([4]string, bool) {
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(s[i:], ' ')
		if k < 0 {
			break
		}
		i += k
		if i+7 > len(s) || s[i+1] != '+' && s[i+1] != '-' || !isDigit(s[i+2]) || !isDigit(s[i+3]) ||
			!isDigit(s[i+4]) || !isDigit(s[i+5]) || s[i+6] != ' ' {
			continue
		}
		return [4]string{s[i : i+7], s[i+1 : i+2], s[i+2 : i+4], s[i+4 : i+6]}, true
	}
	return [4]string{}, false
}

// matchDMY is findDMY for ASCII text, else dateDMY.
func matchDMY(s string, ascii bool) ([8]int, bool) { return matchIndex(s, ascii, findDMY, dateDMY) }

// matchHMS is findHMS for ASCII text, else dateHMS.
func matchHMS(s string, ascii bool) ([8]int, bool) { return matchIndex(s, ascii, findHMS, dateHMS) }

// matchIndex is find(s) for ASCII text, else re's submatch indexes.
func matchIndex(s string, ascii bool, find func(string) ([8]int, bool), re *regexp.Regexp) ([8]int, bool) {
	if ascii {
		return find(s)
	}
	var m [8]int
	loc := re.FindStringSubmatchIndex(s)
	copy(m[:], loc)
	return m, loc != nil
}

// matchNumTZ is findNumTZ for ASCII text, else dateNumTZ.
func matchNumTZ(s string, ascii bool) ([4]string, bool) {
	if ascii {
		return findNumTZ(s)
	}
	var m [4]string
	sub := dateNumTZ.FindStringSubmatch(s)
	copy(m[:], sub)
	return m, sub != nil
}
