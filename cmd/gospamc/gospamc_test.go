package main

import (
	"strings"
	"testing"
)

// testMessages are the inputs the cases refer to by name.
func testMessages(t *testing.T) map[string][]byte {
	ham := readTestdata(t, "ham-crlf.eml")
	scored := func(score string) []byte {
		return []byte("X-Test-Score: " + score + "\n" + strings.ReplaceAll(string(ham), "\r\n", "\n"))
	}
	return map[string][]byte{
		"gtube":    readTestdata(t, "gtube.eml"),
		"ham":      ham,
		"bsmtp":    readTestdata(t, "gtube.bsmtp"),
		"noblank":  readTestdata(t, "noblank.eml"),
		"empty":    nil,
		"negative": scored("-0.04"),
		"minus3":   scored("-3.25"),
		"nearly":   scored("4.96"),
		"exact":    scored("5.0"),
		"grow":     []byte("X-Test-Grow: 20000\n" + string(ham)),
		"big":      append(readTestdata(t, "gtube.eml"), strings.Repeat("filler line\n", 100)...),
	}
}

// tcp is the usual way to reach the test server.
func tcp(extra ...string) []string {
	return append([]string{"-d", "127.0.0.1", "-p", "$PORT"}, extra...)
}

// down reaches a closed port with one connection attempt.
func down(extra ...string) []string {
	return append([]string{"-d", "127.0.0.1", "-p", "$PORT", "--connect-retries", "1"}, extra...)
}

type compareCase struct {
	name   string
	server serverKind
	args   []string
	msg    string // key of testMessages
}

// compareCases are run with spamc and gospamc; both must print the same
// and exit the same.
var compareCases = []compareCase{
	// The verbs.
	{"process", good, tcp(), "gtube"},
	{"process ham", good, tcp(), "ham"},
	{"process exit code spam", good, tcp("-E"), "gtube"},
	{"process exit code ham", good, tcp("-E"), "ham"},
	{"process no fallback", good, tcp("-x"), "gtube"},
	{"check spam", good, tcp("-c"), "gtube"},
	{"check ham", good, tcp("-c"), "ham"},
	{"check long option", good, tcp("--check"), "gtube"},
	{"check negative score", good, tcp("-c"), "negative"},
	{"check score -3.25", good, tcp("-c"), "minus3"},
	{"check ham just below", good, tcp("-c"), "nearly"},
	{"check exactly threshold", good, tcp("-c"), "exact"},
	{"check with -E", good, tcp("-c", "-E"), "ham"},
	{"symbols", good, tcp("-y"), "gtube"},
	{"symbols ham", good, tcp("-y"), "ham"},
	{"report", good, tcp("-R"), "gtube"},
	{"report ham", good, tcp("-R"), "ham"},
	{"report negative", good, tcp("-R"), "minus3"},
	{"report if spam", good, tcp("-r"), "gtube"},
	{"report if spam on ham", good, tcp("-r"), "ham"},
	{"report if spam exit code", good, tcp("-r", "-E"), "gtube"},
	{"check wins over report", good, tcp("-R", "-c"), "gtube"},
	{"headers", good, tcp("--headers"), "gtube"},
	{"headers CRLF", good, tcp("--headers"), "ham"},
	{"headers without body separator", good, tcp("--headers", "-E"), "noblank"},
	{"ping", good, tcp("-K"), "gtube"},
	{"ping with check", good, tcp("-K", "-c"), "gtube"},
	{"user", good, tcp("-u", "carol", "-c"), "gtube"},
	{"user long option", good, tcp("--username=carol", "-y"), "gtube"},
	{"timeouts", good, tcp("-t", "5", "-n", "5", "-c"), "gtube"},
	{"log to stderr", good, tcp("-l", "-c"), "gtube"},
	{"bsmtp", good, tcp("-B"), "bsmtp"},
	{"bsmtp check", good, tcp("-B", "-c"), "bsmtp"},
	{"bsmtp without DATA", good, tcp("-B"), "gtube"},
	{"pipe to command", good, tcp("-c", "-e", "/bin/cat"), "gtube"},
	{"pipe to failing command", good, tcp("-e", "/bin/false"), "gtube"},
	{"UNIX socket", unixSock, []string{"-U", "$SOCKET", "-c"}, "gtube"},
	{"UNIX socket ping", unixSock, []string{"-U", "$SOCKET", "-K"}, ""},
	{"config file", good, tcp("-F", "$CONF"), "gtube"},
	{"IPv4 only", good, tcp("-4", "-c"), "gtube"},

	// Learning.
	{"learn spam", good, tcp("-L", "spam"), "gtube"},
	{"learn ham", good, tcp("-L", "ham"), "ham"},
	{"forget unknown", good, tcp("-L", "forget"), "gtube"},
	{"report to networks", good, tcp("-C", "report"), "gtube"},
	{"revoke", good, tcp("-C", "revoke"), "gtube"},
	{"learn with check", good, tcp("-L", "spam", "-c"), "gtube"},
	{"learn bad type", good, tcp("-L", "junk"), "gtube"},
	{"report bad type", good, tcp("-C", "junk"), "gtube"},

	// Hosts.
	{"failover to second host", good, []string{"-d", "127.0.0.2,127.0.0.1", "-p", "$PORT", "-c"}, "gtube"},
	{"no failover with -x", good, []string{"-d", "127.0.0.2,127.0.0.1", "-p", "$PORT", "-x", "-c", "--retry-sleep", "0"}, "gtube"},
	{"randomized single host", good, tcp("-H", "-c"), "ham"},
	{"default host localhost", good, []string{"-p", "$PORT", "-c"}, "gtube"},

	// Size limit: the message is passed through unscanned.
	{"too big", good, tcp("-s", "300"), "big"},
	{"too big check", good, tcp("-s", "300", "-c"), "big"},
	{"too big symbols", good, tcp("-s", "300", "-y"), "big"},
	{"too big no fallback", good, tcp("-s", "300", "-x", "-E"), "big"},
	{"too big learn", good, tcp("-s", "300", "-L", "spam"), "big"},
	{"too big size argument", good, tcp("-s", "300000000"), "gtube"},
	{"max size with unit", good, tcp("--max-size=1k", "-c"), "big"},
	{"answer too big", good, tcp("-s", "1000", "-x", "-E"), "grow"},
	{"answer too big check", good, tcp("-s", "1000", "-c"), "grow"},
	{"answer within allowance", good, tcp("-s", "4000"), "grow"},
	{"server size limit", smallMax, tcp("-c"), "gtube"},
	{"server size limit process", smallMax, tcp(), "gtube"},

	// Empty input.
	{"empty", good, tcp(), "empty"},
	{"empty check", good, tcp("-c"), "empty"},
	{"empty no fallback", good, tcp("-x"), "empty"},

	// Parsing as spamc parses.
	{"bundled letters are one option", good, tcp("-cu", "carol"), "gtube"},
	{"non-option ends options", good, tcp("-c", "stop", "-y"), "gtube"},
	{"double dash ends options", good, tcp("--", "-c"), "gtube"},
	{"-X before -x", good, tcp("-X", "-x", "-c"), "gtube"},
	{"ssl version argument", good, tcp("--ssl", "tlsv1"), "gtube"},
	{"client cert without key", good, tcp("-S", "--ssl-cert", "$CONF"), "gtube"},
	{"missing config file", good, tcp("-F", "/nonexistent/spamc.conf"), "gtube"},
	{"ignored options", good, tcp("-f", "-0", "7", "-2", "-c"), "gtube"},

	// The server fails: spamc falls back to the original message.
	{"scan error", broken, tcp(), "gtube"},
	{"scan error check", broken, tcp("-c"), "gtube"},
	{"scan error symbols", broken, tcp("-y"), "gtube"},
	{"scan error report", broken, tcp("-R"), "gtube"},
	{"scan error headers", broken, tcp("--headers"), "gtube"},
	{"scan error ping", broken, tcp("-K"), ""},
	{"scan error no fallback", broken, tcp("-x"), "gtube"},
	{"scan error no fallback check", broken, tcp("-x", "-c"), "gtube"},
	{"scan error no fallback exit code", broken, tcp("-x", "-E"), "gtube"},
	{"tell disabled", noTell, tcp("-L", "spam"), "gtube"},
	{"tell disabled report", noTell, tcp("-C", "report"), "gtube"},
	{"not an allowed network", refusing, tcp(), "gtube"},
	{"not an allowed network check", refusing, tcp("-c"), "gtube"},
	{"not an allowed network no fallback", refusing, tcp("-x", "-c"), "gtube"},

	// Nobody listens.
	{"down", closed, down(), "gtube"},
	{"down check", closed, down("-c"), "gtube"},
	{"down symbols", closed, down("-y"), "gtube"},
	{"down report", closed, down("-R"), "gtube"},
	{"down report if spam", closed, down("-r"), "gtube"},
	{"down headers", closed, down("--headers"), "gtube"},
	{"down exit code", closed, down("-E"), "gtube"},
	{"down ping", closed, down("-K"), ""},
	{"down learn", closed, down("-L", "spam"), "gtube"},
	{"down report to networks", closed, down("-C", "report"), "gtube"},
	{"down no fallback", closed, down("-x"), "gtube"},
	{"down no fallback check", closed, down("-x", "-c"), "gtube"},
	{"down no fallback exit code", closed, down("-x", "-E"), "gtube"},
	{"down tempfail", closed, down("-x", "-X"), "gtube"},
	{"down tempfail check", closed, down("-x", "-X", "-c"), "gtube"},
	{"down tempfail learn", closed, down("-x", "-X", "-L", "ham"), "gtube"},
	{"down too big no fallback", closed, down("-x", "-s", "300"), "big"},
	{"down bsmtp", closed, down("-B"), "bsmtp"},
	{"down pipe", closed, down("-e", "/bin/cat"), "gtube"},
	{"down pipe no fallback", closed, down("-x", "-e", "/bin/cat"), "gtube"},
	{"down with retries", closed, tcp("--retry-sleep", "0", "-c"), "gtube"},
	{"down missing socket", closed, []string{"-U", "/nonexistent/spamd.sock", "-x"}, "gtube"},
	{"unknown host", closed, []string{"-d", "spamd.invalid", "-x", "-c"}, "gtube"},
	{"unknown host fallback", closed, []string{"-d", "spamd.invalid"}, "gtube"},

	// spamd does not answer in time.
	{"timeout", hanging, tcp("-t", "1"), "gtube"},
	{"timeout no fallback", hanging, tcp("-t", "1", "-x", "-c"), "gtube"},

	// TLS.
	{"TLS check", tlsServer, tcp("-S", "-c"), "gtube"},
	{"TLS process", tlsServer, tcp("--ssl"), "gtube"},
	{"TLS learn", tlsServer, tcp("-S", "-L", "spam"), "gtube"},
	{"TLS verified", tlsServer, tcp("-S", "--ssl-ca-file", "$CERT", "-y"), "gtube"},
	{"TLS untrusted CA", tlsServer, tcp("-S", "--ssl-ca-file", "$CONF", "-x", "-c"), "gtube"},
	{"plain client on TLS port", tlsServer, tcp("-c"), "gtube"},
	{"plain client on TLS port no fallback", tlsServer, tcp("-x"), "gtube"},
	{"TLS client on plain port", good, tcp("-S", "-x", "-c"), "gtube"},
}

// usageErrorCases are command lines spamc refuses: both programs print
// their usage text, each in its own words, and must exit the same.
var usageErrorCases = []compareCase{
	{"argument glued to option", good, tcp("-ucarol", "-c"), "gtube"},
	{"missing argument", good, tcp("-c", "-t"), "gtube"},
	{"argument starting with dash", good, tcp("-s", "-5"), "gtube"},
	{"unknown long option", good, tcp("--bogus"), "gtube"},
}

// TestLikeSpamc is the differential test: every case must print the same
// and exit the same with gospamc as with Debian's spamc.
func TestLikeSpamc(t *testing.T) {
	bin := spamcBinary(t)
	msgs := testMessages(t)
	for i, tc := range append(compareCases, usageErrorCases...) {
		usage := i >= len(compareCases)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, ok := msgs[tc.msg]
			if !ok && tc.msg != "" {
				t.Fatalf("no message %q", tc.msg)
			}
			// Each program gets its own server: a Teller remembers.
			spamcEnv, ourEnv := startKind(t, tc.server), startKind(t, tc.server)
			want := runSpamc(t, bin, msg, spamcEnv.expand(tc.args)...)
			got := runGospamc(t, msg, ourEnv.expand(tc.args)...)
			if usage {
				if got.exit != want.exit || !strings.Contains(want.stdout, "Usage: spamc") || !strings.Contains(got.stdout, "Usage: gospamc") {
					t.Errorf("gospamc %v:\n got %v\nwant exit %d and a usage text", tc.args, got, want.exit)
				}
				return
			}
			if got != want {
				t.Errorf("gospamc %v:\n got %v\nwant %v (spamc)", tc.args, got, want)
			}
			if su, gu := spamcEnv.scanner.seenUsers(), ourEnv.scanner.seenUsers(); strings.Join(su, ",") != strings.Join(gu, ",") {
				t.Errorf("scanned for users %q, spamc for %q", gu, su)
			}
		})
	}
}
