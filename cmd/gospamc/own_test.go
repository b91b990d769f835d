package main

import (
	"strings"
	"testing"
)

// These cases state what gospamc must do where Debian's spamc cannot
// show it (it is built without zlib; its -S -K always fails) and, for
// the core cases, what a mail setup relies on, so that they are checked
// even where spamc is not installed.
func TestGospamc(t *testing.T) {
	msgs := testMessages(t)
	gtube := string(msgs["gtube"])
	marked := "X-Spam-Flag: YES\n" + gtube
	tests := []struct {
		name     string
		server   serverKind
		args     []string
		msg      string
		wantOut  string
		wantExit int
	}{
		{"check", good, tcp("-c"), "gtube", "1000.0/5.0\n", 1},
		{"check ham", good, tcp("-c"), "ham", "2.3/5.0\n", 0},
		{"process", good, tcp("-E"), "gtube", marked, 1},
		{"compressed check", good, tcp("-z", "-c"), "gtube", "1000.0/5.0\n", 1},
		{"compressed process", good, tcp("-z"), "gtube", marked, 0},
		{"compressed symbols", good, tcp("--compress", "-y"), "gtube", "GTUBE,NO_RECEIVED,NO_RELAYS", 0},
		{"compressed headers", good, tcp("-z", "--headers"), "gtube", marked, 0},
		{"compressed over TLS", tlsServer, tcp("-S", "-z", "-R"), "gtube", "1000.0/5.0\nSpam detection report\n\n", 0},
		// spamc -S -K fails on its own empty SSL_write; gospamc pings.
		{"TLS ping", tlsServer, tcp("-S", "-K"), "", "SPAMD/1.5 0\n", 0},
		{"learn", good, tcp("-L", "spam"), "gtube", "Message successfully un/learned\n", 0},
		{"down falls back", closed, down(), "gtube", gtube, 0},
		{"down check", closed, down("-c"), "gtube", "0/0\n", 0},
		{"down no fallback", closed, down("-x"), "gtube", "", 69},
		{"down tempfail", closed, down("-x", "-X"), "gtube", "", 75},
		{"too big passes through", good, tcp("-s", "300", "-E"), "big", string(msgs["big"]), 0},
		{"version", good, []string{"-V"}, "", "gospamc version " + version + " (SpamAssassin spamc 4.0 compatible)\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startKind(t, tt.server)
			got := runGospamc(t, msgs[tt.msg], env.expand(tt.args)...)
			if got.stdout != tt.wantOut || got.exit != tt.wantExit {
				t.Errorf("gospamc %v:\n got %v\nwant %v", tt.args, got, outcome{tt.wantOut, tt.wantExit})
			}
		})
	}
}

func TestGospamcHelp(t *testing.T) {
	got := runGospamc(t, nil, "-h")
	if got.exit != 0 || !strings.Contains(got.stdout, "Usage: gospamc") || !strings.Contains(got.stdout, "--no-safe-fallback") {
		t.Errorf("gospamc -h: %v", got)
	}
}
