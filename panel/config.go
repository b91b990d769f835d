package panel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// DefaultListen is where the panel listens when [panel] says nothing:
// loopback only, so that it is reached through an SSH tunnel or a
// reverse proxy unless the administrator opens it on purpose.
const DefaultListen = "127.0.0.1:8783"

// Config is the daemon config's [panel] section. The panel is off when
// the section is absent.
type Config struct {
	// Listen is the host:port the panel serves. Default 127.0.0.1:8783.
	Listen string `toml:"listen"`
	// PasswordFile holds the bcrypt hash of the administrator's password
	// (its first line), as `gospamd panel-password` prints it. Required.
	// It is reread at every login, so that a new hash takes effect
	// without a restart.
	PasswordFile string `toml:"password_file"`
	// ReadonlyPasswordFile holds the bcrypt hash of the read-only role's
	// password: it sees the status and Bayes figures and changes
	// nothing. Default: none, no read-only login.
	ReadonlyPasswordFile string `toml:"readonly_password_file"`
	// TLSCert and TLSKey are PEM files; with both the panel serves HTTPS
	// (and its session cookie is Secure). Default: plain HTTP.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
}

// WithDefaults returns c with its defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	return c
}

// TLS reports whether the panel serves HTTPS.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// Validate checks c's values, one error per problem, each prefixed by its
// key ("listen: ...").
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not HOST:PORT", c.Listen))
	}
	if c.PasswordFile == "" {
		errs = append(errs, errors.New("password_file: required (make it with gospamd panel-password)"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert: TLS needs both tls_cert and tls_key"))
	}
	return errors.Join(errs...)
}

// HashPassword returns the bcrypt hash `gospamd panel-password` prints.
func HashPassword(password []byte) (string, error) {
	if len(password) == 0 {
		return "", errors.New("empty password")
	}
	if len(password) > 72 {
		return "", errors.New("password longer than 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// readHash reads the bcrypt hash in the first line of path.
func readHash(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read password file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	h := []byte(strings.TrimSpace(line))
	if _, err := bcrypt.Cost(h); err != nil {
		return nil, fmt.Errorf("password file %s: not a bcrypt hash (make it with gospamd panel-password)", path)
	}
	return h, nil
}
