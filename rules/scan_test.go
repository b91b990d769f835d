package rules

import (
	"context"
	"slices"
	"testing"

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
