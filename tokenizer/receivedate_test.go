package tokenizer

import (
	"regexp"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, "" = not parseable
	}{
		{"Sat, 01 Jun 2024 12:00:00 +0000", "2024-06-01T12:00:00Z"},
		{"Thu, 22 Aug 2002 18:26:25 +0700", "2002-08-22T11:26:25Z"},
		{"Thu, 22 Aug 2002 18:26:25 -0500 (CDT)", "2002-08-22T23:26:25Z"},
		{"22 Aug 2002 18:26:25 EDT", "2002-08-22T22:26:25Z"},
		{"from x by y; Tue, 20 Aug 2002 08:00:00 GMT", "2002-08-20T08:00:00Z"},
		{"Mon Jul  8 12:00:00 2002", "2002-07-08T00:00:00Z"}, // asctime: SpamAssassin loses the time
		{"1 Jan 02 00:00:00 +0000", "2002-01-01T00:00:00Z"},
		{"1 Jan 99 00:00:00 +0000", "1999-01-01T00:00:00Z"},
		{"31 Feb 2003 10:00:00 +0000", "2003-03-01T10:00:00Z"}, // invalid day rolls over
		{"1 Jan 2003 25:61:70 +0000", "2003-01-01T23:59:59Z"},  // fields clamped
		{"no date here", ""},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("ParseDate(%q) = %v, want failure", tt.in, got)
			}
			continue
		}
		if !ok || got.UTC().Format(time.RFC3339) != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", tt.in, got.UTC().Format(time.RFC3339), ok, tt.want)
		}
	}
}

func TestReceiveTime(t *testing.T) {
	now := time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC)
	hdr := func(kv ...string) Header {
		var h Header
		for i := 0; i < len(kv); i += 2 {
			h = append(h, Field{Name: kv[i], Raw: kv[i+1], Value: kv[i+1]})
		}
		return h
	}
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"newest received", Message{Header: hdr(
			"Received", "from a by b; Sat, 01 Jun 2024 12:00:00 +0000",
			"Received", "from c by d; Fri, 31 May 2024 12:00:00 +0000",
			"Date", "Thu, 30 May 2024 12:00:00 +0000")}, "2024-06-01T12:00:00Z"},
		{"local hand-off skipped", Message{Header: hdr(
			"Received", "from localhost (localhost [127.0.0.1]) by b; Sat, 01 Jun 2024 12:00:00 +0000",
			"Received", "from c by localhost with POP3 (fetchmail-5.9.0) for x; Fri, 31 May 2024 11:00:00 +0000",
			"Received", "from e by f; Fri, 31 May 2024 10:00:00 +0000")}, "2024-05-31T10:00:00Z"},
		{"mbox from line", Message{MboxFrom: "From a@b  Mon Jul  8 12:00:00 2002", Header: hdr(
			"Date", "Thu, 30 May 2024 12:00:00 +0000")}, "2002-07-08T00:00:00Z"},
		{"date header", Message{Header: hdr("Date", "Thu, 30 May 2024 12:00:00 +0000")}, "2024-05-30T12:00:00Z"},
		{"future is now", Message{Header: hdr("Date", "Thu, 30 May 2030 12:00:00 +0000")}, "2024-06-10T00:00:00Z"},
		{"nothing is now", Message{}, "2024-06-10T00:00:00Z"},
	}
	for _, tt := range tests {
		got := tt.msg.ReceiveTime(now).UTC().Format(time.RFC3339)
		if got != tt.want {
			t.Errorf("%s: ReceiveTime = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// collapseDateSpace does what ParseDate's two substitutions did.
func TestCollapseDateSpaceAsRegexps(t *testing.T) {
	commas := regexp.MustCompile(`, *`)
	spaces := regexp.MustCompile(`\s+`)
	raws, _ := testpeer.CorpusMessages(t)
	subjects := []string{"", " ", ",", ", ,", "a ,b", "a , b", "a,\tb", "a\v b", " \t\r\n\f ", "x,,  ,y", "\xff, \xfe"}
	for i := 0; i < len(raws); i += 5 {
		for _, f := range Parse(raws[i]).Header {
			subjects = append(subjects, f.Raw, f.Value)
		}
	}
	for _, s := range subjects {
		want := spaces.ReplaceAllString(commas.ReplaceAllString(s, " "), " ")
		if got := collapseDateSpace(s); got != want {
			t.Errorf("collapseDateSpace(%q) = %q, want %q", s, got, want)
		}
	}
}
