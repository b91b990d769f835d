package cf

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// privilege says who may use a directive in user prefs (spec §9).
type privilege uint8

const (
	privUser  privilege = iota // anyone
	privRules                  // only with allow_user_rules 1
	privAdmin                  // never in user prefs
)

// privRulesKeys are SpamAssassin's is_priv commands (with Debian's
// plugins) plus the rule types of plugins.
var privRulesKeys = setOf(
	"allow_user_rules", "askdns", "body", "full", "header", "meta",
	"mimeheader", "priority", "rawbody", "rbl_headers", "redirector_pattern",
	"replace_end", "replace_inter", "replace_post", "replace_pre",
	"replace_rules", "replace_start", "replace_tag", "reuse", "tflags", "uri",
	"uri_detail", "uridnsbl", "uridnssub", "urifullnsrhsbl", "urifullnsrhssub",
	"urinsrhsbl", "urinsrhssub", "urirhsbl", "urirhssub",
)

// privAdminKeys are SpamAssassin's is_admin commands plus ours.
var privAdminKeys = setOf(
	"bayes_file_mode", "bayes_path", "bayes_sql_dsn", "bayes_sql_password",
	"bayes_sql_username", "bayes_sql_username_authorized", "bayes_store_module",
	"body_part_scan_size", "country_db_path", "country_db_type", "dkim_timeout",
	"dmarc_save_reports", "dns_block_rule", "dns_block_time",
	"dns_local_ports_avoid", "dns_local_ports_none", "dns_local_ports_permit",
	"do_not_use_mail_spf", "do_not_use_mail_spf_query", "enable_compat",
	"geodb_module", "geodb_options", "geodb_search_path",
	"ignore_always_matching_regexps", "ignore_received_spf_header", "loadplugin",
	"pyzor_fork", "pyzor_options", "pyzor_path", "pyzor_perl",
	"pyzor_server_file", "pyzor_timeout", "rawbody_part_scan_size",
	"razor_config", "razor_fork", "razor_timeout", "rbl_timeout", "spf_timeout",
	"test", "tryplugin", "uri_country_db_isp_path", "uri_country_db_path",
	"uridnsbl_max_domains", "uridnsbl_skip_mailto", "use_newest_received_spf_header",
	"user_scores_dsn", "user_scores_fallback_to_global",
	"user_scores_ldap_password", "user_scores_ldap_username",
	"user_scores_sql_custom_query", "user_scores_sql_password",
	"user_scores_sql_username", "util_rb_2tld", "util_rb_3tld", "util_rb_tld",
	"version_tag",
	// ours
	"reject_score", "max_message_size", "rules_dir", "use_builtin_rules",
)

// keptKeys are directives SpamAssassin 4.0.1 (with Debian's plugins)
// knows that this package keeps as Directives without modelling them.
var keptKeys = setOf(
	"adsp_override", "bayes_journal_max_size", "bayes_learn_during_report",
	"bayes_learn_to_journal", "bayes_max_token_length", "bayes_sql_dsn",
	"bayes_sql_override_username", "bayes_sql_password", "bayes_sql_username",
	"bayes_sql_username_authorized", "bayes_stopword_languages",
	"bayes_store_module", "bayes_token_sources", "bayes_file_mode",
	"body_part_scan_size", "clear_dns_query_restriction",
	"clear_dns_query_restrictions", "clear_dns_servers",
	"clear_uridnsbl_skip_domain", "clear_util_rb", "country_db_path",
	"country_db_type", "dkim_minimum_key_bits", "dkim_timeout",
	"dmarc_save_reports", "dns_block_rule", "dns_block_time",
	"dns_local_ports_avoid", "dns_local_ports_none", "dns_local_ports_permit",
	"dns_options", "dns_query_restriction", "dns_server", "dns_test_interval",
	"do_not_use_mail_spf", "do_not_use_mail_spf_query",
	"freemail_add_describe_email", "freemail_domains",
	"freemail_import_def_welcomelist_auth", "freemail_import_def_whitelist_auth",
	"freemail_import_welcomelist_auth", "freemail_import_whitelist_auth",
	"freemail_max_body_emails", "freemail_max_body_freemails",
	"freemail_skip_bulk_envfrom", "freemail_skip_when_over_max",
	"freemail_welcomelist", "freemail_whitelist", "geodb_module",
	"geodb_options", "geodb_search_path", "hashbl_email_domain_alias",
	"hashbl_email_regex", "hashbl_email_welcomelist", "hashbl_email_whitelist",
	"hashbl_ignore", "ignore_always_matching_regexps",
	"ignore_received_spf_header", "lock_method", "mbox_format_from_regex",
	"parse_dkim_uris", "pyzor_count_min", "pyzor_fork", "pyzor_max",
	"pyzor_options", "pyzor_path", "pyzor_perl", "pyzor_server_file",
	"pyzor_timeout", "pyzor_welcomelist_factor", "pyzor_welcomelist_min",
	"pyzor_whitelist_factor", "pyzor_whitelist_min", "rawbody_part_scan_size",
	"razor_config", "razor_fork", "razor_timeout", "rbl_headers", "rbl_timeout",
	"redirector_pattern", "spamcop_from_address", "spamcop_max_report_size",
	"spamcop_relayhost", "spamcop_to_address", "spf_timeout", "test",
	"uri_country_db_isp_path", "uri_country_db_path", "uridnsbl_max_domains",
	"uridnsbl_skip_domain", "uridnsbl_skip_mailto", "uridnsbl_timeout",
	"use_newest_received_spf_header", "use_pyzor", "use_razor2",
	"user_scores_dsn", "user_scores_fallback_to_global",
	"user_scores_ldap_password", "user_scores_ldap_username",
	"user_scores_sql_custom_query", "user_scores_sql_password",
	"user_scores_sql_username", "util_rb_2tld", "util_rb_3tld", "util_rb_tld",
	"version_tag",
)

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Old (3.x) names of the list directives, mapped to their 4.0 names.
var listAliases = map[string]string{
	"whitelist_from":               "welcomelist_from",
	"unwhitelist_from":             "unwelcomelist_from",
	"whitelist_from_rcvd":          "welcomelist_from_rcvd",
	"def_whitelist_from_rcvd":      "def_welcomelist_from_rcvd",
	"whitelist_allows_relays":      "welcomelist_allows_relays",
	"unwhitelist_from_rcvd":        "unwelcomelist_from_rcvd",
	"blacklist_from":               "blocklist_from",
	"unblacklist_from":             "unblocklist_from",
	"whitelist_to":                 "welcomelist_to",
	"blacklist_to":                 "blocklist_to",
	"whitelist_auth":               "welcomelist_auth",
	"def_whitelist_auth":           "def_welcomelist_auth",
	"unwhitelist_auth":             "unwelcomelist_auth",
	"whitelist_from_dkim":          "welcomelist_from_dkim",
	"def_whitelist_from_dkim":      "def_welcomelist_from_dkim",
	"unwhitelist_from_dkim":        "unwelcomelist_from_dkim",
	"whitelist_from_spf":           "welcomelist_from_spf",
	"def_whitelist_from_spf":       "def_welcomelist_from_spf",
	"unwhitelist_from_spf":         "unwelcomelist_from_spf",
	"whitelist_subject":            "welcomelist_subject",
	"blacklist_subject":            "blocklist_subject",
	"whitelist_bounce_relays":      "welcomelist_bounce_relays",
	"blacklist_uri_host":           "blocklist_uri_host",
	"whitelist_uri_host":           "welcomelist_uri_host",
	"required_hits":                "required_score",
	"clear_dns_query_restrictions": "clear_dns_query_restriction",
}

// Plain address lists: each whitespace-separated word is a glob.
var plainLists = setOf(
	ListWelcomelistFrom, ListWelcomelistAllowsRelay, ListBlocklistFrom,
	ListWelcomelistTo, ListMoreSpamTo, ListAllSpamTo, ListBlocklistTo,
	ListWelcomelistAuth, ListDefWelcomelistAuth, ListWelcomelistFromSPF,
	ListDefWelcomelistFromSPF, ListWelcomelistBounceRelay, ListBayesIgnoreFrom,
	ListBayesIgnoreTo,
)

// privilegeOf returns who may use key (after alias mapping).
func privilegeOf(key string) privilege {
	switch {
	case privAdminKeys[key]:
		return privAdmin
	case privRulesKeys[key]:
		return privRules
	}
	return privUser
}

// directive applies one line. pos is its position; key is lower case with
// '-' turned into '_'.
func (p *Parser) directive(pos Pos, key, value string) {
	if canon, ok := listAliases[key]; ok {
		key = canon
	}
	if strings.HasPrefix(key, "bayes_stopword_") || strings.HasPrefix(key, "hashbl_acl_") {
		p.keep(pos, key, value)
		return
	}
	if p.user {
		switch privilegeOf(key) {
		case privAdmin:
			p.diag(pos, SeverityInfo, "not parsing, administrator setting in user prefs: %s", key)
			return
		case privRules:
			if !p.pol.settings.AllowUserRules {
				p.diag(pos, SeverityInfo, "not parsing, allow_user_rules is 0: %s", key)
				return
			}
		}
	}
	var err error
	switch key {
	case "header", "body", "rawbody", "full", "uri", "meta", "mimeheader":
		err = p.defineRule(pos, key, value)
	case "reuse":
		err = p.reuse(pos, value)
	case "askdns":
		err = p.askdns(pos, value)
	case "uri_detail":
		err = p.uriDetail(pos, value)
	case "score":
		err = p.score(pos, value)
	case "describe":
		err = p.ruleAttr(value, func(r *Rule, v string) error { r.Describe = v; return nil })
	case "tflags":
		err = p.ruleAttr(value, func(r *Rule, v string) error { r.Tflags = parseTflags(v); return nil })
		p.reshaped = true
	case "priority":
		err = p.ruleAttr(value, func(r *Rule, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || !isInteger(v) {
				return fmt.Errorf("invalid priority %q", v)
			}
			r.Priority, r.givenPriority, r.PriorityGiven = n, n, true
			return nil
		})
	case "loadplugin", "tryplugin":
		err = p.loadplugin(pos, key, value)
	case "enable_compat":
		if !isWordChars(value) || len(value) > 128 {
			err = errInvalid(key)
		} else {
			p.pol.compat = cowAppend(&p.own, &p.pol.compat, value)
			s := &p.pol.settings
			s.EnableCompat = cowAppend(&p.own, &s.EnableCompat, value)
		}
	case "urirhsbl", "urirhssub", "uridnsbl", "uridnssub", "urinsrhsbl", "urinsrhssub", "urifullnsrhsbl", "urifullnsrhssub":
		err = p.uribl(pos, key, value)
	case "replace_tag", "replace_pre", "replace_inter", "replace_post", "replace_rules", "replace_start", "replace_end":
		err = p.replaceTag(key, value)
	case "rbl_list", "rhsbl_list", "uribl_list":
		err = p.netList(pos, key, value)
	case "country_score":
		err = p.countryScore(pos, value)
	default:
		var handled bool
		handled, err = p.setting(pos, key, value)
		if !handled {
			handled, err = p.list(pos, key, value)
		}
		if !handled {
			if keptKeys[key] {
				p.keep(pos, key, value)
			} else {
				p.pol.unknown = cowAppend(&p.own, &p.pol.unknown, Directive{Key: key, Value: value, Pos: pos})
				p.key = ""
				p.diag(pos, SeverityWarning, "unknown directive %q, line ignored", key)
			}
			return
		}
	}
	if err != nil {
		p.diag(pos, SeverityError, "%s: %v", key, err)
	}
}

func (p *Parser) keep(pos Pos, key, value string) {
	p.pol.other = cowAppend(&p.own, &p.pol.other, Directive{Key: key, Value: value, Pos: pos})
}

func errMissing(key string) error { return fmt.Errorf("missing '%s' value", key) }
func errInvalid(key string) error { return fmt.Errorf("invalid '%s' value", key) }

func isInteger(s string) bool {
	return allDigits(strings.TrimPrefix(s, "-"))
}

func isWordChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// ruleAttr handles "KEY NAME value" lines (describe, tflags, priority).
func (p *Parser) ruleAttr(value string, set func(*Rule, string) error) error {
	name, v := splitWord(value)
	if v == "" {
		return fmt.Errorf("missing value")
	}
	if !validRuleName(name) {
		return fmt.Errorf("invalid rule name %q", name)
	}
	cur := p.pol.Rule(name)
	var tmp Rule
	if cur != nil {
		tmp = *cur
	}
	if err := set(&tmp, v); err != nil {
		return err
	}
	r := p.mutRule(name)
	if err := set(r, v); err != nil {
		return err
	}
	fixRule(r)
	return nil
}

func parseTflags(v string) Tflags {
	t := Tflags{Raw: v}
	for _, f := range fields(v) {
		name, arg, hasArg := strings.Cut(f, "=")
		switch name {
		case "net":
			t.Net = true
		case "nice":
			t.Nice = true
		case "userconf":
			t.Userconf = true
		case "learn":
			t.Learn = true
		case "noautolearn":
			t.NoAutolearn = true
		case "autolearn_force":
			t.AutolearnForce = true
		case "autolearn_header":
			t.AutolearnHeader = true
		case "autolearn_body":
			t.AutolearnBody = true
		case "noawl":
			t.NoAWL = true
		case "multiple":
			t.Multiple = true
		case "maxhits":
			if n, err := strconv.Atoi(arg); hasArg && err == nil && n > 0 {
				t.MaxHits = n
			} else {
				t.Other = append(t.Other, f)
			}
		case "nosubject":
			t.NoSubject = true
		case "nolog":
			t.NoLog = true
		case "ips_only":
			t.IPsOnly = true
		case "domains_only":
			t.DomainsOnly = true
		case "ns":
			t.NS = true
		case "a":
			t.A = true
		case "notrim":
			t.NoTrim = true
		case "publish":
			t.Publish = true
		default:
			t.Other = append(t.Other, f)
		}
	}
	return t
}

// score handles "score NAME n" and "score NAME n0 n1 n2 n3", with
// parentheses marking relative values.
func (p *Parser) score(pos Pos, value string) error {
	ws := fields(value)
	if len(ws) != 2 && len(ws) != 5 {
		return fmt.Errorf("requires a rule name and 1 or 4 scores")
	}
	name, vals := ws[0], ws[1:]
	relative := false
	var nums [4]float64
	for i, v := range vals {
		if strings.HasPrefix(v, "(") && strings.HasSuffix(v, ")") && isScoreNumber(v[1:len(v)-1]) {
			relative = true
			v = v[1 : len(v)-1]
		}
		if !isScoreNumber(v) {
			return fmt.Errorf("the non-numeric score (%s) is not valid", v)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("invalid score %q: %w", v, err)
		}
		nums[i] = f + 0 // turn -0 into 0, as Perl's "+ 0.0" does
	}
	if len(vals) == 1 {
		nums = [4]float64{nums[0], nums[0], nums[0], nums[0]}
	}
	cur := p.pol.Rule(name)
	if relative {
		// SpamAssassin: the rule needs a score already. Within one parse
		// that is an explicit score line; in user prefs the site's rules
		// also carry their default score.
		if cur == nil || !(cur.ScoreGiven || (p.user && cur.Defined())) {
			return fmt.Errorf("relative score without previous setting in configuration")
		}
	}
	r := p.mutRule(name)
	for i := range nums {
		if relative {
			r.Scores[i] += nums[i]
		} else {
			r.Scores[i] = nums[i]
		}
	}
	r.ScoreGiven, r.ScoreRelative, r.ScorePos = true, relative, pos
	return nil
}

// isScoreNumber is Perl's /^-?\d+(?:\.\d+)?$/.
func isScoreNumber(s string) bool {
	return isMetaNumber(strings.TrimPrefix(s, "-"))
}

// defineRule handles the header/body/rawbody/full/uri/meta/mimeheader
// definitions.
func (p *Parser) defineRule(pos Pos, key, value string) error {
	name, rest := splitWord(value)
	if name == "" || (rest == "" && value != "" && !strings.ContainsAny(value, " \t")) {
		if name != "" && rest == "" {
			return errMissing(key)
		}
		return errInvalid(key)
	}
	if !validRuleName(name) {
		return fmt.Errorf("rule '%s' has invalid characters (not alphanumeric + underscore, starting with a non-digit)", name)
	}
	if len(name) > 100 {
		return fmt.Errorf("rule '%s' is too long", name)
	}
	def := Rule{Name: name, Source: pos, User: p.user}
	switch key {
	case "header":
		def.Kind = KindHeader
		if fn, ok := cutEval(rest, true); ok {
			call, err := parseEval(fn)
			if err != nil {
				return err
			}
			call.RBL = strings.HasPrefix(rest, "rbleval:") || strings.HasPrefix(call.Func, "check_rbl") || strings.HasPrefix(call.Func, "check_dns")
			def.Eval = call
		} else if err := parseHeaderTest(&def, rest); err != nil {
			return err
		}
	case "mimeheader":
		def.Kind = KindMIMEHeader
		if err := parseMIMEHeaderTest(&def, rest); err != nil {
			return err
		}
	case "meta":
		def.Kind = KindMeta
		if err := p.validateMeta(rest); errors.Is(err, ErrNesting) {
			return fmt.Errorf("invalid expression for rule %s: %w", name, err)
		} else if err != nil {
			return fmt.Errorf("invalid expression for rule %s: %q: %w", name, rest, err)
		}
		def.Meta = rest
	default:
		def.Kind = map[string]Kind{"body": KindBody, "rawbody": KindRawbody, "full": KindFull, "uri": KindURI}[key]
		if fn, ok := cutEval(rest, false); ok && key != "uri" {
			call, err := parseEval(fn)
			if err != nil {
				return err
			}
			def.Eval = call
		} else {
			pat, err := ParsePattern(rest)
			if err != nil {
				return fmt.Errorf("invalid regexp for %s %q: %w", name, rest, err)
			}
			def.Pattern = pat
		}
	}
	p.setDefinition(&def)
	return nil
}

// cutEval returns the "func(args)" of "eval:func(args)" (and, for header
// rules, "rbleval:func(args)").
func cutEval(s string, header bool) (string, bool) {
	if fn, ok := strings.CutPrefix(s, "eval:"); ok {
		return fn, true
	}
	if header {
		if fn, ok := strings.CutPrefix(s, "rbleval:"); ok {
			return fn, true
		}
	}
	return "", false
}

// setDefinition installs a definition, keeping the name's score, describe,
// tflags and priority.
func (p *Parser) setDefinition(def *Rule) {
	p.reshaped = true
	existed := p.pol.Rule(def.Name)
	wasDefined := existed != nil && existed.Defined()
	r := p.mutRule(def.Name)
	r.Kind, r.Header, r.Pattern, r.Eval, r.Meta, r.AskDNS, r.Detail = def.Kind, def.Header, def.Pattern, def.Eval, def.Meta, def.AskDNS, def.Detail
	r.Source, r.User = def.Source, def.User
	if r.Pattern.Captures {
		r.Priority, r.givenPriority, r.PriorityGiven = -10000, -10000, true
	}
	fixRule(r)
	if !wasDefined {
		p.pol.rules = cowAppend(&p.own, &p.pol.rules, r)
	}
}

var headerModifiers = setOf("raw", "addr", "name", "host", "domain", "ip", "revip", "first", "last")

// parseHeaderTest parses "exists:Name" or "Name[:mod[:mod]] =~ /re/flags
// [if-unset: STR]".
func parseHeaderTest(def *Rule, s string) error {
	if h, ok := strings.CutPrefix(s, "exists:"); ok {
		h = strings.TrimSuffix(h, ":")
		if h == "" || !isHeaderNameChars(h) {
			return fmt.Errorf("invalid head test header %q", h)
		}
		def.Header = HeaderTest{Name: h, Exists: true}
		return nil
	}
	// ^([\w.-]+(?:\:|(?:\:[a-z]+){1,2})?)\s*([=!]~)\s*(.+)$
	i := 0
	for i < len(s) && (isWordByte(s[i]) || s[i] == '.' || s[i] == '-') {
		i++
	}
	name := s[:i]
	if name == "" {
		return fmt.Errorf("invalid head test %q", s)
	}
	var mods []string
	rest := s[i:]
	if strings.HasPrefix(rest, ":") {
		j := 0
		for n := 0; n < 2 && j < len(rest) && rest[j] == ':'; n++ {
			k := j + 1
			for k < len(rest) && rest[k] >= 'a' && rest[k] <= 'z' {
				k++
			}
			if k == j+1 {
				if n == 0 {
					j = k // a lone ':' after the name
				}
				break
			}
			mods = append(mods, rest[j+1:k])
			j = k
		}
		rest = rest[j:]
	}
	negate, pat, ok := cutMatchOp(rest)
	if !ok {
		return fmt.Errorf("invalid head test %q", s)
	}
	for _, m := range mods {
		if !headerModifiers[strings.ToLower(m)] {
			return fmt.Errorf("invalid header modifier %q", m)
		}
	}
	ht := HeaderTest{Name: name, Modifiers: mods, Negate: negate}
	pat, ht.IfUnset, ht.HasIfUnset = cutIfUnset(pat)
	p, err := ParsePattern(pat)
	if err != nil {
		return fmt.Errorf("invalid regexp %q: %w", pat, err)
	}
	def.Header, def.Pattern = ht, p
	return nil
}

// cutIfUnset removes a trailing "\s+[if-unset:\s+STR]".
func cutIfUnset(pat string) (string, string, bool) {
	if !strings.HasSuffix(pat, "]") {
		return pat, "", false
	}
	// Perl's regex takes the leftmost "\s+[if-unset:\s+(.+)\]$".
	i := strings.Index(pat, "[if-unset:")
	if i <= 0 || !isSpace(pat[i-1]) {
		return pat, "", false
	}
	inner := pat[i+len("[if-unset:") : len(pat)-1]
	if inner == "" || !isSpace(inner[0]) {
		return pat, "", false
	}
	val := strings.TrimLeft(inner, " \t\r\n\f\v")
	if val == "" {
		return pat, "", false
	}
	return strings.TrimRight(pat[:i], " \t\r\n\f\v"), val, true
}

func isHeaderNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(isWordByte(s[i]) || s[i] == '.' || s[i] == '-') {
			return false
		}
	}
	return true
}

// parseMIMEHeaderTest parses "Name[:raw] =~ /re/ [if-unset: STR]".
func parseMIMEHeaderTest(def *Rule, s string) error {
	i := 0
	for i < len(s) && s[i] != ':' && !isSpace(s[i]) && s[i] != '=' && s[i] != '!' {
		i++
	}
	name, rest := s[:i], s[i:]
	if name == "" {
		return fmt.Errorf("invalid mimeheader test %q", s)
	}
	var mods []string
	if r, ok := strings.CutPrefix(rest, ":raw"); ok {
		mods, rest = []string{"raw"}, r
	} else if r, ok := strings.CutPrefix(rest, ":"); ok {
		rest = r
	}
	negate, pat, ok := cutMatchOp(rest)
	if !ok {
		return fmt.Errorf("invalid mimeheader test %q", s)
	}
	ht := HeaderTest{Name: name, Modifiers: mods, Negate: negate}
	pat, ht.IfUnset, ht.HasIfUnset = cutIfUnset(pat)
	p, err := ParsePattern(pat)
	if err != nil {
		return fmt.Errorf("invalid regexp %q: %w", pat, err)
	}
	def.Header, def.Pattern = ht, p
	return nil
}

func (p *Parser) reuse(pos Pos, value string) error {
	ws := fields(value)
	if len(ws) == 0 {
		return errInvalid("reuse")
	}
	for _, w := range ws {
		if !isWordChars(w) {
			return errInvalid("reuse")
		}
	}
	if r := p.pol.Rule(ws[0]); r != nil && r.Defined() {
		return nil // reuse never replaces a real test
	}
	p.setDefinition(&Rule{Name: ws[0], Kind: KindReuse, Source: pos, User: p.user})
	return nil
}

var askdnsTypes = setOf("ANY", "A", "AAAA", "MX", "TXT", "PTR", "NAPTR", "NS", "SOA", "CERT", "CNAME", "DNAME",
	"DHCID", "HINFO", "MINFO", "RP", "HIP", "IPSECKEY", "KX", "LOC", "GPOS", "SRV",
	"OPENPGPKEY", "SSHFP", "SPF", "TLSA", "URI", "CAA", "CSYNC")

func (p *Parser) askdns(pos Pos, value string) error {
	name, rest := splitWord(value)
	query, rest := splitWord(rest)
	if name == "" {
		return errMissing("askdns")
	}
	if query == "" || !validRuleName(name) {
		return errInvalid("askdns")
	}
	q := &AskDNS{Query: query, Types: []string{"A"}}
	if rest != "" {
		types, sub := splitWord(rest)
		for _, t := range strings.Split(strings.ToUpper(types), ",") {
			if !askdnsTypes[t] {
				return fmt.Errorf("invalid askdns query type %q", t)
			}
		}
		q.Types = strings.Split(strings.ToUpper(types), ",")
		q.Subtest = sub
	}
	p.setDefinition(&Rule{Name: name, Kind: KindAskDNS, AskDNS: q, Source: pos, User: p.user})
	return nil
}

func (p *Parser) uriDetail(pos Pos, value string) error {
	name, rest := splitWord(value)
	if !validRuleName(name) || rest == "" {
		return errInvalid("uri_detail")
	}
	p.setDefinition(&Rule{Name: name, Kind: KindURIDetail, Detail: rest, Source: pos, User: p.user})
	return nil
}

func (p *Parser) uribl(pos Pos, key, value string) error {
	if value == "" {
		return errMissing(key)
	}
	ws := fields(value)
	sub := strings.HasSuffix(key, "sub")
	if (sub && len(ws) < 4) || (!sub && len(ws) != 3) || !isWordChars(ws[0]) {
		return errInvalid(key)
	}
	d := URIBLDef{Directive: key, Rule: ws[0], Zone: strings.TrimSuffix(ws[1], "."), Type: ws[2], Pos: pos}
	if sub {
		_, after := splitWord(value)
		_, after = splitWord(after)
		_, after = splitWord(after)
		d.Sub = after
	}
	list := cowSlice(&p.own, &p.pol.uribls)
	list = slices.DeleteFunc(list, func(x URIBLDef) bool { return x.Rule == d.Rule })
	p.pol.uribls = append(list, d)
	return nil
}

func (p *Parser) replaceTag(key, value string) error {
	rt := &p.pol.replace
	switch key {
	case "replace_start", "replace_end":
		if value == "" {
			return errMissing(key)
		}
		if key == "replace_start" {
			rt.Start = value
		} else {
			rt.End = value
		}
	case "replace_rules":
		ws := fields(value)
		if len(ws) == 0 {
			return errMissing(key)
		}
		rt.Rules = cowAppend(&p.own, &rt.Rules, ws...)
	default:
		name, v := splitWord(value)
		if v == "" {
			return errMissing(key)
		}
		m := map[string]*map[string]string{"replace_tag": &rt.Tags, "replace_pre": &rt.Pre, "replace_inter": &rt.Inter, "replace_post": &rt.Post}[key]
		cowMap(&p.own, m)[name] = v
	}
	return nil
}

func (p *Parser) loadplugin(pos Pos, key, value string) error {
	mod, _ := splitWord(value)
	if mod == "" {
		return errMissing(key)
	}
	mod = fullPluginName(mod)
	if !slices.Contains(p.pol.loaded, mod) {
		p.pol.loaded = cowAppend(&p.own, &p.pol.loaded, mod)
	}
	if key == "loadplugin" && !p.pol.PluginEnabled(mod) {
		p.diag(pos, SeverityInfo, "plugin %s is not implemented: its rules are skipped", mod)
	}
	return nil
}

// setting handles the typed options. It reports whether key is one.
func (p *Parser) setting(pos Pos, key, value string) (bool, error) {
	s := &p.pol.settings
	boolean := func(dst *bool) error {
		switch strings.ToLower(value) {
		case "":
			return errMissing(key)
		case "yes", "1":
			*dst = true
		case "no", "0":
			*dst = false
		default:
			return errInvalid(key)
		}
		return nil
	}
	number := func(dst *float64) error {
		f, err := parseNumeric(key, value)
		if err == nil {
			*dst = f
		}
		return err
	}
	integer := func(dst *int) error {
		f, err := parseNumeric(key, value)
		if err == nil {
			*dst = int(f)
		}
		return err
	}
	duration := func(dst *time.Duration) error {
		d, err := parseDuration(key, value)
		if err == nil {
			*dst = d
		}
		return err
	}
	str := func(dst *string) error {
		if value == "" {
			return errMissing(key)
		}
		*dst = value
		return nil
	}
	var err error
	switch key {
	case "required_score":
		err = number(&s.RequiredScore)
		if err == nil {
			s.SpamSensitivity = "custom"
		}
	case "spam_sensitivity":
		v := strings.ToLower(value)
		if lvl, ok := sensitivityLevels[v]; ok {
			s.RequiredScore, s.SpamSensitivity = lvl, v
		} else if v == "custom" {
			s.SpamSensitivity = v
		} else if v == "" {
			err = errMissing(key)
		} else {
			err = fmt.Errorf("invalid 'spam_sensitivity' value %q (veryhigh, high, medium, low, verylow or custom)", value)
		}
	case "reject_score":
		err = number(&s.RejectScore)
	case "max_message_size":
		var f float64
		if err = number(&f); err == nil {
			if f < 0 {
				err = errInvalid(key)
			} else {
				s.MaxMessageSize = int64(f)
			}
		}
	case "rules_dir":
		err = str(&s.RulesDir)
	case "use_builtin_rules":
		err = boolean(&s.UseBuiltinRules)
	case "rewrite_header":
		err = p.rewriteHeader(value)
	case "report_safe":
		switch value {
		case "":
			err = errMissing(key)
		case "0", "1", "2":
			s.ReportSafe = int(value[0] - '0')
			if s.ReportSafe == 0 {
				s.HeaderOps = cowAppend(&p.own, &s.HeaderOps, HeaderOp{Op: HeaderAddIfMissing, Spam: true, Name: "Report", Value: "_REPORT_", Pos: pos})
			}
		default:
			err = errInvalid(key)
		}
	case "add_header", "remove_header":
		err = p.headerOp(pos, key, value)
	case "clear_headers":
		if value != "" {
			err = errInvalid(key)
		} else {
			s.HeaderOps = cowAppend(&p.own, &s.HeaderOps, HeaderOp{Op: HeaderClear, Spam: true, Ham: true, Pos: pos})
		}
	case "fold_headers":
		err = boolean(&s.FoldHeaders)
	case "report_contact":
		err = str(&s.ReportContact)
	case "report_hostname":
		err = str(&s.ReportHostname)
	case "report_charset":
		s.ReportCharset = value
	case "report_wrap_width":
		err = integer(&s.ReportWrapWidth)
	case "report":
		s.ReportTemplate += templateLine(value)
	case "clear_report_template":
		s.ReportTemplate = ""
	case "unsafe_report":
		s.UnsafeReportTemplate += templateLine(value)
	case "clear_unsafe_report_template":
		s.UnsafeReportTemplate = ""
	case "report_safe_copy_headers":
		if value == "" {
			err = errMissing(key)
		} else {
			s.ReportSafeCopyHeaders = cowAppend(&p.own, &s.ReportSafeCopyHeaders, fields(value)...)
		}
	case "subjprefix":
		name, v := splitWord(value)
		if v == "" {
			err = errMissing(key)
		} else {
			cowMap(&p.own, &s.Subjprefix)[name] = v
		}
	case "use_bayes":
		err = boolean(&s.UseBayes)
	case "use_bayes_rules":
		err = boolean(&s.UseBayesRules)
	case "use_learner":
		err = boolean(&s.UseLearner)
	case "bayes_auto_learn":
		err = boolean(&s.BayesAutoLearn)
	case "bayes_auto_learn_threshold_spam":
		err = number(&s.BayesAutoLearnThresholdSpam)
	case "bayes_auto_learn_threshold_nonspam":
		err = number(&s.BayesAutoLearnThresholdNonspam)
	case "bayes_auto_learn_on_error":
		err = boolean(&s.BayesAutoLearnOnError)
	case "bayes_ignore_header":
		if value == "" {
			err = errMissing(key)
		} else {
			s.BayesIgnoreHeaders = cowAppend(&p.own, &s.BayesIgnoreHeaders, fields(value)...)
		}
	case "bayes_min_ham_num":
		err = integer(&s.BayesMinHamNum)
	case "bayes_min_spam_num":
		err = integer(&s.BayesMinSpamNum)
	case "bayes_expiry_max_db_size":
		err = integer(&s.BayesExpiryMaxDBSize)
	case "bayes_auto_expire":
		err = boolean(&s.BayesAutoExpire)
	case "bayes_token_ttl":
		err = duration(&s.BayesTokenTTL)
	case "bayes_seen_ttl":
		err = duration(&s.BayesSeenTTL)
	case "bayes_use_hapaxes":
		err = boolean(&s.BayesUseHapaxes)
	case "bayes_path":
		err = str(&s.BayesPath)
	case "skip_rbl_checks":
		err = boolean(&s.SkipRBLChecks)
	case "skip_uribl_checks":
		err = boolean(&s.SkipURIBLChecks)
	case "dns_available":
		// As SpamAssassin reads it: yes or 1, no or 0, test or "test:"
		// and at least one name; case matters.
		switch {
		case value == "":
			err = errMissing(key)
		case value == "yes" || value == "1":
			s.DNSAvailable = "yes"
		case value == "no" || value == "0":
			s.DNSAvailable = "no"
		case value == "test" || strings.HasPrefix(value, "test:") && strings.TrimSpace(value[len("test:"):]) != "":
			s.DNSAvailable = value
		default:
			err = errInvalid(key)
		}
	case "trusted_networks", "internal_networks", "msa_networks":
		err = p.networks(pos, key, value)
	case "clear_trusted_networks":
		s.TrustedNetworks, s.TrustedNetworksSet = nil, false
	case "clear_internal_networks":
		s.InternalNetworks, s.InternalNetworksSet = nil, false
	case "clear_msa_networks":
		s.MSANetworks, s.MSANetworksSet = nil, false
	case "originating_ip_headers":
		if value == "" {
			err = errMissing(key)
		} else {
			s.OriginatingIPHeaders = cowAppend(&p.own, &s.OriginatingIPHeaders, fields(value)...)
		}
	case "clear_originating_ip_headers":
		s.OriginatingIPHeaders = nil
	case "envelope_sender_header":
		err = str(&s.EnvelopeSenderHeader)
	case "always_trust_envelope_sender":
		err = boolean(&s.AlwaysTrustEnvelopeSender)
	case "allow_user_rules":
		err = boolean(&s.AllowUserRules)
	case "ok_locales":
		err = str(&s.OKLocales)
	case "normalize_charset":
		err = boolean(&s.NormalizeCharset)
	case "time_limit":
		var d time.Duration
		if err = duration(&d); err == nil {
			if p.user && p.siteTimeLimit > 0 && (d == 0 || d > p.siteTimeLimit) {
				// A user may shorten the scans of their own mail, not
				// lengthen them: the site's limit protects every user's
				// scans from one user's mail holding the workers.
				p.diag(pos, SeverityInfo, "not parsing, time_limit %s above the site's %s in user prefs", value, p.siteTimeLimit)
				return true, nil
			}
			s.TimeLimit = d
		}
	default:
		return false, nil
	}
	if err == nil {
		if key == "rewrite_header" {
			hdr, _ := splitWord(value)
			key += " " + strings.ToLower(hdr)
		}
		at := cowMap(&p.own, &p.pol.setAt)
		at[key] = pos
		// required_score and spam_sensitivity set each other.
		switch key {
		case "required_score":
			at["spam_sensitivity"] = pos
		case "spam_sensitivity":
			if s.SpamSensitivity != "custom" {
				at["required_score"] = pos
			}
		}
	}
	return true, err
}

// templateLine is SpamAssassin's set_template_append: surrounding quotes
// removed, a newline added.
func templateLine(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v + "\n"
}

// parseNumeric is SpamAssassin's numeric type: /^[+-]?\d+(?:\.\d*)?\z/.
func parseNumeric(key, v string) (float64, error) {
	if v == "" {
		return 0, errMissing(key)
	}
	t := strings.TrimLeft(v, "+-")
	if len(v)-len(t) > 1 {
		return 0, errInvalid(key)
	}
	ip, frac, hasFrac := strings.Cut(t, ".")
	if !allDigits(ip) || (hasFrac && frac != "" && !allDigits(frac)) {
		return 0, errInvalid(key)
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "."), 64)
	if err != nil {
		return 0, errInvalid(key)
	}
	return f, nil
}

// parseDuration is SpamAssassin's duration type: a number with an
// optional s/m/h/d/w suffix (seconds by default).
func parseDuration(key, v string) (time.Duration, error) {
	if v == "" {
		return 0, errMissing(key)
	}
	unit := time.Second
	num := v
	if n := len(v); n > 0 {
		switch strings.ToLower(v[n-1:]) {
		case "s":
			num = v[:n-1]
		case "m":
			num, unit = v[:n-1], time.Minute
		case "h":
			num, unit = v[:n-1], time.Hour
		case "d":
			num, unit = v[:n-1], 24*time.Hour
		case "w":
			num, unit = v[:n-1], 7*24*time.Hour
		}
	}
	num = trimSpace(num)
	if strings.HasPrefix(num, "-") {
		return 0, errInvalid(key)
	}
	f, err := parseNumeric(key, num)
	if err != nil {
		return 0, errInvalid(key)
	}
	return time.Duration(f * float64(unit)), nil
}

func (p *Parser) rewriteHeader(value string) error {
	hdr, text := splitWord(value)
	if hdr == "" {
		return errMissing("rewrite_header")
	}
	s := &p.pol.settings
	var dst *string
	switch strings.ToLower(hdr) {
	case "subject":
		dst = &s.RewriteSubject
	case "from":
		dst = &s.RewriteFrom
	case "to":
		dst = &s.RewriteTo
	default:
		return fmt.Errorf("can only rewrite From, Subject or To, not %q", hdr)
	}
	if dst != &s.RewriteSubject {
		text = strings.NewReplacer("(", "[", ")", "]").Replace(text)
	}
	if trimSpace(text) == "" {
		text = ""
	}
	*dst = text
	return nil
}

func (p *Parser) headerOp(pos Pos, key, value string) error {
	which, rest := splitWord(value)
	name, text := splitWord(rest)
	if which != "ham" && which != "spam" && which != "all" || name == "" {
		return errInvalid(key)
	}
	for i := 0; i < len(name); i++ {
		if !(isWordByte(name[i]) || name[i] == '-') {
			return fmt.Errorf("invalid header field name %q", name)
		}
	}
	op := HeaderOp{Spam: which != "ham", Ham: which != "spam", Name: name, Pos: pos}
	if key == "remove_header" {
		if text != "" {
			return errInvalid(key)
		}
		if name == "Checker-Version" {
			return nil
		}
		op.Op = HeaderRemove
	} else {
		op.Op = HeaderAdd
		op.Value = expandHeaderValue(trimSpace(text))
	}
	s := &p.pol.settings
	s.HeaderOps = cowAppend(&p.own, &s.HeaderOps, op)
	return nil
}

// expandHeaderValue removes surrounding quotes, expands \t and \n, keeps
// "\\" as one backslash and drops other escapes (as add_header does).
func expandHeaderValue(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	parts := strings.Split(v, `\\`)
	for i, part := range parts {
		var b strings.Builder
		for j := 0; j < len(part); j++ {
			if part[j] != '\\' {
				b.WriteByte(part[j])
				continue
			}
			if j+1 >= len(part) {
				break // a lone trailing backslash is dropped
			}
			j++
			switch part[j] {
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			}
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, `\`)
}

func (p *Parser) networks(pos Pos, key, value string) error {
	if value == "" {
		return errMissing(key)
	}
	s := &p.pol.settings
	var dst *[]string
	var set *bool
	switch key {
	case "trusted_networks":
		dst, set = &s.TrustedNetworks, &s.TrustedNetworksSet
	case "internal_networks":
		dst, set = &s.InternalNetworks, &s.InternalNetworksSet
	default:
		dst, set = &s.MSANetworks, &s.MSANetworksSet
	}
	ws := fields(value)
	for _, w := range ws {
		if !validCIDR(w) {
			p.diag(pos, SeverityError, "%s: invalid network %q", key, w)
		}
	}
	*dst = cowAppend(&p.own, dst, ws...)
	*set = true
	return nil
}

// validCIDR accepts what SpamAssassin's NetSet does: an optional "!", an
// IPv4/IPv6 address (IPv6 optionally in brackets) with an optional
// /length, or a partial dotted quad such as "10." or "192.168/16".
func validCIDR(w string) bool {
	w = strings.TrimPrefix(w, "!")
	addr, bits, hasBits := strings.Cut(w, "/")
	if hasBits {
		if n, err := strconv.Atoi(bits); err != nil || n < 0 || n > 128 {
			return false
		}
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if _, err := netip.ParseAddr(addr); err == nil {
		return true
	}
	// partial IPv4: 1 to 3 octets, optional trailing dot
	parts := strings.Split(strings.TrimSuffix(addr, "."), ".")
	if len(parts) == 0 || len(parts) > 4 {
		return false
	}
	for _, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || n > 255 || !allDigits(part) {
			return false
		}
	}
	return true
}

// cutMatchOp reads the "=~ PATTERN" or "!~ PATTERN" of a header or
// mimeheader test; ok is false when the operator or the pattern is
// missing.
func cutMatchOp(rest string) (negate bool, pat string, ok bool) {
	rest = strings.TrimLeft(rest, " \t")
	switch {
	case strings.HasPrefix(rest, "=~"):
	case strings.HasPrefix(rest, "!~"):
		negate = true
	default:
		return false, "", false
	}
	pat = strings.TrimLeft(rest[2:], " \t")
	return negate, pat, pat != ""
}

// ParseDuration reads a value of SpamAssassin's duration type (a number
// with an optional s/m/h/d/w suffix, seconds by default), for the
// directives read outside this package (dns_test_interval).
func ParseDuration(v string) (time.Duration, error) { return parseDuration("duration", trimSpace(v)) }
