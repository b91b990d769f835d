package netcheck

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/relaytrust"
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
// policy's trusted_networks/internal_networks when it sets them
// (relaytrust).
func relays(m *tokenizer.Message, s cf.Settings) []relay {
	rs := relaytrust.Relays(m, s)
	out := make([]relay, 0, len(rs))
	for _, r := range rs {
		out = append(out, relay{ip: r.IP, helo: r.Hop.HELO, rdns: r.Hop.RDNS, envFrom: r.Hop.EnvFrom,
			trusted: r.Trusted, internal: r.Internal})
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
