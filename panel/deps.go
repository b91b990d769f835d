package panel

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/panel/policyedit"
)

// Deps are what the panel works on: the running daemon's parts, filled in
// by cmd/gospamd from its daemon value. The panel holds no state of its
// own beyond sessions and the scan log it is handed.
type Deps struct {
	// Version is the daemon's version string.
	Version string
	// Started is when the daemon started (uptime).
	Started time.Time
	// Store is the Bayes store (read: magic, scopes; written only inside
	// Exclusive: backup is read-only, restore, clear and expire write).
	Store Store
	// Exclusive runs fn with the single writer paused, as the admin socket
	// does for restore, clear and expire (learn.Writer.Exclusive).
	Exclusive func(ctx context.Context, fn func(context.Context) error) error
	// Learner learns one raw message as spam or ham for user ("" is the
	// site's scope) through the scan service's Tell, that is the single
	// writer, returning once it is committed.
	Learner Learner
	// PerUserBayes is [policy] bayes_scope = "user": the Bayes page
	// offers one scope per user.
	PerUserBayes bool
	// Scans is the scan log the daemon's scan service feeds
	// (scan.Config.OnScan = Scans.Observe); nil shows no scan figures.
	Scans *ScanLog
	// DNS reports the resolver's health per list zone; nil without [dns].
	DNS func() []ZoneHealth
	// Training is the IMAP trainer; nil without [imap] (no Training page).
	Training Training
	// Reload does what SIGHUP does (policy, TLS certificates) and
	// returns the error of a refused policy, the running one being kept.
	Reload func(ctx context.Context) error
	// PolicyDir is the site policy directory ([policy] dir); "" when the
	// daemon runs the built-in rules alone.
	PolicyDir string
	// DaemonConfigFile is the daemon config file the daemon read; "" when
	// none was.
	DaemonConfigFile string
	// PolicyDaemon are the daemon settings the Policy page edits (junk
	// sorting and retention) as the daemon config file alone has them,
	// under the panel's overlay.
	PolicyDaemon policyedit.Daemon
	// SMTP says the daemon runs the SMTP front end (junk sorting applies).
	SMTP bool
	// PolicyLoad loads a site policy as the daemon does (with its network
	// plugins); nil is rules.LoadPolicy.
	PolicyLoad policyedit.LoadFunc
	// Logger receives the panel's log lines (never passwords or bodies).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Store is the part of the Bayes store (classifier.Backend) the panel
// uses.
type Store interface {
	Magic(ctx context.Context, sc classifier.Scope) (classifier.Magic, error)
	Scopes(ctx context.Context) ([]classifier.Scope, error)
	Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error
	Restore(ctx context.Context, sc classifier.Scope, r io.Reader) (classifier.RestoreStats, error)
	Clear(ctx context.Context, sc classifier.Scope) error
	Expire(ctx context.Context, sc classifier.Scope, opt classifier.ExpireOptions) (classifier.ExpireStats, error)
}

// Learner learns one message through the single writer (the IMAP
// trainer's Learner has the same shape).
type Learner interface {
	Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error)
}

// Training is the IMAP folder trainer as the Training page sees it.
type Training interface {
	// Reports are the last passes' reports, newest first.
	Reports() []*imaptrain.Report
	// Pass runs one pass now (after a running one) and returns its report.
	Pass(ctx context.Context) (*imaptrain.Report, error)
}

// ZoneHealth is what the resolver saw of one list zone since the daemon
// started.
type ZoneHealth struct {
	Zone     string
	Queries  int64 // queries sent
	Timeouts int64 // of which no server answered in time
	Errors   int64 // SERVFAIL and other failures
}
