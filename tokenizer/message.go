package tokenizer

import "strings"

// A Message is one parsed mail message.
//
// A Message is produced by Parse and never modified afterwards, so it may be
// read by many goroutines at once. Slices and strings in it refer to memory
// owned by the Message; the input given to Parse is not retained.
type Message struct {
	// MboxFrom is the mbox "From " separator line the message started with,
	// without its line ending, or "" if there was none.
	MboxFrom string

	// Header is the top-level header block, fields in message order.
	Header Header

	// Body is the pristine body: every byte after the blank line that ends
	// the header block, undecoded.
	Body []byte

	// Parts lists every MIME part in tree order (depth first), the root
	// first. For a non-MIME message it holds one part.
	Parts []*Part

	// Text is the visible rendered body text, as SpamAssassin's
	// get_visible_rendered_body_text_array gives it: the decoded Subject as
	// the first element, then the rendered text of each text/* part.
	Text []string

	// Invisible is the text of HTML parts that a reader would not see
	// (invisible or tiny fonts, hidden elements).
	Invisible []string

	// URIs lists the URIs found in the text and HTML of the message,
	// de-duplicated, in SpamAssassin's get_uri_list form.
	URIs []string

	// Relays are the parsed Received headers, newest (top-most) first.
	Relays []Relay

	// Defects records what could not be parsed or what broke a standard.
	Defects []Defect

	// Size is the length in bytes of the input given to Parse.
	Size int
}

// A Header is a block of header fields in message order.
type Header []Field

// A Field is one header field.
type Field struct {
	// Name is the field name as written in the message (case preserved).
	Name string
	// Raw is the field body as written, folding included, without the
	// final line ending and with the single space after the colon kept.
	Raw string
	// Value is the field body unfolded and RFC 2047-decoded to UTF-8.
	Value string
}

// Get returns the decoded value of the first field named name
// (case-insensitive), or "" if there is none.
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns the decoded values of every field named name
// (case-insensitive), in message order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// A Part is one MIME part.
type Part struct {
	// Header is the part's own header block (the top-level header for the
	// root part).
	Header Header
	// ContentType is the lower-cased media type ("text/plain"); parts with
	// no or an unparseable Content-Type get the RFC 2045 default.
	ContentType string
	// Params are the Content-Type parameters, keys lower-cased.
	Params map[string]string
	// Charset is the declared charset, lower-cased, or "".
	Charset string
	// Disposition is the lower-cased Content-Disposition type, or "".
	Disposition string
	// Filename is the attachment's file name, decoded, or "".
	Filename string
	// TransferEncoding is the lower-cased Content-Transfer-Encoding, or "".
	TransferEncoding string
	// Depth is the nesting depth; the root part is 0.
	Depth int
	// Leaf is true for parts that are not multipart containers.
	Leaf bool
	// Decoded is the transfer-decoded content of a leaf part (not charset
	// converted), truncated at the decoded-size limit.
	Decoded []byte
	// Text is the UTF-8 text of a text/* leaf part (charset converted);
	// for text/html it is the HTML source.
	Text string
	// Rendered is the visible text of the part: Text for text/plain, the
	// rendered text for text/html.
	Rendered string
	// Invisible is the hidden text of an HTML part.
	Invisible string
}

// A Relay is one parsed Received header.
type Relay struct {
	// IP is the address of the connecting host, "" if none was found.
	IP string
	// RDNS is the reverse-DNS name the receiving host recorded.
	RDNS string
	// HELO is the name the connecting host gave in HELO/EHLO.
	HELO string
	// By is the name of the receiving host.
	By string
	// Ident is the RFC 1413 ident, if recorded.
	Ident string
	// EnvFrom is the envelope sender, if recorded.
	EnvFrom string
	// ID is the receiving host's queue id.
	ID string
	// Auth names the authentication the relay recorded (e.g. "ESMTPA").
	Auth string
	// Unparseable is true when the header could not be parsed at all.
	Unparseable bool
	// Raw is the header's decoded value.
	Raw string
}

// A Defect names something wrong with the message. The names are stable
// and are used by rules.
type Defect string

// Defects Parse records.
const (
	DefectMissingHeaderBody  Defect = "missing_head_body_separator"
	DefectBadHeaderLine      Defect = "bad_header_line"
	DefectMissingBoundary    Defect = "missing_mime_boundary"
	DefectUnterminatedMIME   Defect = "unterminated_multipart"
	DefectBadTransferEncode  Defect = "bad_transfer_encoding"
	DefectUnknownCharset     Defect = "unknown_charset"
	DefectTooManyParts       Defect = "too_many_parts"
	DefectTooDeep            Defect = "too_deep"
	DefectTruncated          Defect = "truncated"
	DefectBadContentType     Defect = "bad_content_type"
	DefectNULInHeader        Defect = "nul_in_header"
	DefectEightBitHeader     Defect = "eight_bit_header"
	DefectUnparseableRelay   Defect = "unparseable_relay"
	DefectBadBase64          Defect = "bad_base64"
	DefectBadQuotedPrintable Defect = "bad_quoted_printable"
)

// HasDefect reports whether d was recorded.
func (m *Message) HasDefect(d Defect) bool {
	for _, x := range m.Defects {
		if x == d {
			return true
		}
	}
	return false
}
