package resolver

import (
	"context"
	"math/rand/v2"

	"github.com/miekg/dns"
)

// ProbeDomains are the names SpamAssassin's dns_available test asks when
// it names none (Mail::SpamAssassin::Dns @EXISTING_DOMAINS): very
// well-connected domains with both A and AAAA records.
func ProbeDomains() []string {
	return []string{"akamai.com", "bing.com", "cloudflare.com", "digitalpoint.com", "facebook.com",
		"google.com", "linkedin.com", "netflix.com", "php.net", "wikipedia.org", "yahoo.com"}
}

// probeTries is how many names each server is asked at most, as
// SpamAssassin's is_dns_available.
const probeTries = 3

// Probe is SpamAssassin's "dns_available test": each of r's servers in
// turn is asked, bypassing the cache, for the A and AAAA records of up to
// three names picked at random from domains (no name twice over the whole
// probe), and counts as working once one of them has an A or AAAA
// record. It returns the working servers, in r's order; none means DNS is
// not available. Each attempt is bounded by the resolver's timeout and
// the whole by ctx.
func (r *Resolver) Probe(ctx context.Context, domains []string) []string {
	left := append([]string(nil), domains...)
	var good []string
	for _, server := range r.servers {
		for try := 0; try < probeTries && len(left) > 0 && ctx.Err() == nil; try++ {
			i := rand.IntN(len(left))
			name := left[i]
			left = append(left[:i], left[i+1:]...)
			if r.probeOne(ctx, server, dns.Fqdn(name)) {
				good = append(good, server)
				break
			}
		}
	}
	return good
}

// probeOne asks server for name's A, then AAAA, records; true if either
// has one.
func (r *Resolver) probeOne(ctx context.Context, server, name string) bool {
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(name, qt)
		m.RecursionDesired = true
		m.SetEdns0(1232, false)
		resp, err := r.ask(ctx, m, server, "udp")
		if err == nil && resp.Truncated {
			resp, err = r.ask(ctx, m, server, "tcp")
		}
		if err != nil || resp.Rcode != dns.RcodeSuccess {
			continue
		}
		for _, rr := range resp.Answer {
			if rr.Header().Rrtype == qt {
				return true
			}
		}
	}
	return false
}
