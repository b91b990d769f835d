package cf

import (
	"fmt"
	"strconv"
	"strings"
)

// Simple list settings for administrators who think in lists, not rules
// (SME Server's RBLList, SBLList and UBLList). Each expands into the
// SpamAssassin rules that do the work, named predictably so that a score
// line can weigh them:
//
//	rbl_list zen.spamhaus.org bl.spamcop.net
//	    header RBL_ZEN_SPAMHAUS_ORG eval:check_rbl('rbl_list-zen.spamhaus.org', 'zen.spamhaus.org.')
//	rhsbl_list dbl.spamhaus.org
//	    header RHSBL_DBL_SPAMHAUS_ORG         eval:check_rbl_from_domain('dbl.spamhaus.org.')
//	    header RHSBL_DBL_SPAMHAUS_ORG_ENVFROM eval:check_rbl_envfrom('dbl.spamhaus.org.')
//	uribl_list multi.surbl.org:8-16-64-128 black.uribl.com
//	    urirhssub URIBL_MULTI_SURBL_ORG_64 multi.surbl.org. A 64 (one per bit)
//	    urirhsbl  URIBL_BLACK_URIBL_COM    black.uribl.com. A
//
// Every rule is tflags net and describes its list; an unscored rule
// weighs 1, as any SpamAssassin rule. A zone in the built-in list of
// dead zones (DeadZones) is refused with a warning.
func (p *Parser) netList(pos Pos, key, value string) error {
	ws := fields(value)
	if len(ws) == 0 {
		return errMissing(key)
	}
	for _, w := range ws {
		zone, bits, _ := strings.Cut(w, ":")
		zone = strings.ToLower(strings.TrimSuffix(zone, "."))
		if !validZone(zone) {
			return fmt.Errorf("invalid list zone %q", w)
		}
		if IsDeadZone(zone) {
			p.diag(pos, SeverityWarning, "%s: %s is a dead list zone (it answers nothing, or everything): skipped", key, zone)
			continue
		}
		base := ListRuleName(key, zone)
		switch key {
		case "rbl_list":
			p.netRule(pos, base, "header", fmt.Sprintf("eval:check_rbl('rbl_list-%s', '%s.')", zone, zone), "Relay listed in "+zone)
		case "rhsbl_list":
			p.netRule(pos, base, "header", fmt.Sprintf("eval:check_rbl_from_domain('%s.')", zone), "From domain listed in "+zone)
			p.netRule(pos, base+"_ENVFROM", "header", fmt.Sprintf("eval:check_rbl_envfrom('%s.')", zone), "Envelope sender domain listed in "+zone)
		case "uribl_list":
			if bits == "" {
				p.directive(pos, "urirhsbl", base+" "+zone+". A")
				p.netRule(pos, base, "body", fmt.Sprintf("eval:check_uridnsbl('%s')", base), "URI domain listed in "+zone)
				continue
			}
			for _, b := range strings.Split(bits, "-") {
				if _, err := strconv.ParseUint(b, 0, 32); err != nil {
					return fmt.Errorf("invalid bit %q of %s", b, zone)
				}
				name := base + "_" + b
				p.directive(pos, "urirhssub", name+" "+zone+". A "+b)
				p.netRule(pos, name, "body", fmt.Sprintf("eval:check_uridnsbl('%s')", name), "URI domain listed in "+zone+" ("+b+")")
			}
		}
	}
	return nil
}

func (p *Parser) netRule(pos Pos, name, kind, test, describe string) {
	p.directive(pos, kind, name+" "+test)
	p.directive(pos, "tflags", name+" net")
	p.directive(pos, "describe", name+" "+describe)
}

// ListRuleName is the rule a list setting defines for zone:
// RBL_ZEN_SPAMHAUS_ORG for "rbl_list zen.spamhaus.org", RHSBL_… and
// URIBL_… (with "_BIT" per bit of a uribl_list zone).
func ListRuleName(key, zone string) string {
	prefix := map[string]string{"rbl_list": "RBL_", "rhsbl_list": "RHSBL_", "uribl_list": "URIBL_"}[key]
	var b strings.Builder
	b.WriteString(prefix)
	for _, c := range strings.ToUpper(strings.TrimSuffix(zone, ".")) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func validZone(z string) bool {
	if z == "" || !strings.Contains(z, ".") || len(z) > 200 {
		return false
	}
	for i := 0; i < len(z); i++ {
		c := z[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// deadZones are list zones that stopped answering (or started answering
// everything) and that SME Server strips from its lists: lint warns
// about them and the network tests skip them.
var deadZones = []string{
	"njabl.org", "dsbl.org", "ahbl.org", "sorbs.net", "rfc-ignorant.org",
	"spamcannibal.org", "nszones.com", "spambag.org", "blackholes.mail-abuse.org",
	"relays.ordb.org", "ordb.org", "dnsbl.proxybl.org", "proxybl.org",
	"cbl.abuseat.org", "blitzed.org", "opm.blitzed.org", "rhsbl.sorbs.net",
	"completewhois.com", "dnsbl.kempt.net", "bl.csma.biz", "sbl.csma.biz",
	"spamguard.leadmon.net", "dnsbl.cyberlogic.net", "dnsbl.ahbl.org",
	"combined.njabl.org", "list.dsbl.org", "multihop.dsbl.org", "unconfirmed.dsbl.org",
}

// DeadZones returns the built-in list of dead list zones; a zone under
// one of them is dead too.
func DeadZones() []string { return append([]string(nil), deadZones...) }

// IsDeadZone reports whether zone is, or is under, a dead list zone.
func IsDeadZone(zone string) bool {
	zone = strings.ToLower(strings.TrimSuffix(zone, "."))
	for _, d := range deadZones {
		if zone == d || strings.HasSuffix(zone, "."+d) {
			return true
		}
	}
	return false
}

// countryScore reads our "country_score CC SCORE" (several CCs may share
// one score: "country_score CN RU 3"): per country a rule on the
// RelayCountry pseudo-header of the untrusted relays,
//
//	header   RELAY_CC_CN X-Relay-Countries =~ /\bCN\b/
//	describe RELAY_CC_CN Relayed through CN
//	score    RELAY_CC_CN 3
//
// It needs a country database (geodb_options country:/path); without
// one the rules never hit.
func (p *Parser) countryScore(pos Pos, value string) error {
	ws := fields(value)
	if len(ws) < 2 {
		return errMissing("country_score")
	}
	score := ws[len(ws)-1]
	if _, err := strconv.ParseFloat(score, 64); err != nil {
		return fmt.Errorf("country_score: invalid score %q", score)
	}
	for _, cc := range ws[:len(ws)-1] {
		cc = strings.ToUpper(cc)
		if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
			return fmt.Errorf("country_score: %q is not a two-letter country code", cc)
		}
		name := "RELAY_CC_" + cc
		p.directive(pos, "header", name+" X-Relay-Countries =~ /\\b"+cc+"\\b/")
		p.directive(pos, "describe", name+" Relayed through "+cc)
		p.directive(pos, "score", name+" "+score)
	}
	return nil
}
