package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/corpus"
	"github.com/gospamd/gospamd/learn"
	"github.com/gospamd/gospamd/learn/admin"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// learnFlags are sa-learn's options.
type learnFlags struct {
	spam, ham, forget  bool
	sync, forceExpire  bool
	noSync             bool
	dump               string
	dumpSet            bool
	regexp             string
	backup, clear      bool
	restore            string
	dbpath             string
	user               string
	bayesScope         string
	configDir          string
	store              storeConfig            // [store], for a Redis store
	tokens             tokenizer.TokenOptions // from the policy
	mbox, mbx          bool
	folders            string
	showDots, progress bool
	local, quiet       bool
	maxSize            int64
	debug              string
	help, version      bool
	imapURL            string // --imap: a folder to import once
	passwordFile       string
}

// register adds sa-learn's flags to fs, with the store, policy and Bayes
// scope of the daemon config cfg as defaults.
func (f *learnFlags) register(fs *pflag.FlagSet, env *cliEnv, cfg *daemonConfig) {
	fs.BoolVar(&f.spam, "spam", false, "learn the messages as spam")
	fs.BoolVar(&f.ham, "ham", false, "learn the messages as ham (non-spam)")
	fs.BoolVar(&f.ham, "nonspam", false, "same as --ham")
	fs.BoolVar(&f.forget, "forget", false, "forget what learning the messages taught")
	fs.BoolVar(&f.sync, "sync", false, "apply the journal (gospamd has none: a no-op kept for scripts)")
	fs.BoolVar(&f.forceExpire, "force-expire", false, "expire old tokens now")
	fs.BoolVar(&f.forceExpire, "expire", false, "same as --force-expire")
	fs.BoolVar(&f.noSync, "no-sync", false, "accepted for compatibility; every learn is committed")
	fs.BoolVar(&f.noSync, "nosync", false, "same as --no-sync")
	fs.StringVar(&f.dump, "dump", "", "print the database: all, magic or data")
	fs.Lookup("dump").NoOptDefVal = "all"
	fs.StringVar(&f.regexp, "regexp", "", "with --dump data: only tokens whose hex key matches")
	fs.StringVar(&f.regexp, "re", "", "same as --regexp")
	fs.BoolVar(&f.backup, "backup", false, "write a backup in sa-learn's text format to standard output")
	fs.StringVar(&f.restore, "restore", "", "replace the database with the backup in `FILE`")
	fs.BoolVar(&f.clear, "clear", false, "delete every token, counter and seen entry")
	f.store = cfg.Store
	fs.StringVar(&f.dbpath, "dbpath", cfg.Store.DBPath, "the Bayes store `DIR`ectory")
	fs.StringVar(&f.dbpath, "db", cfg.Store.DBPath, "same as --dbpath")
	fs.StringVarP(&f.user, "username", "u", "", "learn for `USER`")
	fs.StringVar(&f.configDir, "config", cfg.Policy.Dir, "site policy `DIR` (its Bayes settings: use_bayes, bayes_ignore_header, ...)")
	fs.StringVar(&f.bayesScope, "bayes-scope", cfg.Policy.BayesScope, "global: one database for everyone; user: -u selects the user's own")
	fs.BoolVar(&f.mbox, "mbox", false, "the paths are mbox files")
	fs.BoolVar(&f.mbx, "mbx", false, "same as --mbox")
	fs.StringVarP(&f.folders, "folders", "f", "", "read targets from `FILE`: one per line, 'spam:FORMAT:PATH', 'ham:FORMAT:PATH' or a path")
	fs.BoolVar(&f.showDots, "showdots", false, "print a dot per message to standard error")
	fs.BoolVar(&f.progress, "progress", false, "show a progress bar on a terminal")
	fs.BoolVarP(&f.local, "local", "L", false, "accepted for compatibility (gospamd learns locally)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "do not print the summary line")
	fs.StringVar(&f.imapURL, "imap", "", "learn the messages of an IMAP folder, `imap://USER@HOST:PORT/FOLDER` (imaps:// for TLS), leaving it untouched")
	fs.StringVar(&f.passwordFile, "password-file", "", "with --imap: the `FILE` holding the password")
	fs.Int64Var(&f.maxSize, "max-size", 500*1024, "skip messages larger than this many bytes (0: no limit)")
	fs.StringVarP(&f.debug, "debug", "D", "", "log debug information")
	fs.Lookup("debug").NoOptDefVal = "all"
	fs.BoolVarP(&f.help, "help", "h", false, "print this help")
	fs.BoolVarP(&f.version, "version", "V", false, "print the version")
	registerDaemonConfigFlag(fs, env)
	for _, hidden := range []string{"nonspam", "expire", "nosync", "re", "db", "mbx"} {
		_ = fs.MarkHidden(hidden)
	}
}

// fixDumpArg turns "--dump magic" into "--dump=magic": sa-learn's --dump
// takes an optional value as the next word when it is not an option
// (Getopt::Long's ":s"), which pflag only accepts with an equals sign.
func fixDumpArg(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == "--dump" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, "--dump="+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func runLearn(ctx context.Context, env *cliEnv, args []string) int {
	var f learnFlags
	cfg, fs, code := commandFlags(env, "gospamd learn", args)
	if code >= 0 {
		return code
	}
	f.register(fs, env, cfg)
	if err := fs.Parse(fixDumpArg(args)); err != nil {
		fmt.Fprintf(env.stderr, "Unknown option! %v\n", err)
		return exitUsage
	}
	f.dumpSet = fs.Changed("dump")
	if f.help {
		fmt.Fprintln(env.stdout, "usage: gospamd learn [options] [file]...")
		fs.SetOutput(env.stdout)
		fs.PrintDefaults()
		return exitOK
	}
	if f.version {
		fmt.Fprint(env.stdout, versionText())
		return exitOK
	}
	if f.debug != "" {
		env.log = debugLogger(env.stderr)
	}
	if f.showDots && f.progress {
		fmt.Fprintln(env.stdout, "--showdots and --progress may not be used together, please select just one")
		return exitOK
	}
	learning := f.spam || f.ham || f.forget || f.folders != ""
	if !learning && !f.sync && !f.forceExpire && !f.dumpSet && !f.clear && !f.backup && f.restore == "" {
		fmt.Fprintln(env.stderr, "Please select either --spam, --ham, --folders, --forget, --sync, --force-expire,\n--dump, --clear, --backup or --restore")
		return exitUsage
	}
	perUser := false
	switch f.bayesScope {
	case "global":
	case "user":
		perUser = true
	default:
		fmt.Fprintf(env.stderr, "gospamd learn: --bayes-scope must be global or user, not %q\n", f.bayesScope)
		return exitUsage
	}
	if f.user != "" {
		if err := learn.ValidateUserName(f.user); err != nil {
			fmt.Fprintf(env.stderr, "gospamd learn: -u: %v\n", err)
			return exitUsage
		}
	}
	scope, _ := learn.ScopeFor(f.user, perUser)

	if f.dumpSet {
		return learnDump(ctx, env, &f, scope)
	}
	pol, diags, err := rules.LoadPolicy(ctx, f.configDir)
	for _, d := range diags {
		if d.Severity <= cf.SeverityWarning {
			fmt.Fprintln(env.stderr, d.String())
		}
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "ERROR: %v\n", err)
		return exitFatal
	}
	engineOpt, _ := rules.OptionsFromPolicy(pol, "")
	if learningRequested(&f) && !pol.Settings().UseBayes {
		fmt.Fprintln(env.stderr, "ERROR: configuration specifies 'use_bayes 0', sa-learn disabled")
		return exitFail
	}
	f.tokens = rules.LearnTokenOptions(engineOpt.TokenOptions)
	store, err := openAdmin(ctx, specFor(f.store, f.dbpath, f.configDir), env.log, f.backup, learningRequested(&f) || f.restore != "")
	if err != nil {
		fmt.Fprintf(env.stderr, "ERROR: %v\n", err)
		return exitFatal
	}
	code = learnWithStore(ctx, env, &f, store, scope, fs.Args())
	if err := store.Close(); err != nil {
		fmt.Fprintf(env.stderr, "ERROR: close bayes store: %v\n", err)
		return exitFatal
	}
	return code
}

func learnWithStore(ctx context.Context, env *cliEnv, f *learnFlags, store admin.Bayes, scope classifier.Scope, targets []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "ERROR: "+format+"\n", a...)
		return exitFatal
	}
	switch {
	case f.backup:
		w := bufio.NewWriterSize(env.stdout, 64<<10)
		if err := store.Backup(ctx, scope, w); err != nil {
			return fail("Bayes backup failed: %v", err)
		}
		if err := w.Flush(); err != nil {
			return fail("write backup: %v", err)
		}
		return exitOK
	case f.clear:
		if err := store.Clear(ctx, scope); err != nil {
			return fail("Bayes clear failed: %v", err)
		}
		return exitOK
	case f.restore != "":
		in, err := os.Open(f.restore)
		if err != nil {
			return fail("You must specify a readable file to restore: %v", err)
		}
		defer in.Close()
		if err := store.Restore(ctx, scope, bufio.NewReaderSize(in, 64<<10)); err != nil {
			return fail("Bayes restore failed: %v", err)
		}
		return exitOK
	}

	if f.forceExpire {
		if err := store.Expire(ctx, scope); err != nil {
			return fail("Bayes expire failed: %v", err)
		}
	}
	if !learningRequested(f) {
		return exitOK // --sync, --force-expire
	}

	jobs, err := learnJobs(f, targets)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd learn: %v\n", err)
		return exitUsage
	}
	if f.imapURL != "" {
		job, closeFolder, code := imapLearnJob(ctx, env, f, targets)
		if code >= 0 {
			return code
		}
		defer closeFolder()
		jobs = []learnJob{job}
	}
	walk := corpus.WalkOptions{Mbox: f.mbox || f.mbx, MaxSize: f.maxSize, Logger: env.log}
	for i, j := range jobs {
		if j.path == "-" {
			path, cleanup, err := stdinToFile(env.stdin)
			if err != nil {
				return fail("%v", err)
			}
			defer cleanup()
			jobs[i].path = path
		}
	}

	var bar *progressbar.ProgressBar
	if f.progress && env.stderrIsTTY {
		total := 0
		for _, j := range jobs {
			if j.src != nil {
				total += j.count
			} else if n, err := corpus.Count(ctx, j.path, walk); err == nil {
				total += n
			}
		}
		bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(env.stderr),
			progressbar.OptionSetDescription("learning"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	defer bulkGC()()
	learner := &learn.Learner{
		Writer:       store,
		TokenOptions: f.tokens,
		Progress: func(learn.Outcome) {
			switch {
			case bar != nil:
				_ = bar.Add(1)
			case f.showDots:
				fmt.Fprint(env.stderr, ".")
			}
		},
	}
	var stats learn.Stats
	var runErr error
	for _, j := range jobs {
		req := learn.Request{Scope: scope, Class: j.class, Forget: f.forget}
		src := j.src
		if src == nil {
			src = func(ctx context.Context, fn func(string, []byte) error) error {
				return corpus.Walk(ctx, j.path, walk, func(it corpus.Item) error { return fn(it.Path, it.Data) })
			}
		}
		st, err := learner.Run(ctx, src, req)
		stats.Examined += st.Examined
		stats.Changed += st.Changed
		if err != nil {
			runErr = err
			break
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if f.showDots {
		fmt.Fprintln(env.stderr)
	}
	phrase := "Learned"
	if f.forget {
		phrase = "Forgot"
	}
	if !f.quiet {
		fmt.Fprintf(env.stdout, "%s tokens from %d message(s) (%d message(s) examined)\n", phrase, stats.Changed, stats.Examined)
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return fail("interrupted")
		}
		return fail("%v", runErr)
	}
	return exitOK
}

// bulkGC lets the heap grow to five times the live data (GOGC=400)
// while a bulk learn runs, unless GOGC is set, and returns the function
// that restores the setting. Parsing allocates about 120 KB a message of
// short-lived data; at the default GOGC the collector ran so often that
// it and its preemption of the parsers took about a tenth of the CPU of
// learning the shared corpus. The price is memory: the peak RSS of that
// learn in one process goes from about 83 to 124 MiB.
func bulkGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(400)
	return func() { debug.SetGCPercent(old) }
}

// stdinToFile copies standard input to a temporary file, as sa-learn
// does, so that it can be read like any other target.
func stdinToFile(stdin io.Reader) (string, func(), error) {
	tmp, err := os.CreateTemp("", "gospamd-learn-*")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, stdin); err != nil {
		tmp.Close()
		cleanup()
		return "", nil, fmt.Errorf("read standard input: %w", err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}

func learningRequested(f *learnFlags) bool {
	return f.spam || f.ham || f.forget || f.folders != ""
}

type learnJob struct {
	class classifier.Class
	path  string
	src   learn.Source // instead of path (--imap), with count messages
	count int
}

// learnJobs lists what to learn: the targets (standard input when there
// are none) with the class of --spam/--ham, plus the lines of --folders.
func learnJobs(f *learnFlags, targets []string) ([]learnJob, error) {
	class := classifier.Ham
	if f.spam {
		class = classifier.Spam
	}
	if f.spam && f.ham {
		return nil, errors.New("--spam and --ham may not be used together")
	}
	var jobs []learnJob
	if f.folders != "" {
		data, err := os.ReadFile(f.folders)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %w", f.folders, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if m := folderLine.FindStringSubmatch(line); m != nil {
				c := classifier.Ham
				if m[1] == "spam" {
					c = classifier.Spam
				}
				jobs = append(jobs, learnJob{class: c, path: m[3]})
				continue
			}
			jobs = append(jobs, learnJob{class: class, path: line})
		}
	}
	for _, t := range targets {
		jobs = append(jobs, learnJob{class: class, path: t})
	}
	if len(jobs) == 0 && f.folders == "" {
		jobs = append(jobs, learnJob{class: class, path: "-"})
	}
	return jobs, nil
}

var folderLine = regexp.MustCompile(`^(ham|spam):(\w*):(.*)$`)

func learnDump(ctx context.Context, env *cliEnv, f *learnFlags, scope classifier.Scope) int {
	magic, data := true, true
	switch f.dump {
	case "all", "":
	case "magic":
		data = false
	case "data":
		magic = false
	default:
		fmt.Fprintf(env.stderr, "Unknown dump option '%s'\n", f.dump)
		return exitFail
	}
	store, err := openAdmin(ctx, specFor(f.store, f.dbpath, f.configDir), env.log, true, false)
	if err != nil {
		fmt.Fprintf(env.stderr, "ERROR: %v\n", err)
		return exitFatal
	}
	defer store.Close()
	w := bufio.NewWriterSize(env.stdout, 64<<10)
	if magic {
		if err := store.DumpMagic(ctx, scope, w); err != nil {
			fmt.Fprintf(env.stderr, "ERROR: Bayes dump returned an error: %v\n", err)
			return exitFatal
		}
	}
	if data {
		if err := store.DumpData(ctx, scope, f.regexp, w); err != nil {
			fmt.Fprintf(env.stderr, "ERROR: Bayes dump returned an error: %v\n", err)
			return exitFatal
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(env.stderr, "ERROR: write dump: %v\n", err)
		return exitFatal
	}
	return exitOK
}
