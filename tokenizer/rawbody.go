package tokenizer

import "strings"

// RawbodyPartScanSize is SpamAssassin's default rawbody_part_scan_size:
// the decoded text of each part is cut after about this many bytes
// before rawbody rules see it.
const RawbodyPartScanSize = 500000

// DecodedBody returns SpamAssassin's get_decoded_body_text_array, what
// rawbody rules match: the transfer-decoded, unrendered content of every
// text/* and message/* leaf (an .html or .htm file name makes a part
// text/html; text/calendar parts are left out), each cut after about
// scanSize bytes (at a line end, a '>' or a space within 1024 bytes of
// the limit; 0 or less means no cut) and split into chunks of 2048 to
// 4096 bytes, at a line end, a '>' or a space where possible. Chunks keep
// their line breaks, so one chunk usually holds many lines. The content
// is not charset converted: like SpamAssassin, rawbody rules see the
// part's bytes.
func (m *Message) DecodedBody(scanSize int) []string {
	var out []string
	for _, p := range m.Parts {
		if !p.Leaf {
			continue
		}
		typ := p.ContentType
		if name := strings.ToLower(p.Filename); strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".htm") ||
			strings.HasSuffix(name, ".shtml") || strings.HasSuffix(name, ".shtm") {
			typ = "text/html"
		}
		if !typeWordPrefix(typ, "text") && !typeWordPrefix(typ, "message") || typ == "text/calendar" {
			continue
		}
		body := string(p.Decoded)
		if scanSize > 0 {
			body = cutRawbody(body, scanSize)
		}
		out = append(out, ShortParagraphs(body)...)
	}
	return out
}

// typeWordPrefix reports whether typ starts with the word w (/^w\b/).
func typeWordPrefix(typ, w string) bool {
	return strings.HasPrefix(typ, w) && (len(typ) == len(w) || !isWordByte(typ[len(w)]))
}

// cutRawbody truncates s after about size bytes as SpamAssassin does for
// rawbody_part_scan_size.
func cutRawbody(s string, size int) string {
	if len(s) <= size {
		return s
	}
	for _, sep := range []string{"\n", ">", " "} {
		if i := strings.Index(s[size:], sep); i >= 0 && i <= 1024 {
			return s[:size+i+1]
		}
	}
	return s[:size]
}

// ShortParagraphs is split_into_array_of_short_paragraphs: s in chunks
// of 2048 to 4096 bytes, each ending at a line end, a '>' or a space when
// one is found in that range.
func ShortParagraphs(s string) []string {
	if len(s) <= maxBodyLineLength {
		return []string{s}
	}
	var out []string
	ofs := 0
	for len(s)-ofs > 2*maxBodyLineLength {
		j := -1
		for _, sep := range []string{"\n", ">", " "} {
			j = indexFrom(s, sep, ofs+maxBodyLineLength)
			if j >= 0 && j-ofs+1 <= 2*maxBodyLineLength {
				break
			}
			j = -1
		}
		if j < 0 {
			j = ofs + maxBodyLineLength
		}
		out = append(out, s[ofs:j+1])
		ofs = j + 1
	}
	if ofs < len(s) {
		out = append(out, s[ofs:])
	}
	return out
}

// indexFrom is Perl's index(s, sep, from).
func indexFrom(s, sep string, from int) int {
	if from > len(s) {
		return -1
	}
	if i := strings.Index(s[from:], sep); i >= 0 {
		return from + i
	}
	return -1
}
