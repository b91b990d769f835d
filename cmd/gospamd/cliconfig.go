package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// exitConfig is sysexits.h's EX_CONFIG: the daemon config file is broken.
const exitConfig = 78

// daemonConfigFlag is the flag every command takes to name its daemon
// config file.
const daemonConfigFlag = "daemon-config"

// daemonConfigArg finds --daemon-config FILE (or --daemon-config=FILE) in
// args, before any "--". It is read before the other flags are
// registered, because the file gives them their defaults.
func daemonConfigArg(args []string) (path string, given bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--"+daemonConfigFlag+"="); ok {
			path, given = v, true
			continue
		}
		if a == "--"+daemonConfigFlag {
			if i+1 >= len(args) {
				return "", true, fmt.Errorf("flag needs an argument: --%s", daemonConfigFlag)
			}
			path, given = args[i+1], true
			i++
		}
	}
	if given && path == "" {
		return "", true, fmt.Errorf("--%s: empty file name", daemonConfigFlag)
	}
	return path, given, nil
}

// loadCommandConfig is the daemon config a command runs with: the file
// named by --daemon-config in args; without one, env.daemonConfigDefault
// when that file exists; else the built-in defaults.
func loadCommandConfig(env *cliEnv, args []string) (*daemonConfig, error) {
	path, given, err := daemonConfigArg(args)
	if err != nil {
		return nil, err
	}
	if !given {
		path = env.daemonConfigDefault
		if path == "" {
			return defaultDaemonConfig(), nil
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return defaultDaemonConfig(), nil
		}
	}
	return loadDaemonConfig(path)
}

// commandConfig is loadCommandConfig for a command named name: on error
// it prints the problems and returns the exit code; else the code is -1.
// Asked for --help, a command shows it even when the file is broken.
func commandConfig(env *cliEnv, name string, args []string) (*daemonConfig, int) {
	cfg, err := loadCommandConfig(env, args)
	if err != nil && helpRequested(args) {
		return defaultDaemonConfig(), -1
	}
	if err != nil {
		printConfigErrors(env, name, err)
		return nil, exitConfig
	}
	return cfg, -1
}

// commandFlags is a subcommand's prologue: the daemon config its flags
// default from (commandConfig) and its flag set (newFlagSet). code is -1
// to go on, else the exit code.
func commandFlags(env *cliEnv, name string, args []string) (*daemonConfig, *pflag.FlagSet, int) {
	cfg, code := commandConfig(env, name, args)
	if code >= 0 {
		return nil, nil, code
	}
	return cfg, newFlagSet(env, name), -1
}

// newFlagSet is the flag set of the command named name: errors and
// --help go to stderr, flags are listed in the order they are added.
func newFlagSet(env *cliEnv, name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.SortFlags = false
	return fs
}

// printConfigErrors prints each problem joined in err on its own line.
func printConfigErrors(env *cliEnv, name string, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(env.stderr, "%s: %s\n", name, line)
	}
}

// helpRequested reports whether args ask for --help (or -h).
func helpRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--help" || a == "-h" {
			return true
		}
	}
	return false
}

// registerDaemonConfigFlag adds --daemon-config to fs. Its value was
// already read by daemonConfigArg; the flag is there for --help and so
// that the parse accepts it.
func registerDaemonConfigFlag(fs *pflag.FlagSet, env *cliEnv) {
	usage := "daemon config `FILE` (TOML): defaults for the flags"
	if env.daemonConfigDefault != "" {
		usage += " (default " + env.daemonConfigDefault + " when it exists)"
	}
	fs.String(daemonConfigFlag, "", usage)
}

// parseFlags parses args into fs. The code is -1 to go on, exitOK after
// --help (pflag has printed the usage), exitUsage after a bad flag.
func parseFlags(fs *pflag.FlagSet, args []string) int {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return -1
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	default:
		return exitUsage
	}
}

// flagForKey is the serve flag that sets a daemon config key.
func flagForKey(key string) string {
	switch key {
	case "policy.dir":
		return "config"
	case "spamd.tls_cert":
		return "ssl-cert"
	case "spamd.tls_key":
		return "ssl-key"
	}
	_, name, _ := strings.Cut(key, ".")
	return strings.ReplaceAll(name, "_", "-")
}

// parseServeArgs turns gospamd serve's arguments into the config the
// daemon runs with: the daemon config file (--daemon-config, or the system
// one when it exists), then the flags over it, validated, with the
// listen and hostname defaults filled in. The code is -1 when the daemon
// should start; otherwise parseServeArgs has printed why not (or the
// help) and the command exits with the code.
//
// # Precedence
//
// A flag given on the command line beats the file, which beats the
// built-in defaults. A repeatable flag (--listen, --ssl-listen) replaces
// the file's list rather than adding to it.
//
// # Unset values
//
// Spamd.MaxSize and Policy.RequiredScore are nil when neither the file
// nor a flag set them: the policy's max_message_size and required_score
// apply then.
func parseServeArgs(env *cliEnv, args []string) (*daemonConfig, int) {
	const name = "gospamd serve"
	cfg, fs, code := commandFlags(env, name, args)
	if code >= 0 {
		return nil, code
	}
	s, p, d := &cfg.Spamd, &cfg.Policy, &cfg.Daemon
	registerDaemonConfigFlag(fs, env)
	fs.StringArrayVar(&s.Listen, "listen", s.Listen, "TCP `ADDR:PORT` to listen on; repeatable (default 127.0.0.1:783 when no --listen, --ssl-listen or --socket)")
	fs.StringVar(&s.Socket, "socket", s.Socket, "also listen on the UNIX socket at `PATH` (a stale socket there is replaced, anything else refused)")
	fs.StringVar(&s.SocketMode, "socket-mode", s.SocketMode, "octal `MODE` of the --socket file (spamd --socketmode)")
	allowedIPs := fs.String("allowed-ips", strings.Join(s.AllowedIPs, ","), "comma-separated networks whose TCP clients are served (spamd -A)")
	fs.StringVar(&cfg.Store.DBPath, "dbpath", cfg.Store.DBPath, "the Bayes store `DIR`ectory")
	fs.StringVar(&p.Dir, "config", p.Dir, "site policy `DIR`: every *.cf (and *.cf/ fragments) in name order; SIGHUP rereads it")
	fs.StringVar(&p.UserPrefsDir, "user-prefs-dir", p.UserPrefsDir, "per-user preferences: `DIR`/<User>/user_prefs (spamd's virtual config dir)")
	fs.IntVar(&s.MaxChildren, "max-children", s.MaxChildren, "requests served at once; more wait, then get EX_TEMPFAIL")
	fs.IntVar(&s.MaxConnections, "max-connections", s.MaxConnections, "connections open at once, waiting or served")
	fs.IntVar(&s.MaxConnectionsPerIP, "max-connections-per-ip", s.MaxConnectionsPerIP, "connections open at once from one client address (0: no limit)")
	maxSize := fs.Int64("max-size", valueOr(s.MaxSize, 512000), "largest message scanned, in bytes; larger ones are answered unscanned (default: the policy's max_message_size)")
	fs.DurationVar((*time.Duration)(&s.TimeoutTCP), "timeout-tcp", time.Duration(s.TimeoutTCP), "time allowed to read a request")
	fs.DurationVar((*time.Duration)(&s.TimeoutChild), "timeout-child", time.Duration(s.TimeoutChild), "time allowed to scan a message")
	fs.BoolVar(&s.AllowTell, "allow-tell", s.AllowTell, "accept TELL (spamc -L/-C) to learn and forget")
	fs.StringVar(&p.BayesScope, "bayes-scope", p.BayesScope, "global: one Bayes database; user: one per request User")
	required := fs.Float64("required-score", valueOr(p.RequiredScore, 5.0), "score at or above which a message is spam (default: the policy's required_score)")
	fs.StringVar(&d.Hostname, "hostname", d.Hostname, "host name in X-Spam-Checker-Version (default: this host's)")
	fs.StringVar(&d.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.BoolVar(&s.SSL, "ssl", s.SSL, "serve TLS (spamc -S) on every --listen address")
	fs.StringArrayVar(&s.SSLListen, "ssl-listen", s.SSLListen, "TCP `ADDR:PORT` serving TLS only, beside the plain --listen ones; repeatable")
	fs.StringVar(&s.TLSCert, "ssl-cert", s.TLSCert, "TLS certificate `FILE` (PEM)")
	fs.StringVar(&s.TLSKey, "ssl-key", s.TLSKey, "TLS private key `FILE` (PEM)")
	fs.StringVar(&d.MetricsListen, "metrics-listen", d.MetricsListen, "serve Prometheus metrics at http://`ADDR:PORT`/metrics")
	metricsIPs := fs.String("metrics-allowed-ips", strings.Join(valueOr(d.MetricsAllowedIPs, nil), ","), "comma-separated networks allowed to read the metrics (default: --allowed-ips)")
	if code := parseFlags(fs, args); code >= 0 {
		return nil, code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return nil, exitUsage
	}
	if fs.Changed("allowed-ips") {
		s.AllowedIPs = splitList(*allowedIPs)
	}
	if fs.Changed("metrics-allowed-ips") {
		nets := splitList(*metricsIPs)
		d.MetricsAllowedIPs = &nets
	}
	if fs.Changed("max-size") {
		s.MaxSize = maxSize
	}
	if fs.Changed("required-score") {
		p.RequiredScore = required
	}
	if errs := append(cfg.validate(), cfg.validateServe()...); len(errs) > 0 {
		code := exitConfig
		var pos map[string]keyPos
		if cfg.File != "" {
			if doc, err := os.ReadFile(cfg.File); err == nil {
				pos = keyPositions(doc)
			}
		}
		for _, e := range errs {
			if f := flagForKey(e.Key); fs.Changed(f) {
				e.Flag = f
				code = exitUsage
			} else if kp, ok := pos[e.Key]; ok {
				e.File, e.Line, e.Col = cfg.File, kp.line, kp.col
			}
			fmt.Fprintf(env.stderr, "%s: %v\n", name, e)
		}
		return nil, code
	}
	if len(s.Listen) == 0 && len(s.SSLListen) == 0 && s.Socket == "" {
		s.Listen = []string{"127.0.0.1:783"}
	}
	if d.Hostname == "" {
		d.Hostname, _ = os.Hostname()
	}
	return cfg, -1
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// valueOr is *p, or def when p is nil.
func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// versionText is what gospamd version, gospamd --version and gospamd
// learn --version print.
func versionText() string {
	return fmt.Sprintf("gospamd version %s\n  running on Go %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
