package eval

import (
	"net/netip"
	"strings"
)

func addURI(m map[string]Func) {
	m["check_https_http_mismatch"] = checkHTTPSHTTPMismatch
	m["check_https_ip_mismatch"] = checkHTTPSIPMismatch
	m["check_uri_truncated"] = checkURITruncated
}

var (
	httpHost     = lazyRegexp(`(?i)^https?://([^/:?#]+)`)
	httpsInText  = lazyRegexp(`(?i)https://([^\s/:?#]+)`)
	ipHrefRe     = lazyRegexp(`(?i)^https?:/*(?:[^@/]+@)?\d+\.\d+\.\d+\.\d+`)
	httpsIPText  = lazyRegexp(`(?i)^https:/*(?:[^@/]+@)?\d+\.\d+\.\d+\.\d+`)
	httpsAnyText = lazyRegexp(`(?i)https:`)
)

func isIPAddr(s string) bool {
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil
}

// checkHTTPSHTTPMismatch (check_https_http_mismatch([MIN[, MAX]])): a link
// whose text shows an https:// domain points to another domain, in an
// HTML part with MIN to MAX-1 linked domains.
func checkHTTPSHTTPMismatch(c *Context, args []string) (bool, error) {
	minA := perlNum(arg(args, 0))
	if minA == 0 {
		minA = 1
	}
	for _, h := range c.htmlAll() {
		byHref := map[string][]string{}
		var order []string
		for _, l := range h.Links {
			if _, ok := byHref[l.Href]; !ok {
				order = append(order, l.Href)
			}
			byHref[l.Href] = append(byHref[l.Href], l.Text)
		}
		hit, anchors := false, 0
		for _, href := range order {
			m := httpHost().FindStringSubmatch(href)
			if m == nil || isIPAddr(m[1]) {
				continue
			}
			dom := trimDomain(strings.ToLower(m[1]))
			if !domainValid(dom) {
				continue
			}
			anchors++
			for _, text := range byHref[href] {
				t := httpsInText().FindStringSubmatch(text)
				if t == nil {
					continue
				}
				https := t[1]
				if !isIPAddr(https) {
					https = trimDomain(strings.ToLower(https))
					if !domainValid(https) {
						continue
					}
				}
				if https == dom {
					continue
				}
				hit = true
				break
			}
		}
		if hit && float64(anchors) >= minA && (len(args) < 2 || float64(anchors) < perlNum(args[1])) {
			return true, nil
		}
	}
	return false, nil
}

// checkHTTPSIPMismatch (check_https_ip_mismatch()): a link to a numeric
// IP whose text claims an https: address that is not that IP.
func checkHTTPSIPMismatch(c *Context, _ []string) (bool, error) {
	for _, h := range c.htmlAll() {
		for _, l := range h.Links {
			if !ipHrefRe().MatchString(l.Href) {
				continue
			}
			if !httpsIPText().MatchString(l.Text) && httpsAnyText().MatchString(l.Text) {
				return true, nil
			}
		}
	}
	return false, nil
}

// checkURITruncated (check_uri_truncated()): a URI was longer than 8192
// bytes and was cut.
func checkURITruncated(c *Context, _ []string) (bool, error) {
	for _, h := range c.htmlAll() {
		if h.URITruncated {
			return true, nil
		}
	}
	for _, u := range c.Msg.URIs {
		if len(u) >= 8192 {
			return true, nil
		}
	}
	return false, nil
}

var uriHostRe = lazyRegexp(`(?i)^[a-z][a-z0-9+.-]*:/*(?:[^@/?#]*@)?(\[[^\]]*\]|[^/:?#]+)`)

// uriHost returns the lower-cased host of a URI, or "".
func uriHost(u string) string {
	m := uriHostRe().FindStringSubmatch(u)
	if m == nil {
		return ""
	}
	return strings.ToLower(strings.Trim(m[1], "[]."))
}

// twoLevelTLDs are common registry second levels under which the
// registrable domain has three labels (a small stand-in for
// SpamAssassin's util_rb_2tld lists).
var twoLevelTLDs = map[string]bool{
	"co.uk": true, "org.uk": true, "ac.uk": true, "gov.uk": true, "me.uk": true, "ltd.uk": true, "plc.uk": true,
	"com.au": true, "net.au": true, "org.au": true, "edu.au": true, "gov.au": true,
	"co.nz": true, "org.nz": true, "co.jp": true, "ne.jp": true, "or.jp": true, "ac.jp": true,
	"co.za": true, "com.br": true, "com.cn": true, "com.mx": true, "com.ar": true, "com.tw": true,
	"co.kr": true, "co.in": true, "com.sg": true, "com.hk": true, "co.il": true, "com.tr": true,
}

// trimDomain returns the registrable part of a host name: the last two
// labels, or three under a known second-level registry; IP addresses are
// returned unchanged.
func trimDomain(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if isIPAddr(h) {
		return h
	}
	labels := strings.Split(h, ".")
	if len(labels) <= 2 {
		return h
	}
	last2 := strings.Join(labels[len(labels)-2:], ".")
	if twoLevelTLDs[last2] {
		return strings.Join(labels[len(labels)-3:], ".")
	}
	return last2
}

var validDomain = lazyRegexp(`(?i)^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$`)

// domainValid reports whether d looks like a domain under a real TLD
// (letters, at least two).
func domainValid(d string) bool { return validDomain().MatchString(d) }
