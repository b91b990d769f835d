package spamdproto

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestFormatScore(t *testing.T) {
	tests := []struct {
		score, threshold float64
		spam             bool
		want             string
	}{
		{999.998, 5, true, "1000.0"},
		{2.3, 5, false, "2.3"},
		{4.96, 5, false, "4.9"}, // would round to the threshold
		{4.95, 5, false, "4.9"},
		{5, 5, true, "5.0"},
		{-0.001, 5, false, "-0.0"},
		{-3.24, 5, false, "-3.2"},
		{0, 0, false, "-0.1"},  // threshold 0.0 minus 0.1
		{1.1, 1.1, false, "1"}, // Perl prints 1.1-0.1 with %.15g
		{9.97, 10, false, "9.9"},
		{12.0, 10, true, "12.0"},
	}
	for _, tt := range tests {
		if got := FormatScore(tt.score, tt.threshold, tt.spam); got != tt.want {
			t.Errorf("FormatScore(%v, %v, %v) = %q, want %q", tt.score, tt.threshold, tt.spam, got, tt.want)
		}
	}
}

func TestHeaderPart(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A: b\n\nbody\n", "A: b\n\n"},
		{"A: b\r\n\r\nbody\r\n", "A: b\r\n\r\n"},
		{"A: b\n\r\nbody", "A: b\n\r\n"},
		{"A: b\nC: d\n", "A: b\nC: d\n"}, // no empty line: whole message
		{"", ""},
		{"\n\nbody", "\n\n"},
		{"A: b\r\r\n\nx", "A: b\r\r\n\n"},
	}
	for _, tt := range tests {
		if got := string(HeaderPart([]byte(tt.in))); got != tt.want {
			t.Errorf("HeaderPart(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPerlNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"1.5", 1.5}, {"1.0", 1}, {"1", 1}, {"1.5 extra", 1.5}, {"abc", 0}, {"", 0},
		{" 1.3", 1.3}, {".5", 0.5}, {"1.", 1}, {"1e1", 10}, {"1e", 1}, {"-1.2", -1.2}, {"+2", 2}, {".", 0},
	}
	for _, tt := range tests {
		if got := perlNumber(tt.in); got != tt.want {
			t.Errorf("perlNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestReadRequestFields checks what the parser hands the server, beyond
// what the transcripts show through the answers.
func TestReadRequestFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		lim  Limits
		want Request
		code int // expected *Error code, 0 for success
	}{
		{
			name: "tell headers",
			in:   "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local,remote\r\nUser: bob\r\nContent-length: 4\r\n\r\nabc\nEXTRA",
			want: Request{Verb: VerbTell, Version: "1.5", User: "bob", HasUser: true, ContentLength: 4,
				MessageClass: "spam", Set: Targets{true, true}, Message: []byte("abc\n"), WireSize: 4},
		},
		{
			name: "content length ending inside a line",
			in:   "CHECK SPAMC/1.5\r\nContent-length: 3\r\n\r\nabcEXTRA\nmore",
			code: EX_PROTOCOL,
		},
		{
			name: "content length ending inside a line longer than the hard limit",
			in:   "CHECK SPAMC/1.5\r\nContent-length: 3\r\n\r\nabc" + strings.Repeat("x", 100) + "\n",
			lim:  Limits{MaxMessageSize: 4, MaxBodySize: 50},
			code: EX_TOOBIG,
		},
		{
			name: "value whitespace stripped, last header wins",
			in:   "CHECK SPAMC/1.5\r\nUser:\t  first\r\nUser: second \r\nContent-length: 2\r\n\r\nhi",
			want: Request{Verb: VerbCheck, Version: "1.5", User: "second ", HasUser: true, ContentLength: 2,
				Message: []byte("hi"), WireSize: 2},
		},
		{
			name: "oversized kept and marked",
			in:   "PROCESS SPAMC/1.5\r\nContent-length: 10\r\n\r\n0123456789",
			lim:  Limits{MaxMessageSize: 5},
			want: Request{Verb: VerbProcess, Version: "1.5", ContentLength: 10, Message: []byte("0123456789"),
				WireSize: 10, Oversized: true},
		},
		{
			name: "over the hard limit",
			in:   "PROCESS SPAMC/1.5\r\nContent-length: 10\r\n\r\n0123456789",
			lim:  Limits{MaxMessageSize: 4, MaxBodySize: 5},
			code: EX_TOOBIG,
		},
		{
			name: "over the hard limit without length",
			in:   "PROCESS SPAMC/1.5\r\n\r\n0123456789",
			lim:  Limits{MaxMessageSize: 4, MaxBodySize: 5},
			code: EX_TOOBIG,
		},
		{
			name: "huge content length saturates",
			in:   "CHECK SPAMC/1.5\r\nContent-length: 99999999999999999999999\r\n\r\n",
			code: EX_TOOBIG,
		},
		{
			name: "line too long",
			in:   "CHECK SPAMC/1.5\r\nUser: " + strings.Repeat("x", 100) + "\r\n\r\n",
			lim:  Limits{MaxLineLength: 64},
			code: EX_PROTOCOL,
		},
		{
			name: "ping 1.5 ignores headers and body",
			in:   "PING SPAMC/1.5\r\nContent-length: 5\r\n\r\nhello",
			want: Request{Verb: VerbPing, Version: "1.5", ContentLength: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ReadRequest(bufio.NewReader(strings.NewReader(tt.in)), tt.lim)
			if tt.code != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.code {
					t.Fatalf("err = %v, want code %d", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Verb != tt.want.Verb || req.Version != tt.want.Version || req.User != tt.want.User ||
				req.HasUser != tt.want.HasUser || req.ContentLength != tt.want.ContentLength ||
				req.MessageClass != tt.want.MessageClass || req.Set != tt.want.Set || req.Remove != tt.want.Remove ||
				!bytes.Equal(req.Message, tt.want.Message) || req.WireSize != tt.want.WireSize ||
				req.Oversized != tt.want.Oversized {
				t.Errorf("got  %+v\nwant %+v", *req, tt.want)
			}
		})
	}
}

func TestErrorWireLine(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: EX_PROTOCOL, Msg: "(EOF during headers)"}, "SPAMD/1.0 76 Bad header line: (EOF during headers)\r\n"},
		{&Error{Code: EX_TIMEOUT, Msg: "(30 second socket timeout reading input from client)"},
			"SPAMD/1.0 79 Timeout: (30 second socket timeout reading input from client)\r\n"},
		{&Error{Code: EX_SOFTWARE, Err: errors.New("secret")}, "SPAMD/1.0 70 Internal software error\r\n"},
		{&Error{Code: EX_TEMPFAIL, Msg: "server busy"}, "SPAMD/1.0 75 Temporary failure: server busy\r\n"},
	}
	for _, tt := range tests {
		if got := tt.err.WireLine(); got != tt.want {
			t.Errorf("WireLine() = %q, want %q", got, tt.want)
		}
	}
	// Every sysexits code has its own text.
	for code := EX_USAGE; code <= EX_TIMEOUT; code++ {
		if StatusText(code) == "Error" {
			t.Errorf("code %d has no text", code)
		}
	}
}
