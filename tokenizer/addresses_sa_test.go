package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// addressFieldNames are the headers whose values SpamAssassin reads as
// address lists (the Bayes N*/U*/D* tokens and the :addr/:name rules).
var addressFieldNames = map[string]bool{"from": true, "to": true, "cc": true, "reply-to": true,
	"sender": true, "errors-to": true, "return-path": true, "resent-from": true, "resent-to": true,
	"resent-cc": true, "resent-sender": true, "envelope-to": true, "x-envelope-from": true,
	"delivered-to": true, "mail-followup-to": true, "bcc": true}

// addressFragments are the pieces random address headers are made of:
// every character the RFC 5322 grammar treats specially, and words.
var addressFragments = []string{`"`, `"`, `<`, `>`, `(`, `)`, `,`, `,`, `;`, `:`, `@`, `@`, `.`, `.`,
	`\`, `\\`, ` `, ` `, "\t", "\n", "\r\n", `[`, `]`, `[1.2.3.4]`, `joe`, `Joe Q`, `x`, `example.com`,
	`a.b.example`, `mail.example.org`, `user+tag`, `=?utf-8?q?J=C3=B6?=`, "\xc3\xa9", `'`, `_`, `-`,
	`undisclosed-recipients`, `x@y.example`, `<a@b.example>`, `"q@r.example"`, `(c)`, "\x00"}

// randomAddressHeaders returns n reproducible random address header values.
func randomAddressHeaders(n int) []string {
	r := rand.New(rand.NewPCG(7, 11))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for k := 1 + r.IntN(12); k > 0; k-- {
			b.WriteString(addressFragments[r.IntN(len(addressFragments))])
		}
		out[i] = b.String()
	}
	return out
}

// TestHeaderAddressesMatchSpamAssassin runs address header values (the
// corpus's, hand-picked awkward ones and random ones) through
// SpamAssassin's parse_header_addresses, with Email::Address::XS as a
// default install has it, and requires the same phrases and addresses.
func TestHeaderAddressesMatchSpamAssassin(t *testing.T) {
	saSiteConfig(t) // SpamAssassin is installed
	out, err := saCommand(t, t.TempDir(), "perl", "testdata/addresses/saaddrs.pl", "--xs").Output()
	if err != nil {
		t.Fatalf("run saaddrs.pl --xs: %v", err)
	}
	if strings.TrimSpace(string(out)) != "xs yes" {
		requirePeer(t, "SpamAssassin does not use Email::Address::XS (Debian package libemail-address-xs-perl, a Recommends of spamassassin)")
	}

	inputs := []string{
		`Broken <broken`, `a@b.example, c`, `"joe@quoted.example"`, `undisclosed-recipients: ;`,
		`x (a (b)) <y@z.example>`, `Group: a@b.example, "C" <c@d.example>;, e@f.example`,
		`<@route.example:joe@x.example>`, `joe@x.example (Joe (the) Q)`, `a..b@c.example, d`,
		`"a b"@c.example, x`, `.joe@x.example, y`, `joe.@x.example, y`, `<>, x`, `,,`, `, a@b.example`,
		`a@b.example,`, `"unterminated <a@b.example>, c@d.example`, `a@[1.2.3.4], b`, `(only a comment)`,
		"a@b.example,\n c@d.example, e", `John "Q" Public <jqp@x.example>, x`, `a@b@c.example, d`,
		`"x\"y" <x@y.example>, z`, `<a@b.example> <c@d.example>, e`, `joe@host, x`, `=?utf-8?q?x?= <a@b.example>, c`,
	}
	for _, f := range corpusFiles(t, map[string]int{"easy_ham": 2500, "hard_ham": 250, "spam": 500}) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := testHeaderFields(raw)
		for _, fld := range h {
			if addressFieldNames[strings.ToLower(fld.Name)] {
				inputs = append(inputs, fld.Value)
			}
		}
	}
	inputs = append(inputs, randomAddressHeaders(4000)...)

	var in bytes.Buffer
	for _, s := range inputs {
		in.WriteString(hex.EncodeToString([]byte(s)))
		in.WriteByte('\n')
	}
	cmd := saCommand(t, t.TempDir(), "perl", "testdata/addresses/saaddrs.pl")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("run saaddrs.pl: %v\n%s", err, stderr.String())
	}
	want := parseSAAddrs(t, out)
	if len(want) != len(inputs) {
		t.Fatalf("saaddrs.pl answered %d of %d values", len(want), len(inputs))
	}
	bad := 0
	for i, s := range inputs {
		got := formatAddrs(parseHeaderAddresses(s))
		if got != want[i] {
			bad++
			if bad <= 15 {
				t.Errorf("parse %q\n got %s\nwant %s", s, got, want[i])
			}
		}
	}
	t.Logf("compared %d address header values", len(inputs))
	if bad > 0 {
		t.Errorf("%d of %d values parse differently", bad, len(inputs))
	}
}

// formatAddrs renders parsed addresses as "[phrase|address] ...", with
// "-" for a missing part.
func formatAddrs(addrs []headerAddress) string {
	var b strings.Builder
	for _, a := range addrs {
		p, ad := "-", "-"
		if a.hasPhrase {
			p = fmt.Sprintf("%q", a.phrase)
		}
		if a.hasAddress {
			ad = fmt.Sprintf("%q", a.address)
		}
		fmt.Fprintf(&b, "[%s|%s] ", p, ad)
	}
	return b.String()
}

// parseSAAddrs reads saaddrs.pl's answers, one formatAddrs string per value.
func parseSAAddrs(t *testing.T, out []byte) []string {
	t.Helper()
	var res []string
	var cur []headerAddress
	started := false
	flush := func() {
		if started {
			res = append(res, formatAddrs(cur))
		}
		cur, started = nil, true
	}
	unhex := func(s string) (string, bool) {
		if s == "-" {
			return "", false
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("saaddrs.pl output %q: %v", s, err)
		}
		return string(b), true
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "= ") {
			flush()
			continue
		}
		p, a, _ := strings.Cut(line, "\t")
		var ha headerAddress
		ha.phrase, ha.hasPhrase = unhex(p)
		ha.address, ha.hasAddress = unhex(a)
		cur = append(cur, ha)
	}
	flush()
	return res
}
