package tokenizer

import (
	"strings"
	"testing"
)

// relayTestMessage has a trusted local hand-off, a header between
// Received fields, and three public relays.
const relayTestMessage = "Received: from localhost (localhost [127.0.0.1]) by mx.example.net (Postfix) with ESMTP id A1; Mon, 2 Sep 2002 10:00:00 +0000\n" +
	"X-Between: yes\n" +
	"Received: from mail.example.org (unknown [203.0.113.5]) by mx.example.net (Postfix) with ESMTP id A2; Mon, 2 Sep 2002 10:00:00 +0000\n" +
	"Received: from helo.example.com (203.0.113.7) by relay.example.com with SMTP; Mon, 2 Sep 2002 09:00:00 +0000\n" +
	"Received: from aol.com ([203.0.113.6]) by mx2.example.net (8.11.6/8.11.6) with SMTP id A3; Mon, 2 Sep 2002 08:00:00 +0000\n" +
	"From: a@example.org\n" +
	"Subject: s\n\nbody\n"

// The expectations are what SpamAssassin 4.0.1 answers for the same
// message.
func TestScopedFields(t *testing.T) {
	m := Parse([]byte(relayTestMessage))
	tests := []struct {
		scope RelayScope
		want  []string // field names, with the Received fields' ids
	}{
		{ScopeTrusted, []string{"Received A1", "X-Between", "Received A2"}},
		{ScopeInternal, []string{"Received A1", "X-Between", "Received A2"}},
		{ScopeUntrusted, []string{"Received A2", "Received", "Received A3", "From", "Subject"}},
		{ScopeExternal, []string{"Received A2", "Received", "Received A3", "From", "Subject"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range m.ScopedFields(tt.scope) {
			name := f.Name
			if i := strings.Index(f.Value, " id A"); i >= 0 {
				name += " " + f.Value[i+4:i+6]
			}
			got = append(got, name)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("ScopedFields(%d) = %q, want %q", tt.scope, got, tt.want)
		}
	}
}

func TestRelayNoReverseDNS(t *testing.T) {
	m := Parse([]byte(relayTestMessage))
	want := map[string]bool{"203.0.113.5": true, "203.0.113.7": false, "203.0.113.6": true}
	for _, r := range m.Relays {
		if r.Private || r.IP == "" {
			continue
		}
		if w, ok := want[r.IP]; !ok || r.NoReverseDNS != w {
			t.Errorf("relay %s (rdns %q): NoReverseDNS = %v, want %v", r.IP, r.RDNS, r.NoReverseDNS, w)
		}
		delete(want, r.IP)
	}
	if len(want) > 0 {
		t.Errorf("relays not found: %v", want)
	}
}
