package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
)

// The web panel is on when the daemon config has a [panel] section (see
// panel.Config for its keys). serve builds its scan log before the
// daemon, so that the scan service reports every scan to it, and
// attaches it once the other front ends run.

// attachPanel serves the web panel of cfg over the daemon's parts.
func (d *daemon) attachPanel(ctx context.Context, cfg panel.Config, file string, policyDir string, perUserBayes bool) error {
	deps := panel.Deps{
		Version:          version,
		Started:          d.started,
		Store:            d.store,
		Exclusive:        d.writer.Exclusive,
		Learner:          tellLearner{d.service},
		PerUserBayes:     perUserBayes,
		Scans:            d.scans,
		Reload:           d.reloadPolicy,
		PolicyDir:        policyDir,
		DaemonConfigFile: file,
		Logger:           d.log,
	}
	if d.resolver != nil {
		deps.DNS = func() []panel.ZoneHealth { return dnsHealth(d.registry) }
	}
	// The Policy page: the daemon settings under its overlay, and the
	// policy loaded as the daemon loads it (with the network plugins
	// when [dns] is on).
	deps.PolicyDaemon, deps.SMTP = d.panelBase, d.panelSMTP
	if d.resolver != nil {
		net := netCheckerOn(d.resolver, d.log)
		deps.PolicyLoad = func(ctx context.Context, dir string) (*cf.Policy, []cf.Diagnostic, error) {
			return rules.LoadPolicyFor(ctx, dir, net)
		}
	}
	if d.trainer != nil {
		deps.Training = d.trainer
	}
	srv, err := panel.New(cfg, deps)
	if err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("panel: listen on %s: %w", cfg.Listen, err)
	}
	d.run("panel on "+l.Addr().String(), func() error { return srv.Serve(d.runCtx, l) })
	return nil
}

// dnsHealth reads the resolver's query counters from the registry: the
// queries, timeouts and other failures of each list zone.
func dnsHealth(g prometheus.Gatherer) []panel.ZoneHealth {
	families, err := g.Gather()
	if err != nil {
		return nil
	}
	zones := map[string]*panel.ZoneHealth{}
	for _, f := range families {
		if f.GetName() != "gospamd_dns_queries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var zone, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "zone":
					zone = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			z := zones[zone]
			if z == nil {
				z = &panel.ZoneHealth{Zone: zone}
				zones[zone] = z
			}
			n := int64(m.GetCounter().GetValue())
			z.Queries += n
			switch outcome {
			case "timeout":
				z.Timeouts += n
			case "servfail", "error":
				z.Errors += n
			}
		}
	}
	out := make([]panel.ZoneHealth, 0, len(zones))
	for _, z := range zones {
		out = append(out, *z)
	}
	slices.SortFunc(out, func(a, b panel.ZoneHealth) int { return strings.Compare(a.Zone, b.Zone) })
	return out
}

// runPanelPassword reads a password from standard input (its first
// line) and prints its bcrypt hash, for [panel] password_file.
func runPanelPassword(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "gospamd panel-password")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: gospamd panel-password < password-file > hash-file")
		fmt.Fprintln(env.stderr, "Reads a password from standard input (its first line) and prints its bcrypt hash")
		fmt.Fprintln(env.stderr, "for the [panel] password_file or readonly_password_file of the daemon config.")
	}
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "gospamd panel-password: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	line, err := bufio.NewReader(env.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(env.stderr, "gospamd panel-password: no password on standard input")
		return exitUsage
	}
	hash, err := panel.HashPassword([]byte(strings.TrimRight(line, "\r\n")))
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd panel-password: %v\n", err)
		return exitUsage
	}
	fmt.Fprintln(env.stdout, hash)
	return exitOK
}
