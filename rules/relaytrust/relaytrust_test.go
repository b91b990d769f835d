package relaytrust_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/relaytrust"
	"github.com/gospamd/gospamd/tokenizer"
)

// The trust each relay gets, newest first, as "ip:trusted/internal".
// The wants are what spamassassin -D received-header prints for the same
// message and settings (SpamAssassin 4.0, Debian).
func TestRelaysMSA(t *testing.T) {
	msg := tokenizer.Parse([]byte("Received: from msa.example.org (msa.example.org [203.0.113.25])\n" +
		"\tby mx.example.org (Postfix) with ESMTP id 1A2B3C4D; Mon, 8 Jul 2024 12:00:02 +0000\n" +
		"Received: from laptop (dyn-7.isp.example [198.51.100.7])\n" +
		"\tby msa.example.org (Postfix) with ESMTP id 5E6F7A8B; Mon, 8 Jul 2024 12:00:01 +0000\n" +
		"Received: from older.example (older.example [192.0.2.99])\n" +
		"\tby laptop with SMTP; Mon, 8 Jul 2024 12:00:00 +0000\n" +
		"From: user@example.org\nSubject: s\n\nbody\n"))
	tests := []struct {
		name string
		s    cf.Settings
		want []string
	}{
		{"trusted MSA, no msa_networks",
			cf.Settings{TrustedNetworks: []string{"203.0.113.25"}, TrustedNetworksSet: true},
			[]string{"203.0.113.25:true/true", "198.51.100.7:false/false", "192.0.2.99:false/false"}},
		{"MSA: every older relay takes its trust",
			cf.Settings{TrustedNetworks: []string{"203.0.113.25"}, TrustedNetworksSet: true, MSANetworks: []string{"203.0.113.25"}},
			[]string{"203.0.113.25:true/true", "198.51.100.7:true/true", "192.0.2.99:true/true"}},
		{"MSA trusted but not internal",
			cf.Settings{TrustedNetworks: []string{"203.0.113.25"}, TrustedNetworksSet: true,
				InternalNetworks: []string{"10/8"}, InternalNetworksSet: true, MSANetworks: []string{"203.0.113.25"}},
			[]string{"203.0.113.25:true/false", "198.51.100.7:true/false", "192.0.2.99:true/false"}},
		{"untrusted MSA is not one",
			cf.Settings{TrustedNetworks: []string{"192.0.2.1"}, TrustedNetworksSet: true, MSANetworks: []string{"203.0.113.25"}},
			[]string{"203.0.113.25:false/false", "198.51.100.7:false/false", "192.0.2.99:false/false"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range relaytrust.Relays(msg, tc.s) {
				got = append(got, fmt.Sprintf("%s:%v/%v", r.IP, r.Trusted, r.Internal))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("relays %v, want %v", got, tc.want)
			}
		})
	}
}
