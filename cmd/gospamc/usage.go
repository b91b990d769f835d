package main

import (
	"fmt"
	"io"
)

// version is gospamc's version; the protocol is spamc 4.x's.
const version = "0.1"

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "gospamc version %s (SpamAssassin spamc 4.0 compatible)\n", version)
}

// printUsage lists the options. The wording is gospamc's own; the
// options and their meaning are spamc's.
func printUsage(w io.Writer) {
	printVersion(w)
	fmt.Fprint(w, `
Usage: gospamc [options] [-e command [args]] < message

Scans the message on standard input with spamd and writes the result to
standard output. If spamd cannot be reached, the message is written
unchanged and the exit status is 0 (see -x).

Where spamd is:
  -d, --dest host[,host...]   spamd hosts, tried in order [localhost]
  -p, --port port             TCP port [783]
  -U, --socket path           UNIX socket instead of TCP
  -H, --randomize             start at a random host of the list
  -4, -6                      IPv4 or IPv6 addresses only
  -S, --ssl                   TLS (spamd --ssl)
      --ssl-cert file         client certificate (with --ssl-key)
      --ssl-key file          client key
      --ssl-ca-file file      check the server's certificate against these CAs
      --ssl-ca-path dir       ... or the CA files in this directory
  -t, --timeout secs          read/write timeout [600]
  -n, --connect-timeout secs  connect timeout [the -t value]
      --connect-retries n     connection attempts [3]
      --retry-sleep secs      pause between attempts [1]
      --filter-retries n      whole attempts when spamd does not answer [1]
      --filter-retry-sleep s  pause between them [1]
  -F, --config file           options file [/etc/spamassassin/spamc.conf]

What to ask:
  (default)                   the message with spamd's headers added
  -c, --check                 print score/threshold; exit 1 if spam
  -y, --tests                 print the names of the rules hit
  -r, --full-spam             print the report if spam
  -R, --full                  print score/threshold and the report
      --headers               rewrite the headers only
  -K                          check that spamd answers
  -L, --learntype type        learn as spam or ham, or forget
  -C, --reporttype type       report (spam) or revoke (ham) to the networks
  -u, --username name         scan for this user [the current user]
  -s, --max-size bytes        larger messages are not scanned [512000]
  -B, --bsmtp                 the input is one BSMTP transaction
  -z                          compress the message (zlib)

Results:
  -E, --exitcode              exit 1 if spam, 0 if not
  -x, --no-safe-fallback      on failure print nothing and exit with its status
  -X, --unavailable-tempfail  with -x: exit 75 instead of 69
  -l, --log-to-stderr         log to standard error instead of syslog
  -e, --pipe-to cmd [args]    send the output to cmd (the last option)
  -h, --help                  this text
  -V, --version               version
`)
}
