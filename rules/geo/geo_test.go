package geo_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/geo"
	"github.com/gospamd/gospamd/tokenizer"
)

// writeDB writes a tiny GeoLite2-Country database mapping each network
// to a country and returns its path.
func writeDB(t *testing.T, nets map[string]string) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, cc := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(cc)}}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// message is relayed by hops, newest first: {helo, ip}.
func message(hops ...[2]string) *tokenizer.Message {
	var rcvd string
	for _, h := range hops {
		rcvd += "Received: from " + h[0] + " (" + h[0] + " [" + h[1] + "])\n" +
			"\tby mail.example.org (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\n"
	}
	return tokenizer.Parse([]byte(rcvd + "From: a@sender.example\nTo: user@example.org\nSubject: hello\n" +
		"Message-ID: <1@sender.example>\n\nhello\n"))
}

func TestRelayCountries(t *testing.T) {
	path := writeDB(t, map[string]string{"198.51.100.0/24": "CN", "203.0.113.0/24": "DE"})
	site := t.TempDir()
	cfText := "geodb_module GeoIP2\ngeodb_options country:" + path + "\n" +
		"country_score CN RU 3.5\n" +
		"header RELAY_ALL_DE X-Relay-Countries-All =~ /\\bDE\\b/\n" +
		"header RELAY_ALL_PRIVATE X-Relay-Countries-All =~ /\\*\\*/\n"
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(cfText), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, diags, err := rules.LoadPolicy(context.Background(), site)
	if err != nil {
		t.Fatalf("%v %v", err, diags)
	}
	for _, d := range diags {
		if d.Severity == cf.SeverityError {
			t.Fatalf("diagnostic: %v", d)
		}
	}
	if got := geo.PathFromPolicy(pol); got != path {
		t.Fatalf("PathFromPolicy = %q, want %q", got, path)
	}
	db, err := geo.FromPolicy(pol)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := rules.OptionsFromPolicy(pol, "test")
	opt.Countries = db
	eng, err := rules.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		hops      [][2]string
		untrusted string
		all       string
		hits      []string // of RELAY_*
	}{
		{"listed country", [][2]string{{"mx.sender.example", "198.51.100.7"}}, "CN", "CN", []string{"RELAY_CC_CN"}},
		{"two hops", [][2]string{{"mx.sender.example", "203.0.113.9"}, {"client.example", "198.51.100.8"}}, "DE CN", "DE CN",
			[]string{"RELAY_ALL_DE", "RELAY_CC_CN"}},
		{"unknown address", [][2]string{{"mx.other.example", "192.0.2.1"}}, "XX", "XX", nil},
		{"private hop", [][2]string{{"gw.example.org", "10.0.0.5"}, {"mx.sender.example", "203.0.113.9"}}, "DE", "** DE",
			[]string{"RELAY_ALL_DE", "RELAY_ALL_PRIVATE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message(tc.hops...)
			rc := rules.RelayCountriesOf(db, m, cf.Settings{})
			if rc.Untrusted != tc.untrusted || rc.All != tc.all {
				t.Errorf("X-Relay-Countries %q, -All %q; want %q, %q", rc.Untrusted, rc.All, tc.untrusted, tc.all)
			}
			res, err := eng.Check(context.Background(), m, rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var hits []string
			for _, h := range res.Hits {
				if len(h.Rule) > 6 && h.Rule[:6] == "RELAY_" {
					hits = append(hits, h.Rule)
					if h.Rule == "RELAY_CC_CN" && h.Score != 3.5 {
						t.Errorf("RELAY_CC_CN scored %v, want 3.5 (country_score)", h.Score)
					}
				}
			}
			slices.Sort(hits)
			if !slices.Equal(hits, tc.hits) {
				t.Errorf("hits %v, want %v", hits, tc.hits)
			}
		})
	}
}

func TestFromPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		noDB       bool
	}{
		{"none", "required_score 5\n", true},
		{"other module", "geodb_module GeoIP\ngeodb_options country:/nonexistent.mmdb\n", false},
		{"missing file", "geodb_options country:/nonexistent/GeoLite2-Country.mmdb\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := t.TempDir()
			if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			pol, _, err := rules.LoadPolicy(context.Background(), site)
			if err != nil {
				t.Fatal(err)
			}
			_, err = geo.FromPolicy(pol)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, geo.ErrNoDatabase); got != tc.noDB {
				t.Errorf("err %v: ErrNoDatabase %v, want %v", err, got, tc.noDB)
			}
		})
	}
}

// TestRelayCountriesTrust: the pseudo-headers follow the policy's
// trusted_networks/internal_networks, not only the tokenizer's guess.
func TestRelayCountriesTrust(t *testing.T) {
	path := writeDB(t, map[string]string{"198.51.100.0/24": "CN", "203.0.113.0/24": "DE", "192.0.2.0/24": "FR"})
	ours := [2]string{"mx.example.org", "203.0.113.9"}
	client := [2]string{"client.example", "198.51.100.8"}
	authed := tokenizer.Parse([]byte("Received: from mx.example.org (mx.example.org [203.0.113.9])\n" +
		"\tby mail.example.org (Postfix) with ESMTP id 4A1B2C3D; Mon, 8 Jul 2024 12:00:00 +0000\n" +
		"Received: from laptop (unknown [198.51.100.8]) (Authenticated sender: joe) by mx.example.org (Postfix) with ESMTPSA id 5B; Mon, 8 Jul 2024 11:59:00 +0000\n" +
		"Received: from outer.example (outer.example [192.0.2.1])\n" +
		"\tby laptop (Postfix) with ESMTP id 6C; Mon, 8 Jul 2024 11:58:00 +0000\n" +
		"From: a@sender.example\nTo: user@example.org\nSubject: hello\nMessage-ID: <1@sender.example>\n\nhello\n"))
	for _, tc := range []struct {
		name, conf string
		msg        *tokenizer.Message
		want       rules.RelayCountries
		hits       []string
	}{
		{"inferred: first public hop untrusted", "", message(ours, client),
			rules.RelayCountries{Untrusted: "DE CN", External: "DE CN", All: "DE CN"}, []string{"RELAY_CC_DE", "RELAY_EXT_DE"}},
		{"our relay in trusted and internal networks", "trusted_networks 203.0.113.0/24\ninternal_networks 203.0.113.0/24\n", message(ours, client),
			rules.RelayCountries{Untrusted: "CN", External: "CN", All: "DE CN"}, nil},
		{"trusted only: internal follows it", "trusted_networks 203.0.113/24\n", message(ours, client),
			rules.RelayCountries{Untrusted: "CN", External: "CN", All: "DE CN"}, nil},
		{"trusted but not internal", "trusted_networks 203.0.113.0/24 198.51.100.0/24\ninternal_networks 203.0.113.0/24\n", message(ours, client),
			rules.RelayCountries{External: "CN", All: "DE CN"}, nil},
		{"excluded address", "trusted_networks !203.0.113.9 203.0.113.0/24\n", message(ours, client),
			rules.RelayCountries{Untrusted: "DE CN", External: "DE CN", All: "DE CN"}, []string{"RELAY_CC_DE", "RELAY_EXT_DE"}},
		{"authenticated relay extends trust", "trusted_networks 203.0.113.0/24\n", authed,
			rules.RelayCountries{Untrusted: "FR", External: "FR", All: "DE CN FR", Auth: "CN"}, []string{"RELAY_AUTH_CN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := t.TempDir()
			text := "geodb_options country:" + path + "\n" + tc.conf +
				"header RELAY_CC_DE X-Relay-Countries =~ /\\bDE\\b/\n" +
				"header RELAY_EXT_DE X-Relay-Countries-External =~ /\\bDE\\b/\n" +
				"header RELAY_AUTH_CN X-Relay-Countries-Auth =~ /\\bCN\\b/\n"
			if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			pol, diags, err := rules.LoadPolicy(context.Background(), site)
			if err != nil {
				t.Fatalf("%v %v", err, diags)
			}
			db, err := geo.FromPolicy(pol)
			if err != nil {
				t.Fatal(err)
			}
			if got := rules.RelayCountriesOf(db, tc.msg, pol.Settings()); got != tc.want {
				t.Errorf("RelayCountriesOf = %+v, want %+v", got, tc.want)
			}
			opt, _ := rules.OptionsFromPolicy(pol, "test")
			opt.Countries = db
			eng, err := rules.New(opt)
			if err != nil {
				t.Fatal(err)
			}
			res, err := eng.Check(context.Background(), tc.msg, rules.CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// The test's own rules only: the built-in policy has
			// RELAY_ rules of its own (RELAY_HELO_NO_DOT).
			var hits []string
			for _, h := range res.Hits {
				for _, own := range []string{"RELAY_CC_", "RELAY_EXT_", "RELAY_AUTH_"} {
					if strings.HasPrefix(h.Rule, own) {
						hits = append(hits, h.Rule)
					}
				}
			}
			slices.Sort(hits)
			if !slices.Equal(hits, tc.hits) {
				t.Errorf("hits %v, want %v", hits, tc.hits)
			}
		})
	}
}
