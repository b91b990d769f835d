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

	// RawHeader is the top-level header block exactly as read
	// (SpamAssassin's pristine_headers): every line up to and including
	// the blank line that ends it, lines that are no field kept, nothing
	// cut at the field length limits; without the mbox From line; in a
	// CRLF message every line ends in CRLF.
	RawHeader string

	// Body is the pristine body: every byte after the blank line that ends
	// the header block, undecoded.
	Body []byte

	// Parts lists every MIME part in tree order (depth first), the root
	// first. For a non-MIME message it holds one part.
	Parts []*Part

	// Text is the visible rendered body text, element for element what
	// SpamAssassin's get_visible_rendered_body_text_array returns: the
	// decoded Subject line (or "\n" without one) first, then the rendered
	// text of every text/plain and text/html leaf (HTML rendered to what a
	// reader sees), joined with newlines, with each blank-line separated
	// paragraph on one line, other whitespace runs turned into one space
	// and lines longer than 2048 bytes cut at a space. Elements keep their
	// trailing "\n". Text is UTF-8 except in one SpamAssassin quirk: when
	// every part was ASCII and HTML character references produced only
	// Latin-1 characters, those characters are single octets, as
	// SpamAssassin hands them to the Bayes tokenizer.
	Text []string

	// Rendered is get_rendered_body_text_array, what body rules and body
	// eval functions see: Text with the invisible HTML text left in place
	// (the same slice as Text when there is none).
	Rendered []string

	// Invisible is get_invisible_rendered_body_text_array: the HTML text a
	// reader would not see (tiny fonts, text colored like its background,
	// display:none, visibility:hidden), in the same line form as Text but
	// without the Subject.
	Invisible []string

	// URIs is get_uri_list: every URI found in the rendered text (with
	// the scheme SpamAssassin supplies) and in HTML attributes, plus the
	// variants uri_list_canonicalize adds (unescaped, port dropped,
	// user-info dropped, numeric hosts decoded, redirect targets), each
	// once, in order of discovery.
	URIs []string

	// MailtoLinks are the mailto: URIs of <a href> links (never of
	// forms or areas) that the text does not also give: the
	// get_uri_detail_list entries typed "a" and not "parsed", which is
	// where SpamAssassin's FreeMail plugin takes body addresses from
	// links. Each is as the href gives it (surrounding space trimmed).
	MailtoLinks []string

	// Relays holds one entry per Received header, newest (top-most)
	// first, followed by one for the first IP address of the
	// X-Yahoo-Post-IP, X-Originating-IP, X-Apparently-From, X-SenderIP,
	// X-AOL-IP and X-MS-Exchange-CrossTenant-OriginalAttributedTenant-
	// ConnectingIp headers (SpamAssassin's stock originating_ip_headers).
	// Entries SpamAssassin skips are kept with Ignored or Unparseable set.
	// RelayHeaders gives the X-Spam-Relays-* strings built from them.
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
	// In the top-level header, blanks between the name and the colon are
	// removed; names are cut at 256 bytes, as SpamAssassin does.
	Name string
	// Raw is the field body as written, folding included, without the
	// final line ending and with the blanks after the colon kept (in a
	// MIME part header they are dropped). Bodies are cut at 8192 bytes.
	// For a CRLF message, line endings inside Raw are LF.
	Raw string
	// Value is what SpamAssassin's get_header returns for the field,
	// without its trailing "\n":
	//   - every line break followed by blanks (a fold) becomes one space;
	//   - leading and trailing whitespace is removed, and any remaining
	//     line break (and a CR before it) is deleted;
	//   - raw 8-bit text is kept if it is valid UTF-8, else read as
	//     Windows-1252 and converted to UTF-8;
	//   - RFC 2047 encoded-words are decoded to UTF-8 (blanks between two
	//     adjacent encoded-words vanish; adjacent words in the same
	//     charset are joined before conversion), except in Received,
	//     Message-ID, Resent-Message-ID, Date, Resent-Date, MIME-Version,
	//     References, In-Reply-To and List-* fields, which stay encoded.
	// An empty body gives "".
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

	allText string   // rendered text, visible and hidden (for URI search)
	uris    []string // URIs from HTML attributes
	mailto  []string // mailto: hrefs of <a> tags
	wide    struct{ all, visible, invisible bool }
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
	// NoReverseDNS is true when RDNS is empty and the header's format
	// shows the receiving MTA records the rDNS it finds: the host really
	// has none (SpamAssassin's no_reverse_dns).
	NoReverseDNS bool
	// Unparseable is true when the header could not be parsed at all.
	Unparseable bool
	// Ignored is true for handovers SpamAssassin deliberately skips
	// (local delivery, fetchmail POP/IMAP, BSMTP, webmail pickups); such
	// relays carry only Raw.
	Ignored bool
	// Private is true when IP is a private, loopback or link-local
	// address (SpamAssassin's IP_PRIVATE).
	Private bool
	// Trusted and Internal give SpamAssassin's default trust inference
	// (no trusted_networks configured): see Message.RelayHeaders.
	Trusted, Internal bool

	fetchReset bool // dropped from all lists by a later POP/IMAP fetch marker
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
	DefectTooManyHeaders     Defect = "too_many_headers"
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
