package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/learn/imaptrain"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/panel"
	"github.com/gospamd/gospamd/panel/policyedit"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/spamdproto"
)

// systemDaemonConfig is the daemon config file read when --daemon-config
// is not given and the file exists.
const systemDaemonConfig = "/etc/gospamd/gospamd.toml"

// A daemonConfig is the daemon's wiring: where the store is, what it
// listens on, where the policy is. It is read from a TOML file (see
// etc/gospamd.toml) whose sections and keys are the toml tags below;
// command-line flags override it, and what neither sets keeps the default
// of defaultDaemonConfig. Policy (rules, scores, thresholds) is not here:
// it is SpamAssassin .cf files in [policy] dir.
//
// # Validity
//
// A daemonConfig returned by loadDaemonConfig or parseServeArgs has been
// validated: durations and sizes are positive, addresses parse, and
// enumerations hold one of their values. Its fields may be used as they are.
type daemonConfig struct {
	Store  storeConfig  `toml:"store"`
	Spamd  spamdConfig  `toml:"spamd"`
	Policy policyConfig `toml:"policy"`
	Daemon daemonMisc   `toml:"daemon"`
	// SMTP, when the file has an [smtp] section, runs the SMTP front
	// end (see mta.Config for its keys); nil without one.
	SMTP *mta.Config `toml:"smtp"`
	// IMAP, when the file has an [imap] section with accounts, runs the
	// IMAP folder trainer (see imaptrain.Config for its keys).
	IMAP *imaptrain.Config `toml:"imap"`
	// DNS, when the file has a [dns] section, turns the network tests on
	// (DNSBL, URIBL, SPF, DKIM, DMARC; see resolver.Config for its keys).
	DNS *resolver.Config `toml:"dns"`
	// Panel, when the file has a [panel] section, serves the web panel
	// (see panel.Config for its keys); nil without one.
	Panel *panel.Config `toml:"panel"`

	// File is the file the config was read from, "" when none was.
	File string `toml:"-"`
	// PanelBase, when the web panel's overlay was applied over File
	// (see applyPanelOverlay), are the daemon settings it covers as File
	// alone has them; nil without an overlay.
	PanelBase *policyedit.Daemon `toml:"-"`
}

// storeConfig is the [store] section: the Bayes store.
type storeConfig struct {
	// DBPath is the Bayes store directory (--dbpath). Default:
	// $GOSPAMD_DBPATH, else ~/.gospamd/bayes. A relative path is relative
	// to the working directory. Every command (serve, learn, check,
	// masscheck) uses it, so that they all find the same store.
	DBPath string `toml:"dbpath"`
	// Backend is the store: "pebble" (the embedded store in DBPath) or
	// "redis" (a Redis server several hosts share, in SpamAssassin's
	// layout). Default: "pebble", unless the policy says
	// bayes_store_module Mail::SpamAssassin::BayesStore::Redis, as
	// SpamAssassin's does (its bayes_sql_dsn is then the server).
	Backend string `toml:"backend"`
	// RedisDSN is the Redis server, in SpamAssassin's bayes_sql_dsn form:
	// "server=127.0.0.1:6379;database=2" (server host:port, [v6]:port or
	// a UNIX socket path; database the index; password, username, and
	// tls=1 for TLS). Default: the policy's bayes_sql_dsn, else
	// server=127.0.0.1:6379.
	RedisDSN string `toml:"redis_dsn"`
	// RedisPasswordFile holds the Redis password (its first line),
	// instead of a password in RedisDSN. Default: none.
	RedisPasswordFile string `toml:"redis_password_file"`
}

// spamdConfig is the [spamd] section: the spamd-protocol server.
type spamdConfig struct {
	// Listen are the TCP host:port addresses served (--listen). Default:
	// 127.0.0.1:783 when neither Listen, SSLListen nor Socket is set.
	Listen []string `toml:"listen"`
	// Socket is a UNIX socket path served besides the TCP addresses
	// (--socket). Default: none. A socket left there by a daemon that
	// was killed is replaced; anything else at the path (a file, a socket
	// a running daemon answers on) stops the daemon instead, as spamd.
	Socket string `toml:"socket"`
	// SocketMode is the octal mode of Socket (--socket-mode), as spamd
	// --socketmode: who may connect, since every client of the socket is
	// served. Default "0666", spamd's: every local user, as spamc -U
	// expects; "0660" with the MTA in the daemon's group, or "0600", to
	// narrow it.
	SocketMode string `toml:"socket_mode"`
	// AllowedIPs are the addresses and CIDR networks whose TCP clients
	// are served, as spamd -A (--allowed-ips, comma-separated). Default:
	// loopback, 127.0.0.0/8 and ::1/128.
	AllowedIPs []string `toml:"allowed_ips"`
	// MaxChildren is how many requests are scanned at once; more wait,
	// then get EX_TEMPFAIL (--max-children). Default 10.
	MaxChildren int `toml:"max_children"`
	// MaxSize is the largest message scanned, in bytes; a larger one is
	// answered unscanned, as spamd does (--max-size). Default (nil): the
	// policy's max_message_size, 512000 unless the policy says otherwise.
	MaxSize *int64 `toml:"max_size"`
	// TimeoutTCP is the time allowed to read a request (--timeout-tcp).
	// Default 30s.
	TimeoutTCP confval.Duration `toml:"timeout_tcp"`
	// TimeoutChild is the time allowed to scan a message
	// (--timeout-child). Default 5m.
	TimeoutChild confval.Duration `toml:"timeout_child"`
	// AllowTell accepts TELL (spamc -L/-C) to learn and forget
	// (--allow-tell). Default false.
	AllowTell bool `toml:"allow_tell"`
	// SSL serves TLS on every Listen address (--ssl). Default false.
	SSL bool `toml:"ssl"`
	// SSLListen are TCP addresses serving TLS only, besides the plain
	// Listen ones (--ssl-listen). Default: none.
	SSLListen []string `toml:"ssl_listen"`
	// TLSCert is the PEM certificate file for SSL and SSLListen
	// (--ssl-cert). Required with either.
	TLSCert string `toml:"tls_cert"`
	// TLSKey is the PEM private key file for SSL and SSLListen
	// (--ssl-key). Required with either.
	TLSKey string `toml:"tls_key"`
	// MaxConnections is how many connections may be open at once,
	// whatever they are doing; one more is answered "server busy"
	// (EX_TEMPFAIL) and closed (--max-connections). Default 4096.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerIP is how many of them one client address may
	// hold; UNIX-socket clients are not limited per address
	// (--max-connections-per-ip). Default 0: no limit, as a site's MTAs
	// often share one address.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
}

// policyConfig is the [policy] section: where the SpamAssassin policy is
// and how it applies.
type policyConfig struct {
	// Dir is the site policy directory: every *.cf in it in name order,
	// on top of the built-in rules; SIGHUP rereads it (--config).
	// Default: none, the built-in rules alone.
	Dir string `toml:"dir"`
	// UserPrefsDir holds per-user preferences, <dir>/<User>/user_prefs,
	// applied for spamc -u User (--user-prefs-dir). Default: none.
	UserPrefsDir string `toml:"user_prefs_dir"`
	// BayesScope is "global" (one Bayes database) or "user" (one per
	// request User) (--bayes-scope). Default "global".
	BayesScope string `toml:"bayes_scope"`
	// RequiredScore is the score at or above which a message is spam; it
	// overrides the policy's required_score (--required-score). Default
	// (nil): the policy's.
	RequiredScore *float64 `toml:"required_score"`
}

// daemonMisc is the [daemon] section: the process itself.
type daemonMisc struct {
	// LogLevel is debug, info, warn or error (--log-level). Default info.
	LogLevel string `toml:"log_level"`
	// Hostname is the host name in X-Spam-Checker-Version (--hostname).
	// Default: this host's name.
	Hostname string `toml:"hostname"`
	// MetricsListen is the host:port serving Prometheus metrics at
	// /metrics (--metrics-listen). Default: none.
	MetricsListen string `toml:"metrics_listen"`
	// MetricsAllowedIPs are the addresses and CIDR networks whose clients
	// may read the metrics (--metrics-allowed-ips, comma-separated);
	// others get 403 Forbidden. Default (unset): [spamd] allowed_ips,
	// loopback unless set, so that the metrics are no more open than
	// spamd itself; set it when the Prometheus server is elsewhere.
	MetricsAllowedIPs *[]string `toml:"metrics_allowed_ips"`
}

// defaultDaemonConfig is the config when no file and no flag says
// otherwise: the defaults the serve flags have always had.
func defaultDaemonConfig() *daemonConfig {
	return &daemonConfig{
		Store: storeConfig{DBPath: defaultDBPath()},
		Spamd: spamdConfig{
			AllowedIPs:     []string{"127.0.0.0/8", "::1/128"},
			MaxChildren:    spamdproto.DefaultMaxConns,
			TimeoutTCP:     confval.Duration(spamdproto.DefaultReadTimeout),
			TimeoutChild:   confval.Duration(spamdproto.DefaultScanTimeout),
			MaxConnections: spamdproto.DefaultMaxOpenConns,
			SocketMode:     defaultSocketMode,
		},
		Policy: policyConfig{BayesScope: "global"},
		Daemon: daemonMisc{LogLevel: "info"},
	}
}

// A configError is one problem in a daemon config: where it is (the file
// and line, or the flag that set the value) and what is wrong.
type configError struct {
	File string // "" when the value did not come from a file
	Line int    // 0 when unknown
	Col  int    // 0 when unknown
	Flag string // the flag that set the value, when one did
	Key  string // section.key, "" for a syntax error
	Msg  string
}

func (e *configError) Error() string {
	var b strings.Builder
	switch {
	case e.Flag != "":
		fmt.Fprintf(&b, "--%s: ", e.Flag)
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
		if e.Key != "" {
			b.WriteString(e.Key + ": ")
		}
	case e.Key != "":
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// keyPos is where a key is set in a config file, and the kind of its value.
type keyPos struct {
	line, col int
	kind      unstable.Kind
}

// keyPositions maps every "section.key" set in doc to where it is set.
// It assumes doc parses; on a syntax error it returns what it read.
func keyPositions(doc []byte) map[string]keyPos {
	pos := make(map[string]keyPos)
	var p unstable.Parser
	p.Reset(doc)
	var table []string
	keyParts := func(it unstable.Iterator) ([]string, *unstable.Node) {
		var parts []string
		var first *unstable.Node
		for it.Next() {
			if first == nil {
				first = it.Node()
			}
			parts = append(parts, string(it.Node().Data))
		}
		return parts, first
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table, _ = keyParts(e.Key())
		case unstable.KeyValue:
			parts, first := keyParts(e.Key())
			if first == nil {
				continue
			}
			full := strings.Join(append(append([]string(nil), table...), parts...), ".")
			s := p.Shape(first.Raw)
			pos[full] = keyPos{line: s.Start.Line, col: s.Start.Column, kind: e.Value().Kind}
		}
	}
	return pos
}

// configFields lists every key of daemonConfig as "section.key", with
// the Go type of its value.
func configFields() []configField {
	var fields []configField
	top := reflect.TypeFor[daemonConfig]()
	for i := range top.NumField() {
		sec := top.Field(i)
		if sec.Tag.Get("toml") == "-" {
			continue // not read from the file (File, PanelBase)
		}
		typ, optional := sec.Type, false
		if typ.Kind() == reflect.Pointer {
			typ, optional = typ.Elem(), true // [smtp], [imap], [dns], [panel]
		}
		if typ.Kind() != reflect.Struct {
			continue
		}
		for j := range typ.NumField() {
			f := typ.Field(j)
			fields = append(fields, configField{key: sec.Tag.Get("toml") + "." + f.Tag.Get("toml"), typ: f.Type, optional: optional})
		}
	}
	return fields
}

type configField struct {
	key      string
	typ      reflect.Type
	optional bool // its section may be left out (a pointer in daemonConfig)
}

// loadDaemonConfig reads the daemon config file at path over the
// defaults and validates it. Its errors name the file and the line of
// each problem: syntax errors, unknown sections and keys, values of the
// wrong type and values out of range.
func loadDaemonConfig(path string) (*daemonConfig, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read daemon config: %w", err)
	}
	cfg := defaultDaemonConfig()
	cfg.File = path
	if err := decodeDaemonConfig(path, doc, cfg); err != nil {
		return nil, err
	}
	if err := applyPanelOverlay(cfg); err != nil {
		return nil, err
	}
	if errs := cfg.validate(); len(errs) > 0 {
		pos := keyPositions(doc)
		for _, e := range errs {
			e.File = path
			if p, ok := pos[e.Key]; ok {
				e.Line, e.Col = p.line, p.col
			}
		}
		return nil, joinConfigErrors(errs)
	}
	return cfg, nil
}

// decodeDaemonConfig decodes doc over cfg, rejecting unknown keys.
func decodeDaemonConfig(path string, doc []byte, cfg *daemonConfig) error {
	// A duration given as a number or a boolean reaches UnmarshalText as
	// text and fails there without a position: catch it first.
	var errs []*configError
	pos := keyPositions(doc)
	for _, f := range configFields() {
		if p, ok := pos[f.key]; ok && f.typ == reflect.TypeFor[confval.Duration]() && p.kind != unstable.String {
			errs = append(errs, &configError{File: path, Line: p.line, Col: p.col, Key: f.key,
				Msg: `want a duration string such as "30s" or "5m"`})
		}
	}
	if len(errs) > 0 {
		return joinConfigErrors(errs)
	}
	err := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields().Decode(cfg)
	if err == nil {
		return nil
	}
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, col := e.Position()
			errs = append(errs, &configError{File: path, Line: line, Col: col, Key: strings.Join(e.Key(), "."),
				Msg: unknownKeyMsg(e.Key())})
		}
		return joinConfigErrors(errs)
	case errors.As(err, &de):
		line, col := de.Position()
		// A value of the wrong type carries its full key; a syntax error
		// only the last part of it, if any, and says it in the message.
		key := strings.Join(de.Key(), ".")
		if _, ok := pos[key]; !ok {
			key = ""
		}
		return &configError{File: path, Line: line, Col: col, Key: key, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
	default:
		return &configError{File: path, Msg: err.Error()}
	}
}

func unknownKeyMsg(key []string) string {
	if len(key) == 1 {
		return "unknown section or key"
	}
	return "unknown key"
}

// joinConfigErrors joins errs into one error, one problem per line.
func joinConfigErrors(errs []*configError) error {
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// validate checks the values of c. The errors carry the key; the caller
// says where the key was set.
func (c *daemonConfig) validate() []*configError {
	var errs []*configError
	bad := func(key, format string, a ...any) {
		errs = append(errs, &configError{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	if c.Store.DBPath == "" {
		bad("store.dbpath", "must not be empty")
	}
	switch c.Store.Backend {
	case "", backendPebble, backendRedis:
	default:
		bad("store.backend", "must be %q or %q, not %q", backendPebble, backendRedis, c.Store.Backend)
	}
	if c.Store.RedisDSN != "" {
		if _, err := redisstore.ParseDSN(c.Store.RedisDSN); err != nil {
			bad("store.redis_dsn", "%v", err)
		}
	}
	s := &c.Spamd
	for _, a := range s.Listen {
		if err := checkHostPort(a); err != nil {
			bad("spamd.listen", "%v", err)
		}
	}
	for _, a := range s.SSLListen {
		if err := checkHostPort(a); err != nil {
			bad("spamd.ssl_listen", "%v", err)
		}
	}
	if _, err := s.allowedNets(); err != nil {
		bad("spamd.allowed_ips", "%v", err)
	}
	if _, err := parseSocketMode(s.SocketMode); err != nil {
		bad("spamd.socket_mode", "%v", err)
	}
	if s.MaxChildren < 1 {
		bad("spamd.max_children", "must be at least 1, not %d", s.MaxChildren)
	}
	if s.MaxSize != nil && *s.MaxSize < 1 {
		bad("spamd.max_size", "must be at least 1 byte, not %d", *s.MaxSize)
	}
	if s.TimeoutTCP <= 0 {
		bad("spamd.timeout_tcp", "must be positive, not %s", time.Duration(s.TimeoutTCP))
	}
	if s.TimeoutChild <= 0 {
		bad("spamd.timeout_child", "must be positive, not %s", time.Duration(s.TimeoutChild))
	}
	if s.MaxConnections < 1 {
		bad("spamd.max_connections", "must be at least 1, not %d", s.MaxConnections)
	}
	if s.MaxConnectionsPerIP < 0 {
		bad("spamd.max_connections_per_ip", "must be 0 (no limit) or more, not %d", s.MaxConnectionsPerIP)
	}
	switch c.Policy.BayesScope {
	case "global", "user":
	default:
		bad("policy.bayes_scope", "must be \"global\" or \"user\", not %q", c.Policy.BayesScope)
	}
	if r := c.Policy.RequiredScore; r != nil && (math.IsNaN(*r) || math.IsInf(*r, 0)) {
		bad("policy.required_score", "must be a finite number")
	}
	if c.SMTP != nil {
		if err := c.SMTP.Validate(); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				bad("smtp", "%s", strings.TrimPrefix(e, "smtp: "))
			}
		}
		if len(c.SMTP.DNSBLReject) > 0 && c.DNS == nil {
			bad("smtp.dnsbl_reject", "needs a [dns] section: the blocklists are looked up with its resolver")
		}
	}
	if c.IMAP != nil && c.IMAP.Enabled() {
		if err := c.IMAP.Validate(); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				bad("imap", "%s", strings.TrimPrefix(e, "imap: "))
			}
		}
	}
	if c.Panel != nil {
		if err := c.Panel.Validate(); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				key, msg, ok := strings.Cut(e, ": ")
				if !ok {
					key, msg = "", e
				}
				bad(strings.TrimSuffix("panel."+key, "."), "%s", msg)
			}
		}
	}
	if _, err := c.Daemon.logLevel(); err != nil {
		bad("daemon.log_level", "must be debug, info, warn or error, not %q", c.Daemon.LogLevel)
	}
	if a := c.Daemon.MetricsListen; a != "" {
		if err := checkHostPort(a); err != nil {
			bad("daemon.metrics_listen", "%v", err)
		}
	}
	if l := c.Daemon.MetricsAllowedIPs; l != nil {
		if _, err := parseNetList(*l); err != nil {
			bad("daemon.metrics_allowed_ips", "%v", err)
		}
	}
	return errs
}

// validateServe checks what the daemon needs beyond valid values: the
// settings that only make sense together. Flags may complete what the
// file leaves out, so it runs on the final config only.
func (c *daemonConfig) validateServe() []*configError {
	s := &c.Spamd
	if (s.SSL || len(s.SSLListen) > 0) && (s.TLSCert == "" || s.TLSKey == "") {
		key := "spamd.ssl"
		if !s.SSL {
			key = "spamd.ssl_listen"
		}
		return []*configError{{Key: key, Msg: "TLS needs both tls_cert and tls_key (--ssl-cert and --ssl-key)"}}
	}
	return nil
}

// checkHostPort checks that addr is a host:port with a numeric or named port.
func checkHostPort(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%q is not HOST:PORT: %w", addr, err)
	}
	return nil
}

// allowedNets is AllowedIPs parsed: an address stands for itself (a /32
// or /128).
func (s *spamdConfig) allowedNets() ([]netip.Prefix, error) {
	return parseNetList(s.AllowedIPs)
}

// defaultSocketMode is spamd's --socketmode default.
const defaultSocketMode = "0666"

// parseSocketMode reads an octal file mode such as "0660".
func parseSocketMode(s string) (os.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("%q is not an octal mode such as \"0660\"", s)
	}
	return os.FileMode(m), nil
}

// socketMode is SocketMode parsed; the config was validated.
func (s *spamdConfig) socketMode() os.FileMode {
	m, err := parseSocketMode(s.SocketMode)
	if err != nil {
		return 0o600 // not reached: validate refused it
	}
	return m
}

// metricsAllowedNets are the networks allowed to read the metrics:
// MetricsAllowedIPs, else the spamd allowed networks.
func (c *daemonConfig) metricsAllowedNets() ([]netip.Prefix, error) {
	if l := c.Daemon.MetricsAllowedIPs; l != nil {
		return parseNetList(*l)
	}
	return c.Spamd.allowedNets()
}

// parseNetList parses addresses and CIDR networks.
func parseNetList(list []string) ([]netip.Prefix, error) {
	nets := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR network", s)
			}
			nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR network", s)
		}
		nets = append(nets, p.Masked())
	}
	return nets, nil
}

// logLevel is LogLevel as a slog.Level.
func (d *daemonMisc) logLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(d.LogLevel)); err != nil {
		return 0, fmt.Errorf("log level: %w", err)
	}
	return l, nil
}
