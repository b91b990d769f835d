package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/scan"
)

// attachIMAPTrainer runs the IMAP folder trainer of the [imap] section
// as a front end of the daemon: a pass at once and then every
// poll_interval, learning through the scan service's Tell (the daemon's
// single writer, the user's own scope with bayes_scope user, the
// policy's token options, reloaded with it). An empty [imap] section
// leaves it off. cfg is validated here.
func (d *daemon) attachIMAPTrainer(cfg imaptrain.Config) error {
	if !cfg.Enabled() {
		return nil
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	tr, err := imaptrain.New(cfg, imaptrain.Options{
		Learner: tellLearner{d.service},
		Logger:  d.log,
		Metrics: newIMAPMetrics(d.registry),
	})
	if err != nil {
		return err
	}
	d.trainer = tr
	d.log.Info("imap trainer started", "server", cfg.Server, "accounts", len(cfg.Accounts)+len(cfg.Users),
		"poll_interval", time.Duration(cfg.PollInterval))
	d.run("imap trainer", func() error { return tr.Run(d.runCtx) })
	return nil
}

// tellLearner learns through the scan service, as spamc -L does.
type tellLearner struct{ svc *scan.Service }

func (l tellLearner) Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error) {
	action := scan.TellHam
	if class == classifier.Spam {
		action = scan.TellSpam
	}
	return l.svc.Tell(ctx, &scan.TellRequest{User: user, Message: raw, Action: action})
}

// imapMetrics implements imaptrain.Metrics with Prometheus collectors.
// The user label is bounded by the accounts of the config file.
type imapMetrics struct {
	learned  *prometheus.CounterVec
	failures *prometheus.CounterVec
	pass     prometheus.Histogram
}

func newIMAPMetrics(reg prometheus.Registerer) *imapMetrics {
	m := &imapMetrics{
		learned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gospamd_imap_learned_total", Help: "Messages taken from IMAP learn folders, by account, class and result (learned, already learned, relearned).",
		}, []string{"user", "class", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gospamd_imap_failures_total", Help: "IMAP trainer failures by account: messages left in place (fetch, learn) and accounts not trained (account).",
		}, []string{"user", "what"}),
		pass: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gospamd_imap_pass_seconds", Help: "Time of one IMAP trainer pass over every account.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
	}
	reg.MustRegister(m.learned, m.failures, m.pass)
	return m
}

func (m *imapMetrics) Learned(user string, class classifier.Class, r classifier.Result) {
	m.learned.WithLabelValues(user, class.String(), r.String()).Inc()
}
func (m *imapMetrics) Failed(user, what string) { m.failures.WithLabelValues(user, what).Inc() }
func (m *imapMetrics) PassDone(d time.Duration) { m.pass.Observe(d.Seconds()) }
