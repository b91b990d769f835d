package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// runCheck scans one message from standard input and prints the verdict,
// the score and the rules hit.
func runCheck(ctx context.Context, env *cliEnv, args []string) int {
	fs := pflag.NewFlagSet("gospamd check", pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	dbpath := fs.String("dbpath", defaultDBPath(), "the Bayes store `DIR`ectory")
	configDir := fs.String("config", "", "site policy `DIR` (every *.cf in name order)")
	required := fs.Float64("required-score", 5.0, "score at or above which the message is spam (overrides the policy)")
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
	opt, _ := rules.OptionsFromPolicy(pol, "")
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
	res, err := eng.Check(ctx, tokenizer.Parse(raw), rules.CheckOptions{})
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd check: %v\n", err)
		return exitFatal
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
