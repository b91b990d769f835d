package rules

import (
	"net/netip"
	"strings"

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

// RelayCountriesOf works out m's RelayCountries with db, from the
// tokenizer's trust inference of the relays.
func RelayCountriesOf(db CountryDB, m *tokenizer.Message) RelayCountries {
	var untrusted, internal, external, auth []string
	foundAuth := false
	for _, r := range m.Relays {
		if r.Ignored || r.Unparseable || r.IP == "" {
			continue
		}
		ip, err := netip.ParseAddr(strings.Trim(r.IP, "[]"))
		if err != nil {
			continue
		}
		cc := db.Country(ip)
		if r.Internal {
			internal = append(internal, cc)
		} else {
			external = append(external, cc)
		}
		if !r.Trusted {
			untrusted = append(untrusted, cc)
			continue
		}
		if r.Auth != "" {
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
		c := RelayCountriesOf(s.countryDB, s.msg)
		s.countries = &c
	}
	return *s.countries
}
