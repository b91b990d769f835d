package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/geo"
	"github.com/gospamd/gospamd/tokenizer"
)

// Store is the read side of the Bayes store a scan uses: token lookups
// for the classifier and the seen index, so that autolearn skips
// tokenizing a message the writer would refuse anyway.
type Store interface {
	rules.BayesReader
	Seen(ctx context.Context, sc classifier.Scope, msgid string) (classifier.Class, bool, error)
}

// Learner applies one learn or forget and returns once it is committed:
// the single writer (*learn.Writer).
type Learner interface {
	Learn(ctx context.Context, op classifier.Op) (classifier.Result, error)
}

// Metrics receives the service's observations. Wire a Prometheus
// implementation in the daemon; nil uses none.
type Metrics interface {
	// ScanStarted and ScanDone bracket every scan; outcome is the
	// verdict's String, or "error".
	ScanStarted()
	ScanDone(outcome string, elapsed time.Duration)
	// TimeLimitExceeded counts scans cut short by time_limit or the
	// caller's deadline.
	TimeLimitExceeded()
	// Autolearned counts autolearn outcomes (rules.Autolearn*).
	Autolearned(status string)
}

type nopMetrics struct{}

func (nopMetrics) ScanStarted()                   {}
func (nopMetrics) ScanDone(string, time.Duration) {}
func (nopMetrics) TimeLimitExceeded()             {}
func (nopMetrics) Autolearned(string)             {}

// Config is what a Service is built from. Zero fields take defaults.
type Config struct {
	// PolicyDir is the site policy directory (every *.cf in name order on
	// top of the built-in rules); "" is the built-in rules alone.
	PolicyDir string
	// UserPrefsDir holds per-user preferences as DIR/<user>/user_prefs
	// (spamd's virtual config dir); "" disables them.
	UserPrefsDir string
	// PerUserBayes gives each user a Bayes database of their own
	// (bayes_scope user); otherwise all share the global one.
	PerUserBayes bool
	// MaxBayesScopes bounds, with PerUserBayes, the users' scopes: a
	// user without a scope in the store gets one only while fewer than
	// this many exist (default 1000), and only if known (a directory
	// DIR/<user> under UserPrefsDir, when that is set). Anyone else is
	// scanned with the global scope (reading it, autolearning into it
	// with the site's scores), and their TELL is refused (ErrBadUser),
	// so that clients cannot create scopes by naming made-up users.
	MaxBayesScopes int
	// Hostname is _HOSTNAME_ in the markup, unless the policy's
	// report_hostname says otherwise.
	Hostname string
	// RequiredScore, when set, overrides the site policy's required_score
	// (a user's own required_score still applies to that user).
	RequiredScore *float64
	// MaxMessageSize is the largest message scanned; a larger one is
	// returned unscanned (Result.Unscanned). 0: the policy's
	// max_message_size.
	MaxMessageSize int64
	// Store is the Bayes store scans read; nil scans without Bayes.
	Store Store
	// Writer applies autolearn and TELL; nil disables both (autolearn
	// then reports "disabled" only if the policy has it off, else
	// "unavailable").
	Writer Learner
	// Net runs the network tests; nil scans with local tests only.
	Net rules.NetChecker
	// MaxRunning, when positive, is how many scans compute at once,
	// typically GOMAXPROCS (see coreGate); the others wait for one to
	// finish, in arrival order, before they start. A scan gives its
	// place up while it waits on DNS or on the Bayes writer, but not
	// while it waits on the Bayes store: leave it 0 with a network store
	// (Redis), whose lookup would keep a core idle. 0: no limit.
	MaxRunning int
	// Diagnostic receives the policy's parse diagnostics at every load;
	// nil logs warnings and errors.
	Diagnostic func(cf.Diagnostic)
	// MaxUserEngines and MaxUserEngineBytes bound the per-user engines
	// kept between scans: at most MaxUserEngines users (default 1000)
	// and about MaxUserEngineBytes of memory (default 256 MiB; see
	// rules.Engine.UserCost), the least recently used dropped first. A
	// user whose prefs change only scores, lists and settings costs a
	// few tens of kilobytes; one with rules of their own
	// (allow_user_rules) megabytes with a large rule set.
	MaxUserEngines     int
	MaxUserEngineBytes int64
	Logger             *slog.Logger
	Metrics            Metrics
	// OnScan, when set, is called after every scan (errors included)
	// with its summary, on the scanning goroutine: it must be quick and
	// safe for concurrent use (the web panel keeps a bounded ring).
	OnScan func(Record)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// A Service is the path of a message. It is safe for concurrent use;
// Reload swaps the policy under running scans, each of which finishes
// with the policy it started with.
type Service struct {
	cfg    Config
	log    *slog.Logger
	policy atomic.Pointer[sitePolicy]
	scopes *userScopes
	cores  coreGate
}

// sitePolicy is one loaded site policy with the engines built from it.
type sitePolicy struct {
	engine      *rules.Engine
	maxSize     int64
	learnTokens tokenizer.TokenOptions // the scan's options, in learn mode
	users       *userEngines
}

// New loads the site policy and returns the service. A policy with errors
// is refused.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUserEngines <= 0 {
		cfg.MaxUserEngines = 1000
	}
	if cfg.MaxBayesScopes <= 0 {
		cfg.MaxBayesScopes = 1000
	}
	if cfg.MaxUserEngineBytes <= 0 {
		cfg.MaxUserEngineBytes = 256 << 20
	}
	s := &Service{cfg: cfg, log: cfg.Logger, cores: newCoreGate(cfg.MaxRunning)}
	s.scopes = newUserScopes(cfg.UserPrefsDir, cfg.MaxBayesScopes, cfg.Store, cfg.Logger)
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload rereads the site policy and swaps it in with an empty per-user
// cache. On error the running policy is kept.
func (s *Service) Reload(ctx context.Context) error {
	pol, diags, err := rules.LoadPolicyFor(ctx, s.cfg.PolicyDir, s.cfg.Net)
	for _, d := range diags {
		switch {
		case s.cfg.Diagnostic != nil:
			s.cfg.Diagnostic(d)
		case d.Severity <= cf.SeverityWarning:
			s.log.Warn("policy", "diagnostic", d.String())
		}
	}
	if err != nil {
		return err
	}
	opt, _ := rules.OptionsFromPolicy(pol, s.cfg.Hostname)
	if s.cfg.Store != nil {
		opt.Bayes = s.cfg.Store
	}
	opt.Net = s.cfg.Net
	switch db, err := geo.FromPolicy(pol); {
	case err == nil:
		opt.Countries = db
	case !errors.Is(err, geo.ErrNoDatabase):
		// As SpamAssassin: RelayCountry is off, the rest runs.
		s.log.Warn("policy: relay countries off", "err", err)
	}
	if s.cfg.RequiredScore != nil {
		opt.RequiredScore = *s.cfg.RequiredScore
	}
	engine, err := rules.New(opt)
	if err != nil {
		return fmt.Errorf("build the rules engine: %w", err)
	}
	maxSize := s.cfg.MaxMessageSize
	if maxSize <= 0 {
		maxSize = pol.Settings().MaxMessageSize
	}
	s.policy.Store(&sitePolicy{
		engine:      engine,
		maxSize:     maxSize,
		learnTokens: rules.LearnTokenOptions(opt.TokenOptions),
		users:       newUserEngines(s.cfg.UserPrefsDir, s.cfg.MaxUserEngines, s.cfg.MaxUserEngineBytes, s.log),
	})
	return nil
}

// MaxMessageSize is the largest message Scan scans.
func (s *Service) MaxMessageSize() int64 { return s.policy.Load().maxSize }

// BayesParams are the classifier parameters of the site policy (for
// dumps through the admin socket).
func (s *Service) BayesParams() classifier.Params {
	return s.policy.Load().engine.BayesParams()
}

// Levels are the thresholds that apply to one user.
type Levels struct {
	Tag    float64 // required_score
	Reject float64 // reject_score; 0 or less: never reject
}

// LevelsFor returns the tag and reject levels for user, with the user's
// user_prefs applied, without scanning (for answers about messages too
// big to scan).
func (s *Service) LevelsFor(user string) (Levels, error) {
	if err := validUser(user); err != nil {
		return Levels{}, err
	}
	eng := s.engineFor(context.Background(), s.policy.Load(), user)
	return Levels{Tag: eng.RequiredScore(), Reject: eng.RejectScore()}, nil
}

// engineFor is the engine for user under pol.
func (s *Service) engineFor(ctx context.Context, pol *sitePolicy, user string) *rules.Engine {
	return pol.users.get(ctx, pol.engine, user)
}
