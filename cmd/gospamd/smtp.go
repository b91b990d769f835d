package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/mta"
)

// smtpShutdownTimeout is how long SMTP sessions in flight may run on
// after the daemon is told to stop.
const smtpShutdownTimeout = 30 * time.Second

// listenSMTP opens the SMTP front end's listener (cfg.Listen, after
// cfg.Validate).
func listenSMTP(ctx context.Context, cfg mta.Config) (net.Listener, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("smtp: listen on %s: %w", cfg.Listen, err)
	}
	return l, nil
}

// attachSMTP serves the SMTP front end (the daemon config's [smtp]
// section) on l, scanning through the daemon's service and learning
// spam-trap mail through its writer. It stops when the daemon shuts
// down: new connections are refused at once, sessions in flight get
// smtpShutdownTimeout to finish their message.
//
// Its dnsbl_reject lists are looked up with the daemon's [dns] resolver
// (the network tests' cache), by default within its timeout.
func (d *daemon) attachSMTP(cfg mta.Config, l net.Listener) error {
	deps := mta.Deps{
		Scanner: d.service,
		Teller:  d.service,
		Logger:  d.log.With("frontend", "smtp"),
		Metrics: newSMTPMetrics(d.registry),
	}
	if d.resolver != nil {
		deps.DNSBL = d.resolver // not a nil *Resolver in the interface
		if cfg.DNSBLTimeout == 0 {
			cfg.DNSBLTimeout = confval.Duration(d.resolver.Config().Timeout)
		}
	}
	srv, err := mta.NewServer(cfg, deps)
	if err != nil {
		return err
	}
	cfg = srv.Config()
	d.smtpServers = append(d.smtpServers, srv)
	d.log.Info("gospamd SMTP listening", "addr", l.Addr().String(), "domains", cfg.Domains, "routes", cfg.Routes,
		"next_hop", cfg.NextHop, "dnsbl_reject", cfg.DNSBLReject)
	d.run("smtp on "+l.Addr().String(), func() error {
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		select {
		case err := <-served:
			return err
		case <-d.runCtx.Done():
		}
		ctx, cancel := context.WithTimeout(context.Background(), smtpShutdownTimeout)
		defer cancel()
		return errors.Join(srv.Shutdown(ctx), <-served)
	})
	return nil
}

// smtpMetrics counts the SMTP front end's outcomes on the daemon's
// registry.
type smtpMetrics struct {
	messages *prometheus.CounterVec
	filed    *prometheus.CounterVec
}

func newSMTPMetrics(reg *prometheus.Registry) *smtpMetrics {
	m := &smtpMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gospamd_smtp_messages_total",
			Help: "SMTP messages by result (accepted, rejected, deferred) and reason."}, []string{"result", "reason"}),
		filed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gospamd_smtp_filed_total",
			Help: "Recipients' copies by filing (inbox, junk, drop, trap)."}, []string{"filing"}),
	}
	m.messages = registerOrExisting(reg, m.messages)
	m.filed = registerOrExisting(reg, m.filed)
	return m
}

func registerOrExisting(reg *prometheus.Registry, c *prometheus.CounterVec) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return old
			}
		}
	}
	return c
}

func (m *smtpMetrics) SMTPMessage(result, reason string) {
	m.messages.WithLabelValues(result, reason).Inc()
}

func (m *smtpMetrics) SMTPFiled(filing string) { m.filed.WithLabelValues(filing).Inc() }
