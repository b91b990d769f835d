package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/spamdproto"
)

// zlibCompareCases are compared with -z: gospamc -z against spamc -z as
// built from its release sources with zlib (make test-deps builds it as
// spamc-zlib; Debian's packaged spamc refuses -z). Every case of
// compareCases runs again with -z in front, and these add what only -z
// makes interesting: messages large enough for compression to matter.
var zlibCompareCases = []compareCase{
	{"large process", good, tcp(), "large"},
	{"large check", good, tcp("-c"), "large"},
	{"large symbols", good, tcp("-y"), "large"},
	{"large report", good, tcp("-R"), "large"},
	{"large headers", good, tcp("--headers", "-E"), "large"},
	{"large over max size", good, tcp("-s", "100000", "-c"), "large"},
	{"large over server limit", smallMax, tcp("-x", "-E"), "large"},
	{"large learn", good, tcp("-L", "ham"), "large"},
	{"large TLS", tlsServer, tcp("-S", "-E"), "large"},
	{"compress flag twice", good, tcp("-z", "-c"), "gtube"},
}

// TestLikeSpamcZlib is the differential test for -z: every case must
// print the same and exit the same with gospamc -z as with spamc-zlib -z.
func TestLikeSpamcZlib(t *testing.T) {
	bin := testpeer.GoBinProgram(t, "spamc-zlib")
	msgs := testMessages(t)
	msgs["large"] = largeMessage(msgs["gtube"])

	var cases []compareCase
	for _, tc := range compareCases {
		tc.args = append([]string{"-z"}, tc.args...)
		cases = append(cases, tc)
	}
	for _, tc := range zlibCompareCases {
		tc.args = append([]string{"-z"}, tc.args...)
		cases = append(cases, tc)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, ok := msgs[tc.msg]
			if !ok && tc.msg != "" {
				t.Fatalf("no message %q", tc.msg)
			}
			spamcEnv, ourEnv := startKind(t, tc.server), startKind(t, tc.server)
			want := runSpamc(t, bin, msg, spamcEnv.expand(tc.args)...)
			got := runGospamc(t, msg, ourEnv.expand(tc.args)...)
			if got != want {
				t.Errorf("gospamc %v:\n got %v\nwant %v (spamc-zlib)", tc.args, got, want)
			}
			if su, gu := spamcEnv.scanner.seenUsers(), ourEnv.scanner.seenUsers(); strings.Join(su, ",") != strings.Join(gu, ",") {
				t.Errorf("scanned for users %q, spamc-zlib for %q", gu, su)
			}
		})
	}
}

// largeMessage is msg followed by about 300 KB of text, which deflates to
// a fraction of that.
func largeMessage(msg []byte) []byte {
	var b strings.Builder
	b.Write(msg)
	for i := 0; b.Len() < 300_000; i++ {
		b.WriteString("A line of the quarterly report, " + strings.Repeat("figures ", i%9) + "and totals.\n")
	}
	return []byte(b.String())
}

// sentRequest is a request as the server's request reader read it.
type sentRequest struct {
	req *spamdproto.Request
	err error
}

// startRecorder serves one request per connection on 127.0.0.1: it reads
// it with spamdproto.ReadRequest, hands it over, and answers it with the
// fake scanner and teller.
func startRecorder(t *testing.T) (port string, requests <-chan sentRequest) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, port, _ = net.SplitHostPort(l.Addr().String())
	ch := make(chan sentRequest, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answerRecorded(c, ch)
		}
	}()
	return port, ch
}

func answerRecorded(c net.Conn, ch chan<- sentRequest) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := spamdproto.ReadRequest(bufio.NewReader(c), spamdproto.Limits{})
	ch <- sentRequest{req: req, err: err}
	if err != nil {
		return
	}
	ctx := context.Background()
	if req.Verb == spamdproto.VerbTell {
		res, _ := (&fakeTeller{}).Tell(ctx, &spamdproto.TellRequest{User: req.User, Message: req.Message, Class: req.Class(), Set: req.Set, Remove: req.Remove})
		_ = spamdproto.WriteTellResponse(c, res)
		return
	}
	res, _ := (&fakeScanner{}).Scan(ctx, &spamdproto.ScanRequest{User: req.User, Message: req.Message})
	_ = spamdproto.WriteScanResponse(c, req, res)
}

// TestZlibRequestLikeSpamc compares the requests themselves: with -z,
// gospamc must send what spamc-zlib sends (same verb, protocol version,
// user and Compress header, a body that inflates to the message), though
// the deflated bytes may differ.
func TestZlibRequestLikeSpamc(t *testing.T) {
	bin := testpeer.GoBinProgram(t, "spamc-zlib")
	msgs := testMessages(t)
	large := largeMessage(msgs["gtube"])
	tests := []struct {
		name string
		args []string
		msg  []byte
	}{
		{"check", []string{"-c"}, msgs["gtube"]},
		{"symbols", []string{"-y"}, msgs["gtube"]},
		{"report", []string{"-R"}, msgs["ham"]},
		{"report if spam", []string{"-r"}, msgs["gtube"]},
		{"process", nil, msgs["ham"]},
		{"headers", []string{"--headers"}, msgs["gtube"]},
		{"user", []string{"-u", "carol", "-c"}, msgs["gtube"]},
		{"large", []string{"-E"}, large},
		{"learn", []string{"-L", "spam"}, msgs["gtube"]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port, requests := startRecorder(t)
			args := append([]string{"-z", "-d", "127.0.0.1", "-p", port}, tt.args...)
			var sent [2]*spamdproto.Request
			for i, client := range []string{"spamc-zlib", "gospamc"} {
				if i == 0 {
					runSpamc(t, bin, tt.msg, args...)
				} else {
					runGospamc(t, tt.msg, args...)
				}
				select {
				case r := <-requests:
					if r.err != nil {
						t.Fatalf("%s %v sent a request the server cannot read: %v", client, tt.args, r.err)
					}
					sent[i] = r.req
				case <-time.After(10 * time.Second):
					t.Fatalf("%s %v sent no request", client, tt.args)
				}
			}
			want, got := sent[0], sent[1]
			if got.Verb != want.Verb || got.Version != want.Version || got.User != want.User || got.Compress != want.Compress {
				t.Errorf("gospamc sent %s SPAMC/%s user %q compress %v; spamc-zlib %s SPAMC/%s user %q compress %v",
					got.Verb, got.Version, got.User, got.Compress, want.Verb, want.Version, want.User, want.Compress)
			}
			if !bytes.Equal(got.Message, tt.msg) || !bytes.Equal(want.Message, tt.msg) {
				t.Errorf("bodies read as %d bytes (gospamc) and %d (spamc-zlib), want the %d-byte message",
					len(got.Message), len(want.Message), len(tt.msg))
			}
			if len(tt.msg) > 100_000 && got.WireSize > int64(len(tt.msg)/4) {
				t.Errorf("gospamc sent the %d-byte message as %d bytes; spamc-zlib as %d", len(tt.msg), got.WireSize, want.WireSize)
			}
		})
	}
}
