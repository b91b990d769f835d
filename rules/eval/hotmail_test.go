package eval

import (
	"testing"
	"time"

	"github.com/gospamd/gospamd/tokenizer"
)

// The two hotmail checks: a Received header naming a hotmail.com relay
// that hotmail did not write is forged; a From address at hotmail.com
// with no hotmail Received header at all is missing; a genuine hotmail
// relay, or no hotmail anywhere, is neither.
func TestHotmailReceivedChecks(t *testing.T) {
	const tail = "Subject: s\nDate: Fri, 23 Aug 2002 10:00:00 +0000\n\nbody\n"
	for _, tc := range []struct {
		name            string
		msg             string
		forged, missing bool
	}{
		{"forged relay", "Received: from mx.hotmail.com (spam.example [192.0.2.7]) by mx.example.org; Fri, 23 Aug 2002 10:00:00 +0000\n" +
			"From: someone@example.net\n" + tail, true, false},
		{"hotmail sender without hotmail relay", "Received: from spam.example (spam.example [192.0.2.7]) by mx.example.org; Fri, 23 Aug 2002 10:00:00 +0000\n" +
			"From: \"Someone\" <someone@HotMail.Com>\n" + tail, false, true},
		{"genuine hotmail relay", "Received: from hotmail.com (bay1-f1.bay1.hotmail.com [65.54.245.1]) by mx.example.org; Fri, 23 Aug 2002 10:00:00 +0000\n" +
			"X-Originating-IP: [192.0.2.7]\nFrom: someone@hotmail.com\n" + tail, false, false},
		{"no hotmail", "Received: from mail.example.net (mail.example.net [192.0.2.7]) by mx.example.org; Fri, 23 Aug 2002 10:00:00 +0000\n" +
			"From: someone@example.net\n" + tail, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := Default()
			c := &Context{Msg: tokenizer.Parse([]byte(tc.msg)), Now: time.Date(2002, 8, 23, 0, 0, 0, 0, time.UTC)}
			fForged, _ := reg.Lookup("check_for_forged_hotmail_received_headers")
			fMissing, _ := reg.Lookup("check_for_no_hotmail_received_headers")
			forged, _ := fForged(c, nil)
			missing, _ := fMissing(c, nil)
			if forged != tc.forged || missing != tc.missing {
				t.Errorf("forged %v missing %v, want %v %v", forged, missing, tc.forged, tc.missing)
			}
		})
	}
}
