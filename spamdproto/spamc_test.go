package spamdproto

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// These tests drive the server with Debian's real spamc (package spamc,
// SpamAssassin 4.0.1) and check what spamc prints and its exit status,
// as a mail setup calling spamc would see them.

func spamcPath(t *testing.T) string {
	t.Helper()
	return testpeer.Program(t, "spamc")
}

type spamcRun struct {
	stdout string
	exit   int
}

func runSpamc(t *testing.T, bin string, stdin []byte, args ...string) spamcRun {
	t.Helper()
	out, code := testpeer.Run(t, bin, stdin, args...)
	return spamcRun{stdout: out, exit: code}
}

func TestSpamc(t *testing.T) {
	bin := spamcPath(t)
	gtube := readMessage(t, "gtube.eml")
	ham := readMessage(t, "ham-crlf.eml")
	scanner := gtubeScanner()
	ts := startServer(t, Config{}, scanner, newFakeTeller())
	marked := string(append([]byte("X-Spam-Flag: YES\n"), gtube...))

	tests := []struct {
		name       string
		args       []string
		msg        []byte
		wantOut    string
		wantExit   int
		wantScanAs string // user the Scanner must have seen, if set
	}{
		{"check spam", []string{"-c"}, gtube, "1000.0/5.0\n", 1, ""},
		{"check ham", []string{"-c"}, ham, "2.3/5.0\n", 0, ""},
		{"symbols", []string{"-y"}, gtube, "GTUBE,NO_RECEIVED,NO_RELAYS", 0, ""},
		{"report", []string{"-R"}, gtube, "1000.0/5.0\nSpam detection report\n\n", 0, ""},
		{"report ham", []string{"-R"}, ham, "2.3/5.0\nHam report\n\n", 0, ""},
		// REPORT_IFSPAM answers "Yes", which spamc does not read as spam:
		// it prints the report without the score line.
		{"report if spam", []string{"-r"}, gtube, "Spam detection report\n\n", 0, ""},
		{"report if spam on ham", []string{"-r"}, ham, "", 0, ""},
		{"process", nil, gtube, marked, 0, ""},
		{"process exit code", []string{"-E"}, gtube, marked, 1, ""},
		{"process ham exit code", []string{"-E"}, ham, "X-Spam-Flag: NO\n" + string(ham), 0, ""},
		{"process no fallback", []string{"-x"}, gtube, marked, 0, ""},
		// spamc appends its own copy of the body after the headers.
		{"headers", []string{"--headers"}, gtube, marked, 0, ""},
		{"user", []string{"-u", "carol", "-c"}, gtube, "1000.0/5.0\n", 1, "carol"},
		{"ping", []string{"-K"}, nil, "SPAMD/1.5 0\n", 0, ""},
		{"host list failover", []string{"-d", "127.0.0.2,127.0.0.1", "-c"}, gtube, "1000.0/5.0\n", 1, ""},
		{"random host order", []string{"-H", "-c"}, ham, "2.3/5.0\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"-d", "127.0.0.1", "-p", ts.port()}
			if i := slices.Index(tt.args, "-d"); i >= 0 {
				args = []string{"-p", ts.port()} // the case brings its own host list
			}
			before := len(scanner.log())
			got := runSpamc(t, bin, tt.msg, append(args, tt.args...)...)
			if got.stdout != tt.wantOut || got.exit != tt.wantExit {
				t.Errorf("spamc %v: exit %d, output %q\nwant exit %d, output %q", tt.args, got.exit, got.stdout, tt.wantExit, tt.wantOut)
			}
			if tt.wantScanAs != "" {
				log := scanner.log()[before:]
				if len(log) != 1 || !strings.Contains(log[0], `user="`+tt.wantScanAs+`"`) {
					t.Errorf("scanner saw %q, want user %q", log, tt.wantScanAs)
				}
			}
		})
	}
}

// TestSpamcLearn runs spamc -L and -C against a Teller that remembers what
// it learned, in order: the second learn finds the message known.
func TestSpamcLearn(t *testing.T) {
	bin := spamcPath(t)
	gtube := readMessage(t, "gtube.eml")
	teller := newFakeTeller()
	ts := startServer(t, Config{}, gtubeScanner(), teller)
	steps := []struct {
		args     []string
		wantOut  string
		wantTell string
	}{
		{[]string{"-L", "spam"}, "Message successfully un/learned\n", "class=spam set=local remove= "},
		{[]string{"-L", "spam"}, "Message was already un/learned\n", "class=spam set=local remove= "},
		{[]string{"-L", "ham"}, "Message successfully un/learned\n", "class=ham set=local remove= "},
		{[]string{"-L", "forget"}, "Message successfully un/learned\n", "class=ham set= remove=local "},
		{[]string{"-L", "forget"}, "Message was already un/learned\n", "class=ham set= remove=local "},
		// -C report asks for local and remote; this Teller has no remote
		// network, so spamc reports failure.
		{[]string{"-C", "report"}, "Unable to report/revoke message\n", "class=spam set=local,remote remove= "},
		{[]string{"-C", "revoke"}, "Unable to report/revoke message\n", "class=ham set=local remove=remote "},
	}
	for i, st := range steps {
		got := runSpamc(t, bin, gtube, append([]string{"-d", "127.0.0.1", "-p", ts.port(), "-u", "dave"}, st.args...)...)
		if got.stdout != st.wantOut || got.exit != 0 {
			t.Errorf("step %d spamc %v: exit %d, output %q; want exit 0, output %q", i, st.args, got.exit, got.stdout, st.wantOut)
		}
		log := teller.log()
		if len(log) != i+1 || !strings.Contains(log[i], `user="dave" `+st.wantTell) {
			t.Errorf("step %d: teller saw %q, want %q", i, log, st.wantTell)
		}
	}
}

// TestSpamcErrors checks what spamc does with the answers that are not
// EX_OK: it falls back to the original message (exit 0), or with -x
// prints nothing useful and exits EX_IOERR.
func TestSpamcErrors(t *testing.T) {
	bin := spamcPath(t)
	gtube := readMessage(t, "gtube.eml")
	failing := &fakeScanner{fn: func(context.Context, *ScanRequest) (ScanResult, error) {
		return nil, errors.New("engine down")
	}}
	broken := startServer(t, Config{}, failing, nil)
	noTell := startServer(t, Config{}, gtubeScanner(), nil)
	refusing := startServer(t, Config{AllowedNets: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, gtubeScanner(), nil)
	small := startServer(t, Config{MaxMessageSize: 100}, gtubeScanner(), nil)

	tests := []struct {
		name     string
		ts       *testServer
		args     []string
		wantOut  string
		wantExit int
	}{
		{"scan error falls back", broken, nil, string(gtube), 0},
		{"scan error check", broken, []string{"-c"}, "0/0\n", 0},
		{"scan error symbols", broken, []string{"-y"}, "\n", 0},
		{"scan error no fallback", broken, []string{"-x"}, "", EX_IOERR},
		{"scan error check no fallback", broken, []string{"-x", "-c"}, "0/0\n", EX_IOERR},
		{"tell disabled", noTell, []string{"-L", "spam"}, "", EX_IOERR},
		{"refused falls back", refusing, nil, string(gtube), 0},
		{"refused check", refusing, []string{"-c"}, "0/0\n", 0},
		{"refused no fallback", refusing, []string{"-x", "-c"}, "0/0\n", EX_IOERR},
		{"over max size check", small, []string{"-c"}, "0.0/5.0\n", 0},
		{"over max size process", small, nil, string(gtube), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runSpamc(t, bin, gtube, append([]string{"-d", "127.0.0.1", "-p", tt.ts.port()}, tt.args...)...)
			if got.stdout != tt.wantOut || got.exit != tt.wantExit {
				t.Errorf("spamc %v: exit %d, output %q\nwant exit %d, output %q", tt.args, got.exit, got.stdout, tt.wantExit, tt.wantOut)
			}
		})
	}
}

// TestSpamcUnixSocket serves a UNIX socket, where the allowed-networks
// check does not apply.
func TestSpamcUnixSocket(t *testing.T) {
	bin := spamcPath(t)
	dir, err := os.MkdirTemp("", "spamd") // short: socket paths are limited to ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "spamd.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	// An allowed-networks list that no TCP client matches.
	srv := NewServer(Config{AllowedNets: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Logger: testLogger(t)},
		gtubeScanner(), nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		<-done
	})
	got := runSpamc(t, bin, readMessage(t, "gtube.eml"), "-U", path, "-c")
	if got.stdout != "1000.0/5.0\n" || got.exit != 1 {
		t.Errorf("spamc -U -c: exit %d, output %q", got.exit, got.stdout)
	}
	got = runSpamc(t, bin, nil, "-U", path, "-K")
	if got.stdout != "SPAMD/1.5 0\n" || got.exit != 0 {
		t.Errorf("spamc -U -K: exit %d, output %q", got.exit, got.stdout)
	}
}
