package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gospamd/gospamd/scan"
	"github.com/gospamd/gospamd/spamdproto"
)

// runServe runs the daemon as the daemon config file and the flags say
// (see parseServeArgs).
func runServe(ctx context.Context, env *cliEnv, args []string) int {
	cfg, code := parseServeArgs(env, args)
	if code >= 0 {
		return code
	}
	log, err := serveLogger(env, cfg.Daemon.LogLevel)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd serve: %v\n", err)
		return exitUsage
	}
	if err := serve(ctx, env, log, cfg); err != nil {
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

// serve runs the daemon until ctx is done (SIGINT/SIGTERM), then drains
// the requests in flight.
func serve(ctx context.Context, env *cliEnv, log *slog.Logger, cfg *daemonConfig) (err error) {
	set := daemonSettings{dbpath: cfg.Store.DBPath, scan: scan.Config{
		PolicyDir:     cfg.Policy.Dir,
		UserPrefsDir:  cfg.Policy.UserPrefsDir,
		PerUserBayes:  cfg.Policy.BayesScope == "user",
		Hostname:      cfg.Daemon.Hostname,
		RequiredScore: cfg.Policy.RequiredScore,
	}}
	if cfg.Spamd.MaxSize != nil {
		set.scan.MaxMessageSize = *cfg.Spamd.MaxSize
	}
	nets, err := cfg.Spamd.allowedNets()
	if err != nil {
		return err
	}
	d, err := openDaemon(ctx, log, set)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.close()) }()
	if cfg.Daemon.MetricsListen != "" {
		if err := serveMetrics(ctx, cfg.Daemon.MetricsListen, d.registry, log); err != nil {
			return err
		}
	}
	// Take SIGHUP before anything listens, so that a reload signal sent
	// once the daemon answers never kills it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	listeners, err := spamdListeners(ctx, &cfg.Spamd)
	if err != nil {
		return err
	}
	d.attachSpamd(spamdproto.Config{
		AllowedNets:    nets,
		MaxMessageSize: d.service.MaxMessageSize(), // the policy read at start, or --max-size
		ReadTimeout:    cfg.Spamd.TimeoutTCP.std(),
		ScanTimeout:    cfg.Spamd.TimeoutChild.std(),
		MaxConns:       cfg.Spamd.MaxChildren,
		MaxOpenConns:   cfg.Spamd.MaxConnections,
		MaxConnsPerIP:  cfg.Spamd.MaxConnectionsPerIP,
	}, cfg.Spamd.AllowTell, listeners...)
	if err := d.attachAdmin(); err != nil {
		return errors.Join(err, d.shutdown(ctx))
	}
	if cfg.IMAP != nil && cfg.IMAP.Enabled() {
		if err := d.attachIMAPTrainer(*cfg.IMAP); err != nil {
			return errors.Join(err, d.shutdown(ctx))
		}
	}
	if cfg.SMTP != nil {
		l, err := listenSMTP(ctx, *cfg.SMTP)
		if err == nil {
			if err = d.attachSMTP(*cfg.SMTP, l); err != nil {
				_ = l.Close()
			}
		}
		if err != nil {
			return errors.Join(err, d.shutdown(ctx))
		}
		listeners = append(listeners, l)
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
func spamdListeners(ctx context.Context, f *spamdConfig) (listeners []net.Listener, err error) {
	defer func() {
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
		}
	}()
	var tlsConf *tls.Config
	if f.TLSCert != "" {
		if tlsConf, err = spamdproto.ServerTLSConfig(f.TLSCert, f.TLSKey); err != nil {
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
	for _, addr := range f.Listen {
		if err := listen(addr, f.SSL); err != nil {
			return listeners, err
		}
	}
	for _, addr := range f.SSLListen {
		if err := listen(addr, true); err != nil {
			return listeners, err
		}
	}
	if f.Socket != "" {
		_ = os.Remove(f.Socket) // a socket left by a previous run
		l, err := lc.Listen(ctx, "unix", f.Socket)
		if err != nil {
			return listeners, fmt.Errorf("listen on %s: %w", f.Socket, err)
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}
