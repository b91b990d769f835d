package cf

import (
	"fmt"
	"slices"
	"strings"
)

// list handles the welcome/block list directives (4.0 names; the old
// names were mapped by listAliases). It reports whether key is one.
func (p *Parser) list(pos Pos, key, value string) (bool, error) {
	switch {
	case plainLists[key]:
		if value == "" {
			return true, errMissing(key)
		}
		for _, a := range fields(value) {
			p.addAddr(key, AddrEntry{Addr: strings.ToLower(a), Pos: pos})
		}
	case key == ListWelcomelistFromRcvd || key == ListDefWelcomelistFromRcvd:
		ws := fields(value)
		if len(ws) == 0 {
			return true, errMissing(key)
		}
		if len(ws) != 2 {
			return true, errInvalid(key)
		}
		p.addAddr(key, AddrEntry{Addr: strings.ToLower(ws[0]), Relay: strings.ToLower(ws[1]), Pos: pos})
	case key == ListWelcomelistFromDKIM || key == ListDefWelcomelistFromDKIM || key == "unwelcomelist_from_dkim":
		ws := fields(value)
		if len(ws) == 0 {
			return true, errMissing(key)
		}
		if len(ws) > 2 {
			return true, errInvalid(key)
		}
		e := AddrEntry{Addr: lowerDomain(ws[0]), Pos: pos}
		if len(ws) == 2 {
			e.Relay = strings.ToLower(ws[1])
		}
		if key == "unwelcomelist_from_dkim" {
			match := func(x AddrEntry) bool { return x.Addr == e.Addr && x.Relay == e.Relay }
			p.removeAddr(ListWelcomelistFromDKIM, match)
			p.removeAddr(ListDefWelcomelistFromDKIM, match)
		} else {
			p.addAddr(key, e)
		}
	case key == ListWelcomelistSubject || key == ListBlocklistSubject:
		if value == "" {
			return true, errMissing(key)
		}
		p.addAddr(key, AddrEntry{Addr: strings.ToLower(value), Pos: pos})
	case key == "unwelcomelist_from" || key == "unblocklist_from" || key == "unwelcomelist_from_rcvd" ||
		key == "unwelcomelist_auth" || key == "unwelcomelist_from_spf":
		if value == "" {
			return true, errMissing(key)
		}
		targets := map[string][]string{
			"unwelcomelist_from":      {ListWelcomelistFrom},
			"unblocklist_from":        {ListBlocklistFrom},
			"unwelcomelist_from_rcvd": {ListWelcomelistFromRcvd, ListDefWelcomelistFromRcvd},
			"unwelcomelist_auth":      {ListWelcomelistAuth, ListDefWelcomelistAuth},
			"unwelcomelist_from_spf":  {ListWelcomelistFromSPF, ListDefWelcomelistFromSPF},
		}[key]
		for _, a := range fields(value) {
			a = strings.ToLower(a)
			for _, t := range targets {
				p.removeAddr(t, func(x AddrEntry) bool { return x.Addr == a })
			}
		}
	case key == "enlist_addrlist":
		name, addrs, err := parenList(key, value)
		if err != nil {
			return true, err
		}
		for _, a := range addrs {
			p.addEnlisted(name, AddrEntry{Addr: strings.ToLower(a), Pos: pos})
		}
	case key == "enlist_uri_host" || key == "delist_uri_host" || key == "blocklist_uri_host" || key == "welcomelist_uri_host":
		return true, p.uriHost(key, value)
	default:
		return false, nil
	}
	return true, nil
}

// lowerDomain lower-cases the part after the last '@' (DKIM lists keep
// the local part's case).
func lowerDomain(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[:i] + strings.ToLower(a[i:])
	}
	return a
}

// parenList splits "(NAME) word word…".
func parenList(key, value string) (string, []string, error) {
	if !strings.HasPrefix(value, "(") {
		return "", nil, errMissing(key)
	}
	end := strings.IndexByte(value, ')')
	if end < 2 {
		return "", nil, errMissing(key)
	}
	name, rest := value[1:end], value[end+1:]
	if rest == "" || !isSpace(rest[0]) || trimSpace(rest) == "" {
		return "", nil, errMissing(key)
	}
	return name, fields(rest), nil
}

// addAddr adds e to a builtin list, replacing an entry with the same
// address and relay (SpamAssassin keys its lists by address).
func (p *Parser) addAddr(list string, e AddrEntry) {
	m := cowMap(&p.own, &p.pol.addrLists)
	m[list] = upsertAddr(&p.own, m[list], list, e)
}

func (p *Parser) addEnlisted(list string, e AddrEntry) {
	m := cowMap(&p.own, &p.pol.enlisted)
	m[list] = upsertAddr(&p.own, m[list], "enlist:"+list, e)
}

type listKey string

func upsertAddr(o *ownership, cur []AddrEntry, key string, e AddrEntry) []AddrEntry {
	if !o.owns(listKey(key)) {
		cur = slices.Clone(cur)
		o.take(listKey(key))
	}
	for i, x := range cur {
		if x.Addr == e.Addr && x.Relay == e.Relay {
			cur[i] = e
			return cur
		}
	}
	return append(cur, e)
}

func (p *Parser) removeAddr(list string, match func(AddrEntry) bool) {
	cur := p.pol.addrLists[list]
	if !slices.ContainsFunc(cur, match) {
		return
	}
	m := cowMap(&p.own, &p.pol.addrLists)
	out := make([]AddrEntry, 0, len(cur))
	for _, x := range cur {
		if !match(x) {
			out = append(out, x)
		}
	}
	m[list] = out
	p.own.take(listKey(list))
}

func (p *Parser) uriHost(key, value string) error {
	var names, hosts []string
	switch key {
	case "enlist_uri_host":
		name, hs, err := parenList(key, value)
		if err != nil {
			return err
		}
		names, hosts = []string{name}, hs
	case "delist_uri_host":
		if strings.HasPrefix(value, "(") {
			name, hs, err := parenList(key, value)
			if err != nil {
				return err
			}
			names, hosts = []string{name}, hs
		} else {
			if value == "" {
				return errMissing(key)
			}
			names, hosts = sortedKeys(p.pol.uriHosts), fields(value)
		}
	case "blocklist_uri_host":
		names, hosts = []string{"BLOCK"}, fields(value)
	default:
		names, hosts = []string{"WELCOME"}, fields(value)
	}
	if len(hosts) == 0 {
		return fmt.Errorf("missing '%s' value", key)
	}
	m := cowMap(&p.own, &p.pol.uriHosts)
	for _, name := range names {
		cur := m[name]
		if !p.own.owns(listKey("uri:" + name)) {
			cur = slices.Clone(cur)
			p.own.take(listKey("uri:" + name))
		}
		for _, h := range hosts {
			h = strings.ToLower(h)
			listed := !strings.HasPrefix(h, "!")
			h = strings.TrimPrefix(h, "!")
			cur = slices.DeleteFunc(cur, func(x URIHostEntry) bool { return x.Host == h })
			if key != "delist_uri_host" {
				cur = append(cur, URIHostEntry{Host: h, Listed: listed})
			}
		}
		m[name] = cur
	}
	return nil
}
