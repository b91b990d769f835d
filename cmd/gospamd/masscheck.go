package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/corpus"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
	"github.com/gospamd/gospamd/tokenizer"
)

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func runMassCheck(ctx context.Context, env *cliEnv, args []string) int {
	cfg, code := commandConfig(env, "gospamd masscheck", args)
	if code >= 0 {
		return code
	}
	fs := pflag.NewFlagSet("gospamd masscheck", pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.SortFlags = false
	var (
		ham, spam      []string
		dbpath         string
		scoresFile     string
		plotFile       string
		threshold      float64
		bayesThreshold float64
		folds          int
		seed           int64
		mbox           bool
		progress       bool
	)
	fs.StringArrayVar(&ham, "ham", nil, "ham corpus `PATH` (file, directory, Maildir or mbox); repeatable, and bare arguments after it are more paths")
	fs.StringArrayVar(&spam, "spam", nil, "spam corpus `PATH`; repeatable")
	fs.StringVar(&dbpath, "dbpath", cfg.Store.DBPath, "trained Bayes store to scan with (ignored with --folds)")
	fs.StringVar(&scoresFile, "scores", "", "write one line per message to `FILE.tsv`: label, score, bayes, path, tests")
	fs.StringVar(&plotFile, "plot", "", "draw the ham and spam score histograms into `FILE.svg`")
	fs.Float64Var(&threshold, "threshold", 5.0, "score at or above which a message counts as spam (default: the policy's required_score)")
	fs.Float64Var(&bayesThreshold, "bayes-threshold", 0.9, "Bayes probability at or above which a message counts as spam, for the Bayes-only summary")
	fs.IntVar(&folds, "folds", 0, "k-fold cross-validation with a fresh store per fold (0: use --dbpath)")
	fs.Int64Var(&seed, "seed", 1, "seed of the fold split")
	fs.BoolVar(&mbox, "mbox", false, "corpus files are mbox files")
	fs.BoolVar(&progress, "progress", true, "show progress on a terminal")
	configDir := fs.String("config", cfg.Policy.Dir, "site policy `DIR` (every *.cf in name order) on top of the built-in rules")
	fitFile := fs.String("fit-scores", "", "fit every rule's score to this corpus (use with --folds) and write them to `FILE.cf`")
	fitKeep := fs.StringSlice("fit-keep", []string{"GTUBE"}, "rules whose scores --fit-scores keeps as they are (check_bayes rules always are)")
	fitHamWeight := fs.Float64("fit-ham-weight", 10, "with --fit-scores: how much more a ham error costs than a spam error")
	registerDaemonConfigFlag(fs, env)
	if code := parseFlags(fs, expandCorpusArgs(args)); code >= 0 {
		return code
	}
	if len(ham) == 0 && len(spam) == 0 {
		fmt.Fprintln(env.stderr, "gospamd masscheck: give --ham and/or --spam corpus paths")
		return exitUsage
	}
	if folds == 1 || folds < 0 {
		fmt.Fprintln(env.stderr, "gospamd masscheck: --folds must be 0 or at least 2")
		return exitUsage
	}

	pol, diags, err := rules.LoadPolicy(ctx, *configDir)
	for _, d := range diags {
		fmt.Fprintln(env.stderr, d.String())
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
		return exitFatal
	}
	var fit *scoreFit
	if *fitFile != "" {
		fit = newScoreFit(pol, *fitKeep, eval.Default().Lookup)
	}
	engineOpt, _ := rules.OptionsFromPolicy(pol, "")
	if fs.Changed("threshold") {
		engineOpt.RequiredScore = threshold
	} else {
		threshold = engineOpt.RequiredScore
	}

	var bar *progressbar.ProgressBar
	stage := ""
	mc := &corpus.MassCheck{
		Ham: ham, Spam: spam,
		Walk:         corpus.WalkOptions{Mbox: mbox, Logger: env.log},
		Folds:        folds,
		Seed:         seed,
		TokenOptions: learnTokenOptions(engineOpt.TokenOptions),
		Logger:       env.log,
		Engine: func(bayes rules.BayesReader) (*rules.Engine, error) {
			opt := engineOpt
			opt.Bayes = bayes
			return rules.New(opt)
		},
	}
	if progress && env.stderrIsTTY {
		mc.Progress = func(s string, done, total int) {
			if s != stage || bar == nil {
				if bar != nil {
					_ = bar.Finish()
				}
				stage = s
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(env.stderr),
					progressbar.OptionSetDescription(s), progressbar.OptionShowCount(),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set(done)
		}
	}

	var store classifier.Backend
	if folds == 0 {
		var err error
		if store, err = openStore(ctx, specFor(cfg.Store, dbpath, *configDir), env.log, true); err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
		defer store.Close()
	}
	start := time.Now()
	scored, err := mc.Run(ctx, store)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
		return exitFatal
	}
	elapsed := time.Since(start)

	out := bufio.NewWriter(env.stdout)
	defer out.Flush()
	how := "scanned with " + dbpath
	if folds > 0 {
		how = fmt.Sprintf("%d-fold cross-validation", folds)
	}
	fmt.Fprintf(out, "# mass-check: %d messages, %s, %.1fs\n", len(scored), how, elapsed.Seconds())
	fmt.Fprintln(out, "\n## by score")
	if err := corpus.Summarize(scored, threshold, corpus.ScoreValue).Format(out); err != nil {
		return exitFatal
	}
	var withBayes []corpus.Scored
	for _, s := range scored {
		if s.HasBayes {
			withBayes = append(withBayes, s)
		}
	}
	if len(withBayes) > 0 {
		fmt.Fprintf(out, "\n## by Bayes probability (%d of %d messages had a Bayes result)\n", len(withBayes), len(scored))
		if err := corpus.Summarize(withBayes, bayesThreshold, corpus.BayesValue).Format(out); err != nil {
			return exitFatal
		}
	} else {
		fmt.Fprintln(out, "\n## Bayes did not run (store untrained: fewer than 200 spam or 200 ham learned)")
	}
	if fit != nil {
		opt := corpus.FitOptions{Threshold: threshold, HamWeight: *fitHamWeight, Folds: max(folds, 10), Seed: seed}
		cmd := "gospamd masscheck " + strings.Join(args, " ")
		if err := fit.run(ctx, out, scored, opt, *fitFile, cmd); err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
	}
	if scoresFile != "" {
		if err := writeFileWith(scoresFile, func(w io.Writer) error { return corpus.WriteScores(w, scored) }); err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
	}
	if plotFile != "" {
		err := writeFileWith(plotFile, func(w io.Writer) error {
			return corpus.PlotHistogram(w, scored, corpus.PlotOptions{Title: "gospamd mass-check: " + how, Threshold: threshold})
		})
		if err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
	}
	return exitOK
}

// expandCorpusArgs lets "--ham a b --spam c" name several paths per flag,
// as the usage line promises: bare words after --ham or --spam repeat it.
func expandCorpusArgs(args []string) []string {
	var out []string
	cur := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--ham" || a == "--spam":
			cur = a
			out = append(out, a)
			if i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
		case len(a) > 0 && a[0] == '-':
			cur = ""
			out = append(out, a)
		case cur != "":
			out = append(out, cur, a)
		default:
			out = append(out, a)
		}
	}
	return out
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// learnTokenOptions are the tokenizer settings for learning that go with
// a scan's: the same, but in learn mode.
func learnTokenOptions(scan tokenizer.TokenOptions) tokenizer.TokenOptions {
	scan.Scan = false
	return scan
}

// scoreFit is masscheck's --fit-scores: the rules to fit, read from the
// policy before the scan, with every fitted rule given a placeholder
// score so that it runs (a rule scored 0 does not run, and would never
// show a hit to fit).
type scoreFit struct {
	// byName are the rules, fixed ones with their policy scores per set.
	rules  []*cf.Rule
	fixed  map[string]bool
	scores map[string][4]float64 // policy scores of the fixed rules
}

// evals tells which eval functions the engine has: rules calling others
// never hit and are left out.
func newScoreFit(pol *cf.Policy, keep []string, evals func(string) (eval.Func, bool)) *scoreFit {
	f := &scoreFit{fixed: map[string]bool{}, scores: map[string][4]float64{}}
	for _, r := range pol.Rules() {
		if !r.Defined() || r.IsSubRule() || r.IsNet() || r.Kind == cf.KindAskDNS {
			continue
		}
		bayes := r.Eval != nil && r.Eval.Func == "check_bayes"
		if r.Eval != nil && !bayes {
			if _, ok := evals(r.Eval.Func); !ok {
				continue // eval functions this engine has not got never hit
			}
		}
		f.rules = append(f.rules, r)
		if bayes || slices.Contains(keep, r.Name) {
			f.fixed[r.Name] = true
			f.scores[r.Name] = r.Scores
			continue
		}
		placeholder := 1.0
		if r.Tflags.Nice {
			placeholder = -1
		}
		r.Scores = [4]float64{placeholder, placeholder, placeholder, placeholder}
	}
	return f
}

// run fits score set 2 (Bayes, no network) on the hits as they are and
// score set 0 (no Bayes) with the Bayes rules at their set-0 score of 0,
// writes sets 1 and 3 equal to 0 and 2 (there are no network rules yet),
// and reports both fits' cross-validated errors.
func (f *scoreFit) run(ctx context.Context, out io.Writer, scored []corpus.Scored, opt corpus.FitOptions, path, cmd string) error {
	var results [4]*corpus.FitResult
	for _, set := range []int{0, 2} {
		frs := make([]corpus.FitRule, len(f.rules))
		for i, r := range f.rules {
			frs[i] = corpus.FitRule{Name: r.Name, Fixed: f.fixed[r.Name], Score: f.scores[r.Name][set], Nice: r.Tflags.Nice}
		}
		res, err := corpus.FitScores(ctx, scored, frs, opt)
		if err != nil {
			return err
		}
		results[set] = res
	}
	results[1], results[3] = results[0], results[2]
	var lines []corpus.ScoreLine
	for _, r := range f.rules {
		if f.fixed[r.Name] {
			continue
		}
		var l corpus.ScoreLine
		l.Rule = r.Name
		for set := range l.Scores {
			l.Scores[set] = results[set].Scores[r.Name]
		}
		lines = append(lines, l)
	}
	describe := func(s corpus.Summary) string {
		return fmt.Sprintf("FP %d of %d ham (%.2f%%), FN %d of %d spam (%.2f%%), AUC %.4f",
			s.FP, s.Ham, s.FPPercent, s.FN, s.Spam, s.FNPercent, s.AUC)
	}
	header := []string{
		"GENERATED FILE, do not edit: rule scores fitted by",
		"  " + cmd,
		"on " + time.Now().UTC().Format("2006-01-02") + ", over " + strconv.Itoa(len(scored)) + " messages.",
		"",
		"Method (corpus.FitScores): class-weighted logistic regression of the",
		fmt.Sprintf("total around required_score %g (ham errors weighted %gx), L2 pull", opt.Threshold, opt.HamWeight),
		"towards a prior of +0.5 (-0.5 for tflags nice), scores kept in [0, 5]",
		"([-5, 0] for nice rules); BAYES_xx and GTUBE keep their own scores.",
		"The four values are score sets 0-3: sets 0 and 1 fitted without Bayes,",
		"sets 2 and 3 with it (no network rules yet, so 1 = 0 and 3 = 2).",
		"",
		fmt.Sprintf("%d-fold cross-validation of the fit, at %g:", opt.Folds, opt.Threshold),
		"  set 2 (Bayes): " + describe(results[2].CV),
		"  set 0 (none):  " + describe(results[0].CV),
		"on the whole corpus with these scores:",
		"  set 2 (Bayes): " + describe(results[2].Train),
		"  set 0 (none):  " + describe(results[0].Train),
	}
	fmt.Fprintln(out, "\n## fitted scores ("+path+")")
	for _, h := range header[11:] {
		fmt.Fprintln(out, h)
	}
	return writeFileWith(path, func(w io.Writer) error { return corpus.WriteScoresCF(w, header, lines) })
}
