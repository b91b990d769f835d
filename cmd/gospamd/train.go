package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
)

// loadTrainConfig reads the daemon config file named by --daemon-config
// (or the system one), checked as serve checks it, and requires an
// [imap] section with accounts.
func loadTrainConfig(env *cliEnv, args []string) (*daemonConfig, error) {
	path, given, err := daemonConfigArg(args)
	if err != nil {
		return nil, err
	}
	if !given && env.daemonConfigDefault == "" {
		return nil, errors.New("no daemon config file: give --daemon-config FILE with an [imap] section")
	}
	cfg, err := loadCommandConfig(env, args)
	if err != nil {
		return nil, err
	}
	if !given {
		path = env.daemonConfigDefault
	}
	if cfg.IMAP == nil || !cfg.IMAP.Enabled() {
		return nil, fmt.Errorf("%s: the [imap] section names no accounts", path)
	}
	return cfg, nil
}

// runTrain is gospamd train: the IMAP folder trainer in the foreground,
// or one pass with --once (for cron, as SME Server's job runs). It
// learns into the store itself, or through the running daemon's admin
// socket when the daemon owns the store. With --once it prints the
// per-user report and exits 1 when an account failed or a message could
// not be learned.
func runTrain(ctx context.Context, env *cliEnv, args []string) int {
	const name = "gospamd train"
	fs := newFlagSet(env, name)
	registerDaemonConfigFlag(fs, env)
	once := fs.Bool("once", false, "one pass over every account, print the report, exit (non-zero when anything failed)")
	dbpath := fs.String("dbpath", "", "the Bayes store `DIR`ectory (default: the config's [store] dbpath)")
	policyDir := fs.String("config", "", "site policy `DIR` (default: the config's [policy] dir)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: %s --daemon-config FILE [--once]\n\nLearns the messages of the [imap] section's learn folders, then removes them.\n\n", name)
		fs.PrintDefaults()
	}
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return exitUsage
	}
	log, err := serveLogger(env, *logLevel)
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
		return exitUsage
	}
	cfg, err := loadTrainConfig(env, args)
	if err != nil {
		printConfigErrors(env, name, err)
		return exitConfig
	}
	if fs.Changed("dbpath") {
		cfg.Store.DBPath = *dbpath
	}
	if fs.Changed("config") {
		cfg.Policy.Dir = *policyDir
	}

	pol, diags, err := rules.LoadPolicy(ctx, cfg.Policy.Dir)
	for _, d := range diags {
		if d.Severity <= cf.SeverityWarning {
			fmt.Fprintln(env.stderr, d.String())
		}
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
		return exitFatal
	}
	engineOpt, _ := rules.OptionsFromPolicy(pol, "")
	bayes, err := openAdmin(ctx, specFor(cfg.Store, cfg.Store.DBPath, cfg.Policy.Dir), log, false, false)
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
		return exitFatal
	}
	defer func() {
		if err := bayes.Close(); err != nil {
			fmt.Fprintf(env.stderr, "%s: close bayes store: %v\n", name, err)
		}
	}()
	tr, err := imaptrain.New(*cfg.IMAP, imaptrain.Options{
		Learner: &imaptrain.SubmitLearner{Submitter: bayes, TokenOptions: rules.LearnTokenOptions(engineOpt.TokenOptions),
			PerUser: cfg.Policy.BayesScope == "user"},
		Logger: log,
	})
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
		return exitFatal
	}
	if !*once {
		if err := tr.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
			return exitFatal
		}
		return exitOK
	}
	rep, err := tr.Pass(ctx)
	if werr := rep.WriteTable(env.stdout); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
		return exitFatal
	}
	if err := tr.Report(ctx, rep); err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
	}
	if rep.Failed() {
		return exitFail
	}
	return exitOK
}
