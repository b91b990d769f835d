package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/corpus"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/eval"
)

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func runMassCheck(ctx context.Context, env *cliEnv, args []string) int {
	cfg, fs, code := commandFlags(env, "gospamd masscheck", args)
	if code >= 0 {
		return code
	}
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
	fs.StringVar(&dbpath, "dbpath", cfg.Store.DBPath, "trained Bayes store to scan with (ignored with --folds or --split-by-date)")
	fs.StringVar(&scoresFile, "scores", "", "write one line per message to `FILE.tsv`: label, score, bayes, path, tests")
	fs.StringVar(&plotFile, "plot", "", "draw the ham and spam score histograms into `FILE.svg`")
	fs.Float64Var(&threshold, "threshold", 5.0, "score at or above which a message counts as spam (default: the policy's required_score)")
	fs.Float64Var(&bayesThreshold, "bayes-threshold", 0.9, "Bayes probability at or above which a message counts as spam, for the Bayes-only summary")
	fs.IntVar(&folds, "folds", 0, "k-fold cross-validation with a fresh store per fold (0: use --dbpath)")
	fs.Int64Var(&seed, "seed", 1, "seed of the fold split")
	fs.BoolVar(&mbox, "mbox", false, "corpus files are mbox files")
	fs.BoolVar(&progress, "progress", true, "show progress on a terminal")
	configDir := fs.String("config", cfg.Policy.Dir, "site policy `DIR` (every *.cf in name order) on top of the built-in rules")
	splitFrac := fs.Float64("split-by-date", 0, "time split: per class, train Bayes and fit the scores on the oldest fraction `F` by date, scan the newest rest (0: off; with --folds both are reported)")
	splitYears := fs.String("split-years", "2001-2003", "with --split-by-date: `FROM-TO`, the years whose dates order messages; messages dated outside count as undated and train")
	splitAutolearn := fs.String("split-autolearn", "6.0,0.1", "with --split-by-date: scan the newest part once more in date order, autolearning at these `SPAM,HAM` thresholds (SME Server's); empty skips it")
	autolearnScores := fs.String("split-autolearn-scores", "", "with --split-autolearn: write the newer part's autolearn pass to `FILE.tsv` as --scores does, with the autolearn decision appended to the tests")
	freqs := fs.Bool("freqs", false, "print every rule's hits in ham and spam, S/O and score (SpamAssassin's hit-frequencies)")
	fitFile := fs.String("fit-scores", "", "fit every rule's score to this corpus (use with --folds) and write them to `FILE.cf`")
	fitKeep := fs.StringSlice("fit-keep", []string{"GTUBE"}, "rules whose scores --fit-scores keeps as they are")
	fitBayes := fs.Bool("fit-bayes", true, "score fitting: fit the check_bayes bands too (score sets 2 and 3), never decreasing from BAYES_00 to BAYES_99, pulled towards their policy scores; false keeps them")
	fitUndecided := fs.String("fit-bayes-undecided", "0.001,0.001", "with --fit-bayes: `LO,HI`, the interval of the band holding 0.5 (BAYES_50: Bayes cannot tell, so by default it scores next to nothing; 0 would not run it)")
	fitHamWeight := fs.Float64("fit-ham-weight", 10, "score fitting: how much more a ham error costs than a spam error")
	fitL2 := fs.Float64("fit-l2", 0.5, "score fitting: strength of the pull of every score towards its prior")
	fitEvidenceCap := fs.Bool("fit-evidence-cap", true, "score fitting: a rule never scores more than the log of its own spam-to-ham hit-rate ratio in the training messages (false lifts the cap)")
	fitMinHits := fs.Int("fit-min-hits", 0, "score fitting: a rule hit by fewer training messages keeps its prior score")
	fitMargin := fs.Float64("fit-select-margin", 1, "with --fit-select: ham scoring within this much of the threshold counts as a false positive when choosing")
	fitSelect := fs.Bool("fit-select", false, "score fitting: choose --fit-ham-weight and --fit-l2 on a time split of the data each fit sees (needs --split-by-date; the newest 30% of each class validates)")
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
	split := *splitFrac != 0
	if split && !(*splitFrac > 0 && *splitFrac < 1) {
		fmt.Fprintln(env.stderr, "gospamd masscheck: --split-by-date must be between 0 and 1")
		return exitUsage
	}
	if *fitSelect && !split {
		fmt.Fprintln(env.stderr, "gospamd masscheck: --fit-select needs --split-by-date")
		return exitUsage
	}
	from, to, err := parseYears(*splitYears)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd masscheck: --split-years: %v\n", err)
		return exitUsage
	}
	alSpam, alHam, alOn, err := parseAutolearnThresholds(*splitAutolearn)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd masscheck: --split-autolearn: %v\n", err)
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
	if *fitFile != "" || split {
		fit = newScoreFit(pol, *fitKeep, eval.Default().Lookup)
		if *fitBayes {
			if fit.bayesBounds, err = parseBayesBounds(*fitUndecided); err != nil {
				fmt.Fprintf(env.stderr, "gospamd masscheck: --fit-bayes-undecided: %v\n", err)
				return exitUsage
			}
		}
	}
	engineOpt, _ := rules.OptionsFromPolicy(pol, "")
	if fs.Changed("threshold") {
		engineOpt.RequiredScore = threshold
	} else {
		threshold = engineOpt.RequiredScore
	}
	fitOpt := corpus.FitOptions{Threshold: threshold, HamWeight: *fitHamWeight, L2: *fitL2, MinHits: *fitMinHits, NoEvidenceCap: !*fitEvidenceCap, Folds: max(folds, 10), Seed: seed}

	var bar *progressbar.ProgressBar
	stage := ""
	mc := &corpus.MassCheck{
		Ham: ham, Spam: spam,
		Walk:         corpus.WalkOptions{Mbox: mbox, Logger: env.log},
		Folds:        folds,
		Seed:         seed,
		TokenOptions: rules.LearnTokenOptions(engineOpt.TokenOptions),
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

	out := bufio.NewWriter(env.stdout)
	defer out.Flush()
	var scored []corpus.Scored
	how := ""
	if !split || folds > 0 {
		var store classifier.Backend
		// A policy with use_bayes 0 scans without a store: none is
		// needed, and none is opened.
		if folds == 0 && engineOpt.UseBayes {
			var err error
			if store, err = openStore(ctx, specFor(cfg.Store, dbpath, *configDir), env.log, true); err != nil {
				fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
				return exitFatal
			}
			defer store.Close()
		}
		start := time.Now()
		scored, err = mc.Run(ctx, store)
		if bar != nil {
			_ = bar.Finish()
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
		elapsed := time.Since(start)
		if fit != nil {
			// The scan ran with placeholder scores; report the policy's.
			rescore(scored, fit.origScore)
		}
		how = "scanned with " + dbpath
		if store == nil {
			how = "scanned without Bayes (use_bayes 0)"
		}
		if folds > 0 {
			how = fmt.Sprintf("%d-fold cross-validation", folds)
		}
		fmt.Fprintf(out, "# mass-check: %d messages, %s, %.1fs\n", len(scored), how, elapsed.Seconds())
		if err := writeSummaries(out, scored, threshold, bayesThreshold); err != nil {
			return exitFatal
		}
	}

	var splitHeader []string
	if split {
		ts := corpus.TimeSplit{Fraction: *splitFrac, From: from, To: to, Autolearn: alOn}
		var trials []corpus.FitTrial
		var splitFit [4]*corpus.FitResult
		ts.Fit = func(ctx context.Context, older []corpus.Scored) (func(rules.BayesReader) (*rules.Engine, error), error) {
			opt := fitOpt
			opt.Folds = 1
			if *fitSelect {
				var err error
				if opt, trials, err = fit.selectOptions(ctx, older, opt, *fitMargin); err != nil {
					return nil, err
				}
				fitOpt.HamWeight, fitOpt.L2 = opt.HamWeight, opt.L2
			}
			res, err := fit.fitSets(ctx, older, opt)
			if err != nil {
				return nil, err
			}
			splitFit = res
			fit.apply(res)
			return func(bayes rules.BayesReader) (*rules.Engine, error) {
				opt := engineOpt
				opt.Bayes = bayes
				opt.Autolearn = rules.AutolearnSettings{Enabled: true, SpamThreshold: alSpam, HamThreshold: alHam}
				return rules.New(opt)
			}, nil
		}
		start := time.Now()
		res, err := mc.RunTimeSplit(ctx, ts)
		if bar != nil {
			_ = bar.Finish()
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
		if len(trials) > 0 {
			fmt.Fprintf(out, "\n## --fit-select on the older part's own time split (cost 10·(ham within %g of the threshold) + FN, on its newest 30%%)\n", *fitMargin)
			for _, t := range trials {
				fmt.Fprintf(out, "ham weight %-4g L2 %-5g %s, ham within the margin: %d\n", t.Options.HamWeight, t.Options.L2, describeSummary(t.Valid), t.NearFP)
			}
			fmt.Fprintf(out, "chosen: ham weight %g, L2 %g\n", fitOpt.HamWeight, fitOpt.L2)
		}
		splitHeader = writeTimeSplit(out, res, ts, threshold, bayesThreshold, alSpam, alHam, time.Since(start), splitFit)
		if *autolearnScores != "" && ts.Autolearn {
			if err := writeFileWith(*autolearnScores, func(w io.Writer) error { return corpus.WriteScores(w, res.NewerAutolearn) }); err != nil {
				fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
				return exitFatal
			}
		}
		if scored == nil {
			// The older part was scanned with placeholder scores;
			// give it the scores fitted on it.
			older := slices.Clone(res.Older)
			rescore(older, func(name string, set int) float64 {
				if r := pol.Rule(name); r != nil {
					return r.Scores[set]
				}
				return 0
			})
			scored = append(older, res.Newer...)
			how = fmt.Sprintf("time split %g", ts.Fraction)
		}
	}

	if fit != nil && *fitFile != "" {
		if folds == 0 {
			fmt.Fprintln(env.stderr, "gospamd masscheck: --fit-scores needs --folds")
			return exitUsage
		}
		cmd := "gospamd masscheck " + strings.Join(args, " ")
		fitOpt.Folds = max(folds, 10)
		if err := fit.run(ctx, out, scored, fitOpt, *fitFile, cmd, splitHeader); err != nil {
			fmt.Fprintf(env.stderr, "gospamd masscheck: %v\n", err)
			return exitFatal
		}
	}
	if *freqs {
		scores := map[string]float64{}
		for _, r := range pol.Rules() {
			if !r.IsSubRule() && r.Defined() {
				scores[r.Name] = r.Scores[2]
			}
		}
		fmt.Fprintf(out, "\n## rule hit frequencies (%s; score set 2)\n", how)
		if err := corpus.WriteFreqs(out, corpus.Freqs(scored, scores)); err != nil {
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

// writeSummaries writes the by-score and by-Bayes summaries of scored.
func writeSummaries(out io.Writer, scored []corpus.Scored, threshold, bayesThreshold float64) error {
	fmt.Fprintln(out, "\n## by score")
	if err := corpus.Summarize(scored, threshold, corpus.ScoreValue).Format(out); err != nil {
		return err
	}
	var withBayes []corpus.Scored
	for _, s := range scored {
		if s.HasBayes {
			withBayes = append(withBayes, s)
		}
	}
	if len(withBayes) == 0 {
		fmt.Fprintln(out, "\n## Bayes did not run (use_bayes 0, or the store is untrained: fewer than 200 spam or 200 ham learned)")
		return nil
	}
	fmt.Fprintf(out, "\n## by Bayes probability (%d of %d messages had a Bayes result)\n", len(withBayes), len(scored))
	return corpus.Summarize(withBayes, bayesThreshold, corpus.BayesValue).Format(out)
}

// writeTimeSplit reports a time split and returns its figures as lines
// for a scores file's header.
func writeTimeSplit(out io.Writer, res *corpus.TimeSplitResult, ts corpus.TimeSplit, threshold, bayesThreshold, alSpam, alHam float64, elapsed time.Duration, fitted [4]*corpus.FitResult) []string {
	fmt.Fprintf(out, "\n# time split: per class, the oldest %g by date trains Bayes and fits the scores, the newest rest is scanned (%.1fs)\n", ts.Fraction, elapsed.Seconds())
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02")
	}
	for _, l := range []corpus.Label{corpus.Ham, corpus.Spam} {
		c := res.Counts[l]
		fmt.Fprintf(out, "%-4s  older %d (dated up to %s) + %d undated; newer %d (up to %s)\n", l, c.Older, day(c.Cut), c.Undated, c.Newer, day(c.Last))
	}
	fmt.Fprintf(out, "\n## newer part, Bayes trained and scores fitted on the older part")
	if err := writeSummaries(out, res.Newer, threshold, bayesThreshold); err != nil {
		return nil
	}
	newer := corpus.Summarize(res.Newer, threshold, corpus.ScoreValue)
	lines := []string{
		fmt.Sprintf("time split %g by date (fit on the oldest %g of each class, %d ham + %d spam scanned), at %g:",
			ts.Fraction, ts.Fraction, newer.Ham, newer.Spam, threshold),
		"  set 2 (Bayes), no autolearn: " + describeSummary(newer),
	}
	if fitted[2] != nil {
		fmt.Fprintf(out, "(the fit's own figures on the older part: %s)\n", describeSummary(fitted[2].Train))
	}
	if mid, spam := undecidedSpam(res.Newer); spam > 0 {
		line := fmt.Sprintf("newer spam at BAYES_50 (Bayes cannot tell): %d of %d (%.0f%%)", mid, spam, 100*float64(mid)/float64(spam))
		fmt.Fprintln(out, line)
		lines = append(lines, "  "+line)
	}
	if ts.Autolearn {
		al := corpus.Summarize(res.NewerAutolearn, threshold, corpus.ScoreValue)
		fmt.Fprintf(out, "\n## newer part in date order, autolearn at %g / %g (learned %d ham, %d spam)\n", alSpam, alHam, res.Learned[corpus.Ham], res.Learned[corpus.Spam])
		if err := al.Format(out); err != nil {
			return nil
		}
		lines = append(lines, fmt.Sprintf("  set 2 (Bayes), autolearn %g/%g:  ", alSpam, alHam)+describeSummary(al))
	}
	return append(lines, "")
}

// parseYears parses "FROM-TO" into [Jan 1 of FROM, Jan 1 of TO+1).
func parseYears(s string) (from, to time.Time, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return from, to, fmt.Errorf("want FROM-TO, got %q", s)
	}
	y1, err1 := strconv.Atoi(strings.TrimSpace(a))
	y2, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err := errors.Join(err1, err2); err != nil {
		return from, to, fmt.Errorf("parse years %q: %w", s, err)
	}
	if y2 < y1 {
		return from, to, fmt.Errorf("years %q run backwards", s)
	}
	return time.Date(y1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y2+1, 1, 1, 0, 0, 0, 0, time.UTC), nil
}

// parseAutolearnThresholds parses "SPAM,HAM"; empty means off.
func parseAutolearnThresholds(s string) (spam, ham float64, on bool, err error) {
	if strings.TrimSpace(s) == "" {
		return 0, 0, false, nil
	}
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, false, fmt.Errorf("want SPAM,HAM, got %q", s)
	}
	spam, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	ham, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, false, fmt.Errorf("parse thresholds %q: %w", s, err)
	}
	return spam, ham, true, nil
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

// scoreFit is masscheck's --fit-scores: the rules to fit, read from the
// policy before the scan, with every fitted rule given a placeholder
// score so that it runs (a rule scored 0 does not run, and would never
// show a hit to fit).
type scoreFit struct {
	// rules are the rules to fit, fixed ones with their policy scores.
	rules  []*cf.Rule
	fixed  map[string]bool
	scores map[string][4]float64 // policy scores of the fixed rules
	// orig are every fitted rule's policy scores before the placeholders.
	orig map[string][4]float64
	// bayesBounds, when set, fits the check_bayes rules in the score
	// sets with Bayes (see bayesFitRule); nil keeps them fixed.
	bayesBounds *bayesBounds
}

// evals tells which eval functions the engine has: rules calling others
// never hit and are left out.
func newScoreFit(pol *cf.Policy, keep []string, evals func(string) (eval.Func, bool)) *scoreFit {
	f := &scoreFit{fixed: map[string]bool{}, scores: map[string][4]float64{}, orig: map[string][4]float64{}}
	for _, r := range pol.Rules() {
		if !r.Defined() || r.IsSubRule() || r.IsNet() || r.Kind == cf.KindAskDNS {
			continue
		}
		_, _, bayes := bayesBand(r)
		if r.Eval != nil && !bayes {
			if _, ok := evals(r.Eval.Func); !ok {
				continue // eval functions this engine has not got never hit
			}
		}
		f.rules = append(f.rules, r)
		f.orig[r.Name] = r.Scores
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

// fitRules are the rules offered to the fitter for score set set.
func (f *scoreFit) fitRules(set int) []corpus.FitRule {
	frs := make([]corpus.FitRule, len(f.rules))
	for i, r := range f.rules {
		frs[i] = corpus.FitRule{Name: r.Name, Fixed: f.fixed[r.Name], Score: f.scores[r.Name][set], Nice: r.Tflags.Nice}
		if f.fitsBayes(r) && set&2 != 0 {
			f.bayesBounds.fitRule(&frs[i], r, f.rules)
		}
	}
	return frs
}

// fitSets fits score set 2 (Bayes, no network) on the hits as they are
// and score set 0 (no Bayes) with the Bayes rules at their set-0 score
// of 0; sets 1 and 3 equal 0 and 2 (there are no network rules yet).
func (f *scoreFit) fitSets(ctx context.Context, scored []corpus.Scored, opt corpus.FitOptions) ([4]*corpus.FitResult, error) {
	var results [4]*corpus.FitResult
	for _, set := range []int{0, 2} {
		res, err := corpus.FitScores(ctx, scored, f.fitRules(set), opt)
		if err != nil {
			return results, err
		}
		results[set] = res
	}
	results[1], results[3] = results[0], results[2]
	return results, nil
}

// apply gives the policy's fitted rules the scores of results, for the
// engines built from it afterwards (and those running: only between
// scans).
func (f *scoreFit) apply(results [4]*corpus.FitResult) {
	for _, r := range f.rules {
		if f.fixed[r.Name] && !f.fitsBayes(r) {
			continue
		}
		for set := range r.Scores {
			r.Scores[set] = results[set].Scores[r.Name]
		}
	}
}

// origScore is a rule's policy score in set before the placeholders.
func (f *scoreFit) origScore(name string, set int) float64 { return f.orig[name][set] }

// rescore sets every message's total to the sum of the scores of its
// hits under score (set 2 with a Bayes answer, else 0): the total the
// engine gives with those scores, for the rules that hit.
func rescore(scored []corpus.Scored, score func(name string, set int) float64) {
	for i := range scored {
		set := 0
		if scored[i].HasBayes {
			set = 2
		}
		t := 0.0
		for _, name := range scored[i].Tests {
			t += score(name, set)
		}
		scored[i].Score = math.Round(t*1000) / 1000
	}
}

func describeSummary(s corpus.Summary) string {
	return fmt.Sprintf("FP %d of %d ham (%.2f%%), FN %d of %d spam (%.2f%%), AUC %.4f",
		s.FP, s.Ham, s.FPPercent, s.FN, s.Spam, s.FNPercent, s.AUC)
}

// run fits the scores of all four sets on scored, reports both fits'
// cross-validated errors and writes them to path; split, if not empty,
// are lines on the time split's figures for the header.
func (f *scoreFit) run(ctx context.Context, out io.Writer, scored []corpus.Scored, opt corpus.FitOptions, path, cmd string, split []string) error {
	results, err := f.fitSets(ctx, scored, opt)
	if err != nil {
		return err
	}
	f.apply(results)
	var lines []corpus.ScoreLine
	for _, r := range f.rules {
		if f.fixed[r.Name] && !f.fitsBayes(r) {
			continue
		}
		var l corpus.ScoreLine
		l.Rule = r.Name
		for set := range l.Scores {
			l.Scores[set] = results[set].Scores[r.Name]
		}
		lines = append(lines, l)
	}
	header := []string{
		"GENERATED FILE, do not edit: rule scores fitted by",
		"  " + cmd,
		"on " + time.Now().UTC().Format("2006-01-02") + ", over " + strconv.Itoa(len(scored)) + " messages.",
		"",
		"Method (corpus.FitScores): class-weighted logistic regression of the",
		fmt.Sprintf("total around required_score %g (ham errors weighted %gx), L2 pull", opt.Threshold, opt.HamWeight),
		fmt.Sprintf("(%g) towards a prior of +0.5 (-0.5 for tflags nice), scores kept in", opt.L2),
		"[0, 5] ([-5, 0] for nice rules: a rule never scores against its sign)",
		"and, unless --fit-evidence-cap=false, never above ln(spam hit rate /",
		"ham hit rate) of the rule's own training hits (nice rules mirrored);",
		fmt.Sprintf("a rule hit by fewer than %d messages keeps its prior; GTUBE keeps", opt.MinHits),
		"its score. The Bayes bands (check_bayes BAYES_xx, check_bayes_odds",
		"BAYES_ODDS_xx) are fitted in sets 2 and 3 (0 in sets 0 and 1) unless",
		"--fit-bayes=false: pulled towards their policy scores, within",
		"[-4, -0.001] below 0.5 and [0.001, 4] above, the band holding 0.5",
		"(Bayes cannot tell) held at 0.001, and never decreasing with the",
		"probability.",
		"The four values are score sets 0-3: sets 0 and 1 fitted without Bayes,",
		"sets 2 and 3 with it (no network rules yet, so 1 = 0 and 3 = 2).",
		"",
	}
	header = append(header, split...)
	report := []string{
		fmt.Sprintf("%d-fold cross-validation of the fit, at %g:", opt.Folds, opt.Threshold),
		"  set 2 (Bayes): " + describeSummary(results[2].CV),
		"  set 0 (none):  " + describeSummary(results[0].CV),
		"on the whole corpus with these scores:",
		"  set 2 (Bayes): " + describeSummary(results[2].Train),
		"  set 0 (none):  " + describeSummary(results[0].Train),
	}
	header = append(header, report...)
	fmt.Fprintln(out, "\n## fitted scores ("+path+")")
	for _, h := range report {
		fmt.Fprintln(out, h)
	}
	return writeFileWith(path, func(w io.Writer) error { return corpus.WriteScoresCF(w, header, lines) })
}

// selectOptions is corpus.SelectFit over set 2 with masscheck's grid.
func (f *scoreFit) selectOptions(ctx context.Context, scored []corpus.Scored, base corpus.FitOptions, margin float64) (corpus.FitOptions, []corpus.FitTrial, error) {
	opt, trials, err := corpus.SelectFit(ctx, scored, f.fitRules(2), base,
		[]float64{2, 3, 5, 7, 10, 15}, []float64{0.1, 0.3, 1, 3}, 0.7, 10, margin)
	if err != nil {
		return base, nil, fmt.Errorf("choose fit options: %w", err)
	}
	return opt, trials, nil
}

// undecidedSpam counts the spam of scored that hit BAYES_50, SpamAssassin's
// band of the undecided middle, and all spam.
func undecidedSpam(scored []corpus.Scored) (mid, spam int) {
	for _, s := range scored {
		if s.Label != corpus.Spam {
			continue
		}
		spam++
		if slices.Contains(s.Tests, "BAYES_50") {
			mid++
		}
	}
	return mid, spam
}
