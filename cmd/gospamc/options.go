package main

import (
	"fmt"
	"io"
	"math"
)

// options is spamc's command line, parsed.
type options struct {
	// What to do; the first set one of check, reportIfSpam, report,
	// symbols, ping, headers picks the verb (PROCESS when none), and
	// learn or reportMsg override them all with TELL.
	check, reportIfSpam, report, symbols, ping, headers bool
	learn                                               bool
	learnType                                           string // spam, ham, forget
	reportMsg                                           bool
	reportType                                          string // report, revoke

	exitCode        bool // -E
	safeFallback    bool // cleared by -x
	unavailTempfail bool // -X after -x
	logToStderr     bool // -l
	bsmtp           bool // -B
	compress        bool // -z

	// Where spamd is.
	hosts          string // -d, comma-separated; "" means localhost
	port           int    // -p, default 783
	socket         string // -U
	randomize      bool   // -H
	inet4, inet6   bool   // -4, -6
	useSSL         bool   // -S
	sslCert        string // --ssl-cert
	sslKey         string // --ssl-key
	sslCAFile      string // --ssl-ca-file
	sslCAPath      string // --ssl-ca-path
	clientCert     bool   // --ssl-cert or --ssl-key given
	timeout        int    // -t seconds, default 600; 0 disables
	connectTimeout int    // -n seconds; 0 takes -t
	connectRetries int    // --connect-retries; 0 means 3
	retrySleep     int    // --retry-sleep; negative means 1
	filterRetries  int    // --filter-retries
	filterSleep    int    // --filter-retry-sleep; negative means 1

	maxSize int    // -s, default 500 KiB
	user    string // -u
	hasUser bool

	pipeTo []string // -e command and its arguments
}

// Defaults of spamc.
const (
	defaultPort    = 783
	defaultTimeout = 600
	defaultMaxSize = 500 * 1024
	maxMessageLen  = 256 * 1024 * 1024 // largest -s spamc accepts
)

// parseOptions reads the command line (args[0] is the program name) as
// spamc's read_args does. When done is true the program ends with code
// right away: 0 after -h or -V, EX_USAGE after a usage error.
func parseOptions(args []string, stdout, stderr io.Writer, log *logger) (o options, code int, done bool) {
	o = options{safeFallback: true, port: defaultPort, timeout: defaultTimeout, maxSize: defaultMaxSize,
		retrySleep: -1, filterSleep: -1}
	code = exOK
	s := &optionScanner{args: args, next: 1, stderr: stderr}
	for {
		id, ok := s.scan()
		if !ok {
			break
		}
		switch id {
		case badOption:
			log.errorf(o.logToStderr, "invalid usage")
			printUsage(stdout)
			return o, exUsage, true
		case 'h':
			printUsage(stdout)
			return o, code, true
		case 'V':
			printVersion(stdout)
			return o, exOK, true
		case 'e':
			// The command is the rest of the command line, starting at
			// the word that held the option's argument.
			o.pipeTo = args[s.next-1:]
			return o, exOK, false
		}
		if c := o.apply(id, s.optArg, s.hasArg, log); c != exOK {
			code = c
		}
	}
	if c := o.validate(log); c != exOK {
		code = c
	}
	return o, code, code != exOK
}

// apply sets one option; it returns EX_USAGE for a bad value (parsing
// goes on, as in spamc).
func (o *options) apply(id int, arg string, hasArg bool, log *logger) int {
	switch id {
	case 'B':
		o.bsmtp = true
	case 'c':
		o.check = true
	case 'd':
		o.hosts = arg
	case 'K':
		o.ping = true
	case 'l':
		o.logToStderr = true
	case 'H':
		o.randomize = true
	case 'p':
		o.port = int(uint16(atoi(arg)))
	case 'r':
		o.reportIfSpam = true
	case 'E':
		o.exitCode = true
	case 'R':
		o.report = true
	case 's':
		o.maxSize = atoi(arg)
	case 'S':
		o.useSSL = true
		if hasArg {
			log.errorf(o.logToStderr, "Explicit specification of an SSL/TLS version no longer supported.")
			return exUsage
		}
	case 't':
		o.timeout = atoi(arg)
		if o.connectTimeout == 0 {
			o.connectTimeout = o.timeout
		}
	case 'n':
		o.connectTimeout = atoi(arg)
	case 'u':
		o.user, o.hasUser = arg, true
	case 'L':
		o.learn = true
		if arg != "spam" && arg != "ham" && arg != "forget" {
			log.errorf(o.logToStderr, "Please specify a legal learn type")
			return exUsage
		}
		o.learnType = arg
	case 'C':
		o.reportMsg = true
		if arg != "report" && arg != "revoke" {
			log.errorf(o.logToStderr, "Please specify a legal report type")
			return exUsage
		}
		o.reportType = arg
	case 'U':
		o.socket = arg
	case 'x':
		o.safeFallback = false
	case 'X':
		if o.safeFallback {
			log.errorf(o.logToStderr, "This option is only valid if -x is set first")
		} else {
			o.unavailTempfail = true
		}
	case 'y':
		o.symbols = true
	case 'z':
		o.compress = true
	case '4':
		o.inet4, o.inet6 = true, false
	case '6':
		o.inet6, o.inet4 = true, false
	case optConnectRetries:
		o.connectRetries = atoi(arg)
	case optRetrySleep:
		o.retrySleep = atoi(arg)
	case optHeaders:
		o.headers = true
	case optFilterRetries:
		o.filterRetries = atoi(arg)
	case optFilterRetrySleep:
		o.filterSleep = atoi(arg)
	case optSSLCert:
		o.clientCert, o.sslCert = true, arg
	case optSSLKey:
		o.clientCert, o.sslKey = true, arg
	case optSSLCAFile:
		o.sslCAFile = arg
	case optSSLCAPath:
		o.sslCAPath = arg
	}
	// -f (obsolete), -F (read before), -0, -1, -2: accepted, ignored.
	return exOK
}

// validate checks the combinations spamc refuses.
func (o *options) validate(log *logger) int {
	code := exOK
	fail := func(msg string) {
		log.errorf(o.logToStderr, "%s", msg)
		code = exUsage
	}
	if o.clientCert && (o.sslCert == "" || o.sslKey == "") {
		fail("--ssl-cert and --ssl-key must be used together")
	}
	if o.maxSize > maxMessageLen {
		fail(fmt.Sprintf("-s parameter is beyond max of %d", maxMessageLen))
	}
	if o.learn {
		for _, c := range []struct {
			set bool
			msg string
		}{
			{o.check, "Learning excludes check only"},
			{o.ping, "Learning excludes ping"},
			{o.reportIfSpam, "Learning excludes report if spam"},
			{o.report, "Learning excludes report"},
			{o.symbols, "Learning excludes symbols"},
			{o.reportMsg, "Learning excludes reporting to collaborative filtering databases"},
		} {
			if c.set {
				fail(c.msg)
			}
		}
	}
	return code
}

// atoi is C's atoi: leading white space, a sign, digits, and whatever
// follows ignored ("500k" is 500, "x" is 0). Values beyond a C int are
// clamped.
func atoi(s string) int {
	n, _ := strtol(s)
	return int(min(max(n, math.MinInt32), math.MaxInt32))
}
