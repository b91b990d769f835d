// Command gospamc is a spamc-compatible client for the spamd protocol,
// for hosts without SpamAssassin's spamc: the same options, the same
// output and the same exit statuses, so that procmail, maildrop
// (xfilter), Exim and Postfix setups can call it in place of spamc.
//
// It reads one message on standard input and writes the result on
// standard output. When spamd cannot be reached it writes the message
// unchanged and exits 0 (the safe fallback), unless -x is given.
// Options come from /etc/spamassassin/spamc.conf, when present, then
// from the command line, and are parsed by spamc's rules (see args.go).
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// spamc ignores SIGPIPE: a reader that goes away is a write error,
	// not a reason to die.
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program with its streams, for tests: args[0] is the
// program name; the result is the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	p := &program{stdin: stdin, stdout: stdout, stderr: stderr,
		configFile: defaultConfigFile, currentUser: effectiveUser}
	return p.main(context.Background(), args)
}
