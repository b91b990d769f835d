package imaptrain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/gospamd/gospamd/classifier"
)

// A Learner learns one message for a user as spam or ham and returns
// only once the learn is committed: that is what lets the trainer delete
// the message afterwards. Learning a message already learned as that
// class returns classifier.AlreadyLearned and changes nothing.
//
// SubmitLearner adapts the single writer (learn.Writer) or admin.Bayes;
// the daemon passes its scan service's Tell.
type Learner interface {
	Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error)
}

// Metrics receives the trainer's observations; nil uses none.
type Metrics interface {
	// Learned counts messages learned (or already known) per account
	// and class; result is classifier.Result's String.
	Learned(user string, class classifier.Class, result classifier.Result)
	// Failed counts messages left in place and accounts that failed.
	Failed(user string, what string)
	// PassDone observes one pass over every account.
	PassDone(d time.Duration)
}

type nopMetrics struct{}

func (nopMetrics) Learned(string, classifier.Class, classifier.Result) {}
func (nopMetrics) Failed(string, string)                               {}
func (nopMetrics) PassDone(time.Duration)                              {}

// Options are the trainer's dependencies beside its Config.
type Options struct {
	Learner Learner
	Logger  *slog.Logger
	Metrics Metrics
	// Dial opens an account's mailbox; default: Dial with the Config's
	// server and the login's password file. Tests dial an in-process
	// server.
	Dial func(ctx context.Context, login, password string) (MailboxConn, error)
	// Mailer sends the report; default: SMTP through ReportRelay.
	Mailer func(ctx context.Context, r *Report) error
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Parallel bounds learns in flight per account (default 16): the
	// single writer commits them together.
	Parallel int
	// Settle is the wait between IDLE's news of a message and the pass
	// (default 2s), so that one pass takes a whole move.
	Settle time.Duration
	// RetryDelay is the first wait before reconnecting after a network
	// failure, doubled for each retry (default 2s); 3 tries in all.
	RetryDelay time.Duration
}

// A MailboxConn is a Mailbox on an open connection.
type MailboxConn interface {
	Mailbox
	Logout() error
	Close() error
}

// A Trainer learns from the learn folders of every configured account.
//
// # One pass
//
// For each account (at most Config.Parallel at once; one failing never
// stops the others): log in; create and subscribe the learn folders when
// missing; for the spam folder and then the ham folder, fetch the
// messages in batches and learn each through the Learner; once a batch's
// learns are committed, remove exactly the messages whose learn
// succeeded. A message whose fetch or learn failed stays in its folder
// and is counted as a failure in the report. Then expire the junk folder
// and count what is left in it.
//
// # Crash safety
//
// Nothing is removed before its learn is committed. A crash between the
// commit and the removal leaves the message in its folder; the next pass
// learns it again, which the seen index turns into a no-op (reported as
// already known), and removes it.
//
// A Trainer is safe for concurrent use, but passes should not overlap
// (two would learn the same messages twice, harmlessly, and race to
// remove them).
type Trainer struct {
	cfg  Config
	opt  Options
	log  *slog.Logger
	pass sync.Mutex
	// retention is Config.JunkRetentionDays, changeable while running.
	retention atomic.Int64

	mu      sync.Mutex
	reports []*Report // the last keptReports passes, newest first
}

// keptReports is how many passes' reports Reports returns.
const keptReports = 10

// Reports returns the reports of the last passes (at most ten), newest
// first, for the web panel. The reports must not be modified.
func (t *Trainer) Reports() []*Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.reports)
}

func (t *Trainer) keep(rep *Report) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reports = append([]*Report{rep}, t.reports[:min(len(t.reports), keptReports-1)]...)
}

// SetJunkRetentionDays changes Config.JunkRetentionDays from the next
// pass on (a reload of the daemon config overlay); 0 keeps junk.
func (t *Trainer) SetJunkRetentionDays(days int) { t.retention.Store(int64(max(days, 0))) }

// JunkRetentionDays is the current Config.JunkRetentionDays.
func (t *Trainer) JunkRetentionDays() int { return int(t.retention.Load()) }

// New builds a trainer; cfg must have been validated.
func New(cfg Config, opt Options) (*Trainer, error) {
	if opt.Learner == nil {
		return nil, errors.New("imap trainer: no learner")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Metrics == nil {
		opt.Metrics = nopMetrics{}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 16
	}
	if opt.Settle <= 0 {
		opt.Settle = 2 * time.Second
	}
	if opt.RetryDelay <= 0 {
		opt.RetryDelay = 2 * time.Second
	}
	if opt.Dial == nil {
		opt.Dial = func(ctx context.Context, login, password string) (MailboxConn, error) {
			return Dial(ctx, DialOptions{Server: cfg.Server, Security: cfg.Security, ServerName: cfg.ServerName,
				Login: login, Password: password})
		}
	}
	if opt.Mailer == nil {
		opt.Mailer = func(ctx context.Context, r *Report) error { return sendReport(ctx, &cfg, r) }
	}
	t := &Trainer{cfg: cfg, opt: opt, log: opt.Logger.With("component", "imap-trainer")}
	t.SetJunkRetentionDays(cfg.JunkRetentionDays)
	return t, nil
}

// Pass runs one pass over every account and returns its report. The
// error is nil even when accounts failed (the report says which); it is
// ctx's error when the pass was cut short.
func (t *Trainer) Pass(ctx context.Context) (*Report, error) {
	t.pass.Lock()
	defer t.pass.Unlock()
	start := t.opt.Now()
	logins := t.cfg.logins()
	rep := &Report{Start: start, Rows: make([]Row, len(logins))}
	sem := make(chan struct{}, max(t.cfg.Parallel, 1))
	var wg sync.WaitGroup
	for i, l := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				rep.Rows[i] = Row{User: l.user, Err: ctx.Err()}
				return
			}
			rep.Rows[i] = t.account(ctx, l)
		}()
	}
	wg.Wait()
	rep.Duration = time.Since(start)
	t.opt.Metrics.PassDone(rep.Duration)
	t.keep(rep)
	for _, r := range rep.Rows {
		attrs := []any{"user", r.User, "spam", r.Spam, "ham", r.Ham, "known", r.Known,
			"junk", r.Junk, "junk_unseen", r.JunkUnseen, "expired", r.Expired, "failures", r.Failures}
		if r.Err != nil {
			t.log.Error("imap training failed", append(attrs, "err", r.Err)...)
			t.opt.Metrics.Failed(r.User, "account")
		} else {
			t.log.Info("imap training", attrs...)
		}
	}
	return rep, ctx.Err()
}

// Report mails rep to ReportTo when it is set and the pass learned or
// failed something.
func (t *Trainer) Report(ctx context.Context, rep *Report) error {
	if t.cfg.ReportTo == "" || !rep.Eventful() {
		return nil
	}
	if err := t.opt.Mailer(ctx, rep); err != nil {
		return fmt.Errorf("mail imap training report to %s: %w", t.cfg.ReportTo, err)
	}
	return nil
}

// Run runs a pass now and then every PollInterval until ctx is done,
// mailing each eventful pass's report. With Config.Idle, each learn
// folder of each account is also watched with IDLE (one connection per
// folder), and new mail there starts a pass after Options.Settle.
func (t *Trainer) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Duration(t.cfg.PollInterval))
	defer tick.Stop()
	wake := make(chan struct{}, 1)
	var watchers sync.WaitGroup
	defer watchers.Wait()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	for pass := 0; ; pass++ {
		rep, err := t.Pass(ctx)
		if err != nil {
			return err
		}
		if pass == 0 && t.cfg.idle() {
			// After the first pass, which created the learn folders.
			for _, l := range t.cfg.logins() {
				for _, f := range []string{t.cfg.SpamFolder, t.cfg.HamFolder} {
					watchers.Add(1)
					go func() {
						defer watchers.Done()
						t.watch(watchCtx, l, f, wake)
					}()
				}
			}
		}
		if err := t.Report(ctx, rep); err != nil {
			t.log.Error("imap training report not sent", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-wake:
			// Let a user's move of several messages finish first.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(t.opt.Settle):
			}
			select {
			case <-wake:
			default:
			}
		}
	}
}

// account runs one account's part of a pass.
func (t *Trainer) account(ctx context.Context, l login) Row {
	row := Row{User: l.user}
	mb, err := t.connect(ctx, l)
	if err != nil {
		row.Err = err
		return row
	}
	defer func() {
		if err := mb.Logout(); err != nil && ctx.Err() == nil {
			t.log.Debug("imap logout", "user", l.user, "err", err)
		}
	}()
	if err := mb.Ensure(ctx, t.cfg.SpamFolder, t.cfg.HamFolder, t.cfg.ArchiveFolder); err != nil {
		row.Err = err
		return row
	}
	for _, f := range []struct {
		name  string
		class classifier.Class
	}{{t.cfg.SpamFolder, classifier.Spam}, {t.cfg.HamFolder, classifier.Ham}} {
		if err := t.folder(ctx, mb, l.user, f.name, f.class, &row); err != nil {
			row.Err = err
			return row
		}
	}
	if err := t.junk(ctx, mb, &row); err != nil {
		row.Err = err
	}
	return row
}

// connect logs in, retrying network failures with backoff; a refused
// login is not retried.
func (t *Trainer) connect(ctx context.Context, l login) (MailboxConn, error) {
	pw, err := readPassword(l.passwordFile)
	if err != nil {
		return nil, err
	}
	delay := t.opt.RetryDelay
	for try := 1; ; try++ {
		mb, err := t.opt.Dial(ctx, l.name, pw)
		if err == nil || errors.Is(err, ErrLogin) || ctx.Err() != nil || try == 3 {
			return mb, err
		}
		t.log.Warn("imap connect failed, retrying", "user", l.user, "in", delay, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		delay *= 2
	}
}

// folder learns every message of one learn folder as class.
func (t *Trainer) folder(ctx context.Context, mb Mailbox, user, name string, class classifier.Class, row *Row) error {
	uids, err := mb.Select(ctx, name)
	if err != nil {
		return err
	}
	batch := max(t.cfg.BatchSize, 1)
	for len(uids) > 0 {
		n := min(batch, len(uids))
		done, failed, err := t.learnBatch(ctx, mb, user, class, uids[:n], row)
		uids = uids[n:]
		if err != nil {
			return err
		}
		row.Failures += failed
		// Every learn of done is committed: only now may they go.
		if err := mb.Remove(ctx, done, t.cfg.ArchiveFolder); err != nil {
			return err
		}
	}
	return nil
}

// learnBatch fetches uids and learns them, several at a time, and returns
// the UIDs whose learn is committed and the number that failed.
func (t *Trainer) learnBatch(ctx context.Context, mb Mailbox, user string, class classifier.Class, uids []imap.UID, row *Row) (done []imap.UID, failed int, err error) {
	type outcome struct {
		uid imap.UID
		res classifier.Result
		err error
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
		sem      = make(chan struct{}, t.opt.Parallel)
		fetched  = map[imap.UID]bool{}
	)
	ferr := mb.Fetch(ctx, uids, func(uid imap.UID, raw []byte) {
		fetched[uid] = true
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := t.opt.Learner.Learn(ctx, user, class, raw)
			mu.Lock()
			outcomes = append(outcomes, outcome{uid, res, err})
			mu.Unlock()
		}()
	})
	wg.Wait()
	if ferr != nil {
		return nil, 0, ferr
	}
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	for _, u := range uids {
		if !fetched[u] {
			failed++
			t.log.Warn("imap message not fetched: left in place", "user", user, "uid", u)
			t.opt.Metrics.Failed(user, "fetch")
		}
	}
	for _, o := range outcomes {
		if o.err != nil {
			failed++
			t.log.Warn("imap message not learned: left in place", "user", user, "class", class.String(), "uid", o.uid, "err", o.err)
			t.opt.Metrics.Failed(user, "learn")
			continue
		}
		t.opt.Metrics.Learned(user, class, o.res)
		switch o.res {
		case classifier.Learned, classifier.Relearned:
			if class == classifier.Spam {
				row.Spam++
			} else {
				row.Ham++
			}
		default:
			row.Known++
		}
		done = append(done, o.uid)
	}
	return done, failed, nil
}

// junk expires the junk folder's old messages and counts the rest. A
// missing junk folder counts as empty.
func (t *Trainer) junk(ctx context.Context, mb Mailbox, row *Row) error {
	if days := t.JunkRetentionDays(); days > 0 {
		if _, err := mb.Select(ctx, t.cfg.JunkFolder); err != nil {
			if missingFolder(err) {
				return nil
			}
			return err
		}
		cutoff := t.opt.Now().AddDate(0, 0, -days)
		old, err := mb.OlderThan(ctx, cutoff)
		if err != nil {
			return err
		}
		if err := mb.Remove(ctx, old, ""); err != nil {
			return err
		}
		row.Expired = len(old)
	}
	n, unseen, err := mb.Counts(ctx, t.cfg.JunkFolder)
	if err != nil {
		if missingFolder(err) {
			return nil
		}
		return err
	}
	row.Junk, row.JunkUnseen = int(n), int(unseen)
	return nil
}
