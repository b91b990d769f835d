package rules

import (
	"net/netip"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/relaytrust"
	"github.com/gospamd/gospamd/tokenizer"
)

// A CountryDB maps an address to its country code (SpamAssassin's GeoDB:
// "**" for a private address, "XX" for an unknown one). rules/geo
// implements it on MaxMind databases.
type CountryDB interface {
	Country(ip netip.Addr) string
}

// RelayCountries are SpamAssassin 4's RelayCountry pseudo-headers: the
// country codes of the relays, space separated, in Received order
// (newest first), for header rules such as
//
//	header RELAY_CC_CN X-Relay-Countries =~ /\bCN\b/
type RelayCountries struct {
	Untrusted string // X-Relay-Countries: the untrusted relays
	External  string // X-Relay-Countries-External: past the internal border
	All       string // X-Relay-Countries-All: internal and external
	Auth      string // X-Relay-Countries-Auth: trusted relays from the first authenticated one
}

// RelayCountriesOf works out m's RelayCountries with db. The relays'
// trust is the policy's trusted_networks/internal_networks when set is
// a policy's settings that name them, else the tokenizer's inference
// (relaytrust).
func RelayCountriesOf(db CountryDB, m *tokenizer.Message, set cf.Settings) RelayCountries {
	var untrusted, internal, external, auth []string
	foundAuth := false
	for _, r := range relaytrust.Relays(m, set) {
		cc := db.Country(r.IP)
		if r.Internal {
			internal = append(internal, cc)
		} else {
			external = append(external, cc)
		}
		if !r.Trusted {
			untrusted = append(untrusted, cc)
			continue
		}
		if r.Hop.Auth != "" {
			foundAuth = true
		}
		if foundAuth {
			auth = append(auth, cc)
		}
	}
	return RelayCountries{
		Untrusted: strings.Join(untrusted, " "),
		External:  strings.Join(external, " "),
		All:       strings.Join(append(internal, external...), " "),
		Auth:      strings.Join(auth, " "),
	}
}

// header is the value of the pseudo-header name; ok is false for a name
// that is none of them.
func (c RelayCountries) header(name string) (v string, ok bool) {
	switch strings.ToLower(name) {
	case "x-relay-countries":
		return c.Untrusted, true
	case "x-relay-countries-external":
		return c.External, true
	case "x-relay-countries-all":
		return c.All, true
	case "x-relay-countries-auth":
		return c.Auth, true
	}
	return "", false
}

// relayCountries are the scan's RelayCountry pseudo-headers (empty
// without a CountryDB).
func (s *scan) relayCountries() RelayCountries {
	if s.countryDB == nil {
		return RelayCountries{}
	}
	if s.countries == nil {
		c := RelayCountriesOf(s.countryDB, s.msg, s.policy.Settings())
		s.countries = &c
	}
	return *s.countries
}
