package tokenizer

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// headerCase is a header block and the header tokens SpamAssassin makes
// of it (relay pseudo-header tokens left out). The cases are also run
// through SpamAssassin itself by TestHeaderCasesMatchSpamAssassin.
type headerCase struct {
	name   string
	fields []string // "Name: value"
	ignore []string // bayes_ignore_header
	want   []string // header tokens, any order
}

var headerCases = []headerCase{
	{
		name:   "name mapping",
		fields: []string{"X-Mailer: Foo Mailer 1.0", "User-Agent: Mutt/1.5", "Organization: Acme Widgets", "X-Custom-Thing: Hello"},
		want: []string{"H*x:Foo", "H*x:Mailer", "H*x:1.0", "H*UA:Foo", "H*UA:Mailer", "H*UA:1.0",
			"H*u:Mutt", "H*u:1.5", "H*UA:Mutt", "H*UA:1.5", "H*o:Acme", "H*o:Widgets", "HX-Custom-Thing:Hello"},
	},
	{
		name:   "mapping is case-sensitive, extra prefixes are not",
		fields: []string{"x-mailer: lower", "Message-Id: <abc.def@host.example>", "Message-id: <ghi@jkl.example>"},
		want: []string{"Hx-mailer:lower", "H*UA:lower", "H*m:abc", "H*m:def", "H*m:host", "H*m:example",
			"HMessage-id:ghi", "HMessage-id:jkl", "HMessage-id:example",
			"H*MI:abc", "H*MI:def", "H*MI:host", "H*MI:example", "H*MI:ghi", "H*MI:jkl"},
	},
	{
		name: "ignored headers",
		fields: []string{"Subject: viagra", "Date: Thu, 22 Aug 2002 18:26:25 +0700", "X-Spam-Status: Yes, hits=10",
			"List-Id: <list.example>", "X-DCC-Foo-Metrics: abc 123", "X-VM-v5-Data: stuff", "X-Bugzilla-Who: someone",
			"Delivered-To: me@example.com", "X-Virus-Scanned: clean", "Lines: 123", "Xref: news:123",
			"X-Spam-Relays-Trusted: [ ip=5.6.7.8 ]", "MIME-Version: 1.0", "X-Face: 123456789", "DKIM-Signature: v=1; a=rsa"},
		want: nil,
	},
	{
		// sa-learn deletes only X-Spam-Relays-Trusted (see Scan).
		name:   "other X-Spam headers when learning",
		fields: []string{"X-Spam-Relays-External: [ ip=1.2.3.4 ]", "X-Spam-Foo: bar"},
		want:   []string{"HX-Spam-Relays-External:1.2.3.4", "HX-Spam-Foo:bar"},
	},
	{
		name:   "bayes_ignore_header",
		fields: []string{"X-Custom-Thing: Hello", "X-Other: Planet"},
		ignore: []string{"x-custom-thing"},
		want:   []string{"HX-Other:Planet"},
	},
	{
		name: "only the two oldest Received",
		fields: []string{
			"Received: from newest.example by mx3.example",
			"Received: from middle.example by mx2.example",
			"Received: from oldest.example by mx1.example",
		},
		want: []string{"H*r:middle.example", "H*r:mx2.example", "H*r:oldest.example", "H*r:mx1.example"},
	},
	{
		name: "Received rewriting",
		fields: []string{
			"Received: from mail.example.com (mail.example.com [192.0.2.33]) by mx.example.org (8.11.6/8.11.6) " +
				"with ESMTP id g7MBQPW13260 for <x@example.org>; Thu, 22 Aug 2002 18:26:25 +0700",
			"Received: from [10.1.2.3] by relay.example.net with SMTP id gABCDEFGHIJ; 1 Sep 2002 01:02:03 -0000 (GMT)",
		},
		want: []string{"H*r:sk:mail.ex", "H*r:192.0.2", "H*r:ip*192.0.2.33", "H*r:mx.example.org",
			"H*r:8.11.6", "H*r:x@example.org", "H*r:10.1.2", "H*r:ip*10.1.2.3", "H*r:sk:relay.e"},
	},
	{
		name: "Content-Type boundary",
		fields: []string{`Content-Type: multipart/alternative; boundary="----=_NextPart_000_0005_01C2A9B6.5B3CD1E0"`,
			`Content-Transfer-Encoding: 7bit`, `Content-Disposition: inline; filename="text.txt"`},
		// Hex digits become H, even in words: NextPart → NHxtPHrt.
		want: []string{"H*ct:multipart", "H*ct:alternative", "H*ct:NHxtPHrt", "H*ct:HHH", "H*ct:HHHH", "H*ct:HHHHHHHH",
			"H*ce:7bit", "H*cd:inline", "H*cd:filename", "H*cd:text.txt"},
	},
	{
		name:   "Content-Type text and charset removed",
		fields: []string{`Content-Type: text/plain; charset="us-ascii"; format=flowed`},
		want:   []string{"H*ct:plain", "H*ct:us-ascii", "H*ct:format", "H*ct:flowed"},
	},
	{
		name: "Message-ID formats",
		fields: []string{
			"Message-ID: <001a01c2a9b6$5b3cd1e0$0100a8c0@pc.example>",
			"X-Message-Id: <E17abcd-000123-0a@host.example>",
			"Resent-Message-ID: <20020822182625.1A2B3C4D5E@mail.example>",
		},
		// "pc" is too short, "mail" a stopword.
		want: []string{"H*M:OEA001a", "H*M:OEB5b3c", "H*M:OEC0100a8c0", "H*M:example",
			"H*MI:OEA001a", "H*MI:OEB5b3c", "H*MI:OEC0100a8c0", "H*MI:example",
			"HX-Message-Id:host", "HX-Message-Id:example", "HResent-Message-ID:example"},
	},
	{
		name: "address headers",
		fields: []string{
			`From: "Doe, John" <john@mail.example.com>`,
			`To: a1@b.example, "Carl Dee" <c@d.example>`,
			`Cc: eve@f.example (Eve Smith)`,
			`Reply-To: list: gee@h.example;`,
			`Return-Path: <bounce@x.example>`,
			`Errors-To: err@y.example`,
			`X-Sender: ignored@z.example`,
		},
		want: []string{
			"H*F:N*Doe", "H*F:N*John", "H*F:U*john", "H*F:D*mail.example.com", "H*F:D*example.com", "H*F:D*com",
			"HTo:U*a1", "HTo:D*b.example", "HTo:D*example", "HTo:N*Carl", "HTo:N*Dee", "HTo:U*c", "HTo:D*d.example",
			"HCc:U*eve", "HCc:D*f.example", "HCc:D*example", "HCc:N*Eve", "HCc:N*Smith",
			"H*Ad:N*Doe", "H*Ad:N*John", "H*Ad:U*john", "H*Ad:D*mail.example.com", "H*Ad:D*example.com", "H*Ad:D*com",
			"H*Ad:U*a1", "H*Ad:D*b.example", "H*Ad:D*example", "H*Ad:N*Carl", "H*Ad:N*Dee", "H*Ad:U*c", "H*Ad:D*d.example",
			"H*Ad:U*eve", "H*Ad:D*f.example", "H*Ad:N*Eve", "H*Ad:N*Smith",
			"H*R:U*gee", "H*R:D*h.example", "H*R:D*example",
			"H*p:U*bounce", "H*p:D*x.example", "H*p:D*example",
			"HErrors-To:U*err", "HErrors-To:D*y.example", "HErrors-To:D*example",
		},
	},
	{
		name: "address oddities",
		fields: []string{
			`From: plain@only.example`,
			`To: "joe@quoted.example"`,
			`Cc: undisclosed-recipients: ;`,
			`Reply-To: Broken <broken`,
		},
		// Reply-To: the relaxed parser finds nothing; Email::Address::XS
		// (a default install's) finds the name.
		want: []string{"H*F:U*plain", "H*F:D*only.example", "H*F:D*example",
			"HTo:U*joe", "HTo:D*quoted.example", "HTo:D*example", "H*R:N*Broken",
			"H*Ad:U*plain", "H*Ad:D*only.example", "H*Ad:D*example", "H*Ad:U*joe", "H*Ad:D*quoted.example"},
	},
	{
		name:   "In-Reply-To and References",
		fields: []string{"In-Reply-To: <abc123@host.example>", "References: <abc123@host.example> <def4@other.ex>"},
		want: []string{"H*i:sk:abc123@", "H*f:sk:abc123@", "H*f:def4@other.ex",
			"H*MI:sk:abc123@", "H*MI:def4@other.ex"},
	},
	{
		name:   "long header words",
		fields: []string{"X-Tracking: abcdefghijklmnopqrstuvwxyz xyz*abcdefghijklmnopq"},
		want:   []string{"HX-Tracking:sk:abcdefg", "HX-Tracking:xyz*abcdefghijklmnopq"},
	},
}

func (c headerCase) message() *Message {
	m := &Message{}
	for _, f := range c.fields {
		name, val, _ := strings.Cut(f, ":")
		val = strings.TrimSpace(val)
		m.Header = append(m.Header, Field{Name: name, Raw: " " + val, Value: val})
	}
	return m
}

func TestHeaderTokens(t *testing.T) {
	for _, c := range headerCases {
		t.Run(c.name, func(t *testing.T) {
			opt := DefaultTokenOptions()
			opt.Sources = SourceHeader
			opt.IgnoreHeaders = c.ignore
			got := Tokens(c.message(), opt)
			want := slices.Clone(c.want)
			slices.Sort(got)
			slices.Sort(want)
			want = slices.Compact(want)
			if !slices.Equal(got, want) {
				t.Errorf("header tokens\n got %q\nwant %q\n%s", got, want, lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
			}
		})
	}
}

// TestRelayTokens checks that the relay pseudo-headers are tokenized
// under their names (*RT, *RU and the lower-case internal/external
// ones) without their "key=" labels.
func TestRelayTokens(t *testing.T) {
	m := &Message{Relays: []Relay{
		{IP: "10.0.0.5", RDNS: "gw.internal", HELO: "gw", By: "mx.example", ID: "abc123", Private: true, Trusted: true, Internal: true},
		{IP: "203.0.113.9", RDNS: "spam.example", HELO: "spammer", By: "gw.internal", EnvFrom: "x@y.example"},
	}}
	opt := DefaultTokenOptions()
	opt.Sources = SourceHeader
	toks := Tokens(m, opt)
	for _, tok := range []string{"H*RT:10.0.0.5", "H*RT:gw.internal", "H*RT:mx.example", "H*RT:abc123",
		"Hx-spam-relays-internal:gw.internal", "H*RU:203.0.113.9", "H*RU:x@y.example", "H*RU:spammer",
		"Hx-spam-relays-external:spam.example"} {
		if !slices.Contains(toks, tok) {
			t.Errorf("missing relay token %q in %q", tok, toks)
		}
	}
	for _, tok := range toks {
		if strings.Contains(tok, "rdns") || strings.Contains(tok, "helo") || strings.Contains(tok, "intl") {
			t.Errorf("relay key name became a token: %q", tok)
		}
	}
}

// TestHeaderTokenLimit checks that very large header blocks are cut the
// way SpamAssassin cuts them (64 KiB, counted name by name).
func TestHeaderTokenLimit(t *testing.T) {
	big := strings.Repeat("x", 9000)
	var m Message
	for i := 0; i < 6; i++ {
		m.Header = append(m.Header, Field{Name: "X-Big", Value: big})
	}
	m.Header = append(m.Header, Field{Name: "X-Late", Value: "lateword"})
	got := Tokens(&m, TokenOptions{Sources: SourceHeader})
	if !slices.Equal(got, []string{"HX-Big:sk:xxxxxxx", "HX-Late:lateword"}) {
		t.Errorf("under the limit: %q", got)
	}
	for i := 0; i < 8; i++ {
		m.Header = append(m.Header, Field{Name: "X-Big", Value: big})
	}
	got = Tokens(&m, TokenOptions{Sources: SourceHeader})
	if !slices.Equal(got, []string{"HX-Big:sk:xxxxxxx"}) {
		t.Errorf("over the limit, fields after it are dropped: %q", got)
	}
}

func TestParseHeaderAddresses(t *testing.T) {
	tests := []struct {
		in   string
		want []headerAddress
	}{
		{`"Doe, John" <john@example.com>`, []headerAddress{{phrase: "Doe, John ", hasPhrase: true, address: "john@example.com", hasAddress: true}}},
		{`a@b.c, d@e.f`, []headerAddress{{address: "a@b.c", hasAddress: true}, {address: "d@e.f", hasAddress: true}}},
		{`x@y.z (Comment Here)`, []headerAddress{{phrase: "Comment Here", hasPhrase: true, address: "x@y.z", hasAddress: true}}},
		{`Group: a@b.c;`, []headerAddress{{address: "a@b.c", hasAddress: true}}},
		{`"a@b.example"`, []headerAddress{{address: "a@b.example", hasAddress: true}}},
		{`Name Only`, []headerAddress{{phrase: "Name Only", hasPhrase: true}}},
		{`<>`, []headerAddress{{}}},
		{`undisclosed-recipients:;`, nil},
	}
	for _, tt := range tests {
		got := parseHeaderAddresses(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("parseHeaderAddresses(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

// TestScanTokens checks the differences between the tokens SpamAssassin
// looks up when scanning and those sa-learn learns.
func TestScanTokens(t *testing.T) {
	m := &Message{Header: Header{
		{Name: "X-Spam-Foo", Value: "bar"},
		{Name: "X-Spam-Relays-Untrusted", Value: "[ ip=1.2.3.4 ]"},
		{Name: "X-Other", Value: "planet"},
	}}
	opt := DefaultTokenOptions()
	opt.Sources = SourceHeader
	learn := Tokens(m, opt)
	want := []string{"HX-Spam-Foo:bar", "HX-Spam-Relays-Untrusted:1.2.3.4", "HX-Other:planet"}
	if !slices.Equal(learn, want) {
		t.Errorf("learning: %q, want %q", learn, want)
	}
	opt.Scan = true
	opt.Metadata = []Field{{Name: "x-authordomain", Value: "example.com"}, {Name: "x-senderdomain", Value: "lists.ex.org"}}
	scan := Tokens(m, opt)
	want = []string{"HX-Other:planet", "Hx-authordomain:example.com", "Hx-senderdomain:lists.ex.org"}
	if !slices.Equal(scan, want) {
		t.Errorf("scanning: %q, want %q", scan, want)
	}
}

// TestReceivedMatchersAgainstRegexps checks the hand-written Received
// matchers against SpamAssassin's expressions (in RE2 syntax, which
// matches the same text for them) on generated Received values.
func TestReceivedMatchersAgainstRegexps(t *testing.T) {
	ws := `[\t\n\v\f\r ]`
	steps := []struct {
		name string
		re   *regexp.Regexp
		repl string
		hand func(string) string
	}{
		{"sendmail SMTP", regexp.MustCompile(ws + `with` + ws + `SMTP` + ws + `id` + ws + `g[\dA-Z]{10,12}` + ws), " ",
			func(s string) string { return replaceAt(s, rcvdSendmailSMTPMatch, " ") }},
		{"sendmail ESMTP", regexp.MustCompile(ws + `with` + ws + `ESMTP` + ws + `id` + ws + `[\dA-F]{10,12}` + ws), " ",
			func(s string) string { return replaceAt(s, rcvdSendmailESMTPMatch, " ") }},
		{"id", regexp.MustCompile(`\bid` + ws + `[a-zA-Z0-9]{7,20}\b`), " ",
			func(s string) string { return replaceAt(s, rcvdIDMatch, " ") }},
		{"exim id", regexp.MustCompile(`\bid` + ws + `[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]`), " ",
			func(s string) string { return replaceAt(s, rcvdEximIDMatch, " ") }},
		{"date", regexp.MustCompile(`(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),` + ws + `)?[0-3\t\n\v\f\r ]?[0-9]` + ws +
			`(?:Jan|Feb|Ma[ry]|Apr|Ju[nl]|Aug|Sep|Oct|Nov|Dec)` + ws + `(?:19|20)?[0-9]{2}` + ws +
			`[0-2][0-9](?::[0-5][0-9]){1,2}` + ws +
			`(?:` + ws + `*\(|\)|` + ws + `*(?:[+-][0-9]{4})|` + ws + `*(?:UT|[A-Z]{2,3}T))*`), "",
			func(s string) string { return replaceAt(s, rcvdDateMatch, "") }},
		{"ipv4", regexp.MustCompile(`\b(\d{1,3}\.)(\d{1,3}\.)(\d{1,3})(\.\d{1,3})\b`), "${1}${2}${3} ip*${1}${2}${3}${4} ",
			rcvdReduceIPv4},
		{"filler", regexp.MustCompile(`\b(?:with|from|for|SMTP|ESMTP)\b`), " ",
			func(s string) string { return replaceAt(s, rcvdFillerMatch, " ") }},
	}
	pieces := []string{" ", "  ", "\t", "with", "SMTP", "ESMTP", "id", "g", "gABCDEF1234", "0123456789AB",
		"ABCDEF012345", "1sDabcd-000Xyz-0A", "abcdefg", "abcdefghijklmnopqrstuvw", "_", "from", "for", "fore",
		"Mon,", "Thu, ", "22", "2", "3", " Aug ", "Aug", "Mar", "2002", "02", "20", "18:26:25", "18:26", "29:61",
		"+0700", "-0000", "(", ")", " (EDT)", "UTC", "UT", "GMT", "EEST", "1.2.3.4", "192.168.10.200", "1234.5.6.7",
		"10.0.0.1a", ".", ";", "[", "]", "x", "7", "0", "A"}
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []string{
		" from mail.example.com (mail.example.com [192.0.2.33]) by mx.example.org (8.11.6/8.11.6) with ESMTP id g7MBQPW13260 for <x@example.org>; Thu, 22 Aug 2002 18:26:25 +0700",
		" from [10.1.2.3] by relay.example.net with SMTP id gABCDEFGHIJ; 1 Sep 2002 01:02:03 -0000 (GMT)",
		" x with SMTP id gAAAAAAAAAA with ESMTP id 0123456789 y",
	}
	for i := 0; i < 20000; i++ {
		vals = append(vals, randomJoin(rng, pieces, 14))
	}
	for _, st := range steps {
		bad := 0
		for _, v := range vals {
			want := st.re.ReplaceAllString(v, st.repl)
			if got := st.hand(v); got != want {
				bad++
				if bad <= 3 {
					t.Errorf("%s on %q:\n got %q\nwant %q", st.name, v, got, want)
				}
			}
		}
	}
}

// mayBeAddrGroup tells exactly when addrGroupRE matches: on every address
// field of the corpus and on strings put together from the bytes that
// matter to it.
func TestMayBeAddrGroupAsRegexp(t *testing.T) {
	raws, _ := testpeer.CorpusMessages(t)
	subjects := []string{"", ":", "a:", ":a", "a:b", "\"a:\"", "(a:)", "a(b:)", "a:(b)", "<a:b>", "ab<c:", "a\n:"}
	for _, raw := range raws {
		for _, f := range Parse(raw).Header {
			switch strings.ToLower(f.Name) {
			case "from", "to", "cc", "reply-to", "sender", "errors-to":
				subjects = append(subjects, f.Value, strings.TrimSpace(f.Value))
			}
		}
	}
	pieces := []string{"a", ":", "\"", "(", ")", "<", ">", " ", "\n", ";", "@"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		subjects = append(subjects, b.String())
	}
	for _, s := range subjects {
		if got, want := mayBeAddrGroup(s), addrGroupRE.MatchString(s); got != want {
			t.Errorf("mayBeAddrGroup(%q) = %v, the regexp says %v", s, got, want)
		}
	}
	t.Logf("%d subjects", len(subjects))
}

// TestBareHeaderAddressAgreesWithParsers checks the shortcut for a lone
// address against the full parsers on random fields of address bytes,
// brackets, blanks and bytes the shortcut refuses.
func TestBareHeaderAddressAgreesWithParsers(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"a", "bob", "x1", "Z", "9", ".", "..", "-", "_", "%", "+", "=", "@", "@", "example.com",
		"mail.example.org", "<", ">", " ", "\t", "\n", "\"", "(", ")", ",", ";", ":", "[", "]", "\\", "é", "!"}
	taken := 0
	for range 100000 {
		var b strings.Builder
		part := func(n int) {
			for k := rng.IntN(n); k >= 0; k-- {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
		}
		if rng.IntN(2) == 0 {
			part(8)
		} else {
			// Shaped like an address: blanks, <, user, @, host, >, blanks.
			b.WriteString([]string{"", " ", "\t", " \n "}[rng.IntN(4)])
			lt := rng.IntN(2) == 0
			if lt {
				b.WriteByte('<')
			}
			part(3)
			b.WriteByte('@')
			part(3)
			if lt || rng.IntN(8) == 0 {
				b.WriteByte('>')
			}
			b.WriteString([]string{"", " ", "\n", "  "}[rng.IntN(4)])
		}
		s := b.String()
		addr, ok := bareHeaderAddress(s)
		if !ok {
			continue
		}
		taken++
		want := parseHeaderAddressesFull(s)
		if len(want) != 1 || want[0] != (headerAddress{address: addr, hasAddress: true}) {
			t.Fatalf("bareHeaderAddress(%q) = %q; the parsers give %+v", s, addr, want)
		}
	}
	if taken < 1000 {
		t.Errorf("the shortcut took only %d random fields: the test is too weak", taken)
	}
}

// TestNamedHeaderAddressAgreesWithParsers checks the shortcut for a name
// and an address against the full parsers on random fields shaped like
// one, with bytes the shortcut refuses mixed in.
func TestNamedHeaderAddressAgreesWithParsers(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	names := []string{"Bob", "bob", "J.", "Smith", "O'Brien", "Jean-Luc", "x1", " ", "  ", "\t", "\"", "é", ",",
		"(c)", "@", "<", ";", ":", "\\", "-", ".", "'"}
	addrs := []string{"a", "bob", "x1", ".", "-", "_", "+", "@", "example.com", "mail.example.org", " ", ">", "\""}
	taken := 0
	for range 100000 {
		var b strings.Builder
		b.WriteString([]string{"", " ", "\t", " \n "}[rng.IntN(4)])
		quote := rng.IntN(3) == 0
		if quote {
			b.WriteByte('"')
		}
		for k := rng.IntN(5); k >= 0; k-- {
			b.WriteString(names[rng.IntN(len(names))])
		}
		if quote {
			b.WriteByte('"')
		}
		b.WriteString([]string{"", " ", "  ", "\t"}[rng.IntN(4)])
		b.WriteByte('<')
		for k := rng.IntN(3); k >= 0; k-- {
			b.WriteString(addrs[rng.IntN(len(addrs))])
		}
		b.WriteByte('@')
		for k := rng.IntN(3); k >= 0; k-- {
			b.WriteString(addrs[rng.IntN(len(addrs))])
		}
		b.WriteString([]string{">", "> ", ">\n", ""}[rng.IntN(4)])
		s := b.String()
		phrase, addr, ok := namedHeaderAddress(s)
		if !ok {
			continue
		}
		taken++
		want := parseHeaderAddressesFull(s)
		if len(want) != 1 || want[0] != (headerAddress{phrase: phrase, hasPhrase: true, address: addr, hasAddress: true}) {
			t.Fatalf("namedHeaderAddress(%q) = %q, %q; the parsers give %+v", s, phrase, addr, want)
		}
	}
	if taken < 1000 {
		t.Errorf("the shortcut took only %d random fields: the test is too weak", taken)
	}
}
