package mta

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
)

// Defaults of the Config fields left zero.
const (
	DefaultListen           = "127.0.0.1:2525"
	DefaultJunkFolder       = "junkmail"
	DefaultMaxSize          = 20480000
	DefaultMaxConns         = 100
	DefaultMaxConnsPerIP    = 10
	DefaultMaxRecipients    = 100
	DefaultReadTimeout      = 5 * time.Minute
	DefaultWriteTimeout     = time.Minute
	DefaultScanTimeout      = 2 * time.Minute
	DefaultDeliveryTimeout  = 2 * time.Minute
	DefaultDNSBLTimeout     = 2 * time.Second
	defaultNextHopDialLimit = 30 * time.Second
)

// Config is the SMTP front end's configuration: the daemon config file's
// [smtp] section. Zero fields take the defaults above; Validate checks
// it and fills them in.
type Config struct {
	// Listen is the TCP address the SMTP server listens on.
	Listen string `toml:"listen"`
	// Hostname is our name in the greeting, in Received lines and in
	// Maildir file names (default: this host's name).
	Hostname string `toml:"hostname"`
	// Domains are the local domains: mail to any other domain is refused
	// with "554 5.7.1 Relaying denied". Compared case-insensitively.
	Domains []string `toml:"domains"`
	// Routes is the mailbox routes file: one mailbox a line, "user domain
	// destination", where destination is the user's Maildir; "#" starts
	// a comment. user is also the name the message is scanned for (its
	// user_prefs, its Bayes scope). A recipient with no route is refused
	// with "550 5.1.1". The file is reread when it changes. Required
	// unless next_hop is set (then destination may be "-").
	Routes string `toml:"routes"`
	// JunkFolder is the IMAP name of the folder tagged spam is filed into
	// (the IMAP trainer's junk_folder); in Maildir++ the directory
	// ".junkmail" of the user's Maildir, created when missing.
	JunkFolder string `toml:"junk_folder"`
	// MaxSize is the largest message accepted, in bytes (SIZE in EHLO);
	// larger ones get "552 5.3.4", at MAIL when SIZE= is declared, else
	// once that many bytes were read.
	MaxSize int64 `toml:"max_size"`
	// TLSCert and TLSKey are PEM files; with both, STARTTLS is offered.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// NextHop, instead of Maildir delivery, forwards every accepted
	// message with its markup to "lmtp:HOST:PORT", "lmtp:unix:PATH" or
	// "smtp:HOST:PORT" (e.g. Dovecot's LMTP). The next hop then files it
	// (e.g. a Sieve rule on X-Spam-Flag).
	NextHop string `toml:"next_hop"`
	// DeleteScore, when above 0, is the score at or above which spam is
	// dropped without delivery (logged). Off by default. Over SMTP it
	// only matters for messages accepted for some recipient below the
	// reject level.
	DeleteScore float64 `toml:"delete_score"`
	// NoJunkSort files every user's tagged spam in the INBOX (with its
	// markup) instead of the junk folder: SME Server's "sort spam into
	// junkmail" turned off. Users' own no_junk_sort adds to it. The web
	// panel sets it through its overlay; Server.SetNoJunkSort changes it
	// while the server runs.
	NoJunkSort bool `toml:"no_junk_sort"`
	// BccArchive is a Maildir that gets a copy of every accepted message
	// (as received, with our trace headers, without markup).
	BccArchive string `toml:"bcc_archive"`
	// SpamTraps are addresses (at a local domain) whose mail is learned
	// as spam through the daemon's single writer and never delivered.
	SpamTraps []string `toml:"spam_traps"`
	// BadMailFrom, BadRcptTo are patterns of envelope senders and
	// recipients refused like an unknown user ("550 5.1.1" at RCPT): an
	// address, "@domain", or a shell pattern ("*@*.example").
	BadMailFrom []string `toml:"badmailfrom"`
	BadRcptTo   []string `toml:"badrcptto"`
	// BadMailFromTo are "sender recipient" pattern pairs refused the same
	// way.
	BadMailFromTo []string `toml:"badmailfromto"`
	// HeaderChecksExempt are client networks (CIDR) whose mail may lack
	// From or Date; mail from other clients without them is refused with
	// "554 5.6.0" (SME Server exempts its LAN).
	HeaderChecksExempt []string `toml:"header_checks_exempt"`
	// DNSBLReject are DNS blocklist zones ("zen.spamhaus.org") the
	// client's address is looked up in when it connects, as SME Server's
	// qpsmtpd dnsbl plugin does: reversed IPv4 ("4.3.2.1.ZONE") or
	// nibble IPv6 names, asked at once, while the client greets. A
	// client a list answers with an address in 127.0.0.0/24 for gets
	// "554 5.7.1 ... blocked using ZONE" at every RCPT but those to
	// DNSBLExemptRcpt, so no mail of it is accepted. Any other answer
	// (127.255.255.254 is Spamhaus' "query refused"), a timeout and a
	// SERVFAIL are logged and count as not listed. Needs the daemon
	// config's [dns] section: the lookups go through its resolver and
	// cache.
	DNSBLReject []string `toml:"dnsbl_reject"`
	// DNSBLExemptRcpt are recipients a listed client may still write
	// to: a local part ("postmaster", at every local domain) or a whole
	// address; case-insensitive. Nil means postmaster and abuse (RFC
	// 5321 §4.5.1, RFC 2142); [] exempts none.
	DNSBLExemptRcpt []string `toml:"dnsbl_exempt_rcpt"`
	// DNSBLExemptNetworks decide, first match wins, which clients are
	// never looked up: "CIDR" exempts, "!CIDR" has the client looked up
	// all the same. Clients no entry matches are exempt when loopback,
	// private (RFC 1918, fc00::/7), link-local or in
	// header_checks_exempt.
	DNSBLExemptNetworks []string `toml:"dnsbl_exempt_networks"`
	// DNSBLTimeout bounds the lookups from the connection on: a list
	// that has not answered by then is not listed, and RCPT never waits
	// beyond it (default: the [dns] timeout, else 2s).
	DNSBLTimeout confval.Duration `toml:"dnsbl_timeout"`
	// MaxConnections and MaxConnectionsPerIP bound open connections, in
	// total and from one client address; beyond, "421 4.7.0".
	MaxConnections      int `toml:"max_connections"`
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// GreetDelay, when set, holds the greeting back that long; a client
	// that talks before it (an early talker) gets "554 5.5.0".
	GreetDelay confval.Duration `toml:"greet_delay"`
	// MaxLoad, when above 0, defers mail ("451 4.3.2" at MAIL) while the
	// 1-minute load average exceeds it.
	MaxLoad float64 `toml:"max_load"`
	// MaxRecipients bounds RCPTs per message ("452 4.5.3" beyond).
	MaxRecipients int `toml:"max_recipients"`
	// ReadTimeout and WriteTimeout bound each read and write on a
	// connection; ScanTimeout one message's scans; DeliveryTimeout its
	// delivery to the next hop.
	ReadTimeout     confval.Duration `toml:"read_timeout"`
	WriteTimeout    confval.Duration `toml:"write_timeout"`
	ScanTimeout     confval.Duration `toml:"scan_timeout"`
	DeliveryTimeout confval.Duration `toml:"delivery_timeout"`
	// Users are per-user switches, by route user name.
	Users map[string]UserOptions `toml:"users"`
}

// UserOptions are one user's switches.
type UserOptions struct {
	// NoFilter delivers the user's mail unscanned, without markup, to the
	// INBOX (and never rejects it).
	NoFilter bool `toml:"no_filter"`
	// NoJunkSort files the user's tagged spam in the INBOX (with markup).
	NoJunkSort bool `toml:"no_junk_sort"`
}

// Validate checks c and fills in the defaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("smtp: "+format, args...)) }
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q: %v", c.Listen, err)
	}
	if len(c.Domains) == 0 {
		bad("domains: at least one local domain is needed")
	}
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if c.Domains[i] == "" || strings.ContainsAny(c.Domains[i], "@ \t") {
			bad("domains: %q is not a domain", d)
		}
	}
	if c.Routes == "" && c.NextHop == "" {
		bad("routes: a mailbox routes file is needed (or next_hop)")
	}
	if c.JunkFolder == "" {
		c.JunkFolder = DefaultJunkFolder
	}
	if strings.ContainsAny(c.JunkFolder, `.\`) || strings.HasPrefix(c.JunkFolder, "/") {
		bad("junk_folder %q: an IMAP folder name without '.' or '\\'", c.JunkFolder)
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxSize < 0 {
		bad("max_size must be positive")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert and tls_key go together")
	}
	if c.NextHop != "" {
		if _, _, err := parseNextHop(c.NextHop); err != nil {
			bad("next_hop: %v", err)
		}
	}
	if c.DeleteScore < 0 {
		bad("delete_score must not be negative")
	}
	for _, p := range append(append([]string{}, c.BadMailFrom...), c.BadRcptTo...) {
		if _, err := newPattern(p); err != nil {
			bad("bad address pattern %q: %v", p, err)
		}
	}
	for _, p := range c.BadMailFromTo {
		if _, err := newPairPattern(p); err != nil {
			bad("badmailfromto %q: %v", p, err)
		}
	}
	for _, a := range c.SpamTraps {
		if _, dom, ok := splitAddress(a); !ok || !c.isLocal(dom) {
			bad("spam_traps: %q is not an address at a local domain", a)
		}
	}
	if _, err := parseNets(c.HeaderChecksExempt); err != nil {
		bad("header_checks_exempt: %v", err)
	}
	for i, z := range c.DNSBLReject {
		c.DNSBLReject[i] = strings.ToLower(strings.Trim(strings.TrimSpace(z), "."))
		if c.DNSBLReject[i] == "" || strings.ContainsAny(c.DNSBLReject[i], "@ \t/") {
			bad("dnsbl_reject: %q is not a DNS zone", z)
		}
	}
	if c.DNSBLExemptRcpt == nil {
		c.DNSBLExemptRcpt = []string{"postmaster", "abuse"}
	}
	for _, r := range c.DNSBLExemptRcpt {
		if strings.TrimSpace(r) == "" || strings.HasPrefix(r, "@") || strings.HasSuffix(r, "@") {
			bad("dnsbl_exempt_rcpt: %q is neither a local part nor an address", r)
		}
	}
	if _, err := parseNetRules(c.DNSBLExemptNetworks); err != nil {
		bad("dnsbl_exempt_networks: %v", err)
	}
	if c.DNSBLTimeout < 0 {
		bad("dnsbl_timeout must not be negative")
	}
	for _, n := range []*int{&c.MaxConnections, &c.MaxConnectionsPerIP, &c.MaxRecipients} {
		if *n < 0 {
			bad("connection and recipient limits must not be negative")
		}
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConns
	}
	if c.MaxConnectionsPerIP == 0 {
		c.MaxConnectionsPerIP = DefaultMaxConnsPerIP
	}
	if c.MaxRecipients == 0 {
		c.MaxRecipients = DefaultMaxRecipients
	}
	for _, d := range []struct {
		v   *confval.Duration
		def time.Duration
	}{{&c.ReadTimeout, DefaultReadTimeout}, {&c.WriteTimeout, DefaultWriteTimeout},
		{&c.ScanTimeout, DefaultScanTimeout}, {&c.DeliveryTimeout, DefaultDeliveryTimeout}} {
		if *d.v == 0 {
			*d.v = confval.Duration(d.def)
		}
	}
	return errors.Join(errs...)
}

// isLocal reports whether domain (lower case) is one of ours.
func (c *Config) isLocal(domain string) bool {
	for _, d := range c.Domains {
		if d == domain {
			return true
		}
	}
	return false
}

func parseNets(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// parseNextHop splits "lmtp:HOST:PORT", "lmtp:unix:PATH", "smtp:HOST:PORT"
// into the protocol ("lmtp" or "smtp"), the network and the address.
func parseNextHop(s string) (proto string, addr [2]string, err error) {
	proto, rest, ok := strings.Cut(s, ":")
	if !ok || (proto != "lmtp" && proto != "smtp") {
		return "", addr, fmt.Errorf("%q: want lmtp:HOST:PORT, lmtp:unix:PATH or smtp:HOST:PORT", s)
	}
	if p, ok := strings.CutPrefix(rest, "unix:"); ok {
		if p == "" {
			return "", addr, fmt.Errorf("%q: no socket path", s)
		}
		return proto, [2]string{"unix", p}, nil
	}
	if _, _, err := net.SplitHostPort(rest); err != nil {
		return "", addr, fmt.Errorf("%q: %w", s, err)
	}
	return proto, [2]string{"tcp", rest}, nil
}
