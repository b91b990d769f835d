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

	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/panel/policyedit"
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
	set := daemonSettings{store: specFor(cfg.Store, cfg.Store.DBPath, cfg.Policy.Dir), scan: scan.Config{
		PolicyDir:     cfg.Policy.Dir,
		UserPrefsDir:  cfg.Policy.UserPrefsDir,
		PerUserBayes:  cfg.Policy.BayesScope == "user",
		Hostname:      cfg.Daemon.Hostname,
		RequiredScore: cfg.Policy.RequiredScore,
	}, dns: cfg.DNS}
	if cfg.Panel != nil {
		set.scans = panel.NewScanLog(0)
	}
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
	d.panelOverlay, d.panelBase, d.panelSMTP = policyedit.OverlayPath(cfg.File), cfg.panelBase(), cfg.SMTP != nil
	if cfg.Daemon.MetricsListen != "" {
		metricsNets, err := cfg.metricsAllowedNets()
		if err != nil {
			return err
		}
		if err := serveMetrics(ctx, cfg.Daemon.MetricsListen, metricsNets, d.registry, log); err != nil {
			return err
		}
	}
	// Take SIGHUP before anything listens, so that a reload signal sent
	// once the daemon answers never kills it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	listeners, cert, err := spamdListeners(ctx, &cfg.Spamd)
	if err != nil {
		return err
	}
	d.tlsCert = cert
	d.attachSpamd(spamdproto.Config{
		AllowedNets:    nets,
		MaxMessageSize: d.service.MaxMessageSize(), // the policy read at start, or --max-size
		ReadTimeout:    cfg.Spamd.TimeoutTCP.Std(),
		ScanTimeout:    cfg.Spamd.TimeoutChild.Std(),
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
	if cfg.Panel != nil {
		if err := d.attachPanel(ctx, *cfg.Panel, cfg.File, cfg.Policy.Dir, cfg.Policy.BayesScope == "user"); err != nil {
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
// (TLS with --ssl), TLS-only, and a UNIX socket. cert, with a
// certificate configured, serves the TLS ones; reloading it (SIGHUP)
// changes the certificate their next connections get.
func spamdListeners(ctx context.Context, f *spamdConfig) (listeners []net.Listener, cert *spamdproto.TLSCertificate, err error) {
	defer func() {
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
		}
	}()
	var tlsConf *tls.Config
	if f.TLSCert != "" {
		if cert, err = spamdproto.NewTLSCertificate(f.TLSCert, f.TLSKey); err != nil {
			return nil, nil, err
		}
		tlsConf = cert.ServerConfig()
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
			return listeners, nil, err
		}
	}
	for _, addr := range f.SSLListen {
		if err := listen(addr, true); err != nil {
			return listeners, nil, err
		}
	}
	if f.Socket != "" {
		l, err := listenSocket(ctx, f.Socket, f.socketMode())
		if err != nil {
			return listeners, nil, err
		}
		listeners = append(listeners, l)
	}
	return listeners, cert, nil
}

// listenSocket listens on the UNIX socket at path and gives it mode, as
// spamd --socketpath and --socketmode do. What is at path already is
// replaced only when it is a socket no one answers on (left by a daemon
// that was killed); anything else (a file, a directory, a socket another
// daemon serves) is refused and left alone.
func listenSocket(ctx context.Context, path string, mode os.FileMode) (net.Listener, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("socket %s: %w", path, err)
	case fi.Mode().Type() != os.ModeSocket:
		return nil, fmt.Errorf("socket %s: exists and is not a socket (%s); not removing it", path, fileKind(fi.Mode()))
	default:
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(ctx, "unix", path); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("socket %s: already in use by a running daemon", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return nil, errors.Join(fmt.Errorf("socket %s: %w", path, err), l.Close())
	}
	return l, nil
}

// fileKind names the type of a file mode for an error message.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a socket"
}
