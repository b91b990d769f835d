package tokenizer

import (
	"regexp"
	"strings"
)

// HeaderAddresses returns the addresses (user@host) in a raw address
// header value, in order, as SpamAssassin's parse_header_addresses reads
// them: what header rules see of "From:addr".
func HeaderAddresses(raw string) []string {
	var out []string
	for _, a := range parseHeaderAddresses(raw) {
		if a.hasAddress {
			out = append(out, a.address)
		}
	}
	return out
}

var nameSpaceRun = regexp.MustCompile(`\s+`)

// HeaderNames returns the display names in a raw address header value, in
// order, as SpamAssassin gives them to "From:name" rules: with decode,
// RFC 2047 encoded-words are decoded, whitespace runs become one space
// and the ends are trimmed, and one pair of enclosing single quotes is
// removed; without, the phrases are as parsed.
func HeaderNames(raw string, decode bool) []string {
	var out []string
	for _, a := range parseHeaderAddresses(raw) {
		if !a.hasPhrase {
			continue
		}
		name := a.phrase
		if decode {
			name = decodeHeaderValue("", name)
			if trimPerlSpace(name) != "" {
				name = strings.TrimSpace(nameSpaceRun.ReplaceAllString(name, " "))
				if len(name) >= 2 && name[0] == '\'' && name[len(name)-1] == '\'' {
					name = name[1 : len(name)-1]
				}
			}
		}
		out = append(out, name)
	}
	return out
}
