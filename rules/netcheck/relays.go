package netcheck

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// A relay is one parsed Received hop with the trust the policy gives it.
type relay struct {
	ip                netip.Addr
	helo, rdns        string
	envFrom           string
	trusted, internal bool
}

// relays returns m's usable relays, newest first, with trust from the
// policy's trusted_networks/internal_networks when it sets them.
func relays(m *tokenizer.Message, s cf.Settings) []relay {
	var trustedNets, internalNets netList
	configured := s.TrustedNetworksSet || s.InternalNetworksSet
	if configured {
		internalNets = parseNetList(s.InternalNetworks)
		trustedNets = parseNetList(s.TrustedNetworks)
		if !s.TrustedNetworksSet {
			trustedNets = internalNets
		}
		if !s.InternalNetworksSet {
			internalNets = trustedNets
		}
	}
	var out []relay
	inTrusted, inInternal := true, true
	for _, r := range m.Relays {
		if r.Ignored || r.Unparseable || r.IP == "" {
			continue
		}
		ip, err := netip.ParseAddr(strings.Trim(r.IP, "[]"))
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		rl := relay{ip: ip, helo: r.HELO, rdns: r.RDNS, envFrom: r.EnvFrom, trusted: r.Trusted, internal: r.Internal}
		if configured {
			always := ip.IsLoopback()
			inTrusted = inTrusted && (always || trustedNets.contains(ip))
			inInternal = inInternal && (always || internalNets.contains(ip))
			rl.trusted, rl.internal = inTrusted, inInternal
		}
		out = append(out, rl)
	}
	return out
}

// maxRelayIPs is SpamAssassin's num_check_received.
const maxRelayIPs = 9

// rblIPs are the addresses check_rbl looks up for set, by the set name's
// suffix (SpamAssassin's DNSEval):
//
//   - none: every untrusted relay (private and duplicate addresses
//     dropped, at most 9);
//   - -lastexternal: the last external relay, the one that connected to
//     our network;
//   - -firsttrusted: the first untrusted relay, the one that handed the
//     message to our trusted network;
//   - -untrusted: every untrusted relay but that one;
//   - -notfirsthop: every untrusted relay but the originating one (the
//     oldest), unless it is the only one.
func rblIPs(rs []relay, set string) []netip.Addr {
	var untrusted, external []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, r := range rs {
		if !r.internal && len(external) == 0 {
			external = append(external, r.ip)
		}
		if r.trusted || seen[r.ip] || !publicIP(r.ip) {
			continue
		}
		seen[r.ip] = true
		untrusted = append(untrusted, r.ip)
	}
	if len(external) == 1 && !publicIP(external[0]) {
		external = nil
	}
	suffix := ""
	if i := strings.LastIndexByte(set, '-'); i >= 0 {
		suffix = set[i+1:]
	}
	var ips []netip.Addr
	switch suffix {
	case "lastexternal":
		ips = external
	case "firsttrusted":
		if len(untrusted) > 0 {
			ips = untrusted[:1]
		}
	case "untrusted":
		if len(untrusted) > 1 {
			ips = untrusted[1:]
		}
	case "notfirsthop":
		ips = untrusted
		if len(ips) > 1 {
			ips = ips[:len(ips)-1]
		}
	default:
		ips = untrusted
	}
	if len(ips) > maxRelayIPs {
		ips = ips[:maxRelayIPs]
	}
	return ips
}

// publicIP reports whether ip is worth a blocklist lookup.
func publicIP(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!ip.IsUnspecified() && !ip.IsMulticast() && !(ip.Is4() && ip.As4()[0] == 0)
}

// reverse is ip's blocklist label: "4.3.2.1" for 1.2.3.4, and for IPv6
// the 32 nibbles in reverse order.
func reverse(ip netip.Addr) string {
	if ip.Is4() {
		b := ip.As4()
		return strconv.Itoa(int(b[3])) + "." + strconv.Itoa(int(b[2])) + "." + strconv.Itoa(int(b[1])) + "." + strconv.Itoa(int(b[0]))
	}
	const hex = "0123456789abcdef"
	b := ip.As16()
	out := make([]byte, 0, 63)
	for i := 15; i >= 0; i-- {
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, hex[b[i]&0xf], '.', hex[b[i]>>4])
	}
	return string(out)
}

// A netList is trusted_networks as written: the first entry that
// contains an address decides, "!" entries exclude.
type netList []netEntry

type netEntry struct {
	prefix  netip.Prefix
	exclude bool
}

func (l netList) contains(ip netip.Addr) bool {
	for _, e := range l {
		if e.prefix.Contains(ip) {
			return !e.exclude
		}
	}
	return false
}

// parseNetList reads SpamAssassin's network forms: "1.2.3.4", "10/8",
// "192.168.0.0/16", "192.168." (a partial address), "!10.1.1.1",
// "2001:db8::/32". Unreadable entries are skipped (the parser reported
// them).
func parseNetList(words []string) netList {
	var out netList
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
