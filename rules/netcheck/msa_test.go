package netcheck_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
	"github.com/gospamd/gospamd/tokenizer"
)

// submitted is a message a user on a dynamic address (198.51.100.7,
// listed in bl.test) handed to our MSA 203.0.113.25 without an
// authentication token in the Received header (POP-before-SMTP), which
// relayed it on to our MX.
func submitted() *tokenizer.Message {
	return tokenizer.Parse([]byte("Received: from msa.example.org (msa.example.org [203.0.113.25])\n" +
		"\tby mx.example.org (Postfix) with ESMTP id 1A2B3C4D; Mon, 8 Jul 2024 12:00:02 +0000\n" +
		"Received: from laptop (dyn-7.isp.example [198.51.100.7])\n" +
		"\tby msa.example.org (Postfix) with ESMTP id 5E6F7A8B; Mon, 8 Jul 2024 12:00:01 +0000\n" +
		"From: user@example.org\nTo: friend@elsewhere.example\nSubject: lunch\n" +
		"Date: Mon, 8 Jul 2024 12:00:00 +0000\nMessage-ID: <2@example.org>\n\nsee you at noon\n"))
}

// A relay in msa_networks extends trust to the host that submitted to it,
// as SpamAssassin's Received metadata does: the submitting client's
// dynamic address is then trusted and never looked up in a DNSBL. Without
// msa_networks, or with an MSA the trusted networks do not cover, the
// client is the first untrusted relay and its listing hits.
func TestMSANetworks(t *testing.T) {
	srv := dnstest.Start(t, zones...)
	tests := []struct {
		name, settings string
		hit            bool
	}{
		{"no msa_networks", "trusted_networks 203.0.113.25\n", true},
		{"MSA trusted and in msa_networks", "trusted_networks 203.0.113.25\nmsa_networks 203.0.113.25\n", false},
		{"msa_networks as a network", "trusted_networks 203.0.113.0/24\nmsa_networks 203.0.113/24\n", false},
		{"MSA not trusted", "trusted_networks 192.0.2.1\nmsa_networks 203.0.113.25\n", true},
		{"msa_networks without trusted_networks", "msa_networks 203.0.113.25\n", true},
		{"MSA excluded from msa_networks", "trusted_networks 203.0.113.25\nmsa_networks !203.0.113.25 203.0.113/24\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := policy(t, srv, netRules+tc.settings)
			eng := engine(t, pol, checker(t, srv))
			res, err := eng.Check(context.Background(), submitted(), rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(res.Rules(), "RCVD_IN_TESTBL"); got != tc.hit {
				t.Errorf("RCVD_IN_TESTBL hit %v, want %v (hits %v)", got, tc.hit, res.Rules())
			}
		})
	}
}
