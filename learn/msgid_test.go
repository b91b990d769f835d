package learn

import (
	"testing"

	"github.com/gospamd/gospamd/tokenizer"
)

func TestMessageID(t *testing.T) {
	hdr := tokenizer.Header{
		{Name: "To", Raw: " x@y.z", Value: "x@y.z"},
		{Name: "Date", Raw: " Sat, 01 Jun 2024 12:00:00 +0000", Value: "Sat, 01 Jun 2024 12:00:00 +0000"},
		{Name: "Message-Id", Raw: " <abc@example.com>", Value: "<abc@example.com>"},
	}
	tests := []struct {
		name string
		msg  tokenizer.Message
		want string
	}{
		// The vector of spec/bayes.md §5, computed with SpamAssassin 4.0.1.
		{"spec vector", tokenizer.Message{Header: hdr, Body: []byte("hello\n")}, "4963f64aa32c93eaeab84d264a5111092ec63e22@sa_generated"},
		{"CRLF body hashes like LF", tokenizer.Message{Header: hdr, Body: []byte("hello\r\n")}, "4963f64aa32c93eaeab84d264a5111092ec63e22@sa_generated"},
	}
	for _, tt := range tests {
		if got := MessageID(&tt.msg); got != tt.want {
			t.Errorf("%s: MessageID = %s, want %s", tt.name, got, tt.want)
		}
	}
	other := tokenizer.Message{Header: hdr, Body: []byte("hello!\n")}
	if MessageID(&other) == tests[0].want {
		t.Error("a different body gave the same id")
	}
	if got := AltMessageID(&tests[0].msg); got != "abc@example.com" {
		t.Errorf("AltMessageID = %q, want abc@example.com", got)
	}
}

func TestValidateUserName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"example@example.com", true},
		{"Jörg", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"\xff", false},
		{string(make([]byte, MaxUserNameLength+1)), false},
	}
	for _, tt := range tests {
		err := ValidateUserName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateUserName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if sc, _ := ScopeFor("alice", false); sc != "" {
		t.Errorf("global scope: ScopeFor gave %q", sc)
	}
	if sc, _ := ScopeFor("alice", true); sc != "alice" {
		t.Errorf("per-user scope: ScopeFor gave %q", sc)
	}
}
