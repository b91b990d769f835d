package rules

import "strings"

// mayMatch reports whether lowered (a text with its ASCII letters
// lower-cased, re.LowerASCII) contains one of a pattern's required
// literals; nil lits always may. Most rules do not match most messages,
// and one substring search is far cheaper than a regex run.
func mayMatch(lits []string, lowered string) bool {
	if lits == nil {
		return true
	}
	for _, l := range lits {
		if strings.Contains(lowered, l) {
			return true
		}
	}
	return false
}
