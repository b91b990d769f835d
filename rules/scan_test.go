package rules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

// What header, body and rawbody rules see, as SpamAssassin provides it:
// :addr and :name give
// every address (name) one per line, EnvelopeFrom and ALL-EXTERNAL /
// ALL-TRUSTED pseudo-headers, rawbody chunks spanning lines, and body
// rules seeing invisible HTML text. SpamAssassin 4.0.1 hits exactly the
// rules listed for this message.
func TestScanSubjects(t *testing.T) {
	eng, _ := siteEngine(t, `
header   TO_SECOND     To:addr =~ /^b\@y\.org$/m
header   TO_FIRST_ONLY To:addr =~ /^a\@x\.org$/
header   FROM_NAME     From:name =~ /^Angles Puglisi$/
header   ENV_BOUNCE    EnvelopeFrom =~ /^bounce-\d+\@example\.org$/
header   EXT_HDR       ALL-EXTERNAL =~ /^X-Late: yes$/m
header   TRUSTED_HDR   ALL-TRUSTED =~ /^X-Late: yes$/m
rawbody  RAW_SPAN      /one<br>\ntwo/
body     INVIS_TEXT    /hidden words/
`)
	msg := "Return-Path: <bounce-123@example.org>\n" +
		"Received: from localhost (localhost [127.0.0.1]) by mx.example.net (Postfix) with ESMTP id A1; Mon, 2 Sep 2002 10:00:00 +0000\n" +
		"Received: from mail.example.org (unknown [203.0.113.5]) by mx.example.net (Postfix) with ESMTP id A2; Mon, 2 Sep 2002 10:00:00 +0000\n" +
		"X-Late: yes\n" +
		"From: \"\" Angles \" Puglisi\" <angles@example.org>\n" +
		"To: \"A\" <a@x.org>, b@y.org\n" +
		"Subject: s\n" +
		"Content-Type: text/html\n\n" +
		"<p>one<br>\ntwo</p><span style=\"display:none\">hidden words</span>\n"
	res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(msg)), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ENV_BOUNCE", "EXT_HDR", "FROM_NAME", "INVIS_TEXT", "RAW_SPAN", "TO_SECOND"}
	if got := res.Rules(); !slices.Equal(got, want) {
		t.Errorf("hits = %v, want %v", got, want)
	}
}

// TestAllRawIsThePristineHeader: ALL:raw is the header block as read
// (pristine_headers), not the fields as stored: a field over 8 KB is not
// cut (a cut inside an encoded word made BAD_ENC_HEADER hit), blanks
// before a colon, lines that are no field and CRLF endings stay, and a
// continuation line before any field is left out. Full rules see the
// same header block (get_pristine). BAD_ENC_HEADER is compared with
// SpamAssassin where it is installed.
func TestAllRawIsThePristineHeader(t *testing.T) {
	eng, _ := siteEngine(t, `
header BAD_ENC_HEADER ALL:raw =~ /=\?[^?\s]+\?[^?\s]\?\s*[^?]+\s(?!\?=)/
header RAW_BLANK_COLON ALL:raw =~ /^X-Odd :/m
header RAW_NOT_A_FIELD ALL:raw =~ /^not a field$/m
header RAW_CRLF ALL:raw =~ /\r\n/
header RAW_LEADING ALL:raw =~ /^ leading/m
header RAW_LONG ALL:raw =~ /=\?utf-8\?q\?end\?=$/m
full FULL_LONG /=\?utf-8\?q\?end\?=$/m
full FULL_BLANK_COLON /^X-Odd :/m
`)
	head := "From: a@example.com\nTo: b@example.com\nMessage-ID: <4@example.com>\nDate: Fri, 23 Aug 2002 10:00:00 +0000\n"
	// 8192 bytes of the value end inside "=?utf-8?q?abc?=".
	long := " xyz" + strings.Repeat("=?utf-8?q?abc?= ", 600) + "=?utf-8?q?end?="
	if v := long[:8192]; !strings.HasSuffix(v, "=?utf-8?q?ab") {
		t.Fatalf("the 8 KB cut lands at %q", v[len(v)-20:])
	}
	dir := t.TempDir()
	cases := []struct {
		name, msg string
		want      []string
	}{
		{"long encoded subject", head + "Subject:" + long + "\n\nbody\n", []string{"FULL_LONG", "RAW_LONG"}},
		{"bad encoded word", head + "Subject: =?utf-8?q?two words?=\n\nbody\n", []string{"BAD_ENC_HEADER"}},
		{"blank before colon", head + "X-Odd : 1\n\nbody\n", []string{"FULL_BLANK_COLON", "RAW_BLANK_COLON"}},
		{"a line that is no field", head + "not a field\nSubject: x\n\nbody\n", []string{"RAW_NOT_A_FIELD"}},
		{"CRLF", strings.ReplaceAll(head+"Subject: x\n\nbody\n", "\n", "\r\n"), []string{"RAW_CRLF"}},
		{"continuation first", " leading\n" + head + "Subject: x\n\nbody\n", nil},
	}
	var files []string
	for i, tc := range cases {
		f := filepath.Join(dir, fmt.Sprintf("%d.eml", i))
		if err := os.WriteFile(f, []byte(tc.msg), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for _, tc := range cases {
		res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tc.msg)), CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rules(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: hits %v, want %v", tc.name, got, tc.want)
		}
	}
	sa := testpeer.SpamAssassinHits(t, files)
	for i, tc := range cases {
		if want := slices.Contains(tc.want, "BAD_ENC_HEADER"); sa[files[i]]["BAD_ENC_HEADER"] != want {
			t.Errorf("%s: SpamAssassin's BAD_ENC_HEADER = %v, want %v", tc.name, !want, want)
		}
	}
}
