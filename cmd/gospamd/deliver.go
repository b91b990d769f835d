package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
	"github.com/gospamd/gospamd/spamdproto"
)

// sysexits codes of deliver and filter, as an MTA reads them.
const (
	exitNoUser   = 67 // EX_NOUSER: no Maildir for the user
	exitTempFail = 75 // EX_TEMPFAIL: the MTA keeps the message and retries
)

// mdaFlags are what deliver and filter share: the user and how to scan.
type mdaFlags struct {
	user      string
	spamd     string
	socket    string
	dbpath    string
	store     storeConfig // [store], for a Redis store
	configDir string
	prefsDir  string
	hostname  string
	timeout   time.Duration
	logLevel  string
}

// register adds the shared flags, with defaults from the daemon config.
func (f *mdaFlags) register(fs *pflag.FlagSet, env *cliEnv, dcfg *daemonConfig) {
	registerDaemonConfigFlag(fs, env)
	spamd := "127.0.0.1:783"
	if len(dcfg.Spamd.Listen) > 0 {
		spamd = dcfg.Spamd.Listen[0]
	}
	fs.StringVarP(&f.user, "user", "u", "", "the `USER` the message is for (their user_prefs and Bayes scope)")
	fs.StringVar(&f.spamd, "spamd", spamd, "scan through the running daemon's spamd at `ADDR:PORT`; when nothing listens there, scan here with the store opened read-only")
	fs.StringVar(&f.socket, "socket", "", "the running daemon's spamd UNIX socket `PATH` (instead of --spamd)")
	f.store = dcfg.Store
	fs.StringVar(&f.dbpath, "dbpath", dcfg.Store.DBPath, "the Bayes store `DIR`ectory, for scanning here")
	fs.StringVar(&f.configDir, "config", dcfg.Policy.Dir, "site policy `DIR`, for scanning here")
	fs.StringVar(&f.prefsDir, "user-prefs-dir", dcfg.Policy.UserPrefsDir, "per-user preferences `DIR`, for scanning here")
	fs.StringVar(&f.hostname, "hostname", "", "host name in the markup and Maildir file names (default: this host's)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "time allowed to scan and deliver")
	fs.StringVar(&f.logLevel, "log-level", "warn", "debug, info, warn or error (to standard error)")
}

// scanner returns how this process scans: through spamd when a daemon
// answers there, else with a scan service on the store opened read-only
// (no autolearn). close releases what it opened.
func (f *mdaFlags) scanner(ctx context.Context, log *slog.Logger) (scanFn mta.ScanFunc, close func(), err error) {
	client := &spamdproto.Client{UnixSocket: f.socket, Retries: 1, ConnectTimeout: 5 * time.Second, Timeout: f.timeout, Logger: log}
	if f.socket == "" {
		client.Hosts = []string{f.spamd}
	}
	if _, perr := client.Ping(ctx); perr == nil {
		return func(ctx context.Context, user string, msg []byte) (*mta.Scanned, error) {
			res, err := client.Process(ctx, user, msg, false)
			if err != nil {
				return nil, err
			}
			v := rules.VerdictHam
			if res.Spam {
				v = rules.VerdictTag
			}
			return &mta.Scanned{Verdict: v, Score: res.Score, Message: res.Body}, nil
		}, func() {}, nil
	} else {
		log.Debug("no spamd answers; scanning here", "err", perr)
	}
	var store classifier.Backend
	spec := specFor(f.store, f.dbpath, f.configDir)
	if _, serr := os.Stat(f.dbpath); serr == nil || f.store.Backend == backendRedis {
		if store, err = openStore(ctx, spec, log, true); err != nil {
			return nil, nil, err
		}
	}
	cfg := scan.Config{PolicyDir: f.configDir, UserPrefsDir: f.prefsDir, Hostname: f.hostname, Logger: log}
	if store != nil {
		cfg.Store = store
	}
	svc, err := scan.New(ctx, cfg)
	if err != nil {
		if store != nil {
			err = errors.Join(err, store.Close())
		}
		return nil, nil, err
	}
	closeFn := func() {
		if store != nil {
			if err := store.Close(); err != nil {
				log.Warn("close bayes store", "err", err)
			}
		}
	}
	return func(ctx context.Context, user string, msg []byte) (*mta.Scanned, error) {
		res, err := svc.Scan(ctx, &scan.Request{User: user, Message: msg})
		if err != nil {
			return nil, err
		}
		return mta.FromResult(res), nil
	}, closeFn, nil
}

// runDeliver is gospamd deliver: Postfix's mailbox_command, or maildrop
// and procmail's delivery, for one user.
func runDeliver(ctx context.Context, env *cliEnv, args []string) int {
	var f mdaFlags
	var cfg mta.Config
	var maildirPath string
	dcfg, fs, code := commandFlags(env, "gospamd deliver", args)
	if code >= 0 {
		return code
	}
	f.register(fs, env, dcfg)
	// The daemon config's [smtp] section, when there is one, gives the
	// defaults: deliver files as the SMTP front end would.
	def := mta.Config{JunkFolder: mta.DefaultJunkFolder}
	if dcfg.SMTP != nil {
		def = *dcfg.SMTP
		cfg.Users = def.Users
	}
	fs.StringVar(&maildirPath, "maildir", "", "the user's Maildir `PATH` (default: the user's route in --routes)")
	fs.StringVar(&cfg.Routes, "routes", def.Routes, "mailbox routes `FILE` (\"user domain maildir\" lines), to find the user's Maildir")
	fs.StringVar(&cfg.JunkFolder, "junk-folder", def.JunkFolder, "IMAP `NAME` of the junk folder (Maildir++ .NAME)")
	fs.Float64Var(&cfg.DeleteScore, "delete-score", def.DeleteScore, "drop spam at or over this `SCORE` (0: never)")
	fs.StringVar(&cfg.BccArchive, "bcc-archive", def.BccArchive, "also deliver a copy of every message into this Maildir `PATH`")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if f.user == "" || fs.NArg() > 0 {
		fmt.Fprintln(env.stderr, "usage: gospamd deliver --user USER [--maildir PATH] < message")
		return exitUsage
	}
	log, err := serveLogger(env, f.logLevel)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd deliver: %v\n", err)
		return exitUsage
	}
	cfg.Hostname = f.hostname
	if cfg.Hostname == "" {
		cfg.Hostname = def.Hostname
	}
	msg, err := io.ReadAll(env.stdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd deliver: read the message: %v\n", err)
		return exitTempFail
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	scanFn, closeScan, err := f.scanner(ctx, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd deliver: %v\n", err)
		return exitTempFail
	}
	defer closeScan()
	filing, err := mta.Deliver(ctx, cfg, mta.DeliverRequest{User: f.user, Message: msg, Maildir: maildirPath}, scanFn, log)
	switch {
	case errors.Is(err, mta.ErrNoMailbox):
		fmt.Fprintf(env.stderr, "gospamd deliver: %v\n", err)
		return exitNoUser
	case err != nil:
		fmt.Fprintf(env.stderr, "gospamd deliver: %v\n", err)
		return exitTempFail
	}
	log.Info("delivered", "user", f.user, "filing", filing)
	return exitOK
}

// runFilter is gospamd filter: maildrop's xfilter. It writes the message
// marked up for the user to standard output, as spamc does through
// spamd, or unchanged when it cannot be scanned.
func runFilter(ctx context.Context, env *cliEnv, args []string) int {
	var f mdaFlags
	dcfg, fs, code := commandFlags(env, "gospamd filter", args)
	if code >= 0 {
		return code
	}
	f.register(fs, env, dcfg)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(env.stderr, "usage: gospamd filter [--user USER] < message > marked-up")
		return exitUsage
	}
	log, err := serveLogger(env, f.logLevel)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd filter: %v\n", err)
		return exitUsage
	}
	msg, err := io.ReadAll(env.stdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "gospamd filter: read the message: %v\n", err)
		return exitTempFail
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	out := msg
	if scanFn, closeScan, err := f.scanner(ctx, log); err != nil {
		log.Warn("cannot scan; passing the message through", "err", err)
	} else {
		if s, err := scanFn(ctx, f.user, msg); err != nil {
			log.Warn("cannot scan; passing the message through", "err", err)
		} else {
			out = s.Message
		}
		closeScan()
	}
	if _, err := env.stdout.Write(out); err != nil {
		fmt.Fprintf(env.stderr, "gospamd filter: %v\n", err)
		return exitTempFail
	}
	return exitOK
}
