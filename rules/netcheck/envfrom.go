package netcheck

import (
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
	"github.com/gospamd/gospamd/tokenizer"
)

// envelopeFrom is the envelope sender as SpamAssassin derives it from
// the header (envelope_sender_header, the receiving relay's record,
// X-Envelope-From, Return-Path): the rule engine's EnvelopeFrom.
func envelopeFrom(m *tokenizer.Message, pol *cf.Policy) string {
	c := &eval.Context{Msg: m, Policy: pol}
	return c.EnvelopeFrom()
}
