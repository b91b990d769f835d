package imaptrain

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/learn"
)

// Security is how the trainer protects its IMAP connection.
type Security string

// The connection securities.
const (
	SecurityNone     Security = "none"     // plain IMAP (only for a server on this host)
	SecurityStartTLS Security = "starttls" // plain IMAP upgraded with STARTTLS before login
	SecurityTLS      Security = "tls"      // IMAP over TLS from the first byte (port 993)
)

// Defaults of Config.
const (
	DefaultServer       = "127.0.0.1:143"
	DefaultSpamFolder   = "LearnAsSpam"
	DefaultHamFolder    = "LearnAsHam"
	DefaultJunkFolder   = "junkmail"
	DefaultPollInterval = confval.Duration(5 * time.Minute)
	DefaultBatchSize    = 100
	DefaultParallel     = 4
	// MasterSeparator joins a user and the master user in a Dovecot
	// master-user login ("alice*admin"), as Dovecot's
	// auth_master_user_separator = * configures it.
	MasterSeparator = "*"
)

// Config is the daemon config file's [imap] section: which IMAP server
// holds the learn folders, which accounts to train from, and what a pass
// does. The zero Config is not valid (it has no accounts); Validate fills
// in the defaults.
//
//	[imap]
//	server = "127.0.0.1:143"
//	security = "none"
//	spam_folder = "LearnAsSpam"
//	ham_folder = "LearnAsHam"
//	junk_folder = "junkmail"
//	poll_interval = "5m"
//	junk_retention_days = 30
//	report_to = "admin@example.com"
//	report_relay = "127.0.0.1:25"
//
//	[[imap.accounts]]
//	user = "alice"
//	password_file = "/etc/gospamd/imap/alice"
//
// or, with a Dovecot master user, one login for every user:
//
//	[imap]
//	master_user = "gospamd"
//	master_password_file = "/etc/gospamd/imap-master"
//	users = ["alice", "bob"]
type Config struct {
	// Server is the IMAP server's host:port (default 127.0.0.1:143).
	Server string `toml:"server"`
	// Security is "none", "starttls" or "tls" (default "none" for a
	// server on a loopback address, else "starttls").
	Security Security `toml:"security"`
	// ServerName is the name the server's TLS certificate must carry
	// (default: the host part of Server).
	ServerName string `toml:"server_name"`
	// SpamFolder: every message a user puts here is learned as spam,
	// then deleted (default "LearnAsSpam").
	SpamFolder string `toml:"spam_folder"`
	// HamFolder: every message a user puts here is learned as ham, then
	// deleted (default "LearnAsHam").
	HamFolder string `toml:"ham_folder"`
	// JunkFolder is where delivery files spam (default "junkmail"). It is
	// never learned from: the report counts its messages, and
	// JunkRetentionDays expires them.
	JunkFolder string `toml:"junk_folder"`
	// ArchiveFolder, when set, receives learned messages (MOVE) instead
	// of their being expunged.
	ArchiveFolder string `toml:"archive_folder"`
	// PollInterval is the time between passes of the daemon's trainer
	// (default "5m").
	PollInterval confval.Duration `toml:"poll_interval"`
	// JunkRetentionDays expunges junk-folder messages whose INTERNALDATE
	// is older than this many days (SME Server's MessageRetentionTime);
	// 0 keeps them.
	JunkRetentionDays int `toml:"junk_retention_days"`
	// ReportTo is the address mailed the per-user report after a pass
	// that learned or failed something; empty logs it only.
	ReportTo string `toml:"report_to"`
	// ReportFrom is the report's sender (default: ReportTo).
	ReportFrom string `toml:"report_from"`
	// ReportRelay is the SMTP relay (host:port) the report is sent
	// through (default 127.0.0.1:25).
	ReportRelay string `toml:"report_relay"`
	// Idle watches the learn folders with IDLE where the server has it,
	// so that a pass follows a user's move within seconds (default true;
	// two connections per account).
	Idle *bool `toml:"idle"`
	// BatchSize is the number of messages fetched at once (default 100).
	BatchSize int `toml:"batch_size"`
	// Parallel bounds the accounts trained at once (default 4).
	Parallel int `toml:"parallel"`

	// Accounts log in with their own passwords.
	Accounts []Account `toml:"accounts"`
	// MasterUser logs in as each of Users through Dovecot's master-user
	// login ("user*master") with MasterPasswordFile's password.
	MasterUser         string   `toml:"master_user"`
	MasterPasswordFile string   `toml:"master_password_file"`
	Users              []string `toml:"users"`
}

// An Account is one mailbox the trainer logs in to.
type Account struct {
	// User is the IMAP login, and the user whose Bayes scope learns
	// (with bayes_scope user).
	User string `toml:"user"`
	// PasswordFile holds the password (its first line); passwords are
	// never written in the config file itself.
	PasswordFile string `toml:"password_file"`
}

// Enabled reports whether the section names any account: an empty or
// absent [imap] section leaves the trainer off.
func (c *Config) Enabled() bool { return len(c.Accounts) > 0 || c.MasterUser != "" || len(c.Users) > 0 }

// Validate fills in defaults and checks the section. The password files
// are read later, at each login, so that a changed password needs no
// restart.
func (c *Config) Validate() error {
	if c.Server == "" {
		c.Server = DefaultServer
	}
	host, _, err := net.SplitHostPort(c.Server)
	if err != nil {
		return fmt.Errorf("imap: server %q: want host:port: %w", c.Server, err)
	}
	switch c.Security {
	case "":
		c.Security = SecurityStartTLS
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			c.Security = SecurityNone
		}
	case SecurityNone, SecurityStartTLS, SecurityTLS:
	default:
		return fmt.Errorf("imap: security %q: want none, starttls or tls", c.Security)
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	setDefault(&c.SpamFolder, DefaultSpamFolder)
	setDefault(&c.HamFolder, DefaultHamFolder)
	setDefault(&c.JunkFolder, DefaultJunkFolder)
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Parallel == 0 {
		c.Parallel = DefaultParallel
	}
	setDefault(&c.ReportFrom, c.ReportTo)
	if c.ReportTo != "" {
		setDefault(&c.ReportRelay, "127.0.0.1:25")
	}

	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("imap: "+format, a...)) }
	if time.Duration(c.PollInterval) < time.Second {
		bad("poll_interval %s: want at least 1s", time.Duration(c.PollInterval))
	}
	if c.JunkRetentionDays < 0 {
		bad("junk_retention_days %d: want 0 (keep) or more", c.JunkRetentionDays)
	}
	if c.BatchSize < 0 || c.Parallel < 0 {
		bad("batch_size and parallel must be positive")
	}
	// Mailbox → class is three-way: spam, ham, and everything else
	// neutral. A learn folder that is also the inbox or the junk folder
	// would learn (and delete) mail nobody chose to train with.
	folders := map[string]string{}
	for _, f := range []struct{ key, name string }{
		{"spam_folder", c.SpamFolder}, {"ham_folder", c.HamFolder},
		{"junk_folder", c.JunkFolder}, {"archive_folder", c.ArchiveFolder},
	} {
		if f.name == "" {
			continue
		}
		if strings.EqualFold(f.name, "INBOX") {
			bad("%s cannot be INBOX", f.key)
		}
		if other, dup := folders[strings.ToLower(f.name)]; dup {
			bad("%s and %s are both %q", other, f.key, f.name)
		}
		folders[strings.ToLower(f.name)] = f.key
	}
	if c.ReportTo != "" && !strings.Contains(c.ReportTo, "@") {
		bad("report_to %q is not a mail address", c.ReportTo)
	}
	if c.ReportRelay != "" {
		if _, _, err := net.SplitHostPort(c.ReportRelay); err != nil {
			bad("report_relay %q: want host:port", c.ReportRelay)
		}
	}

	if !c.Enabled() {
		bad("no accounts: give [[imap.accounts]] or master_user with users")
	}
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		if err := learn.ValidateUserName(a.User); err != nil {
			bad("accounts[%d]: %v", i, err)
		}
		if a.PasswordFile == "" {
			bad("accounts[%d] (%s): password_file is required", i, a.User)
		}
		if seen[a.User] {
			bad("user %q is listed twice", a.User)
		}
		seen[a.User] = true
	}
	if c.MasterUser != "" || len(c.Users) > 0 || c.MasterPasswordFile != "" {
		if c.MasterUser == "" || c.MasterPasswordFile == "" || len(c.Users) == 0 {
			bad("master_user, master_password_file and users go together")
		}
		for _, u := range c.Users {
			if err := learn.ValidateUserName(u); err != nil {
				bad("users: %v", err)
			}
			if strings.Contains(u, MasterSeparator) {
				bad("users: %q contains the master-user separator %q", u, MasterSeparator)
			}
			if seen[u] {
				bad("user %q is listed twice", u)
			}
			seen[u] = true
		}
	}
	return errors.Join(errs...)
}

func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// A login is how the trainer enters one user's mailbox.
type login struct {
	user         string // whose mail, and whose Bayes scope
	name         string // the IMAP login name
	passwordFile string
}

// logins lists the accounts of a validated Config, in the order given.
func (c *Config) logins() []login {
	var ls []login
	for _, a := range c.Accounts {
		ls = append(ls, login{user: a.User, name: a.User, passwordFile: a.PasswordFile})
	}
	for _, u := range c.Users {
		ls = append(ls, login{user: u, name: u + MasterSeparator + c.MasterUser, passwordFile: c.MasterPasswordFile})
	}
	return ls
}

// readPassword returns the first line of a password file.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty", path)
	}
	return pw, nil
}

// idle is Idle with its default.
func (c *Config) idle() bool { return c.Idle == nil || *c.Idle }

// String renders the settings, without accounts, for logs and tests.
func (c *Config) String() string {
	return fmt.Sprintf("server=%s security=%s server_name=%s spam=%q ham=%q junk=%q archive=%q poll=%s retention=%dd report_to=%q report_from=%q relay=%s batch=%d parallel=%d",
		c.Server, c.Security, c.ServerName, c.SpamFolder, c.HamFolder, c.JunkFolder, c.ArchiveFolder,
		time.Duration(c.PollInterval), c.JunkRetentionDays, c.ReportTo, c.ReportFrom, c.ReportRelay, c.BatchSize, c.Parallel)
}
