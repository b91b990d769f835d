package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/scan"
	"github.com/gospamd/gospamd/spamdproto"
)

// serveFlags are the daemon's options, named after spamd's where spamd
// has one.
type serveFlags struct {
	listen       []string
	socket       string
	allowedIPs   string
	dbpath       string
	maxChildren  int
	maxSize      int64
	timeoutTCP   time.Duration
	timeoutChild time.Duration
	allowTell    bool
	bayesScope   string
	required     float64
	hostname     string
	logLevel     string
	metrics      string
	configDir    string
	prefsDir     string
	requiredSet  bool
	maxSizeSet   bool // --max-size given: it overrides max_message_size
	ssl          bool
	sslListen    []string
	sslCert      string
	sslKey       string
}

func runServe(ctx context.Context, env *cliEnv, args []string) int {
	var f serveFlags
	fs := pflag.NewFlagSet("gospamd serve", pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.SortFlags = false
	fs.StringArrayVar(&f.listen, "listen", nil, "TCP `ADDR:PORT` to listen on; repeatable (default 127.0.0.1:783)")
	fs.StringVar(&f.socket, "socket", "", "also listen on the UNIX socket at `PATH`")
	fs.StringVar(&f.allowedIPs, "allowed-ips", "127.0.0.0/8,::1/128", "comma-separated networks whose TCP clients are served (spamd -A)")
	fs.StringVar(&f.dbpath, "dbpath", defaultDBPath(), "the Bayes store `DIR`ectory")
	fs.StringVar(&f.configDir, "config", "", "site policy `DIR`: every *.cf (and *.cf/ fragments) in name order; SIGHUP rereads it")
	fs.StringVar(&f.prefsDir, "user-prefs-dir", "", "per-user preferences: `DIR`/<User>/user_prefs (spamd's virtual config dir)")
	fs.IntVar(&f.maxChildren, "max-children", spamdproto.DefaultMaxConns, "requests served at once; more wait, then get EX_TEMPFAIL")
	fs.Int64Var(&f.maxSize, "max-size", 512000, "largest message scanned, in bytes; larger ones are answered unscanned (default: the policy's max_message_size)")
	fs.DurationVar(&f.timeoutTCP, "timeout-tcp", spamdproto.DefaultReadTimeout, "time allowed to read a request")
	fs.DurationVar(&f.timeoutChild, "timeout-child", spamdproto.DefaultScanTimeout, "time allowed to scan a message")
	fs.BoolVar(&f.allowTell, "allow-tell", false, "accept TELL (spamc -L/-C) to learn and forget")
	fs.StringVar(&f.bayesScope, "bayes-scope", "global", "global: one Bayes database; user: one per request User")
	fs.Float64Var(&f.required, "required-score", 5.0, "score at or above which a message is spam (overrides the policy's required_score)")
	fs.StringVar(&f.hostname, "hostname", "", "host name in X-Spam-Checker-Version (default: this host's)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&f.ssl, "ssl", false, "serve TLS (spamc -S) on every --listen address")
	fs.StringArrayVar(&f.sslListen, "ssl-listen", nil, "TCP `ADDR:PORT` serving TLS only, beside the plain --listen ones; repeatable")
	fs.StringVar(&f.sslCert, "ssl-cert", "", "TLS certificate `FILE` (PEM)")
	fs.StringVar(&f.sslKey, "ssl-key", "", "TLS private key `FILE` (PEM)")
	fs.StringVar(&f.metrics, "metrics-listen", "", "serve Prometheus metrics at http://`ADDR:PORT`/metrics")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	f.requiredSet = fs.Changed("required-score")
	f.maxSizeSet = fs.Changed("max-size")
	log, err := serveLogger(env, f.logLevel)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd serve: %v\n", err)
		return exitUsage
	}
	nets, err := parseNets(f.allowedIPs)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd serve: --allowed-ips: %v\n", err)
		return exitUsage
	}
	if f.bayesScope != "global" && f.bayesScope != "user" {
		fmt.Fprintf(env.stderr, "gospamd serve: --bayes-scope must be global or user\n")
		return exitUsage
	}
	if (f.ssl || len(f.sslListen) > 0) && (f.sslCert == "" || f.sslKey == "") {
		fmt.Fprintln(env.stderr, "gospamd serve: TLS needs --ssl-cert and --ssl-key")
		return exitUsage
	}
	if len(f.listen) == 0 && len(f.sslListen) == 0 && f.socket == "" {
		f.listen = []string{"127.0.0.1:783"}
	}
	if f.hostname == "" {
		f.hostname, _ = os.Hostname()
	}
	if err := serve(ctx, env, log, &f, nets); err != nil {
		log.Error("gospamd serve stopped", "err", err)
		return exitFatal
	}
	return exitOK
}

func serveLogger(env *cliEnv, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: l})), nil
}

func parseNets(list string) ([]netip.Prefix, error) {
	var nets []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		nets = append(nets, p.Masked())
	}
	return nets, nil
}

// serve runs the daemon until ctx is done (SIGINT/SIGTERM), then drains
// the requests in flight.
func serve(ctx context.Context, env *cliEnv, log *slog.Logger, f *serveFlags, nets []netip.Prefix) (err error) {
	set := daemonSettings{dbpath: f.dbpath, scan: scan.Config{
		PolicyDir:    f.configDir,
		UserPrefsDir: f.prefsDir,
		PerUserBayes: f.bayesScope == "user",
		Hostname:     f.hostname,
	}}
	if f.requiredSet {
		set.scan.RequiredScore = &f.required
	}
	if f.maxSizeSet {
		set.scan.MaxMessageSize = f.maxSize
	}
	d, err := openDaemon(ctx, log, set)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.close()) }()
	if f.metrics != "" {
		if err := serveMetrics(ctx, f.metrics, d.registry, log); err != nil {
			return err
		}
	}
	// Take SIGHUP before anything listens, so that a reload signal sent
	// once the daemon answers never kills it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	listeners, err := spamdListeners(ctx, f)
	if err != nil {
		return err
	}
	d.attachSpamd(spamdproto.Config{
		AllowedNets:    nets,
		MaxMessageSize: d.service.MaxMessageSize(), // the policy read at start, or --max-size
		ReadTimeout:    f.timeoutTCP,
		ScanTimeout:    f.timeoutChild,
		MaxConns:       f.maxChildren,
	}, f.allowTell, listeners...)
	if err := d.attachAdmin(); err != nil {
		return errors.Join(err, d.shutdown(ctx))
	}
	if env.onListen != nil {
		for _, l := range listeners {
			env.onListen(l.Addr())
		}
	}
	go func() {
		for range hup {
			d.reload()
		}
	}()

	err = d.wait(ctx)
	log.Info("gospamd shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return errors.Join(err, d.shutdown(shutdownCtx))
}

// spamdListeners opens the spamd listeners the flags ask for: plain TCP
// (TLS with --ssl), TLS-only, and a UNIX socket.
func spamdListeners(ctx context.Context, f *serveFlags) (listeners []net.Listener, err error) {
	defer func() {
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
		}
	}()
	var tlsConf *tls.Config
	if f.sslCert != "" {
		if tlsConf, err = spamdproto.ServerTLSConfig(f.sslCert, f.sslKey); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	listen := func(addr string, useTLS bool) error {
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		if useTLS {
			l = tls.NewListener(l, tlsConf)
		}
		listeners = append(listeners, l)
		return nil
	}
	for _, addr := range f.listen {
		if err := listen(addr, f.ssl); err != nil {
			return listeners, err
		}
	}
	for _, addr := range f.sslListen {
		if err := listen(addr, true); err != nil {
			return listeners, err
		}
	}
	if f.socket != "" {
		_ = os.Remove(f.socket) // a socket left by a previous run
		l, err := lc.Listen(ctx, "unix", f.socket)
		if err != nil {
			return listeners, fmt.Errorf("listen on %s: %w", f.socket, err)
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}
