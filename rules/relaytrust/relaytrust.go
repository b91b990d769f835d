// Package relaytrust applies a policy's trusted_networks,
// internal_networks and msa_networks to a message's relays, as
// SpamAssassin's Received metadata does; without the first two the
// tokenizer's inference stands. The
// network tests (rules/netcheck) and the RelayCountry pseudo-headers
// (rules) both read relays through it.
package relaytrust

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// A Relay is one usable Received hop with the trust the policy gives it.
type Relay struct {
	// Hop is the tokenizer's parse of the header.
	Hop *tokenizer.Relay
	// IP is the connecting host's address, IPv4-mapped ones unmapped.
	IP                netip.Addr
	Trusted, Internal bool
}

// Relays returns m's usable relays (parsed, not ignored, with an
// address), newest first. When the policy sets trusted_networks or
// internal_networks, trust is theirs: the chain stays trusted (internal)
// while each relay is in the trusted (internal) networks, loopback or
// authenticated; the one missing from only one list takes the other's
// value, as SpamAssassin does. Otherwise the tokenizer's inference
// stands.
//
// # MSA relays
//
// A trusted relay in msa_networks is a submission server that accepts
// mail only from its own (authenticated) users, so the hop it received
// the message from is one of ours even when its address is a dynamic
// one outside every list: from the MSA on, the chain's trust stops
// changing, and every older relay takes the MSA's trusted and internal
// classification. msa_networks applies only with trusted_networks or
// internal_networks set, and only to a relay they already trust.
func Relays(m *tokenizer.Message, s cf.Settings) []Relay {
	var trustedNets, internalNets, msaNets NetList
	configured := s.TrustedNetworksSet || s.InternalNetworksSet
	if configured {
		internalNets = ParseNetList(s.InternalNetworks)
		trustedNets = ParseNetList(s.TrustedNetworks)
		msaNets = ParseNetList(s.MSANetworks)
		if !s.TrustedNetworksSet {
			trustedNets = internalNets
		}
		if !s.InternalNetworksSet {
			internalNets = trustedNets
		}
	}
	var out []Relay
	inTrusted, inInternal, foundMSA := true, true, false
	for i := range m.Relays {
		r := &m.Relays[i]
		if r.Ignored || r.Unparseable || r.IP == "" {
			continue
		}
		ip, err := netip.ParseAddr(strings.Trim(r.IP, "[]"))
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		rl := Relay{Hop: r, IP: ip, Trusted: r.Trusted, Internal: r.Internal}
		if configured {
			if inTrusted && !foundMSA {
				always := ip.IsLoopback() || r.Auth != ""
				inTrusted = always || trustedNets.Contains(ip)
				inInternal = inTrusted && inInternal && (always || internalNets.Contains(ip))
				foundMSA = inTrusted && msaNets.Contains(ip)
			}
			rl.Trusted, rl.Internal = inTrusted, inInternal
		}
		out = append(out, rl)
	}
	return out
}

// A NetList is a network list as trusted_networks writes it: the first entry that
// contains an address decides, "!" entries exclude.
type NetList []netEntry

type netEntry struct {
	prefix  netip.Prefix
	exclude bool
}

func (l NetList) Contains(ip netip.Addr) bool {
	for _, e := range l {
		if e.prefix.Contains(ip) {
			return !e.exclude
		}
	}
	return false
}

// ParseNetList reads SpamAssassin's network forms: "1.2.3.4", "10/8",
// "192.168.0.0/16", "192.168." (a partial address), "!10.1.1.1",
// "2001:db8::/32". Unreadable entries are skipped (the parser reported
// them).
func ParseNetList(words []string) NetList {
	var out NetList
	for _, w := range words {
		e := netEntry{}
		if strings.HasPrefix(w, "!") {
			e.exclude, w = true, w[1:]
		}
		p, ok := parseNet(w)
		if !ok {
			continue
		}
		e.prefix = p
		out = append(out, e)
	}
	return out
}

func parseNet(w string) (netip.Prefix, bool) {
	w = strings.Trim(w, "[]")
	addr, bits, hasBits := strings.Cut(w, "/")
	n := -1
	if hasBits {
		v, err := strconv.Atoi(bits)
		if err != nil {
			return netip.Prefix{}, false
		}
		n = v
	}
	if !strings.Contains(addr, ":") {
		// IPv4, perhaps partial: "10", "192.168.", "10/8".
		parts := strings.Split(strings.TrimSuffix(addr, "."), ".")
		if len(parts) < 4 {
			if n < 0 {
				n = 8 * len(parts)
			}
			for len(parts) < 4 {
				parts = append(parts, "0")
			}
		}
		addr = strings.Join(parts, ".")
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, false
	}
	if n < 0 {
		n = ip.BitLen()
	}
	p, err := ip.Prefix(n)
	return p, err == nil
}
