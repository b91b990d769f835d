package mta

import (
	"net/netip"
	"testing"
)

func TestReverseIP(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"192.0.2.99", "99.2.0.192"},
		{"127.0.0.2", "2.0.0.127"},
		{"::ffff:192.0.2.1", "1.2.0.192"},
		// RFC 5782 §2.4's example.
		{"2001:db8:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2"},
	} {
		if got := reverseIP(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("reverseIP(%s) = %s, want %s", tc.ip, got, tc.want)
		}
	}
}

func TestListingAnswer(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.2", true},
		{"127.0.0.11", true},
		{"127.255.255.254", false}, // Spamhaus: query refused
		{"127.0.1.2", false},
		{"192.0.2.1", false},
		{"::1", false},
	} {
		if got := listingAnswer(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("listingAnswer(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}

func TestDNSBLExempt(t *testing.T) {
	rules, err := parseNetRules([]string{"!127.0.0.2", "203.0.113.0/24", "!10.1.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	header, _ := parseNets([]string{"198.51.100.0/24"})
	s := &Server{dnsblNets: rules, exempt: header}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true},    // loopback
		{"127.0.0.2", false},   // un-exempted by "!"
		{"::1", true},          // loopback
		{"10.0.0.5", true},     // private
		{"10.1.2.3", false},    // "!" before the private default
		{"192.168.1.1", true},  // private
		{"fd00::1", true},      // unique local
		{"fe80::1", true},      // link-local
		{"203.0.113.7", true},  // dnsbl_exempt_networks
		{"198.51.100.9", true}, // header_checks_exempt
		{"192.0.2.1", false},   // the Internet
		{"2001:db8::1", false}, // likewise
		{"100.64.0.1", false},  // shared address space: looked up
	} {
		if got := s.dnsblExempt(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("dnsblExempt(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	if !s.dnsblExempt(netip.Addr{}) {
		t.Error("a client without an IP address (a Unix socket) is looked up")
	}
}

func TestDNSBLExemptRcpt(t *testing.T) {
	s := &Server{cfg: Config{DNSBLExemptRcpt: []string{"postmaster", "Abuse@Example.com"}}}
	for _, tc := range []struct {
		rcpt string
		want bool
	}{
		{"postmaster@example.com", true},
		{"PostMaster@example.org", true},
		{"postmaster", true},
		{"abuse@example.com", true},
		{"abuse@example.org", false},
		{"alice@example.com", false},
		{"postmaster+x@example.com", false},
	} {
		if got := s.dnsblExemptRcpt(tc.rcpt); got != tc.want {
			t.Errorf("dnsblExemptRcpt(%s) = %v, want %v", tc.rcpt, got, tc.want)
		}
	}
}
