package netcheck

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/miekg/dns"
)

// SPF (RFC 7208), as SpamAssassin's SPF plugin: the envelope sender's
// domain (MAIL FROM) and the HELO name of the relay that handed the
// message to our network (the last external relay) are each checked
// against that relay's address. The evaluation (mechanisms, macros, the
// 10-lookup and 2-void-lookup limits) is blitiri.com.ar/go/spf's; its DNS
// goes through the scan's resolver and deadline.

// spfEvals map SpamAssassin's eval names to what they test: the result,
// and whether of the HELO check.
var spfEvals = map[string]struct {
	res  spf.Result
	helo bool
}{
	"check_for_spf_pass":           {spf.Pass, false},
	"check_for_spf_neutral":        {spf.Neutral, false},
	"check_for_spf_none":           {spf.None, false},
	"check_for_spf_fail":           {spf.Fail, false},
	"check_for_spf_softfail":       {spf.SoftFail, false},
	"check_for_spf_permerror":      {spf.PermError, false},
	"check_for_spf_temperror":      {spf.TempError, false},
	"check_for_spf_helo_pass":      {spf.Pass, true},
	"check_for_spf_helo_neutral":   {spf.Neutral, true},
	"check_for_spf_helo_none":      {spf.None, true},
	"check_for_spf_helo_fail":      {spf.Fail, true},
	"check_for_spf_helo_softfail":  {spf.SoftFail, true},
	"check_for_spf_helo_permerror": {spf.PermError, true},
	"check_for_spf_helo_temperror": {spf.TempError, true},
}

// addSPF adds the SPF evals to m.
func addSPF(m map[string]evalDef) {
	names := []string{"check_for_spf_welcomelist_from", "check_for_spf_whitelist_from",
		"check_for_def_spf_welcomelist_from", "check_for_def_spf_whitelist_from"}
	for name := range spfEvals {
		names = append(names, name)
	}
	for _, name := range names {
		m[name] = evalDef{kindAuth, startSPF, func(ctx context.Context, s *netScan, _ string, _ []string) (bool, []string) {
			return spfEval(ctx, s, name)
		}}
	}
}

// spfResult is what the SPF job found.
type spfResult struct {
	mfrom, helo     spf.Result
	sender, heloStr string
	ip              netip.Addr
}

const spfJob = "spf"

// startSPF starts the scan's SPF checks, once.
func startSPF(s *netScan, _ *cf.Rule) {
	s.startJob(spfJob, func() any { return s.checkSPF() })
}

// spfRelay is the relay SPF checks: the last external one (the client
// of our border MTA).
func (s *netScan) spfRelay() (relay, bool) {
	for _, r := range s.relays {
		if !r.internal {
			return r, true
		}
	}
	return relay{}, false
}

func (s *netScan) checkSPF() *spfResult {
	r, ok := s.spfRelay()
	if !ok {
		return nil
	}
	out := &spfResult{ip: r.ip, sender: s.envelopeFrom(), heloStr: strings.TrimSuffix(strings.Trim(r.helo, "[]"), ".")}
	opts := []spf.Option{spf.WithContext(s.ctx), spf.WithResolver(spfResolver{s})}
	ip := net.IP(r.ip.AsSlice())
	if out.sender != "" && strings.Contains(out.sender, "@") {
		out.mfrom, _ = spf.CheckHostWithSender(ip, out.heloStr, out.sender, opts...)
	}
	if out.heloStr != "" && validDomain(strings.ToLower(out.heloStr)) {
		out.helo, _ = spf.CheckHostWithSender(ip, out.heloStr, "postmaster@"+out.heloStr, opts...)
	}
	return out
}

func (s *netScan) spfResult(ctx context.Context) *spfResult {
	s.mu.Lock()
	j := s.jobs[spfJob]
	s.mu.Unlock()
	if j == nil || !s.waitJob(ctx, j) {
		return nil
	}
	r, _ := j.out.(*spfResult)
	return r
}

// spfEval answers an SPF eval by name: check_for_spf_* hit when the
// MAIL FROM (or HELO) check gave the result the name says;
// check_for_spf_welcomelist_from (and def_) when the envelope sender
// passed and is on welcomelist_from_spf (def_welcomelist_from_spf).
func spfEval(ctx context.Context, s *netScan, name string) (bool, []string) {
	r := s.spfResult(ctx)
	if r == nil {
		return false, nil
	}
	if e, ok := spfEvals[name]; ok {
		got := r.mfrom
		if e.helo {
			got = r.helo
		}
		return got != "" && got == e.res, nil
	}
	if r.mfrom != spf.Pass {
		return false, nil
	}
	list := cf.ListWelcomelistFromSPF
	if strings.Contains(name, "_def_") {
		list = cf.ListDefWelcomelistFromSPF
	}
	sender := strings.ToLower(r.sender)
	for _, e := range s.pol.AddrList(list) {
		if ok, _ := path.Match(strings.ToLower(e.Addr), sender); ok {
			return true, []string{sender}
		}
	}
	return false, nil
}

// spfResolver is spf.DNSResolver over the scan's resolver. Its errors are
// *net.DNSError, which the library reads: IsNotFound for NXDOMAIN and
// empty answers (void lookups), temporary for timeouts and SERVFAIL.
type spfResolver struct{ s *netScan }

func (r spfResolver) lookup(ctx context.Context, name string, qtype uint16) (resolver.Answer, error) {
	ans, err := r.s.res.Lookup(ctx, resolver.Question{Name: name, Type: qtype, Zone: "spf"})
	if err != nil {
		de := &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true}
		de.IsTimeout = errors.Is(err, resolver.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
		return ans, de
	}
	if ans.Rcode == dns.RcodeNameError || len(ans.Records) == 0 {
		return ans, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return ans, nil
}

func (r spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	ans, err := r.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	return ans.TXTs(), nil
}

func (r spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	ans, err := r.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, rr := range ans.Records {
		if mx, ok := rr.(*dns.MX); ok {
			out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
		}
	}
	return out, nil
}

func (r spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	var firstErr error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		ans, err := r.lookup(ctx, host, t)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, ip := range ans.IPs() {
			out = append(out, net.IPAddr{IP: ip})
		}
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

func (r spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	name, err := dns.ReverseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: addr, IsNotFound: true}
	}
	ans, err := r.lookup(ctx, name, dns.TypePTR)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range ans.Records {
		if p, ok := rr.(*dns.PTR); ok {
			out = append(out, p.Ptr)
		}
	}
	return out, nil
}
