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
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/learn/admin"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
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
	if err := serve(ctx, log, &f, nets); err != nil {
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

// serve runs the daemon until ctx is done (SIGINT/SIGTERM), then drains.
func serve(ctx context.Context, log *slog.Logger, f *serveFlags, nets []netip.Prefix) (err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := newDaemonMetrics(reg)
	if f.metrics != "" {
		if err := serveMetrics(ctx, f.metrics, reg, log); err != nil {
			return err
		}
	}
	store, err := openStoreWith(f.dbpath, classifier.Options{Logger: log, Metrics: metrics})
	if err != nil {
		return err
	}
	writer := learn.NewWriter(store, learn.WriterOptions{Logger: log, Metrics: metrics})
	defer func() {
		if cerr := writer.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()

	perUser := f.bayesScope == "user"
	scanner := &spamdScanner{perUser: perUser, inFlight: metrics.inFlight, writer: writer, seen: store, prefsDir: f.prefsDir, log: log}
	var policyMaxSize int64
	load := func() (rules.Options, error) {
		pol, diags, err := rules.LoadPolicy(ctx, f.configDir)
		for _, d := range diags {
			if d.Severity <= cf.SeverityWarning {
				log.Warn("policy", "diagnostic", d.String())
			}
		}
		if err != nil {
			return rules.Options{}, err
		}
		opt, markup := rules.OptionsFromPolicy(pol, f.hostname)
		opt.Bayes = store
		policyMaxSize = pol.Settings().MaxMessageSize
		if f.requiredSet {
			opt.RequiredScore = f.required
		}
		engine, err := rules.New(opt)
		if err != nil {
			return rules.Options{}, err
		}
		scanner.policy.Store(&scanPolicy{engine: engine, markup: markup, learnTokens: learnTokenOptions(opt.TokenOptions)})
		return opt, nil
	}
	opt, err := load()
	if err != nil {
		return err
	}
	// The size limit is the server's, set once: max_message_size as the
	// policy read at start says, unless --max-size overrides it.
	maxSize := f.maxSize
	if !f.maxSizeSet && policyMaxSize > 0 {
		maxSize = policyMaxSize
	}
	var teller spamdproto.Teller
	if f.allowTell {
		teller = &spamdTeller{writer: writer, tokens: opt.TokenOptions, perUser: perUser}
	}
	srv := spamdproto.NewServer(spamdproto.Config{
		AllowedNets:    nets,
		MaxMessageSize: maxSize,
		ReadTimeout:    f.timeoutTCP,
		ScanTimeout:    f.timeoutChild,
		MaxConns:       f.maxChildren,
		Logger:         log,
		Metrics:        metrics,
	}, scanner, teller)

	// Take SIGHUP before anything listens, so that a reload signal sent
	// once the daemon answers never kills it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	var lc net.ListenConfig
	var tlsConf *tls.Config
	if f.sslCert != "" {
		if tlsConf, err = spamdproto.ServerTLSConfig(f.sslCert, f.sslKey); err != nil {
			return err
		}
	}
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
			closeAll()
			return err
		}
	}
	for _, addr := range f.sslListen {
		if err := listen(addr, true); err != nil {
			closeAll()
			return err
		}
	}
	if f.socket != "" {
		_ = os.Remove(f.socket) // a socket left by a previous run
		l, err := lc.Listen(ctx, "unix", f.socket)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen on %s: %w", f.socket, err)
		}
		listeners = append(listeners, l)
	}

	// The admin socket through which gospamd learn reaches the store
	// while this daemon owns it.
	adminPath := admin.SocketPath(f.dbpath)
	_ = os.Remove(adminPath) // left by a daemon that was killed
	adminL, err := lc.Listen(ctx, "unix", adminPath)
	if err != nil {
		closeAll()
		return fmt.Errorf("listen on admin socket: %w", err)
	}
	if err := os.Chmod(adminPath, 0o600); err != nil {
		closeAll()
		adminL.Close()
		return fmt.Errorf("admin socket: %w", err)
	}
	adminSvc := &admin.Service{Store: store, Writer: writer, Params: opt.BayesParams, Logger: log}
	adminDone := make(chan struct{})
	go func() {
		defer close(adminDone)
		if err := adminSvc.Serve(ctx, adminL); err != nil {
			log.Error("admin socket stopped", "err", err)
		}
	}()
	defer func() {
		<-adminDone
		_ = os.Remove(adminPath)
	}()

	go func() {
		for range hup {
			if opt, err := load(); err != nil {
				log.Error("SIGHUP: new policy refused, keeping the old one", "err", err)
			} else {
				log.Info("SIGHUP: policy reloaded", "config", f.configDir, "required_score", opt.RequiredScore)
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, len(listeners))
	for _, l := range listeners {
		log.Info("gospamd listening", "addr", l.Addr().String(), "dbpath", f.dbpath, "tell", f.allowTell)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ctx, l); err != nil && !errors.Is(err, spamdproto.ErrServerClosed) {
				errs <- fmt.Errorf("serve %s: %w", l.Addr(), err)
			}
		}()
	}
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log.Info("gospamd shutting down: draining requests")
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, serr)
	}
	wg.Wait()
	return err
}
