package imaptrain

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// smtpSink is a minimal SMTP server on 127.0.0.1 that accepts every
// message and hands its DATA to the test.
func smtpSink(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	msgs := make(chan string, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
				say("220 sink ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "DATA"):
						say("354 go on")
						var data strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							data.WriteString(l)
						}
						msgs <- data.String()
						say("250 queued")
					case strings.HasPrefix(cmd, "QUIT"):
						say("221 bye")
						return
					default:
						say("250 ok")
					}
				}
			}()
		}
	}()
	return l.Addr().String(), msgs
}

// After a pass that learned something, report_to gets the per-user
// table through report_relay; a pass that did nothing sends no mail.
func TestReportMail(t *testing.T) {
	relay, got := smtpSink(t)
	ms := newMemServer(t, map[string]string{"alice": "pw-a"})
	ms.put(t, "alice", "LearnAsSpam", time.Now(), messages("spam", 0, 3)...)
	cfg := Config{Server: ms.addr, ReportTo: "postmaster@example.org", ReportRelay: relay,
		Accounts: []Account{{User: "alice", PasswordFile: passwordFile(t, "pw-a")}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ts := newTestStore(t)
	tr, err := New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for pass, wantMail := range []bool{true, false} {
		rep, err := tr.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Report(ctx, rep); err != nil {
			t.Fatal(err)
		}
		select {
		case msg := <-got:
			if !wantMail {
				t.Fatalf("pass %d learned nothing but mailed:\n%s", pass, msg)
			}
			for _, want := range []string{"To: postmaster@example.org\r\n", "Subject: gospamd IMAP training report\r\n", "alice     3    0"} {
				if !strings.Contains(msg, want) {
					t.Errorf("report mail lacks %q:\n%s", want, msg)
				}
			}
		case <-time.After(300 * time.Millisecond):
			if wantMail {
				t.Fatalf("pass %d: no report mail", pass)
			}
		}
	}
}
