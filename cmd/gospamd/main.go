// Command gospamd is the gospamd daemon and its administration tool.
//
//	gospamd serve      run the spamd-protocol daemon
//	gospamd learn      train the Bayes store (sa-learn's flags and output)
//	gospamd train      learn from IMAP LearnAsSpam/LearnAsHam folders
//	gospamd check      scan one message from standard input
//	gospamd masscheck  score a labelled corpus; cross-validate
//	gospamd lint       check a policy (like spamassassin --lint)
//	gospamd panel-password  hash a password for the web panel
//	gospamd version    print the version
//
// The command only wires packages together; the work is done in
// tokenizer, classifier, learn, rules, corpus and spamdproto.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/internal/perfrec"
)

// Version is the release; overridden at link time.
var version = "0.1.0-dev"

// Exit codes, from sysexits.h as SpamAssassin's tools use them.
const (
	exitOK       = 0
	exitFail     = 1  // sa-learn's plain failure
	exitUsage    = 64 // EX_USAGE
	exitFatal    = 255
	exitSoftware = 70 // EX_SOFTWARE
)

type command struct {
	name  string
	brief string
	run   func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv carries the process's streams so that commands can be run from
// tests.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stderrIsTTY    bool
	log            *slog.Logger
	// onListen, when set, is told the address of every listener serve
	// opens (tests listen on port 0 and learn the port this way).
	onListen func(net.Addr)
	// daemonConfigDefault is the daemon config file read when a command
	// is given no --daemon-config and the file exists; "" for none (tests).
	daemonConfigDefault string
}

func commands() []command {
	return []command{
		{"serve", "run the spamd-protocol daemon", runServe},
		{"learn", "train the Bayes store (sa-learn compatible)", runLearn},
		{"train", "learn from the IMAP learn folders of the [imap] accounts", runTrain},
		{"check", "scan one message from standard input", runCheck},
		{"masscheck", "score a labelled corpus; k-fold cross-validation", runMassCheck},
		{"lint", "check a policy: parse errors, rules that cannot run, summary", runLint},
		{"deliver", "scan one message from standard input and file it into the user's Maildir", runDeliver},
		{"filter", "scan one message from standard input and write it marked up (xfilter)", runFilter},
		{"panel-password", "read a password from standard input, print its bcrypt hash for [panel]", runPanelPassword},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{
		stdin:       os.Stdin,
		stdout:      os.Stdout,
		stderr:      os.Stderr,
		stderrIsTTY: isTerminal(os.Stderr),
		log:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),

		daemonConfigDefault: systemDaemonConfig,
	}
	// go-redis logs through a package-global logger; set it here, once,
	// before any command opens a Redis store (see redisLogger).
	redis.SetLogger(redisLogger{log: env.log})
	if path := os.Getenv("GOSPAMD_CPUPROFILE"); path != "" {
		stopProfile, err := perfrec.CPUProfile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gospamd: %v\n", err)
			os.Exit(exitFatal)
		}
		defer stopProfile()
	}
	if path := os.Getenv("GOSPAMD_TRACE"); path != "" {
		stopTrace, err := perfrec.Trace(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gospamd: %v\n", err)
			os.Exit(exitFatal)
		}
		defer stopTrace()
	}
	if path := os.Getenv("GOSPAMD_HEAPPROFILE"); path != "" {
		heapProfileOnSignal(ctx, path)
	}
	code := run(ctx, env, os.Args[1:])
	if os.Getenv("GOSPAMD_RUSAGE") == "1" {
		reportRusage(os.Stderr)
	}
	if code != exitOK {
		os.Exit(code)
	}
}

// reportRusage prints the process's peak resident set size, for the
// corpus benchmark (GOSPAMD_RUSAGE=1).
func reportRusage(w io.Writer) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		fmt.Fprintf(w, "rusage: maxrss_kb=%d user_s=%.2f sys_s=%.2f\n", ru.Maxrss,
			float64(ru.Utime.Sec)+float64(ru.Utime.Usec)/1e6, float64(ru.Stime.Sec)+float64(ru.Stime.Usec)/1e6)
	}
}

func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-V" {
		return runVersion(ctx, env, args[1:])
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "gospamd: unknown command %q\n", args[0])
	usage(env.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gospamd COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.brief)
	}
	fmt.Fprintln(w, "\nRun 'gospamd COMMAND --help' for a command's flags.")
}

// runVersion prints the version and the Go release it was built with.
func runVersion(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "gospamd version")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "gospamd version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	fmt.Fprint(env.stdout, versionText())
	return exitOK
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
