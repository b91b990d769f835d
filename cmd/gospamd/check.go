package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/scan"
)

// runCheck scans one message from standard input and prints it marked up
// as it would be delivered, followed by the report (like spamassassin
// -t), or with --summary just the verdict, the score, what the front ends
// do with it (ham, tag, reject) and the rules hit.
func runCheck(ctx context.Context, env *cliEnv, args []string) int {
	dcfg, fs, code := commandFlags(env, "gospamd check", args)
	if code >= 0 {
		return code
	}
	registerDaemonConfigFlag(fs, env)
	dbpath := fs.String("dbpath", dcfg.Store.DBPath, "the Bayes store `DIR`ectory")
	configDir := fs.String("config", dcfg.Policy.Dir, "site policy `DIR` (every *.cf in name order)")
	required := fs.Float64("required-score", valueOr(dcfg.Policy.RequiredScore, 5.0), "score at or above which the message is spam (default: the policy's required_score)")
	summary := fs.Bool("summary", false, "print only the verdict, the score and the rules hit, not the marked-up message")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	raw, err := io.ReadAll(env.stdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: read message: %v\n", err)
		return exitFatal
	}
	hostname, _ := os.Hostname()
	cfg := scan.Config{
		PolicyDir:  *configDir,
		Hostname:   hostname,
		Diagnostic: func(d cf.Diagnostic) { fmt.Fprintln(env.stderr, d.String()) },
		Logger:     env.log,
	}
	if fs.Changed("required-score") || dcfg.Policy.RequiredScore != nil {
		cfg.RequiredScore = required
	}
	if store, err := openStore(ctx, specFor(dcfg.Store, *dbpath, *configDir), env.log, true); err == nil {
		defer store.Close()
		cfg.Store = store
	} else {
		env.log.Warn("scanning without Bayes", "err", err)
	}
	// The network tests run when the daemon config has a [dns] section,
	// as in the daemon.
	if cfg.Net, err = newNetChecker(dcfg.DNS, env.log, nil); err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitConfig
	}
	svc, err := scan.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitFatal
	}
	out, err := svc.Scan(ctx, &scan.Request{Message: raw})
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitFatal
	}
	res := out.Rules
	if !*summary {
		// Like spamassassin -t: the message as it would be delivered,
		// then the report.
		if _, err := env.stdout.Write(out.Rewritten()); err != nil {
			return exitFatal
		}
		fmt.Fprint(env.stdout, "\n"+out.Report())
		return exitOK
	}
	verdict := "ham"
	if res.IsSpam() {
		verdict = "spam"
	}
	// Then what the front ends do with it: ham, tag or reject (at the
	// policy's reject_score, when it has one).
	fmt.Fprintf(env.stdout, "%s %.1f/%.1f %s", verdict, res.Score, res.Required, out.Verdict)
	if out.Levels.Reject > 0 {
		fmt.Fprintf(env.stdout, " (reject at %.1f)", out.Levels.Reject)
	}
	fmt.Fprintln(env.stdout)
	for _, h := range res.Hits {
		fmt.Fprintf(env.stdout, "%6.1f %-22s %s\n", h.Score, h.Rule, h.Description)
	}
	if res.BayesRan {
		fmt.Fprintf(env.stdout, "bayes %.4f\n", res.Bayes)
	}
	return exitOK
}
