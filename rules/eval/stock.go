package eval

import (
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

var (
	// stockField is a "Name: value" line of the first text/plain part.
	stockField = lazyRegexp(`(?m)^\s*([^:\s][^:\n]{2,29})\s*:\s*\S`)
	// stockName are the field names of a stock tip (BodyEval.pm), once
	// lower-cased and stripped of everything but a-z.
	stockName = lazyRegexp(`^(trad(?:e|ing)date|company(?:name)?|s\w?(?:t\w?o\w?c\w?k|y\w?m(?:\w?b\w?o\w?l)?)|t(?:arget|icker)|(?:opening|current)p(?:rice)?|p(?:rojected|osition)|expectations|weeks?high|marketperformance|(?:year|week|month|day|price)(?:target|estimates?)|sector|r(?:ecommendation|ating))$`)
)

// checkStockInfo (check_stock_info(MIN)): the first text/plain part
// has at least MIN (or MIN is 0) distinct stock-tip field names
// ("Symbol:", "Target Price:", "Sector:" ...).
func checkStockInfo(c *Context, args []string) (bool, error) {
	if err := needArgs("check_stock_info", args, 1); err != nil {
		return false, err
	}
	n := cached(c, "stockinfo", func() int { return stockInfo(c.Msg.Parts) })
	lo := perlNum(args[0])
	return lo == 0 || float64(n) >= lo, nil
}

func stockInfo(parts []*tokenizer.Part) int {
	hits := map[string]bool{}
	for _, p := range parts {
		if p.ContentType != "text/plain" {
			continue
		}
		typ, ok := renderedType(p)
		if !ok || typ == "" {
			return 0
		}
		text, _ := p.RenderedText()
		for _, chunk := range tokenizer.ShortParagraphs(text) {
			for _, m := range stockField().FindAllStringSubmatch(chunk, -1) {
				name := strings.Map(func(r rune) rune {
					if r >= 'a' && r <= 'z' {
						return r
					}
					return -1
				}, strings.ToLower(m[1]))
				if sm := stockName().FindStringSubmatch(name); sm != nil {
					hits[sm[1]] = true
				}
			}
		}
		break // the first text/plain part only
	}
	return len(hits)
}
