package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/learn/admin"
	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/panel/policyedit"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/scan"
	"github.com/gospamd/gospamd/spamdproto"
)

// A daemon is one running gospamd: the Bayes store, its single writer,
// the scan service, the metrics and the admin socket, built once. Front
// ends attach to it with a listener each (spamd now; SMTP and the IMAP
// trainer next) and all scan through the one service.
//
// # Lifetime
//
// openDaemon builds it; attach* start front ends; shutdown stops them,
// draining requests in flight; close releases the writer and the store.
type daemon struct {
	log      *slog.Logger
	dbpath   string
	redis    bool // the store is a Redis store (no directory, no admin socket)
	registry *prometheus.Registry
	metrics  *daemonMetrics
	store    classifier.Backend
	writer   *learn.Writer
	service  *scan.Service
	// resolver is the [dns] section's, shared by the network tests and
	// the SMTP front end's blocklists; nil without [dns].
	resolver *resolver.Resolver

	// runCtx is the front ends' context: it ends after shutdown has
	// drained them, not with the signal that starts the shutdown.
	runCtx  context.Context
	stopRun context.CancelFunc
	wg      sync.WaitGroup
	errs    chan error // a front end that stopped on its own
	spamd   []*spamdproto.Server
	// tlsCert is the spamd TLS listeners' certificate, reread on reload;
	// nil without TLS.
	tlsCert *spamdproto.TLSCertificate
	// started is when the daemon was opened (the panel's uptime).
	started time.Time
	// scans is the web panel's scan log, fed by the scan service; nil
	// without [panel].
	scans *panel.ScanLog
	// trainer is the IMAP trainer; nil without [imap].
	trainer *imaptrain.Trainer
	// smtpServers are the SMTP front ends: on reload the panel overlay
	// sets their junk sorting (and the trainer's junk retention);
	// panelOverlay is its file ("": none), panelBase the settings under it.
	smtpServers  []*mta.Server
	panelOverlay string
	panelBase    policyedit.Daemon
	panelSMTP    bool // the daemon config has [smtp]
}

// daemonSettings are what a daemon is built from.
type daemonSettings struct {
	store storeSpec
	scan  scan.Config // Store, Writer, Net, Logger and Metrics are filled in
	// dns turns the network tests on; nil scans with local tests only.
	dns *resolver.Config
	// scans, when set, is told of every scan (the web panel's log).
	scans *panel.ScanLog
}

// daemonMemTableSize is the Pebble memtable of the daemon's store: its
// writes are autolearn's and TELL's, a few messages a batch, so it
// needs less room than a bulk learn (classifier's default, 32 MiB), and
// a memtable's memory stays resident once written to.
const daemonMemTableSize = 8 << 20

// openDaemon opens the store, starts the writer and loads the policy.
func openDaemon(ctx context.Context, log *slog.Logger, set daemonSettings) (_ *daemon, err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d := &daemon{log: log, dbpath: set.store.store.DBPath, registry: reg, metrics: newDaemonMetrics(reg), errs: make(chan error, 16),
		started: time.Now(), scans: set.scans}
	d.runCtx, d.stopRun = context.WithCancel(context.WithoutCancel(ctx))
	d.store, err = openBayesStore(ctx, set.store, classifier.Options{Logger: log, Metrics: d.metrics, MemTableSize: daemonMemTableSize}, true)
	if err != nil {
		return nil, err
	}
	d.redis = !isPebble(d.store)
	d.writer = learn.NewWriter(d.store, learn.WriterOptions{Logger: log, Metrics: d.metrics})
	cfg := set.scan
	cfg.Store, cfg.Writer, cfg.Logger, cfg.Metrics = d.store, d.writer, log, d.metrics
	if !d.redis {
		// As many scans compute as there are cores; the rest queue
		// (scan.Config.MaxRunning). A Redis lookup would hold a core
		// while it waits on the network.
		cfg.MaxRunning = runtime.GOMAXPROCS(0)
	}
	if set.scans != nil {
		cfg.OnScan = set.scans.Observe
	}
	if d.resolver, err = newResolver(set.dns, log, reg); err != nil {
		return nil, errors.Join(err, d.close())
	}
	if d.resolver != nil {
		cfg.Net = netCheckerOn(d.resolver, log)
	}
	if d.service, err = scan.New(ctx, cfg); err != nil {
		return nil, errors.Join(err, d.close())
	}
	return d, nil
}

// run runs fn as a front end of the daemon until it returns; an error
// other than a clean stop ends the daemon (see wait).
func (d *daemon) run(name string, fn func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, spamdproto.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			select {
			case d.errs <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

// attachSpamd serves the spamd protocol on every listener with one
// server; teller nil refuses TELL.
func (d *daemon) attachSpamd(cfg spamdproto.Config, allowTell bool, ls ...net.Listener) {
	backend := spamdproto.Backend{Service: d.service}
	var teller spamdproto.Teller
	if allowTell {
		teller = backend
	}
	cfg.Logger, cfg.Metrics = d.log, d.metrics
	srv := spamdproto.NewServer(cfg, backend, teller)
	d.spamd = append(d.spamd, srv)
	for _, l := range ls {
		d.log.Info("gospamd listening", "addr", l.Addr().String(), "dbpath", d.dbpath, "tell", allowTell)
		d.run("spamd on "+l.Addr().String(), func() error { return srv.Serve(d.runCtx, l) })
	}
}

// attachAdmin serves the admin socket inside the store directory, through
// which gospamd learn reaches the store while this daemon owns it. The
// socket is removed when the daemon stops.
func (d *daemon) attachAdmin() error {
	if d.redis {
		// gospamd learn opens a Redis store itself.
		return nil
	}
	path := admin.SocketPath(d.dbpath)
	_ = os.Remove(path) // left by a daemon that was killed
	var lc net.ListenConfig
	l, err := lc.Listen(d.runCtx, "unix", path)
	if err != nil {
		return fmt.Errorf("listen on admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return fmt.Errorf("admin socket: %w", err)
	}
	svc := &admin.Service{Store: d.store, Writer: d.writer, Params: d.service.BayesParams(), Logger: d.log}
	d.run("admin socket", func() error {
		defer os.Remove(path)
		return svc.Serve(d.runCtx, l)
	})
	return nil
}

// reload rereads the policy and the spamd TLS certificate (SIGHUP); a
// broken one is refused and the running one kept.
func (d *daemon) reload() {
	_ = d.reloadPolicy(d.runCtx)
}

// reloadPolicy is reload returning the policy's error (the web panel's
// reload): the TLS certificate is reread too, and a refused certificate
// or policy is logged and the running one kept.
func (d *daemon) reloadPolicy(ctx context.Context) error {
	if d.tlsCert != nil {
		if err := d.tlsCert.Reload(); err != nil {
			d.log.Error("reload: new TLS certificate refused, keeping the old one", "err", err)
		} else {
			d.log.Info("reload: TLS certificate reloaded")
		}
	}
	d.reloadPanelOverlay()
	if err := d.service.Reload(ctx); err != nil {
		d.log.Error("reload: new policy refused, keeping the old one", "err", err)
		return err
	}
	lv, _ := d.service.LevelsFor("")
	d.log.Info("reload: policy reloaded", "required_score", lv.Tag, "reject_score", lv.Reject)
	return nil
}

// wait returns when ctx is done (nil) or a front end failed (its error).
func (d *daemon) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-d.errs:
		return err
	}
}

// shutdown stops the front ends, letting requests in flight finish until
// ctx ends (then they are cancelled), and waits for them.
func (d *daemon) shutdown(ctx context.Context) error {
	var err error
	for _, srv := range d.spamd {
		err = errors.Join(err, srv.Shutdown(ctx))
	}
	d.stopRun()
	d.wg.Wait()
	return err
}

// close stops the writer (after what is queued) and closes the store.
// Call it after shutdown.
func (d *daemon) close() error {
	d.stopRun()
	return errors.Join(d.writer.Close(), d.store.Close())
}
