package cf

import (
	"log/slog"
	"strings"
)

// PluginPrefix is the Perl package prefix of SpamAssassin plugins.
const PluginPrefix = "Mail::SpamAssassin::Plugin::"

// Options control how .cf text is read.
type Options struct {
	// KnownPlugins are the plugins whose rules the engine can run: an
	// "ifplugin X" block or "plugin(X)" test is true only for these. Names
	// may be short ("Bayes") or full ("Mail::SpamAssassin::Plugin::Bayes").
	// loadplugin lines are recorded but do not add to this list: a plugin
	// we do not implement stays off however it is loaded.
	KnownPlugins []string
	// Capabilities are the Perl functions that "can(Pkg::func)" finds and
	// that return true, full names. Nil means DefaultCapabilities(). "has()"
	// is true for these too. enable_compat X adds
	// Mail::SpamAssassin::Conf::compat_X.
	Capabilities []string
	// Version is what "version" stands for in if expressions and what
	// require_version must equal; 0 means 4.000001 (SpamAssassin 4.0.1).
	Version float64
	// PerlVersion is "perl_version" in if expressions; 0 means 5.036000.
	PerlVersion float64
	// LocalTestsOnly is "local_tests_only" in if expressions.
	LocalTestsOnly bool
	// Lang is the locale for "lang xx" lines; "" means en_US (SpamAssassin's
	// default for an unset or C/POSIX locale). A line "lang xx …" applies
	// when Lang starts with xx, case-insensitively.
	Lang string
	// MaxIncludeDepth bounds nested includes; 0 means 20.
	MaxIncludeDepth int
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// DefaultVersion is SpamAssassin 4.0.1 in its x.yyyzzz form.
const DefaultVersion = 4.000001

// DebianDefaultPlugins are the plugins Debian's SpamAssassin 4.0.1 .pre
// files load (spec/rules-syntax.md §2), short names.
var DebianDefaultPlugins = []string{
	"AskDNS", "AutoLearnThreshold", "Bayes", "BodyEval", "Check", "DKIM",
	"DMARC", "DNSEval", "FreeMail", "HTMLEval", "HTTPSMismatch", "HashBL",
	"HeaderEval", "ImageInfo", "MIMEEval", "MIMEHeader", "Pyzor", "Razor2",
	"RelayEval", "ReplaceTags", "SPF", "SpamCop", "URIDNSBL", "URIDetail",
	"URIEval", "VBounce", "WLBLEval", "WelcomeListSubject",
}

// DefaultCapabilities returns the can() answers of SpamAssassin 4.0.1 with
// Debian's plugins (spec/rules-syntax.md §2): the Conf feature_* functions
// and the plugin has_* functions that exist and return true.
func DefaultCapabilities() []string {
	conf := []string{
		"feature_originating_ip_headers", "feature_dns_local_ports_permit_avoid",
		"feature_bayes_auto_learn_on_error", "feature_uri_host_listed",
		"feature_yesno_takes_args", "feature_bug6558_free", "feature_edns",
		"feature_dns_query_restriction", "feature_registryboundaries",
		"feature_geodb", "feature_dns_block_rule", "feature_compile_regexp",
		"feature_meta_rules_matching", "feature_subjprefix",
		"feature_bayes_stopwords", "feature_get_host",
		"feature_blocklist_welcomelist", "feature_welcomelist_blocklist",
		"feature_header_address_parser", "feature_local_tests_only",
		"feature_header_first_last", "feature_header_match_many",
		"feature_capture_rules", "perl_min_version_5010000",
	}
	out := make([]string, 0, len(conf)+8)
	for _, c := range conf {
		out = append(out, "Mail::SpamAssassin::Conf::"+c)
	}
	return append(out,
		PluginPrefix+"BodyEval::has_check_body_length",
		PluginPrefix+"MIMEEval::has_check_abundant_unicode_ratio",
		PluginPrefix+"MIMEEval::has_check_for_ascii_text_illegal",
		PluginPrefix+"DKIM::has_arc",
		PluginPrefix+"URIDNSBL::has_uridnsbl_for_a",
		PluginPrefix+"URIDNSBL::has_tflags_domains_only",
		PluginPrefix+"SPF::has_check_for_spf_errors",
	)
}

// fullPluginName turns "Bayes" into "Mail::SpamAssassin::Plugin::Bayes"
// and applies SpamAssassin's renames (Dmarc, WhiteListSubject).
func fullPluginName(n string) string {
	if !strings.Contains(n, "::") {
		n = PluginPrefix + n
	}
	switch n {
	case PluginPrefix + "Dmarc":
		return PluginPrefix + "DMARC"
	case PluginPrefix + "WhiteListSubject":
		return PluginPrefix + "WelcomeListSubject"
	}
	return n
}

func (o Options) withDefaults() Options {
	if o.Capabilities == nil {
		o.Capabilities = DefaultCapabilities()
	}
	if o.Version == 0 {
		o.Version = DefaultVersion
	}
	if o.PerlVersion == 0 {
		o.PerlVersion = 5.036
	}
	if o.Lang == "" {
		o.Lang = "en_US"
	}
	if o.MaxIncludeDepth == 0 {
		o.MaxIncludeDepth = 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
