// Package geo maps relay addresses to countries for SpamAssassin 4's
// RelayCountry plugin: a MaxMind GeoIP2 or GeoLite2 database (Country or
// City), read with github.com/oschwald/geoip2-golang, named by the
// policy's geodb_options line:
//
//	geodb_module  GeoIP2
//	geodb_options country:/usr/share/GeoIP/GeoLite2-Country.mmdb
//
// (city:/path/GeoLite2-City.mmdb works as well). A country is its ISO
// 3166-1 code as SpamAssassin's GeoDB gives it: "**" for a private
// address, "XX" for one the database does not know.
//
// # What it does not do
//
// It does not download or update databases (geoipupdate does), and it
// knows nothing of messages: the rule engine builds the
// X-Relay-Countries pseudo-headers from the relays with a DB.
package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/oschwald/geoip2-golang/v2"
)

// Codes SpamAssassin's GeoDB answers besides ISO countries.
const (
	Private = "**" // a private, loopback or link-local address
	Unknown = "XX" // not in the database
)

// A DB answers countries from one database. It is safe for concurrent
// use.
//
// # Memory
//
// The file is read into memory, not mapped: a policy reload drops the
// old DB while scans may still use it, and the garbage collector frees
// it after the last of them, where an unmapped file would crash them. A
// Country database costs about 10 MB, a City one about 70 MB.
type DB struct {
	r *geoip2.Reader
}

// Open reads the database at path.
func Open(path string) (*DB, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read geodb: %w", err)
	}
	r, err := geoip2.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("open geodb %s: %w", path, err)
	}
	return &DB{r: r}, nil
}

// Country is ip's country code, Private or Unknown.
func (d *DB) Country(ip netip.Addr) string {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return Unknown
	}
	if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
		return Private
	}
	c, err := d.r.Country(ip)
	if err != nil || c == nil || c.Country.ISOCode == "" {
		return Unknown
	}
	return strings.ToUpper(c.Country.ISOCode)
}

// ErrNoDatabase is returned by FromPolicy for a policy that names no
// country or city database.
var ErrNoDatabase = errors.New("no geodb_options country: or city: database")

// PathFromPolicy is the database the policy's geodb_options names:
// the last country: path, else the last city: path; "" if none.
func PathFromPolicy(pol *cf.Policy) string {
	var country, city string
	for _, d := range pol.Directives("geodb_options") {
		for _, w := range strings.Fields(d.Value) {
			kind, path, ok := strings.Cut(w, ":")
			if !ok {
				continue
			}
			switch strings.ToLower(kind) {
			case "country":
				country = path
			case "city":
				city = path
			}
		}
	}
	if country != "" {
		return country
	}
	return city
}

// FromPolicy opens the database the policy names (ErrNoDatabase when it
// names none). A geodb_module other than GeoIP2 is refused.
func FromPolicy(pol *cf.Policy) (*DB, error) {
	for _, d := range pol.Directives("geodb_module") {
		if m := strings.TrimSpace(d.Value); !strings.EqualFold(m, "GeoIP2") {
			return nil, fmt.Errorf("geodb_module %s: only GeoIP2 is supported", m)
		}
	}
	path := PathFromPolicy(pol)
	if path == "" {
		return nil, ErrNoDatabase
	}
	return Open(path)
}
