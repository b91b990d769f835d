package eval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/cf"

	"github.com/gospamd/gospamd/tokenizer"
)

// alternative builds a multipart/alternative message of the given parts
// (content type, body).
func alternative(parts ...[2]string) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nTo: b@example.com\nSubject: test\nMessage-ID: <1@example.com>\n" +
		"Date: Fri, 23 Aug 2002 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n")
	for _, p := range parts {
		b.WriteString("--b1\nContent-Type: " + p[0] + "\n\n" + p[1] + "\n")
	}
	b.WriteString("--b1--\n")
	return b.String()
}

// evalCase is one message and what rules SpamAssassin's stock rules
// should hit on it (and not).
type evalCase struct {
	name     string
	msg      string
	hit, not []string
}

// checkEvalCases runs each case's rules through our eval functions with
// the stock rules' arguments, and, where SpamAssassin is installed, asks
// it too: both must give the expected answers (SpamAssassin's only for
// rules it runs, those with a score).
func checkEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	pol := stockPolicy(t)
	reg := Default()
	dir := t.TempDir()
	var files []string
	for i, tc := range cases {
		f := filepath.Join(dir, fmt.Sprintf("%03d.eml", i))
		if err := os.WriteFile(f, []byte(tc.msg), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	sa := saHits(t, files)
	for i, tc := range cases {
		c := &Context{Msg: tokenizer.Parse([]byte(tc.msg)), Policy: pol, Now: time.Now()}
		for _, want := range []struct {
			names []string
			hit   bool
		}{{tc.hit, true}, {tc.not, false}} {
			for _, name := range want.names {
				r := pol.Rule(name)
				if r == nil || r.Eval == nil {
					t.Fatalf("%s: no eval rule %s in the stock rules", tc.name, name)
				}
				fn, ok := reg.Lookup(r.Eval.Func)
				if !ok {
					t.Fatalf("%s: no eval function %s", tc.name, r.Eval.Func)
				}
				got, err := fn(c, r.Eval.Args)
				if err != nil {
					t.Errorf("%s: %s: %v", tc.name, name, err)
				}
				if got != want.hit {
					t.Errorf("%s: %s = %v, want %v", tc.name, name, got, want.hit)
				}
				// SpamAssassin runs no rule scored 0 (TVD_STOCK1):
				// there is no answer of its to compare with. Sub-rules
				// (named __) run for the metas that use them.
				if (r.Scores != [4]float64{} || strings.HasPrefix(name, "__")) && sa[files[i]][name] != want.hit {
					t.Errorf("%s: SpamAssassin's %s = %v, want %v", tc.name, name, sa[files[i]][name], want.hit)
				}
			}
		}
	}
}

// TestMultipartAlternativeDifference: MPART_ALT_DIFF hits when the HTML
// alternative says other words than the plain text one, and
// MPART_ALT_DIFF_COUNT when the text has over three times the HTML's
// distinct words; an Exchange meeting request (HTML and calendar) is
// left alone.
func TestMultipartAlternativeDifference(t *testing.T) {
	long := "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
	checkEvalCases(t, []evalCase{
		{name: "same words", msg: alternative([2]string{"text/plain", "Hello there, friend."},
			[2]string{"text/html", "<html><body><p>Hello there, friend.</p></body></html>"}),
			not: []string{"MPART_ALT_DIFF", "MPART_ALT_DIFF_COUNT"}},
		{name: "other words", msg: alternative([2]string{"text/plain", "Please view this in a modern mail reader."},
			[2]string{"text/html", "<html><body><b>Cheap</b> pills, best prices online</body></html>"}),
			hit: []string{"MPART_ALT_DIFF"}, not: []string{"MPART_ALT_DIFF_COUNT"}},
		{name: "image alone against text", msg: alternative([2]string{"text/plain", "see the picture"},
			[2]string{"text/html", "<html><body><img src=\"http://example.com/a.gif\" width=400 height=300></body></html>"}),
			hit: []string{"MPART_ALT_DIFF"}},
		{name: "text far longer", msg: alternative([2]string{"text/plain", long},
			[2]string{"text/html", "<html><body>one two</body></html>"}),
			hit: []string{"MPART_ALT_DIFF_COUNT"}, not: []string{"MPART_ALT_DIFF"}},
		{name: "meeting request", msg: alternative([2]string{"text/html", "<html><body>Meeting about budgets</body></html>"},
			[2]string{"text/calendar", "BEGIN:VCALENDAR\nEND:VCALENDAR"}),
			not: []string{"MPART_ALT_DIFF", "MPART_ALT_DIFF_COUNT"}},
		// "buy" is said more often in the HTML: it stays a difference,
		// half the HTML words, under MPART_ALT_DIFF's 99%.
		{name: "a word repeated more in HTML", msg: alternative([2]string{"text/plain", "buy now"},
			[2]string{"text/html", "<html><body>buy buy now</body></html>"}),
			not: []string{"MPART_ALT_DIFF"}},
		{name: "nested alternative", msg: strings.Replace(alternative([2]string{"multipart/alternative; boundary=b2",
			"--b2\nContent-Type: text/plain\n\nread this\n--b2\nContent-Type: text/html\n\n<p>totally other stuff</p>\n--b2--"},
			[2]string{"application/octet-stream", "xx"}), "multipart/alternative; boundary=\"b1\"", "multipart/mixed; boundary=\"b1\"", 1),
			hit: []string{"MPART_ALT_DIFF"}},
	})
}

// TestStockInfo: TVD_STOCK1 hits a stock tip's "Symbol:", "Target
// Price:" lines (two distinct field names), in the first text/plain part
// only.
func TestStockInfo(t *testing.T) {
	head := "From: a@example.com\nTo: b@example.com\nSubject: hot tip\nMessage-ID: <2@example.com>\nDate: Fri, 23 Aug 2002 10:00:00 +0000\n"
	checkEvalCases(t, []evalCase{
		{name: "stock tip", msg: head + "\nCompany: Acme Mining Corp\nSymbol: ACMM\nTarget Price: $4.50\nRecommendation: strong buy\n",
			hit: []string{"TVD_STOCK1"}},
		{name: "one field", msg: head + "\nSymbol: ACMM\nnothing else here\n", not: []string{"TVD_STOCK1"}},
		{name: "ordinary headers quoted", msg: head + "\nFrom: me\nDate: today\nSubject: lunch\n", not: []string{"TVD_STOCK1"}},
		{name: "tip in the second text part", msg: strings.Replace(alternative([2]string{"text/plain", "hello"},
			[2]string{"text/plain", "Symbol: ACMM\nTarget Price: 4\nSector: mining"}), "multipart/alternative", "multipart/mixed", 1),
			not: []string{"TVD_STOCK1"}},
	})
}

// TestBounceRelays: a bounce quoting a Received line of one of our
// relays (welcomelist_bounce_relays) is ours, in the body text or in an
// attached message's folded header; without the setting nothing is.
func TestBounceRelays(t *testing.T) {
	pol, _, err := cf.ParseFiles(context.Background(), nil, cf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	withRelays, _, err := pol.WithUserPrefs(strings.NewReader("welcomelist_bounce_relays mx*.example.com\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	head := "From: MAILER-DAEMON@other.example\nTo: b@example.com\nSubject: Undelivered Mail\nDate: Fri, 23 Aug 2002 10:00:00 +0000\n"
	tests := []struct {
		name      string
		pol       *cf.Policy
		msg       string
		any, ours bool
	}{
		{"no relays set", pol, head + "\n> Received: by mx1.example.com (Postfix)\n", false, false},
		{"quoted in the text", withRelays, head + "\n> Received: by mx1.example.com (Postfix)\n", true, true},
		{"someone else's relay", withRelays, head + "\n> Received: by mail.other.example (Postfix)\n", true, false},
		{"folded in an attached message", withRelays, head + "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: text/plain\n\nsorry\n" +
			"--b\nContent-Type: message/rfc822\n\nReceived: from client (client [192.0.2.1])\n\tby mx2.example.com (Postfix) with ESMTP\nSubject: x\n\nbody\n--b--\n", true, true},
	}
	for _, tc := range tests {
		c := &Context{Msg: tokenizer.Parse([]byte(tc.msg)), Policy: tc.pol, Now: time.Now()}
		anyRelays, _ := haveAnyBounceRelays(c, nil)
		ours, _ := checkWelcomelistBounceRelays(c, nil)
		if anyRelays != tc.any || ours != tc.ours {
			t.Errorf("%s: have_any_bounce_relays %v, check_welcomelist_bounce_relays %v; want %v, %v", tc.name, anyRelays, ours, tc.any, tc.ours)
		}
	}
}

// TestMIMEBodyAsSpamAssassinReadsIt: the MIME checks read the body as
// Message.pm does: a multipart body that starts with text (no blank
// line, no boundary) gets a blank line first, so its first lines are no
// part header missing its separator (MISSING_MIME_HB_SEP), while a part
// whose header runs into its text still is one.
func TestMIMEBodyAsSpamAssassinReadsIt(t *testing.T) {
	head := "From: a@example.com\nTo: b@example.com\nSubject: test\nMessage-ID: <3@example.com>\nDate: Fri, 23 Aug 2002 10:00:00 +0000\nMIME-Version: 1.0\n"
	checkEvalCases(t, []evalCase{
		{name: "multipart body starting with text, no boundary", msg: head + "Content-Type: multipart/mixed; boundary=zz\n\nContent-Type: text/plain\nnot a header block\nmore text\nand more\n",
			not: []string{"MISSING_MIME_HB_SEP"}},
		{name: "part header running into its text", msg: head + "Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\ntext at once\n--zz--\n",
			hit: []string{"MISSING_MIME_HB_SEP"}},
	})
}

// TestHeaderAddressesAsSpamAssassin: eval functions read address headers
// with parse_header_addresses, as header rules do
// (tokenizer.HeaderAddresses): a bare word is no address, an address
// with a second '@' is cut there, a group gives every member, and an
// address after a comment is none. The answers are SpamAssassin 4.0.1's
// (with Email::Address::XS), asked again where it is installed.
func TestHeaderAddressesAsSpamAssassin(t *testing.T) {
	tests := []struct {
		header, value string
		want          []string
	}{
		{"Return-Path", "postmaster", nil},
		{"Return-Path", "<bounce@example.com>", []string{"bounce@example.com"}},
		{"From", "a@b@example.com", []string{"a@b"}},
		{"To", "friends: ann@example.com, bob@example.org;, carl@example.net", []string{"ann@example.com", "bob@example.org", "carl@example.net"}},
		{"To", "\"Ann\" <ann@example.com>, (comment) bob@example.org", []string{"ann@example.com"}},
	}
	for _, tc := range tests {
		msg := tc.header + ": " + tc.value + "\nSubject: x\n\nbody\n"
		c := &Context{Msg: tokenizer.Parse([]byte(msg)), Now: time.Now()}
		if got := c.addrs(tc.header); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %s: addresses %q, want %q", tc.header, tc.value, got, tc.want)
		}
	}
	perl := testpeer.Program(t, "perl")
	for _, tc := range tests {
		out, err := exec.Command(perl, "-MMail::SpamAssassin::Util=parse_header_addresses", "-e",
			`print map { defined $_->{address} ? "$_->{address}\n" : "" } parse_header_addresses($ARGV[0])`, tc.value).Output()
		if err != nil {
			testpeer.Missing(t, "SpamAssassin's parse_header_addresses: %v", err)
		}
		if sa := strings.Fields(string(out)); !slices.Equal(sa, tc.want) {
			t.Errorf("%s: SpamAssassin's addresses %q, want %q", tc.value, sa, tc.want)
		}
	}
}

// freemailMsg is a message from a free-mail sender with the given
// subject, content type and body.
func freemailMsg(subject, ctype, body string) string {
	return "From: Alice <alice.sender@gmail.com>\nTo: b@example.com\nSubject: " + subject +
		"\nMessage-ID: <3@example.com>\nDate: Fri, 23 Aug 2002 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: " +
		ctype + "\n\n" + body + "\n"
}

// TestFreemailBodyAddresses: FreeMail's body addresses (here through
// __freemail_reply: the From is free mail and the body gives another
// free-mail address) come from <a href="mailto:"> links whose address the
// text does not also give, never from a form's action, and from the text
// less addresses in <...> or followed by a "Word:".
func TestFreemailBodyAddresses(t *testing.T) {
	const plain, html = "text/plain", "text/html"
	page := func(s string) string { return "<html><body>" + s + "</body></html>" }
	reply := []string{"__freemail_reply"}
	checkEvalCases(t, []evalCase{
		{name: "address in text", msg: freemailMsg("hi", plain, "write to bob.other@yahoo.com today"), hit: reply},
		{name: "address in angle brackets", msg: freemailMsg("hi", plain, "write to Bob <bob.other@yahoo.com> today"), not: reply},
		{name: "quote attribution", msg: freemailMsg("hi", plain, "bob.other@yahoo.com  wrote:\n> hello"), not: reply},
		{name: "fax after the address", msg: freemailMsg("hi", plain, "bob.other@yahoo.com fax: 123"), hit: reply},
		{name: "e-mail field after the address", msg: freemailMsg("hi", plain, "bob.other@yahoo.com email: x"), hit: reply},
		{name: "word of twelve letters", msg: freemailMsg("hi", plain, "bob.other@yahoo.com abcdefghijkl: x"), hit: reply},
		// The rendered text has runs of space collapsed.
		{name: "spaces before the word", msg: freemailMsg("hi", plain, "bob.other@yahoo.com           wrote: x"), not: reply},
		// After "mailto:" the address still matches from after a dot of
		// its local part: "other@yahoo.com>" is blanked.
		{name: "mailto in angle brackets", msg: freemailMsg("hi", plain, "write <mailto:bob.other@yahoo.com>"), not: reply},
		{name: "mailto without a dot in angle brackets", msg: freemailMsg("hi", plain, "write <mailto:bob@yahoo.com>"), hit: reply},
		{name: "long local part", msg: freemailMsg("hi", plain, "write "+strings.Repeat("x", 70)+".bob@yahoo.com"), hit: reply},
		{name: "long local part in brackets", msg: freemailMsg("hi", plain, "write <"+strings.Repeat("x", 70)+".bob@yahoo.com>"), not: reply},
		{name: "address in the subject", msg: freemailMsg("write bob.other@yahoo.com", plain, "hello"), hit: reply},
		{name: "link", msg: freemailMsg("hi", html, page(`<a href="mailto:bob.other@yahoo.com">write me</a>`)), hit: reply},
		{name: "link with a query", msg: freemailMsg("hi", html, page(`<a href=" MAILTO:Bob.Other@yahoo.com?subject=x">write me</a>`)), hit: reply},
		{name: "form action", msg: freemailMsg("hi", html, page(`<form action="mailto:bob.other@yahoo.com"><input type=submit></form>`)), not: reply},
		{name: "area link", msg: freemailMsg("hi", html, page(`<map><area href="mailto:bob.other@yahoo.com"></map>`)), not: reply},
		{name: "link whose address the text gives in brackets", msg: freemailMsg("hi", html,
			page(`<a href="mailto:bob.other@yahoo.com">&lt;bob.other@yahoo.com&gt;</a>`)), not: reply},
		{name: "link whose address the text gives otherwise cased", msg: freemailMsg("hi", html,
			page(`<a href="mailto:Bob.Other@yahoo.com">&lt;bob.other@yahoo.com&gt;</a>`)), hit: reply},
		{name: "link text followed by wrote", msg: freemailMsg("hi", html,
			page(`<a href="mailto:bob.other@yahoo.com">bob.other@yahoo.com</a> wrote: hi`)), not: reply},
		// The domain must end in a known top-level domain, and end there.
		{name: "names without a known TLD", msg: freemailMsg("hi", plain, "write bob.other@yahoo.com, not a@b.png c@d.png e@f.png g@h.png"), hit: reply},
		{name: "a name going on past the TLD", msg: freemailMsg("hi", plain, "see bob.other@yahoo.com.png"), not: reply},
		{name: "TLD followed by a dot and a letter", msg: freemailMsg("hi", plain, "write bob.other@yahoo.com.x"), not: reply},
		{name: "TLD followed by a dot", msg: freemailMsg("hi", plain, "write bob.other@yahoo.com."), hit: reply},
		{name: "IDN TLD", msg: freemailMsg("hi", plain, "write bob.other@yahoo.com a@b.xn--p1ai c@d.xn--p1ai e@f.xn--p1ai g@h.xn--p1ai"), not: reply},
		{name: "five addresses", msg: freemailMsg("hi", plain,
			"bob.other@yahoo.com a@example.org b@example.org c@example.org d@example.org"), not: reply},
	})
}
