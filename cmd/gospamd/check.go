package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// runCheck scans one message from standard input and prints it marked up
// as it would be delivered, followed by the report (like spamassassin
// -t), or with --summary just the verdict, the score and the rules hit.
func runCheck(ctx context.Context, env *cliEnv, args []string) int {
	fs := pflag.NewFlagSet("gospamd check", pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	dbpath := fs.String("dbpath", defaultDBPath(), "the Bayes store `DIR`ectory")
	configDir := fs.String("config", "", "site policy `DIR` (every *.cf in name order)")
	required := fs.Float64("required-score", 5.0, "score at or above which the message is spam (overrides the policy)")
	summary := fs.Bool("summary", false, "print only the verdict, the score and the rules hit, not the marked-up message")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	raw, err := io.ReadAll(env.stdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: read message: %v\n", err)
		return exitFatal
	}
	pol, diags, err := rules.LoadPolicy(ctx, *configDir)
	for _, d := range diags {
		fmt.Fprintln(env.stderr, d.String())
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitFatal
	}
	hostname, _ := os.Hostname()
	opt, markup := rules.OptionsFromPolicy(pol, hostname)
	if fs.Changed("required-score") {
		opt.RequiredScore = *required
	}
	if store, err := openStore(*dbpath, env.log, true); err == nil {
		defer store.Close()
		opt.Bayes = store
	} else {
		env.log.Warn("scanning without Bayes", "err", err)
	}
	eng, err := rules.New(opt)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitFatal
	}
	m := tokenizer.Parse(raw)
	res, err := eng.Check(ctx, m, rules.CheckOptions{})
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitFatal
	}
	if !*summary {
		// Like spamassassin -t: the message as it would be delivered,
		// then the report.
		if _, err := env.stdout.Write(markup.Rewrite(raw, res, m)); err != nil {
			return exitFatal
		}
		fmt.Fprint(env.stdout, "\n"+markup.Report(res, m))
		return exitOK
	}
	verdict := "ham"
	if res.IsSpam() {
		verdict = "spam"
	}
	fmt.Fprintf(env.stdout, "%s %.1f/%.1f\n", verdict, res.Score, res.Required)
	for _, h := range res.Hits {
		fmt.Fprintf(env.stdout, "%6.1f %-22s %s\n", h.Score, h.Rule, h.Description)
	}
	if res.BayesRan {
		fmt.Fprintf(env.stdout, "bayes %.4f\n", res.Bayes)
	}
	return exitOK
}
