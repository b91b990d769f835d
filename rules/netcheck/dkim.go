package netcheck

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync/atomic"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/miekg/dns"
)

// DKIM (RFC 6376) and DMARC (RFC 7489), as SpamAssassin 4's DKIM and
// DMARC plugins see them. Signatures are verified by
// github.com/emersion/go-msgauth with the keys looked up through the
// scan's resolver and deadline; DMARC's record is looked up the same way
// and combined with our own SPF result and the DKIM verifications.

// addAuth adds the DKIM and DMARC evals to m.
func addAuth(m map[string]evalDef) {
	for name, f := range map[string]func(*authResult, []string) bool{
		"check_dkim_signed":                   (*authResult).signed,
		"check_dkim_valid":                    (*authResult).valid,
		"check_dkim_dependable":               func(a *authResult, _ []string) bool { return a.valid(nil) },
		"check_dkim_valid_author_sig":         (*authResult).validAuthor,
		"check_dkim_valid_envelopefrom":       func(a *authResult, _ []string) bool { return a.validDomain(a.envDomain) },
		"check_dkim_adsp":                     (*authResult).adsp,
		"check_dkim_signall":                  func(a *authResult, _ []string) bool { return a.adsp([]string{"A"}) },
		"check_dkim_signsome":                 func(*authResult, []string) bool { return false },
		"check_dkim_testing":                  func(a *authResult, _ []string) bool { return a.keyTesting },
		"check_arc_signed":                    func(a *authResult, args []string) bool { return a.arcSigned && len(args) == 0 },
		"check_arc_valid":                     func(a *authResult, args []string) bool { return a.arcValid && len(args) == 0 },
		"check_for_dkim_welcomelist_from":     func(a *authResult, _ []string) bool { return a.welcome },
		"check_for_def_dkim_welcomelist_from": func(a *authResult, _ []string) bool { return a.defWelcome },
		"check_dmarc_pass":                    func(a *authResult, _ []string) bool { return a.dmarc == dmarcPass },
		"check_dmarc_reject":                  func(a *authResult, _ []string) bool { return a.dmarc == dmarcReject },
		"check_dmarc_quarantine":              func(a *authResult, _ []string) bool { return a.dmarc == dmarcQuarantine },
		"check_dmarc_none":                    func(a *authResult, _ []string) bool { return a.dmarc == dmarcNone },
		"check_dmarc_missing":                 func(a *authResult, _ []string) bool { return a.dmarc == dmarcMissing },
	} {
		m[name] = evalDef{kindAuth, startAuth, func(ctx context.Context, s *netScan, _ string, args []string) (bool, []string) {
			a := s.authResult(ctx)
			if a == nil {
				return false, nil
			}
			return f(a, args), nil
		}}
	}
}

// dmarcOutcome is the DMARC result the evals test.
type dmarcOutcome uint8

const (
	dmarcUnknown    dmarcOutcome = iota // not checked, or a temporary error
	dmarcMissing                        // the author domain publishes no policy
	dmarcPass                           // aligned SPF or DKIM
	dmarcNone                           // failed, policy none
	dmarcQuarantine                     // failed, policy quarantine
	dmarcReject                         // failed, policy reject
)

// authResult is what the DKIM/DMARC job found.
type authResult struct {
	verifs     []*dkim.Verification
	authors    []string // From domains
	envDomain  string
	adspPolicy map[string]string // author domain → "all", "discardable", "nxdomain"
	// keyTesting: a key looked up carries the testing flag (t=y).
	keyTesting bool
	// arcSigned: the message carries ARC headers; arcValid: their
	// chain verifies (arc.go).
	arcSigned, arcValid bool
	// welcome and defWelcome: an author matches welcomelist_from_dkim or
	// welcomelist_auth (def_ lists for defWelcome) with a valid signature
	// by the listed (or the author's) domain.
	welcome, defWelcome bool
	dmarc               dmarcOutcome
}

const authJob = "dkim"

func startAuth(s *netScan, r *cf.Rule) {
	if strings.HasPrefix(r.Eval.Func, "check_dmarc") {
		startSPF(s, r) // DMARC needs the SPF result
	}
	s.startJob(authJob, func() any { return s.checkAuth() })
}

func (s *netScan) authResult(ctx context.Context) *authResult {
	s.mu.Lock()
	j := s.jobs[authJob]
	s.mu.Unlock()
	if j == nil || !s.waitJob(ctx, j) {
		return nil
	}
	a, _ := j.out.(*authResult)
	return a
}

// lookupTXT bridges the libraries' context-free TXT lookups to the
// scan's resolver and deadline.
func (s *netScan) lookupTXT(zone string) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		ans, err := s.res.Lookup(s.ctx, resolver.Question{Name: name, Type: dns.TypeTXT, Zone: zone})
		if err != nil {
			return nil, &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true,
				IsTimeout: errors.Is(err, resolver.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)}
		}
		if ans.Rcode == dns.RcodeNameError || len(ans.TXTs()) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		return ans.TXTs(), nil
	}
}

// rawMessage is the message with CRLF line endings, as DKIM signs it.
func (s *netScan) rawMessage() []byte {
	var b bytes.Buffer
	for _, f := range s.msg.Header {
		b.WriteString(f.Name + ":" + strings.ReplaceAll(strings.ReplaceAll(f.Raw, "\r\n", "\n"), "\n", "\r\n") + "\r\n")
	}
	b.WriteString("\r\n")
	body := bytes.ReplaceAll(s.msg.Body, []byte("\r\n"), []byte("\n"))
	b.Write(bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n")))
	return b.Bytes()
}

func (s *netScan) checkAuth() *authResult {
	a := &authResult{envDomain: domainOf(s.envelopeFrom()), adspPolicy: map[string]string{}}
	for _, addr := range s.fromAddrs() {
		if d := domainOf(addr); d != "" {
			a.authors = append(a.authors, d)
		}
	}
	for _, d := range s.pol.Directives("adsp_override") {
		ws := strings.Fields(strings.ToLower(d.Value))
		if len(ws) == 0 {
			continue
		}
		p := "all"
		if len(ws) > 1 {
			p = ws[1]
		}
		a.adspPolicy[ws[0]] = p
	}
	if len(s.msg.Header.Values("DKIM-Signature")) > 0 {
		var testing atomic.Bool
		lookup := s.lookupTXT("dkim")
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(s.rawMessage()), &dkim.VerifyOptions{
			LookupTXT: func(name string) ([]string, error) {
				txts, err := lookup(name)
				for _, t := range txts {
					if keyIsTesting(t) {
						testing.Store(true)
					}
				}
				return txts, err
			}, MaxVerifications: 10})
		a.keyTesting = testing.Load()
		if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
			s.c.log.Debug("dkim", "err", err)
		}
		a.verifs = verifs
	}
	if len(s.msg.Header.Values("ARC-Seal")) > 0 {
		hs := make([]hdr, 0, len(s.msg.Header))
		for _, f := range s.msg.Header {
			hs = append(hs, hdr{name: f.Name, raw: f.Raw})
		}
		r := arcResult(hs, s.msg.Body, s.lookupTXT("dkim"))
		a.arcSigned, a.arcValid = r != "none", r == "pass"
	}
	authors := s.fromAddrs()
	a.welcome = a.welcomed(authors, s.pol.AddrList(cf.ListWelcomelistFromDKIM), s.pol.AddrList(cf.ListWelcomelistAuth))
	a.defWelcome = a.welcomed(authors, s.pol.AddrList(cf.ListDefWelcomelistFromDKIM), s.pol.AddrList(cf.ListDefWelcomelistAuth))
	s.mu.Lock()
	_, wantDMARC := s.jobs[spfJob]
	s.mu.Unlock()
	if wantDMARC && len(a.authors) > 0 {
		a.dmarc = s.checkDMARC(a)
	}
	return a
}

// checkDMARC applies the author domain's DMARC policy (or its
// organizational domain's) to the SPF and DKIM results.
func (s *netScan) checkDMARC(a *authResult) dmarcOutcome {
	from := a.authors[0]
	org := registrable(from)
	rec, err := dmarc.LookupWithOptions(from, &dmarc.LookupOptions{LookupTXT: s.lookupTXT("dmarc")})
	sub := false
	if errors.Is(err, dmarc.ErrNoPolicy) && org != from {
		rec, err = dmarc.LookupWithOptions(org, &dmarc.LookupOptions{LookupTXT: s.lookupTXT("dmarc")})
		sub = true
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		return dmarcMissing
	case err != nil:
		return dmarcUnknown
	}
	aligned := func(d string, mode dmarc.AlignmentMode) bool {
		if mode == dmarc.AlignmentStrict {
			return strings.EqualFold(d, from)
		}
		return strings.EqualFold(registrable(d), org)
	}
	for _, v := range a.verifs {
		if v.Err == nil && aligned(v.Domain, rec.DKIMAlignment) {
			return dmarcPass
		}
	}
	if r := s.spfResult(s.ctx); r != nil && r.mfrom == spf.Pass && aligned(domainOf(r.sender), rec.SPFAlignment) {
		return dmarcPass
	}
	p := rec.Policy
	if sub && rec.SubdomainPolicy != "" {
		p = rec.SubdomainPolicy
	}
	switch p {
	case dmarc.PolicyReject:
		return dmarcReject
	case dmarc.PolicyQuarantine:
		return dmarcQuarantine
	}
	return dmarcNone
}

// signed: check_dkim_signed([domain…]): a DKIM-Signature is present
// (from one of the domains, when given).
func (a *authResult) signed(args []string) bool {
	if len(args) == 0 {
		return len(a.verifs) > 0
	}
	for _, v := range a.verifs {
		for _, d := range args {
			if strings.EqualFold(v.Domain, d) {
				return true
			}
		}
	}
	return false
}

// valid: check_dkim_valid([domain…]): a signature verifies (from one of
// the domains, when given).
func (a *authResult) valid(args []string) bool {
	for _, v := range a.verifs {
		if v.Err != nil {
			continue
		}
		if len(args) == 0 {
			return true
		}
		for _, d := range args {
			if strings.EqualFold(v.Domain, d) {
				return true
			}
		}
	}
	return false
}

func (a *authResult) validDomain(d string) bool {
	if d == "" {
		return false
	}
	for _, v := range a.verifs {
		if v.Err == nil && strings.EqualFold(v.Domain, d) {
			return true
		}
	}
	return false
}

// validAuthor: check_dkim_valid_author_sig([domain…]): a valid
// signature by an author (From) domain (one of those given).
func (a *authResult) validAuthor(args []string) bool {
	for _, au := range a.authors {
		if len(args) > 0 && !containsFold(args, au) {
			continue
		}
		if a.validDomain(au) {
			return true
		}
	}
	return false
}

// adsp: check_dkim_adsp('A'|'D'|'N'|'*'): the historic ADSP (RFC 5617)
// as SpamAssassin still evaluates it, only from adsp_override settings:
// no _adsp._domainkey lookups are made (the RFC was retired in 2013 and
// no list publishes it). A author without a valid signature whose
// adsp_override is "all" hits 'A', "discardable" 'D', either '*'.
func (a *authResult) adsp(args []string) bool {
	want := strings.ToUpper(arg(args, 0))
	for _, au := range a.authors {
		if a.validDomain(au) {
			continue
		}
		p := a.adspPolicy[au]
		switch {
		case want == "A" && p == "all", want == "D" && p == "discardable", want == "*" && (p == "all" || p == "discardable"):
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// keyIsTesting reports whether a DKIM key record has the t=y flag.
func keyIsTesting(rec string) bool {
	for _, tag := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(tag, "=")
		if !ok || strings.TrimSpace(k) != "t" {
			continue
		}
		for _, f := range strings.Split(v, ":") {
			if strings.TrimSpace(f) == "y" {
				return true
			}
		}
	}
	return false
}

// welcomed: _check_dkim_welcomelist for one pair of lists. An author
// address matching a fromDKIM entry needs a valid signature by the
// entry's signing domain (default: the domain of the entry's address);
// one matching an auth entry a valid author signature.
func (a *authResult) welcomed(authors []string, fromDKIM, auth []cf.AddrEntry) bool {
	for _, au := range authors {
		au = strings.ToLower(au)
		for _, e := range fromDKIM {
			if !addrGlob(e.Addr, au) {
				continue
			}
			sdid := e.Relay
			if sdid == "" {
				sdid = domainOf(e.Addr)
			}
			if a.validDomain(sdid) {
				return true
			}
		}
		for _, e := range auth {
			if addrGlob(e.Addr, au) && a.validDomain(domainOf(au)) {
				return true
			}
		}
	}
	return false
}

// addrGlob matches a lower-cased address against a list glob ('*' any
// run, '?' one character).
func addrGlob(glob, addr string) bool {
	glob = strings.ToLower(glob)
	if !strings.ContainsAny(glob, "*?") {
		return glob == addr
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(addr)
}
