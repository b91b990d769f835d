package eval

import (
	"net/netip"
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

func addRelay(m map[string]Func) {
	m["check_no_relays"] = checkNoRelays
	m["check_relays_unparseable"] = checkRelaysUnparseable
	m["check_all_trusted"] = checkAllTrusted
	m["helo_ip_mismatch"] = heloIPMismatch
	m["check_for_no_rdns_dotcom_helo"] = checkForNoRDNSDotcomHelo
	m["check_for_forged_received_trail"] = func(c *Context, _ []string) (bool, error) { return c.forged().from > 1, nil }
	m["check_for_forged_received_ip_helo"] = func(c *Context, _ []string) (bool, error) { return c.forged().ipHelo > 0, nil }
	m["check_for_sender_no_reverse"] = checkForSenderNoReverse
}

// relayLists splits the parsed relays into SpamAssassin's trusted and
// untrusted lists (newest first) and counts the unparseable ones.
//
// Relays that a later POP/IMAP fetch marker dropped from both lists are
// recognised by their absence from Message.RelayHeaders.
func (c *Context) relayLists() (trusted, untrusted []tokenizer.Relay, unparseable int) {
	l := cached(c, "relaylists", func() relayLists {
		var l relayLists
		rh := c.relayHeaders()
		for _, r := range c.Msg.Relays {
			switch {
			case r.Unparseable:
				l.unparseable++
			case r.Ignored:
			case r.Trusted && strings.Contains(rh.Trusted, r.String()):
				l.trusted = append(l.trusted, r)
			case !r.Trusted && strings.Contains(rh.Untrusted, r.String()):
				l.untrusted = append(l.untrusted, r)
			}
		}
		return l
	})
	return l.trusted, l.untrusted, l.unparseable
}

// relayLists is what Context.relayLists returns, worked out once a scan
// (the callers only read the lists).
type relayLists struct {
	trusted, untrusted []tokenizer.Relay
	unparseable        int
}

// checkNoRelays (check_no_relays()): no Received header could be used.
func checkNoRelays(c *Context, _ []string) (bool, error) {
	t, u, x := c.relayLists()
	return len(t) == 0 && len(u) == 0 && x == 0, nil
}

// checkRelaysUnparseable (check_relays_unparseable()): a Received header
// could not be parsed.
func checkRelaysUnparseable(c *Context, _ []string) (bool, error) {
	_, _, x := c.relayLists()
	return x > 0, nil
}

// checkAllTrusted (check_all_trusted()): every relay is trusted.
func checkAllTrusted(c *Context, _ []string) (bool, error) {
	t, u, x := c.relayLists()
	return len(t) > 0 && len(u) == 0 && x == 0, nil
}

func isPublicIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4() && !isPrivateIP(a)
}

// isPrivateIP is SpamAssassin's IP_PRIVATE: RFC 1918, loopback,
// link-local, CGNAT and the other reserved ranges.
func isPrivateIP(a netip.Addr) bool {
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
		return true
	}
	for _, p := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

var classC = lazyRegexp(`^(\d+\.\d+\.\d+\.)`)

// heloIPMismatch (helo_ip_mismatch()): an untrusted relay gave a public
// IPv4 HELO in another /24 than its address.
func heloIPMismatch(c *Context, _ []string) (bool, error) {
	_, u, _ := c.relayLists()
	for _, r := range u {
		if !isPublicIPv4(r.HELO) {
			continue
		}
		if m := classC().FindString(r.HELO); isPublicIPv4(r.IP) && r.HELO != r.IP && m != "" && !strings.HasPrefix(r.IP, m) {
			return true, nil
		}
	}
	return false, nil
}

var dotcomHelo = lazyRegexp(`(?i)(?:\.|^)(lycos\.com|lycos\.co\.uk|hotmail\.com|localhost\.com|excite\.com|caramail\.com|cs\.com|aol\.com|msn\.com|yahoo\.com|drizzle\.com)$`)

// checkForNoRDNSDotcomHelo (check_for_no_rdns_dotcom_helo()): an untrusted
// relay without reverse DNS claimed a big free-mail provider in HELO. As
// in SpamAssassin, each public untrusted relay overwrites the answer, so
// the oldest one decides.
func checkForNoRDNSDotcomHelo(c *Context, _ []string) (bool, error) {
	_, u, _ := c.relayLists()
	hit := false
	for _, r := range u {
		if r.Private {
			continue
		}
		hit = dotcomHelo().MatchString(r.HELO) && r.NoReverseDNS
	}
	return hit, nil
}

// checkForSenderNoReverse (check_for_sender_no_reverse()): the first
// (oldest) untrusted relay has a dotted rDNS and a public address.
func checkForSenderNoReverse(c *Context, _ []string) (bool, error) {
	_, u, _ := c.relayLists()
	if len(u) == 0 {
		return false, nil
	}
	r := u[len(u)-1]
	return strings.Contains(r.RDNS, ".") && !r.Private, nil
}

// hostnameToDomain keeps the last two labels (three under a two-letter
// TLD other than ie, fr, de); addresses are returned as they are.
func hostnameToDomain(h string) string {
	if !strings.ContainsFunc(h, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) {
		return h
	}
	parts := strings.Split(h, ".")
	last := parts[len(parts)-1]
	if len(parts) > 1 && (len(strings.TrimSpace(last)) >= 3 || strings.Contains(last, "ie") || strings.Contains(last, "fr") || strings.Contains(last, "de")) {
		return strings.Join(parts[len(parts)-2:], ".")
	}
	if len(parts) > 2 {
		return strings.Join(parts[len(parts)-3:], ".")
	}
	return h
}

type forgedCounts struct{ from, ipHelo int }

var dottedHost = lazyRegexp(`^\w+(?:[\w.-]+\.)+\w+$`)
var dottedQuad = lazyRegexp(`^(\d+\.\d+)\.\d+\.\d+$`)

// forged is _check_for_forged_received: the untrusted relays' by-hosts
// against the previous hop's rDNS, and HELO addresses against IPs.
func (c *Context) forged() forgedCounts {
	return cached(c, "forged", func() forgedCounts {
		var fc forgedCounts
		_, u, _ := c.relayLists()
		from := make([]string, len(u))
		fromSet := make([]bool, len(u))
		for i, r := range u {
			from[i] = hostnameToDomain(strings.ToLower(r.RDNS))
			fromSet[i] = true
		}
		for i, r := range u {
			by := hostnameToDomain(strings.ToLower(r.By))
			if !dottedHost().MatchString(by) {
				continue
			}
			if fromSet[i] && r.IP != "" && (from[i] == "localhost" || from[i] == "localhost.localdomain") && r.IP == "127.0.0.1" {
				fromSet[i] = false
			}
			hlo := hostnameToDomain(strings.ToLower(r.HELO))
			if hlo != "" && r.IP != "" {
				hm, fm := dottedQuad().FindStringSubmatch(hlo), dottedQuad().FindStringSubmatch(r.IP)
				if hm != nil && fm != nil && r.IP != hlo && hm[1] != fm[1] {
					if a, err := netip.ParseAddr(hlo); err != nil || !isPrivateIP(a) {
						fc.ipHelo++
					}
				}
			}
			if i > 0 && fromSet[i-1] {
				prev := from[i-1]
				if dottedHost().MatchString(prev) && by != prev && !(by == "msn.com" && prev == "hotmail.com") {
					fc.from++
				}
			}
		}
		return fc
	})
}
