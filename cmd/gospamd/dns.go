package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/netcheck"
	"github.com/gospamd/gospamd/rules/resolver"
)

// The network tests (DNSBL, URIBL, SPF, DKIM, DMARC) are on when the
// daemon config has a [dns] section; its keys are resolver.Config's
// (servers, timeout, rbl_timeout, cache_size, min_ttl, max_ttl,
// negative_ttl). The policy's dns_server and rbl_timeout lines override
// servers and rbl_timeout. openDaemon and gospamd check build the checker
// with newNetChecker; the daemon's SMTP front end looks its dnsbl_reject
// lists up with the same resolver.

// newNetChecker builds the network tests from the [dns] section, with
// their metrics on reg (nil: none); a nil section gives nil (local tests
// only).
func newNetChecker(cfg *resolver.Config, log *slog.Logger, reg prometheus.Registerer) (rules.NetChecker, error) {
	res, err := newResolver(cfg, log, reg)
	if err != nil || res == nil {
		return nil, err
	}
	return netCheckerOn(res, log), nil
}

// newResolver builds the resolver of the [dns] section, with its metrics
// on reg (nil: none); a nil section gives nil. The daemon shares it
// between the network tests and the SMTP front end's dnsbl_reject, so
// that both use one cache.
func newResolver(cfg *resolver.Config, log *slog.Logger, reg prometheus.Registerer) (*resolver.Resolver, error) {
	if cfg == nil {
		return nil, nil
	}
	var m resolver.Metrics
	if reg != nil {
		pm, err := newDNSMetrics(reg)
		if err != nil {
			return nil, err
		}
		m = pm
	}
	res, err := resolver.New(*cfg, log, m)
	if err != nil {
		return nil, fmt.Errorf("[dns]: %w", err)
	}
	log.Info("network tests on", "servers", res.Servers(), "rbl_timeout", res.Config().RBLTimeout.Std())
	return res, nil
}

// netCheckerOn is the network tests on res.
func netCheckerOn(res *resolver.Resolver, log *slog.Logger) rules.NetChecker {
	return netcheck.New(res, netcheck.Options{Logger: log})
}

// dnsMetrics is resolver.Metrics on Prometheus.
type dnsMetrics struct {
	queries   *prometheus.CounterVec
	cacheHits *prometheus.CounterVec
	latency   prometheus.Histogram
}

func newDNSMetrics(reg prometheus.Registerer) (*dnsMetrics, error) {
	m := &dnsMetrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gospamd_dns_queries_total", Help: "DNS queries sent by the network tests, by list zone and outcome (answer, nxdomain, servfail, timeout, error).",
		}, []string{"zone", "outcome"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gospamd_dns_cache_hits_total", Help: "DNS lookups of the network tests answered from the cache, by list zone.",
		}, []string{"zone"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gospamd_dns_query_seconds", Help: "Time DNS queries of the network tests took, timeouts included.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}),
	}
	for _, c := range []prometheus.Collector{m.queries, m.cacheHits, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register dns metrics: %w", err)
		}
	}
	return m, nil
}

func (m *dnsMetrics) Query(zone string, o resolver.Outcome, elapsed time.Duration) {
	m.queries.WithLabelValues(zone, string(o)).Inc()
	m.latency.Observe(elapsed.Seconds())
}

func (m *dnsMetrics) CacheHit(zone string) { m.cacheHits.WithLabelValues(zone).Inc() }
