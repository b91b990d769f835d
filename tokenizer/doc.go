// Package tokenizer turns the raw bytes of one mail message into a *Message
// and a Message into the Bayes tokens SpamAssassin would make of it.
//
// # Parsing
//
// Parse never fails on malformed input. RFC 5322 headers and MIME
// (RFC 2045–2049) structure are read the way SpamAssassin's message parser
// reads them — line based, tolerant of missing boundaries and header-less
// parts, long lines cut — because a stricter MIME library restructures
// exactly the broken messages spam is made of and the tokens would drift.
// Each leaf part is transfer-decoded and converted to UTF-8
// (golang.org/x/text), HTML parts are rendered to the
// text a reader would see with golang.org/x/net/html (and the text hidden
// from a reader is kept apart),
// URIs are collected from text and HTML attributes, and Received headers are
// parsed into relays. Whatever could not be understood is recorded as a
// Defect so that rules can score it. Limits (parts, depth, decoded size)
// bound the work done on hostile input.
//
// # Tokens
//
// Tokens reproduces SpamAssassin 4.0's Bayes tokenizer (Plugin/Bayes.pm):
// the same sources (visible text, invisible text, URIs, headers and the
// relay pseudo-headers), the same per-line steps and the same 40-bit
// SHA-1 keys, so that a database trained by sa-learn and backed up with
// --backup can be restored here and gives the same probabilities.
//
// The package does no scoring and imports no other package of the project.
package tokenizer
