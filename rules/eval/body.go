package eval

import (
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

func addBody(m map[string]Func) {
	m["check_body_length"] = checkBodyLength
	m["check_blank_line_ratio"] = checkBlankLineRatio
	m["tvd_vertical_words"] = tvdVerticalWords
	m["check_body_8bits"] = func(*Context, []string) (bool, error) { return false, nil } // needs ok_languages/TextCat
	m["check_language"] = func(*Context, []string) (bool, error) { return false, nil }   // needs TextCat
	m["check_unique_words"] = checkUniqueWords
	m["check_stock_info"] = checkStockInfo
}

// checkBodyLength (check_body_length(MAX)): the pristine body is at most
// MAX bytes long.
func checkBodyLength(c *Context, args []string) (bool, error) {
	if err := needArgs("check_body_length", args, 1); err != nil {
		return false, err
	}
	return float64(len(c.Msg.Body)) <= perlNum(args[0]), nil
}

// decodedBodyText is get_decoded_body_text_array: the decoded (not
// rendered) text of every text leaf, in SpamAssassin's 2–4 KB chunks.
func (c *Context) decodedBodyText() []string {
	return cached(c, "decodedbody", func() []string {
		return c.Msg.DecodedBody(tokenizer.RawbodyPartScanSize)
	})
}

// checkBlankLineRatio (check_blank_line_ratio(MIN, MAX[, MINLINES])): the
// percentage of blank lines in the decoded body is in (MIN, MAX] (or
// [0, MAX] when MIN is 0); bodies under MINLINES lines never hit.
func checkBlankLineRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("check_blank_line_ratio", args, 2); err != nil {
		return false, err
	}
	minLines := perlNum(arg(args, 2))
	if minLines < 1 {
		minLines = 1
	}
	blank, n := 0, 0
	for _, chunk := range c.decodedBodyText() {
		lines := strings.SplitAfter(chunk, "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for _, l := range lines {
			n++
			if strings.TrimSpace(l) == "" {
				blank++
			}
		}
	}
	ratio := -1.0
	if float64(n) >= minLines {
		ratio = 100 * float64(blank) / float64(n)
	}
	lo, hi := perlNum(args[0]), perlNum(args[1])
	return (lo == 0 && ratio <= hi) || (ratio > lo && ratio <= hi), nil
}

// tvdVerticalWords (tvd_vertical_words(MIN, MAX)): the highest percentage
// of spaces per non-space in a body line longer than 5 bytes is in
// [MIN, MAX).
func tvdVerticalWords(c *Context, args []string) (bool, error) {
	if err := needArgs("tvd_vertical_words", args, 2); err != nil {
		return false, err
	}
	lo, hi := perlNum(args[0]), perlNum(args[1])
	if hi >= 100 {
		hi = 101
	}
	best := -1
	for _, l := range c.Msg.Rendered {
		if len(l) <= 5 {
			continue
		}
		spaces := strings.Count(l, " ")
		non := len(l) - spaces
		pct := 100
		if !(spaces > non || non == 0) {
			pct = 100 * spaces / non
		}
		best = max(best, pct)
	}
	return float64(best) >= lo && float64(best) < hi, nil
}

// checkUniqueWords (check_unique_words(MIN, MAX)) is not in SpamAssassin
// 4.0.1's BodyEval; it answers false.
func checkUniqueWords(*Context, []string) (bool, error) { return false, nil }
