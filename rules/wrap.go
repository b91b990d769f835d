package rules

import "strings"

// wrapText wraps text at white space as SpamAssassin's report does (see
// wrapPieces).
func wrapText(text, prefix, first string, width int, overflow bool) string {
	return wrapPieces(splitKeepingSpace(text), prefix, first, width, overflow)
}

// wrapPieces is SpamAssassin's line wrapper over text already cut into
// pieces (words and the separators between them): first is put before
// the first line and prefix before every later one; a line takes the next
// piece while it stays within width columns (a TAB counting 8), and with
// overflow a line may take one piece past it. A line that is ended loses
// its trailing white space. Lines are joined with "\n".
func wrapPieces(arr []string, prefix, first string, width int, overflow bool) string {
	if first != "" {
		arr = append([]string{first}, arr...)
	}
	cols := func(s string) int { return len(s) + strings.Count(s, "\t")*7 }
	pos, joined := 0, false
	for len(arr)-1 > pos {
		n := cols(arr[pos])
		if joined && !overflow {
			n += cols(arr[pos+1])
		}
		if n <= width {
			arr[pos] += arr[pos+1]
			arr = append(arr[:pos+1], arr[pos+2:]...)
			joined = true
			continue
		}
		arr[pos] = strings.TrimRight(arr[pos], " \t\n\r\f\v")
		pos++
		joined = false
		arr = append(arr[:pos], append([]string{prefix}, arr[pos:]...)...)
	}
	return strings.Join(arr, "\n")
}

func isPerlSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// splitKeepingSpace splits s at each white-space character, keeping the
// separators as their own pieces, with Perl's split semantics (no
// trailing empty pieces).
func splitKeepingSpace(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if isPerlSpace(s[i]) {
			out = append(out, s[start:i], s[i:i+1])
			start = i + 1
		}
	}
	return trimTrailingEmpty(append(out, s[start:]))
}

// splitAfterSpaceOrComma splits s after every white-space character and
// comma, with an empty separator piece between the parts (Perl's split on
// a captured zero-width look-behind).
func splitAfterSpaceOrComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if isPerlSpace(s[i]) || s[i] == ',' {
			out = append(out, s[start:i+1], "")
			start = i + 1
		}
	}
	return trimTrailingEmpty(append(out, s[start:]))
}

func trimTrailingEmpty(pieces []string) []string {
	for len(pieces) > 0 && pieces[len(pieces)-1] == "" {
		pieces = pieces[:len(pieces)-1]
	}
	return pieces
}
