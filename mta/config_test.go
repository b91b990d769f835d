package mta_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/gospamd/gospamd/mta"
)

// TestConfigTOML: the [smtp] section decodes into Config (as the daemon
// config embeds it), Validate fills in the defaults and refuses what
// cannot work.
func TestConfigTOML(t *testing.T) {
	for _, tc := range []struct {
		name    string
		toml    string
		wantErr string
		check   func(t *testing.T, c mta.Config)
	}{
		{name: "the issue's example, defaults filled in", toml: `
[smtp]
listen = "127.0.0.1:2525"
hostname = "mx.example.com"
domains = ["Example.com"]
routes = "/etc/gospamd/routes"
junk_folder = "junkmail"
greet_delay = "5s"
[smtp.users.bob]
no_junk_sort = true
`, check: func(t *testing.T, c mta.Config) {
			if c.Domains[0] != "example.com" || c.MaxSize != mta.DefaultMaxSize || c.MaxConnectionsPerIP != mta.DefaultMaxConnsPerIP ||
				time.Duration(c.GreetDelay) != 5*time.Second || !c.Users["bob"].NoJunkSort || time.Duration(c.ScanTimeout) != mta.DefaultScanTimeout {
				t.Errorf("decoded %+v", c)
			}
		}},
		{name: "next hop instead of routes", toml: "[smtp]\ndomains = [\"example.com\"]\nnext_hop = \"lmtp:127.0.0.1:24\"\n"},
		{name: "no domains", toml: "[smtp]\nroutes = \"r\"\n", wantErr: "domains"},
		{name: "no routes nor next hop", toml: "[smtp]\ndomains = [\"example.com\"]\n", wantErr: "routes"},
		{name: "bad next hop", toml: "[smtp]\ndomains = [\"example.com\"]\nnext_hop = \"http://x\"\n", wantErr: "next_hop"},
		{name: "cert without key", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ntls_cert = \"c.pem\"\n", wantErr: "tls_key"},
		{name: "trap at a foreign domain", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\nspam_traps = [\"t@other.net\"]\n", wantErr: "spam_traps"},
		{name: "bad pair", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\nbadmailfromto = [\"only-one\"]\n", wantErr: "badmailfromto"},
		{name: "blocklists, zones normalised, exempt recipients by default", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ndnsbl_reject = [\"Zen.Spamhaus.org.\"]\n",
			check: func(t *testing.T, c mta.Config) {
				if len(c.DNSBLReject) != 1 || c.DNSBLReject[0] != "zen.spamhaus.org" || strings.Join(c.DNSBLExemptRcpt, ",") != "postmaster,abuse" {
					t.Errorf("decoded %q, exempt %q", c.DNSBLReject, c.DNSBLExemptRcpt)
				}
			}},
		{name: "no exempt recipients", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ndnsbl_exempt_rcpt = []\n",
			check: func(t *testing.T, c mta.Config) {
				if len(c.DNSBLExemptRcpt) != 0 {
					t.Errorf("dnsbl_exempt_rcpt = [] gave %q", c.DNSBLExemptRcpt)
				}
			}},
		{name: "bad blocklist zone", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ndnsbl_reject = [\"bl example\"]\n", wantErr: "dnsbl_reject"},
		{name: "bad dnsbl exempt network", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ndnsbl_exempt_networks = [\"!lan\"]\n", wantErr: "dnsbl_exempt_networks"},
		{name: "bad dnsbl exempt recipient", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\ndnsbl_exempt_rcpt = [\"@example.com\"]\n", wantErr: "dnsbl_exempt_rcpt"},
		{name: "bad exempt network", toml: "[smtp]\ndomains = [\"example.com\"]\nroutes = \"r\"\nheader_checks_exempt = [\"lan\"]\n", wantErr: "header_checks_exempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var file struct {
				SMTP mta.Config `toml:"smtp"`
			}
			dec := toml.NewDecoder(strings.NewReader(tc.toml))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&file); err != nil {
				t.Fatal(err)
			}
			err := file.SMTP.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate: %v, want an error about %s", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, file.SMTP)
			}
		})
	}
}
