package cf

import (
	"fmt"
	"strings"
	"time"
)

// Pos is where a line came from.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return "(no file)"
	}
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Severity ranks a Diagnostic.
type Severity uint8

const (
	// SeverityError is what SpamAssassin's --lint counts as an error: the
	// line was not applied (bad value, invalid regex, unbalanced if/endif…).
	SeverityError Severity = iota + 1
	// SeverityWarning is a line that was kept or skipped harmlessly: an
	// unknown directive, a score for an undefined rule.
	SeverityWarning
	// SeverityInfo is a deliberate refusal, such as a privileged line in
	// user prefs.
	SeverityInfo
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityInfo:
		return "info"
	}
	return "unknown"
}

// A Diagnostic is one problem found while parsing.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	// Msg says what is wrong; it may quote the line.
	Msg string
	// Directive is the line's directive, lower case, when it is one this
	// package knows (score, if, body…); "" for a line whose first word is
	// not one, which may be anything the file held.
	Directive string
	// brief, when set, is Msg with nothing taken from the line.
	brief string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Msg)
}

// Redacted is the diagnostic with nothing of the line's content: its
// position, severity, and the directive when it is a known one. It is
// what to log for a file whose content must not reach the log (a user's
// user_prefs, which may be a link to a secret file).
func (d Diagnostic) Redacted() string {
	what := d.brief
	switch {
	case what != "":
	case d.Directive == "":
		what = "line not understood"
	case d.Severity == SeverityInfo:
		what = fmt.Sprintf("'%s' line refused", d.Directive)
	default:
		what = fmt.Sprintf("'%s' line not applied", d.Directive)
	}
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, what)
}

// CountErrors returns how many diagnostics are errors.
func CountErrors(ds []Diagnostic) int {
	n := 0
	for _, d := range ds {
		if d.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Kind says what part of a message a rule looks at.
type Kind uint8

const (
	KindNone       Kind = iota // only attributes (score, describe…) seen, no definition
	KindHeader                 // header: a header regex, exists: test or header eval
	KindBody                   // body: rendered text lines
	KindRawbody                // rawbody: decoded parts, HTML kept
	KindFull                   // full: the whole pristine message
	KindURI                    // uri: each URI
	KindMIMEHeader             // mimeheader: the header of each MIME part
	KindMeta                   // meta: an expression over other rules
	KindReuse                  // reuse: a placeholder for mass-check
	KindAskDNS                 // askdns: a DNS query built from tags
	KindURIDetail              // uri_detail: per-URI key/regex pairs
)

var kindNames = [...]string{"none", "header", "body", "rawbody", "full", "uri", "mimeheader", "meta", "reuse", "askdns", "uri_detail"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// HeaderTest is the target of a header or mimeheader rule.
type HeaderTest struct {
	// Name is the header name as written: "From", "ALL", "ToCc",
	// "X-Spam-Relays-Untrusted"… Compare case-insensitively.
	Name string
	// Modifiers are the ":mod" suffixes in order, lower case: raw, addr,
	// name, host, domain, ip, revip, first, last.
	Modifiers []string
	// Exists is an "exists:Name" test (no pattern).
	Exists bool
	// Negate is the "!~" operator: the rule hits when the pattern does not
	// match.
	Negate bool
	// IfUnset is the value used when the header is missing, from a trailing
	// "[if-unset: STR]"; HasIfUnset says whether one was given.
	IfUnset    string
	HasIfUnset bool
}

// HasModifier reports whether the test carries modifier m ("raw", "addr"…).
func (h HeaderTest) HasModifier(m string) bool {
	for _, x := range h.Modifiers {
		if x == m {
			return true
		}
	}
	return false
}

// Pattern is a Perl regular expression as written in a rule, not compiled.
type Pattern struct {
	// Source is the text as written, with delimiters and flags: "/foo/i",
	// "m{bar}s". Empty for rules without a pattern.
	Source string
	// Expr is the text between the delimiters, undecoded (escapes, "\xE4"
	// bytes and all are left for the compiler).
	Expr string
	// Flags are the trailing modifiers, e.g. "i", "is", "x".
	Flags string
	// Captures is true when Expr defines a named capture "(?<NAME>…)",
	// whose value other rules can use as %{NAME}.
	Captures bool
	// Templates are the %{NAME} capture tags Expr uses, if any.
	Templates []string
	// Unreplaced is Expr as written when replace_rules names the rule
	// and its ReplaceTags tags were expanded into Expr; else empty.
	Unreplaced string
}

// EvalCall is an "eval:func(args)" test.
type EvalCall struct {
	Func string
	// Args are the arguments with their quotes removed.
	Args []string
	// RBL is true for header evals that SpamAssassin runs as DNS checks
	// (check_rbl*, check_dns*, and anything written "rbleval:").
	RBL bool
}

func (e *EvalCall) String() string {
	var b strings.Builder
	b.WriteString(e.Func)
	b.WriteByte('(')
	for i, a := range e.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('\'')
		b.WriteString(a)
		b.WriteByte('\'')
	}
	b.WriteByte(')')
	return b.String()
}

// AskDNS is the query of an askdns rule.
type AskDNS struct {
	// Query is the template, e.g. "_AUTHORDOMAIN_.fresh.example.".
	Query string
	// Types are the query types, upper case; "A" when none was given.
	Types []string
	// Subtest is the optional answer filter as written (a /regex/, an
	// address, a bitmask or a range).
	Subtest string
}

// Tflags are the flags a "tflags" line sets. A later tflags line for the
// same rule replaces all earlier ones (as in SpamAssassin).
type Tflags struct {
	Net             bool // network test: not run in score sets 0 and 2
	Nice            bool // negative score expected
	Userconf        bool // needs user configuration; ignored by autolearn
	Learn           bool // needs training (BAYES_*)
	NoAutolearn     bool // ignored when computing autolearn points
	AutolearnForce  bool
	AutolearnHeader bool // count as header points for autolearn
	AutolearnBody   bool // count as body points for autolearn
	NoAWL           bool
	Multiple        bool // count every match
	MaxHits         int  // with Multiple: stop after this many (0 = no cap)
	NoSubject       bool // body rules: do not match the Subject line
	NoLog           bool // hide details from reports
	IPsOnly         bool // URIDNSBL
	DomainsOnly     bool // URIDNSBL
	NS              bool // URIDNSBL: look up NS hosts' addresses
	A               bool // URIDNSBL: look up the host's own addresses
	NoTrim          bool // URIDNSBL: query the full host name
	Publish         bool // rule QA only
	// Other are words not listed above, kept for lint and plugins.
	Other []string
	// Raw is the line's value as written.
	Raw string
}

// Rule is one named test with everything said about its name.
//
// SpamAssassin keeps score, describe, tflags and priority per name,
// independent of the definition: they may come before or after it, and
// redefining a rule keeps them. A Rule therefore carries the latest of each.
type Rule struct {
	Name string
	Kind Kind

	// Header is set for KindHeader (non-eval) and KindMIMEHeader.
	Header HeaderTest
	// Pattern is set for regex rules of every kind.
	Pattern Pattern
	// Eval is set for eval rules ("eval:func(args)"); Kind says which
	// part of the message the eval belongs to (header, body, rawbody,
	// full). Pattern is empty then.
	Eval *EvalCall
	// Meta is the expression of a meta rule, as written.
	Meta string
	// AskDNS is set for KindAskDNS.
	AskDNS *AskDNS
	// Detail is the rest of a uri_detail line ("key =~ /re/ …").
	Detail string

	// Scores are per score set (0: no Bayes, no net; 1: net; 2: Bayes; 3:
	// both). When ScoreGiven is false they hold SpamAssassin's default: 1,
	// 0.01 for names starting "T_", negated for tflags nice.
	Scores     [4]float64
	ScoreGiven bool
	// ScoreRelative is true when the last score line applied to this rule
	// was the parenthesised relative form.
	ScoreRelative bool
	ScorePos      Pos

	Describe string
	Tflags   Tflags
	// Priority is the run order (lower first). It is the "priority" value
	// if one was given, else -10000 for rules with named captures, else
	// -100 for tflags net, else 0. Metas that must run their dependencies
	// earlier are the engine's business.
	Priority int
	// PriorityGiven is true after a priority line, or when the pattern
	// has named captures (SpamAssassin then sets priority -10000 itself).
	PriorityGiven bool
	givenPriority int

	// NetInherited is true for a meta without tflags net that depends,
	// directly or through other metas, on a net rule: SpamAssassin then
	// treats it as net too. See IsNet.
	NetInherited bool
	// MetaDeps are the rule names a meta's expression uses, in order of
	// first use, with rules_matching(GLOB) expanded over the defined rules.
	MetaDeps []string

	// Source is where the rule was (last) defined; zero for KindNone.
	Source Pos
	// User is true for rules defined in user prefs (allow_user_rules).
	User bool
}

// IsNet reports whether the rule is a network test (tflags net, or a meta
// depending on one).
func (r *Rule) IsNet() bool { return r.Tflags.Net || r.NetInherited }

// IsSubRule reports whether the rule is a "__" sub-rule: never scored or
// listed.
func (r *Rule) IsSubRule() bool { return strings.HasPrefix(r.Name, "__") }

// Defined reports whether a definition line (header, body, meta…) was seen.
func (r *Rule) Defined() bool { return r.Kind != KindNone }

// HasPattern reports whether the rule matches a regular expression (as
// opposed to eval, meta, exists:, reuse…).
func (r *Rule) HasPattern() bool { return r.Pattern.Source != "" }

// AddrEntry is one entry of an address list.
type AddrEntry struct {
	// Addr is the lower-cased glob: only '*' and '?' are special. For the
	// *_subject lists it is a glob over the subject.
	Addr string
	// Relay is the second field of welcomelist_from_rcvd-style lines (an
	// rDNS suffix or "[ip/len]"), or the signing domain of
	// welcomelist_from_dkim ("" = author domain). Empty for plain lists.
	Relay string
	Pos   Pos
}

// The address lists, by their SpamAssassin 4.0 names. Old names
// (whitelist_*, blacklist_*) are aliases that fill the same lists.
const (
	ListWelcomelistFrom        = "welcomelist_from"
	ListWelcomelistFromRcvd    = "welcomelist_from_rcvd"
	ListDefWelcomelistFromRcvd = "def_welcomelist_from_rcvd"
	ListWelcomelistAllowsRelay = "welcomelist_allows_relays"
	ListBlocklistFrom          = "blocklist_from"
	ListWelcomelistTo          = "welcomelist_to"
	ListMoreSpamTo             = "more_spam_to"
	ListAllSpamTo              = "all_spam_to"
	ListBlocklistTo            = "blocklist_to"
	ListWelcomelistAuth        = "welcomelist_auth"
	ListDefWelcomelistAuth     = "def_welcomelist_auth"
	ListWelcomelistFromDKIM    = "welcomelist_from_dkim"
	ListDefWelcomelistFromDKIM = "def_welcomelist_from_dkim"
	ListWelcomelistFromSPF     = "welcomelist_from_spf"
	ListDefWelcomelistFromSPF  = "def_welcomelist_from_spf"
	ListWelcomelistSubject     = "welcomelist_subject"
	ListBlocklistSubject       = "blocklist_subject"
	ListWelcomelistBounceRelay = "welcomelist_bounce_relays"
	ListBayesIgnoreFrom        = "bayes_ignore_from"
	ListBayesIgnoreTo          = "bayes_ignore_to"
)

// URIHostEntry is one host of an enlist_uri_host list; Listed is false for
// "!host" exclusions.
type URIHostEntry struct {
	Host   string
	Listed bool
}

// HeaderOpKind is what an add_header/remove_header/clear_headers line does.
type HeaderOpKind uint8

const (
	HeaderAdd HeaderOpKind = iota + 1
	HeaderRemove
	HeaderClear
	// HeaderAddIfMissing is implied by "report_safe 0": add
	// X-Spam-Report: _REPORT_ to spam unless a Report header exists.
	HeaderAddIfMissing
)

// HeaderOp is one X-Spam-* header operation, kept in order; replay them
// with HeaderFields.
type HeaderOp struct {
	Op HeaderOpKind
	// Spam and Ham say which messages the op applies to ("all" = both).
	Spam, Ham bool
	// Name is the part after "X-Spam-", e.g. "Status".
	Name string
	// Value is the template with \n, \t expanded and quotes removed.
	Value string
	Pos   Pos
}

// HeaderField is one X-Spam-* header template after replaying HeaderOps.
type HeaderField struct {
	Name  string // after "X-Spam-"
	Value string // template
}

// HeaderFields replays ops and returns the header templates for spam (or
// ham), in order. Checker-Version survives clear_headers and
// remove_header, as in SpamAssassin.
func HeaderFields(ops []HeaderOp, spam bool) []HeaderField {
	var out []HeaderField
	for _, op := range ops {
		if (spam && !op.Spam) || (!spam && !op.Ham) {
			continue
		}
		switch op.Op {
		case HeaderAdd:
			out = removeField(out, op.Name)
			out = append(out, HeaderField{op.Name, op.Value})
		case HeaderAddIfMissing:
			if !hasField(out, op.Name) {
				out = append(out, HeaderField{op.Name, op.Value})
			}
		case HeaderRemove:
			if !strings.EqualFold(op.Name, "Checker-Version") {
				out = removeField(out, op.Name)
			}
		case HeaderClear:
			var keep []HeaderField
			for _, f := range out {
				if strings.EqualFold(f.Name, "Checker-Version") {
					keep = append(keep, f)
					break
				}
			}
			out = keep
		}
	}
	return out
}

func hasField(fs []HeaderField, name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

func removeField(fs []HeaderField, name string) []HeaderField {
	out := fs[:0:0]
	for _, f := range fs {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

// URIBLDef is a urirhsbl/urirhssub/uridnsbl/uridnssub/urinsrhsbl/
// urinsrhssub/urifullnsrhsbl/urifullnsrhssub line: the DNS list behind a
// body eval:check_uridnsbl('RULE') of the same name.
type URIBLDef struct {
	Directive string // e.g. "urirhssub"
	Rule      string
	Zone      string
	Type      string // "A" or "TXT"
	Sub       string // the sub-test of the *sub forms, else ""
	Pos       Pos
}

// Directive is a line kept as written: one this package does not model
// (plugin settings such as freemail_domains, util_rb_2tld) or does not know.
type Directive struct {
	Key   string // lower case, '-' turned into '_'
	Value string
	Pos   Pos
}

// Sensitivity levels of spam_sensitivity (ours) and the required_score
// each one sets.
var sensitivityLevels = map[string]float64{
	"veryhigh": 2,
	"high":     3,
	"medium":   5,
	"low":      7,
	"verylow":  9,
}

// Settings are the non-rule options. Zero values are not meaningful: a
// Policy always carries SpamAssassin's defaults for what was not set.
type Settings struct {
	// RequiredScore is the spam threshold (required_score, alias
	// required_hits; also set by spam_sensitivity).
	RequiredScore float64
	// SpamSensitivity is the last spam_sensitivity level (ours):
	// veryhigh/high/medium/low/verylow set RequiredScore to 2/3/5/7/9;
	// "custom" (also what an explicit required_score sets) keeps it.
	SpamSensitivity string
	// RejectScore (ours, admin) is the score at or above which front ends
	// reject mail; 0 means never.
	RejectScore float64

	// RewriteSubject/From/To are the rewrite_header texts; "" = none.
	// From/To texts have '(' ')' turned into '[' ']' as in SpamAssassin.
	RewriteSubject, RewriteFrom, RewriteTo string
	ReportSafe                             int // 0, 1 or 2
	HeaderOps                              []HeaderOp
	FoldHeaders                            bool
	ReportContact                          string
	ReportHostname                         string
	ReportCharset                          string
	ReportWrapWidth                        int
	// ReportTemplate and UnsafeReportTemplate are the "report" and
	// "unsafe_report" lines joined with "\n" (clear_* empties them).
	ReportTemplate, UnsafeReportTemplate string
	ReportSafeCopyHeaders                []string
	// Subjprefix maps a rule name to its subject prefix.
	Subjprefix map[string]string

	UseBayes                        bool
	UseBayesRules                   bool
	UseLearner                      bool
	BayesAutoLearn                  bool
	BayesAutoLearnThresholdSpam     float64
	BayesAutoLearnThresholdNonspam  float64
	BayesAutoLearnOnError           bool
	BayesIgnoreHeaders              []string
	BayesMinHamNum, BayesMinSpamNum int
	BayesExpiryMaxDBSize            int
	BayesAutoExpire                 bool
	BayesTokenTTL, BayesSeenTTL     time.Duration
	BayesUseHapaxes                 bool
	BayesPath                       string

	SkipRBLChecks   bool
	SkipURIBLChecks bool
	// DNSAvailable is "yes", "no" or "test[: servers…]".
	DNSAvailable string

	// TrustedNetworks, InternalNetworks and MSANetworks are the CIDR
	// tokens as written ("!" excludes); *Set say whether the option was
	// given at all (SpamAssassin infers trust when it was not).
	TrustedNetworks, InternalNetworks, MSANetworks          []string
	TrustedNetworksSet, InternalNetworksSet, MSANetworksSet bool
	OriginatingIPHeaders                                    []string
	EnvelopeSenderHeader                                    string
	AlwaysTrustEnvelopeSender                               bool

	AllowUserRules   bool
	OKLocales        string
	NormalizeCharset bool
	// TimeLimit bounds one scan (time_limit, seconds; 0 unlimited): past
	// it the rules not yet run are skipped. User prefs may lower it only.
	TimeLimit    time.Duration
	EnableCompat []string
	// MaxMessageSize (ours, admin) is the largest message scanned, bytes.
	MaxMessageSize int64
	// RulesDir (ours, admin) is a SpamAssassin rules directory to layer
	// under the site directory.
	RulesDir string
	// UseBuiltinRules (ours, admin; use_builtin_rules, default on) reads
	// gospamd's built-in rules under the rules directory and the site
	// directory. Off, a site with rules_dir /usr/share/spamassassin scans
	// with SpamAssassin's rules alone. Only the site directory can turn
	// it off (LoadSite reads it before the built-in layer).
	UseBuiltinRules bool
}

// DefaultSettings returns SpamAssassin 4.0.1's defaults (Conf.pm), plus
// ours.
func DefaultSettings() Settings {
	return Settings{
		RequiredScore:                  5,
		SpamSensitivity:                "custom",
		ReportSafe:                     1,
		FoldHeaders:                    true,
		ReportContact:                  "the administrator of that system",
		ReportCharset:                  "UTF-8",
		ReportWrapWidth:                75,
		UseBayes:                       true,
		UseBayesRules:                  true,
		UseLearner:                     true,
		BayesAutoLearn:                 true,
		BayesAutoLearnThresholdSpam:    12,
		BayesAutoLearnThresholdNonspam: 0.1,
		BayesMinHamNum:                 200,
		BayesMinSpamNum:                200,
		BayesExpiryMaxDBSize:           150000,
		BayesAutoExpire:                true,
		BayesTokenTTL:                  21 * 24 * time.Hour,
		BayesSeenTTL:                   8 * 24 * time.Hour,
		BayesUseHapaxes:                true,
		BayesPath:                      "__userstate__/bayes",
		DNSAvailable:                   "yes",
		OKLocales:                      "all",
		NormalizeCharset:               true,
		TimeLimit:                      300 * time.Second,
		MaxMessageSize:                 512000,
		UseBuiltinRules:                true,
	}
}
