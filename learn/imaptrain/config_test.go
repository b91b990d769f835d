package imaptrain

import (
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/pelletier/go-toml/v2"
)

// The [imap] section as an administrator writes it in the daemon config
// file decodes into Config, and Validate fills in the defaults.
func TestConfigFromTOML(t *testing.T) {
	const file = `
[imap]
server = "mail.example.org:993"
security = "tls"
junk_folder = "Junk"
poll_interval = "90s"
junk_retention_days = 30
report_to = "admin@example.org"
report_relay = "127.0.0.1:2525"

[[imap.accounts]]
user = "alice"
password_file = "/etc/gospamd/imap/alice"

[[imap.accounts]]
user = "bob@example.org"
password_file = "/etc/gospamd/imap/bob"
`
	var doc struct {
		IMAP Config `toml:"imap"`
	}
	if err := toml.Unmarshal([]byte(file), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.IMAP
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Server: "mail.example.org:993", Security: SecurityTLS, ServerName: "mail.example.org",
		SpamFolder: "LearnAsSpam", HamFolder: "LearnAsHam", JunkFolder: "Junk",
		PollInterval: confval.Duration(90 * time.Second), JunkRetentionDays: 30,
		ReportTo: "admin@example.org", ReportFrom: "admin@example.org", ReportRelay: "127.0.0.1:2525",
		BatchSize: DefaultBatchSize, Parallel: DefaultParallel,
	}
	got := c
	got.Accounts = nil
	if got.String() != want.String() {
		t.Errorf("decoded:\n got %s\nwant %s", got.String(), want.String())
	}
	if len(c.Accounts) != 2 || c.Accounts[1] != (Account{User: "bob@example.org", PasswordFile: "/etc/gospamd/imap/bob"}) {
		t.Errorf("accounts: %+v", c.Accounts)
	}
}

func TestConfigValidate(t *testing.T) {
	acct := []Account{{User: "alice", PasswordFile: "/p"}}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" valid
		check   func(t *testing.T, c Config)
	}{
		{name: "loopback server defaults to plain IMAP", cfg: Config{Accounts: acct},
			check: func(t *testing.T, c Config) {
				if c.Server != DefaultServer || c.Security != SecurityNone || c.PollInterval != DefaultPollInterval {
					t.Errorf("defaults: %s", c.String())
				}
			}},
		{name: "remote server defaults to STARTTLS", cfg: Config{Server: "imap.example.org:143", Accounts: acct},
			check: func(t *testing.T, c Config) {
				if c.Security != SecurityStartTLS {
					t.Errorf("security %q, want starttls", c.Security)
				}
			}},
		{name: "master user with users", cfg: Config{MasterUser: "gospamd", MasterPasswordFile: "/m", Users: []string{"alice", "bob"}}},
		{name: "no accounts", cfg: Config{}, wantErr: "no accounts"},
		{name: "unknown security", cfg: Config{Security: "ssl", Accounts: acct}, wantErr: "security"},
		{name: "server without port", cfg: Config{Server: "imap.example.org", Accounts: acct}, wantErr: "host:port"},
		{name: "INBOX as a learn folder", cfg: Config{HamFolder: "inbox", Accounts: acct}, wantErr: "ham_folder cannot be INBOX"},
		{name: "junk folder is the spam folder", cfg: Config{JunkFolder: "LearnAsSpam", Accounts: acct}, wantErr: "both"},
		{name: "account without password file", cfg: Config{Accounts: []Account{{User: "alice"}}}, wantErr: "password_file is required"},
		{name: "user name with a slash", cfg: Config{Accounts: []Account{{User: "../etc", PasswordFile: "/p"}}}, wantErr: "path separator"},
		{name: "user twice", cfg: Config{Accounts: append(acct, acct...)}, wantErr: "listed twice"},
		{name: "master user without password file", cfg: Config{MasterUser: "m", Users: []string{"a"}}, wantErr: "go together"},
		{name: "poll interval too short", cfg: Config{PollInterval: confval.Duration(time.Millisecond), Accounts: acct}, wantErr: "poll_interval"},
		{name: "negative retention", cfg: Config{JunkRetentionDays: -1, Accounts: acct}, wantErr: "junk_retention_days"},
		{name: "report_to not an address", cfg: Config{ReportTo: "admin", Accounts: acct}, wantErr: "report_to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate: %v, want an error about %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
