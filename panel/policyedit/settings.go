package policyedit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
)

// Sensitivities are the spam_sensitivity presets, most sensitive first,
// and "custom" (a tag level of one's own).
var Sensitivities = []string{"veryhigh", "high", "medium", "low", "verylow", "custom"}

// The list kinds of a NetList: our list settings.
const (
	KindRBL   = "rbl_list"   // the relays' addresses
	KindRHSBL = "rhsbl_list" // the From and envelope sender domains
	KindURIBL = "uribl_list" // the domains of the body's links
)

// Catalogue are the block lists the page offers a switch for even when no
// file names them: SME Server's defaults and their usual companions.
var Catalogue = []NetList{
	{Kind: KindRBL, Zone: "zen.spamhaus.org"},
	{Kind: KindRBL, Zone: "bl.spamcop.net"},
	{Kind: KindRBL, Zone: "b.barracudacentral.org"},
	{Kind: KindRHSBL, Zone: "dbl.spamhaus.org"},
	{Kind: KindURIBL, Zone: "multi.surbl.org"},
	{Kind: KindURIBL, Zone: "black.uribl.com"},
}

// The SPF rules whose scores the page sets.
const (
	RuleSPFFail     = "SPF_FAIL"
	RuleSPFSoftFail = "SPF_SOFTFAIL"
)

// A NetList is one DNS block list and whether it is asked and counted.
type NetList struct {
	Kind string // KindRBL, KindRHSBL or KindURIBL
	Zone string // lower case, without the final dot
	// On is true when the list's rules are defined and not all scored 0.
	On bool
	// Rules are the rules the list defines in the policy (none when it
	// is not defined).
	Rules []string
}

// Key is how a list is named in Change.Lists and the audit log: "rbl_list
// zen.spamhaus.org".
func (n NetList) Key() string { return n.Kind + " " + n.Zone }

// Settings are the Policy page's settings as they are in force.
type Settings struct {
	// Sensitivity is a preset of Sensitivities; "custom" when the tag
	// level was set as a number (or never set: SpamAssassin's 5).
	Sensitivity string
	// TagScore is the tag level, required_score.
	TagScore float64
	// RejectScore is reject_score; 0 never rejects.
	RejectScore float64
	// SubjectText is the rewrite_header Subject text, "" when the
	// Subject is left alone.
	SubjectText string
	// Lists are the catalogue's lists and every list the policy defines,
	// sorted by kind and zone.
	Lists []NetList
	// SPFFail and SPFSoftFail are the scores of SPF_FAIL and
	// SPF_SOFTFAIL, as ScoreText writes them ("" when neither defined
	// nor scored).
	SPFFail, SPFSoftFail string
	// RuleScores are the scores in force of the rules the panel scores
	// (besides the SPF and list rules), as ScoreText writes them.
	RuleScores map[string]string
	// Welcome and Block are the welcomelist_from and blocklist_from
	// entries, sorted.
	Welcome, Block []string
	// Daemon are the daemon settings.
	Daemon Daemon
}

// RewriteSubject reports whether spam gets its Subject rewritten.
func (s Settings) RewriteSubject() bool { return s.SubjectText != "" }

// Daemon are the daemon settings the page edits, as the overlay (or the
// daemon config under it) says.
type Daemon struct {
	// JunkSort files tagged spam into the junk folder ([smtp]
	// no_junk_sort false).
	JunkSort bool
	// JunkRetentionDays is [imap] junk_retention_days; 0 keeps junk.
	JunkRetentionDays int
}

// Setting keys: how Sources, overrides and the audit log name a setting.
const (
	KeySensitivity    = "spam_sensitivity"
	KeyTagScore       = "required_score"
	KeyRejectScore    = "reject_score"
	KeyRewriteSubject = "rewrite_header subject"
	KeyJunkSort       = "junk_sort"
	KeyJunkRetention  = "junk_retention_days"
)

// ScoreKey is the key of a rule's score: "score SPF_FAIL".
func ScoreKey(rule string) string { return "score " + rule }

// ListKey is the key of an address list entry: "blocklist_from *@x.example".
func ListKey(list, addr string) string { return list + " " + addr }

// ScoreText writes a rule's scores as a score line would: one number
// when the four score sets agree, else four. A nil rule is "".
func ScoreText(r *cf.Rule) string {
	if r == nil {
		return ""
	}
	s := r.Scores
	if s[0] == s[1] && s[1] == s[2] && s[2] == s[3] {
		return formatNum(s[0])
	}
	parts := make([]string, 4)
	for i, v := range s {
		parts[i] = formatNum(v)
	}
	return strings.Join(parts, " ")
}

func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// readSettings reads the page's settings from a policy, and where each
// came from (keys as above; a setting at its default has no entry).
// extraRules are rules whose scores to report in RuleScores.
func readSettings(pol *cf.Policy, extraRules []string) (Settings, map[string]cf.Pos) {
	src := map[string]cf.Pos{}
	ps := pol.Settings()
	s := Settings{
		Sensitivity: ps.SpamSensitivity,
		TagScore:    ps.RequiredScore,
		RejectScore: ps.RejectScore,
		SubjectText: ps.RewriteSubject,
		RuleScores:  map[string]string{},
	}
	for _, k := range []string{KeySensitivity, KeyTagScore, KeyRejectScore, KeyRewriteSubject} {
		if p, ok := pol.SettingSource(k); ok {
			src[k] = p
		}
	}
	score := func(name string) string {
		r := pol.Rule(name)
		if r != nil && r.ScoreGiven {
			src[ScoreKey(name)] = r.ScorePos
		}
		return ScoreText(r)
	}
	s.SPFFail, s.SPFSoftFail = score(RuleSPFFail), score(RuleSPFSoftFail)
	for _, n := range extraRules {
		s.RuleScores[n] = score(n)
	}
	s.Lists = netLists(pol, src)
	for _, l := range []struct {
		name string
		dst  *[]string
	}{{cf.ListWelcomelistFrom, &s.Welcome}, {cf.ListBlocklistFrom, &s.Block}} {
		for _, e := range pol.AddrList(l.name) {
			*l.dst = append(*l.dst, e.Addr)
			src[ListKey(l.name, e.Addr)] = e.Pos
		}
		slices.Sort(*l.dst)
	}
	return s, src
}

// netLists finds the lists the policy defines through rbl_list,
// rhsbl_list and uribl_list, adds the catalogue's, and says which are
// on. A list's source is where its rules were defined, or, when a score
// line turned them off or on again, where that line is.
func netLists(pol *cf.Policy, src map[string]cf.Pos) []NetList {
	byKey := map[string]*NetList{}
	add := func(kind, zone, rule string) {
		k := kind + " " + zone
		n := byKey[k]
		if n == nil {
			n = &NetList{Kind: kind, Zone: zone}
			byKey[k] = n
		}
		r := pol.Rule(rule)
		if r == nil || !r.Defined() {
			return
		}
		n.Rules = append(n.Rules, rule)
		if r.Scores != [4]float64{} {
			n.On = true
		}
		p := r.Source
		if r.ScoreGiven && r.ScorePos.File != "" {
			p = r.ScorePos
		}
		src[k] = p
	}
	for _, r := range pol.Rules() {
		if r.Eval == nil || len(r.Eval.Args) == 0 {
			continue
		}
		arg := r.Eval.Args[0]
		switch r.Eval.Func {
		case "check_rbl":
			if zone, ok := strings.CutPrefix(arg, "rbl_list-"); ok && r.Name == cf.ListRuleName(KindRBL, zone) {
				add(KindRBL, zone, r.Name)
			}
		case "check_rbl_from_domain", "check_rbl_envfrom":
			zone := strings.TrimSuffix(arg, ".")
			base := cf.ListRuleName(KindRHSBL, zone)
			if r.Name == base || r.Name == base+"_ENVFROM" {
				add(KindRHSBL, zone, r.Name)
			}
		}
	}
	for _, d := range pol.URIBLs() {
		zone := strings.TrimSuffix(strings.ToLower(d.Zone), ".")
		if strings.HasPrefix(d.Rule, cf.ListRuleName(KindURIBL, zone)) {
			add(KindURIBL, zone, d.Rule)
		}
	}
	for _, c := range Catalogue {
		if byKey[c.Key()] == nil {
			byKey[c.Key()] = &NetList{Kind: c.Kind, Zone: c.Zone}
		}
	}
	out := make([]NetList, 0, len(byKey))
	for _, n := range byKey {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b NetList) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// A SummaryLine is one of the page's settings in force, for gospamd
// lint: its key, its value as text, and where it was set (zero: the
// default).
type SummaryLine struct {
	Key, Value string
	At         cf.Pos
}

// Summary lists the page's settings in force in pol: the levels, the
// Subject rewrite, the SPF scores, the lists that are on and every
// welcome and block list entry, each with the file and line that set it.
// A policy changed in the panel and one changed by hand to the same
// effect have the same keys and values.
func Summary(pol *cf.Policy) []SummaryLine {
	s, src := readSettings(pol, nil)
	line := func(k, v string) SummaryLine { return SummaryLine{Key: k, Value: v, At: src[k]} }
	out := []SummaryLine{
		line(KeySensitivity, s.Sensitivity),
		line(KeyTagScore, formatNum(s.TagScore)),
		line(KeyRejectScore, formatNum(s.RejectScore)),
		line(KeyRewriteSubject, s.SubjectText),
		line(ScoreKey(RuleSPFFail), s.SPFFail),
		line(ScoreKey(RuleSPFSoftFail), s.SPFSoftFail),
	}
	for _, l := range s.Lists {
		if l.On {
			out = append(out, line(l.Key(), "on"))
		}
	}
	for _, a := range s.Welcome {
		out = append(out, line(ListKey(cf.ListWelcomelistFrom, a), "listed"))
	}
	for _, a := range s.Block {
		out = append(out, line(ListKey(cf.ListBlocklistFrom, a), "listed"))
	}
	return out
}
