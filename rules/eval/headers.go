package eval

import (
	"slices"
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

// Header access in the forms SpamAssassin's PerMsgStatus::get gives
// plugins: decoded values each ending in "\n" and joined; ":raw" values
// as written (folding and the blank after the colon kept); ":addr" the
// addresses parsed from the raw values.

// fields returns the top-level fields named name (case-insensitive).
func (c *Context) fields(name string) []tokenizer.Field {
	var out []tokenizer.Field
	for _, f := range c.Msg.Header {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

// values returns the decoded values of name; the pseudo-headers ToCc and
// MESSAGEID are expanded as SpamAssassin does.
func (c *Context) values(name string) []string {
	switch {
	case strings.EqualFold(name, "ToCc"):
		return append(c.Msg.Header.Values("To"), c.Msg.Header.Values("Cc")...)
	case name == "MESSAGEID":
		var out []string
		for _, h := range []string{"X-Message-Id", "Resent-Message-Id", "X-Original-Message-ID", "Message-Id"} {
			for _, v := range c.Msg.Header.Values(h) {
				if v != "" {
					out = append(out, v)
				}
			}
		}
		return out
	}
	return c.Msg.Header.Values(name)
}

// rawValues returns the raw values of name, each with its final "\n".
func (c *Context) rawValues(name string) []string {
	if strings.EqualFold(name, "ToCc") {
		return append(c.rawValues("To"), c.rawValues("Cc")...)
	}
	var out []string
	for _, f := range c.fields(name) {
		out = append(out, f.Raw+"\n")
	}
	return out
}

// get is $pms->get(name) in scalar context for a plain header: every
// decoded value with "\n", concatenated; "" when absent.
func (c *Context) get(name string) string {
	var b strings.Builder
	for _, v := range c.values(name) {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

// has reports whether a header named name exists.
func (c *Context) has(name string) bool { return len(c.values(name)) > 0 }

// getRaw is $pms->get("name:raw").
func (c *Context) getRaw(name string) string { return strings.Join(c.rawValues(name), "") }

// addrs is $pms->get("name:addr") in list context: every address of every
// field, in order, as parse_header_addresses reads them (the tokenizer's
// parser, the one header rules use: a bare word is no address, a group
// gives all of its members). "EnvelopeFrom" is the envelope sender.
func (c *Context) addrs(name string) []string {
	if strings.EqualFold(name, "EnvelopeFrom") {
		if e := c.envelopeFrom(); e != "" {
			return []string{e}
		}
		return nil
	}
	// Many tests ask for the same header's addresses (From above all):
	// parsed once a message. Callers only read the slice; clipped, an
	// append to it copies.
	return cached(c, "addrs:"+name, func() []string {
		var out []string
		for _, v := range c.rawValues(name) {
			out = append(out, tokenizer.HeaderAddresses(v)...)
		}
		return slices.Clip(out)
	})
}

// addr is $pms->get("name:addr") in scalar context: the first address.
func (c *Context) addr(name string) string {
	if a := c.addrs(name); len(a) > 0 {
		return a[0]
	}
	return ""
}

// EnvelopeFrom is the EnvelopeFrom pseudo-header header rules match: the
// envelope sender, "" when none is known.
func (c *Context) EnvelopeFrom() string { return c.envelopeFrom() }

// envelopeFrom is SpamAssassin's EnvelopeFrom: the envelope_sender_header
// if configured, else the envelope sender the receiving relay recorded,
// else X-Envelope-From, Envelope-Sender or Return-Path (unless they come
// after a Received header, or X-Sender shows a fetchmail pick-up).
func (c *Context) envelopeFrom() string {
	return cached(c, "envfrom", func() string {
		if h := c.settings().EnvelopeSenderHeader; h != "" {
			if a := c.firstFieldAddr(h); strings.Index(a, "@") > 0 {
				return a
			}
			return ""
		}
		var last *tokenizer.Relay
		for i := range c.Msg.Relays {
			r := &c.Msg.Relays[i]
			if r.Ignored || r.Unparseable {
				continue
			}
			if !r.Trusted {
				last = r
				break
			}
		}
		if last == nil {
			for i := len(c.Msg.Relays) - 1; i >= 0; i-- {
				r := &c.Msg.Relays[i]
				if !r.Ignored && !r.Unparseable && r.Trusted {
					last = r
					break
				}
			}
		}
		if last != nil && strings.Index(last.EnvFrom, "@") > 0 {
			return last.EnvFrom
		}
		if x := c.firstFieldAddr("X-Sender"); strings.Contains(x, "@") {
			for _, r := range c.values("Received") {
				if strings.Contains(r, "(fetchmail") {
					return ""
				}
			}
		}
		for _, h := range []string{"X-Envelope-From", "Envelope-Sender", "Return-Path"} {
			a := c.firstFieldAddr(h)
			if a == "" {
				continue
			}
			if !c.headerAfterReceived(h) {
				return a
			}
			if h == "X-Envelope-From" {
				return ""
			}
		}
		return ""
	})
}

// firstFieldAddr is "name:first:addr".
func (c *Context) firstFieldAddr(name string) string {
	fs := c.fields(name)
	if len(fs) == 0 {
		return ""
	}
	if a := tokenizer.HeaderAddresses(fs[0].Raw); len(a) > 0 {
		return a[0]
	}
	return ""
}

// headerAfterReceived reports whether a field named name comes after a
// Received field.
func (c *Context) headerAfterReceived(name string) bool {
	seen := false
	for _, f := range c.Msg.Header {
		if strings.EqualFold(f.Name, "Received") {
			seen = true
		} else if seen && strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}
