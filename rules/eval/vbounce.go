package eval

import (
	"regexp"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
)

// The VBounce plugin's evals: a bounce of mail we sent quotes a Received
// header of one of our relays (welcomelist_bounce_relays).

func addVBounce(m map[string]Func) {
	m["have_any_bounce_relays"] = haveAnyBounceRelays
	m["check_welcomelist_bounce_relays"] = checkWelcomelistBounceRelays
	m["check_whitelist_bounce_relays"] = checkWelcomelistBounceRelays
}

// haveAnyBounceRelays (have_any_bounce_relays()): the policy lists any
// welcomelist_bounce_relays.
func haveAnyBounceRelays(c *Context, _ []string) (bool, error) {
	return len(c.list(cf.ListWelcomelistBounceRelay)) > 0, nil
}

var (
	quotedReceived = lazyRegexp(`(?i)^[> ]*Received:`)
	// relayName is a host name between blanks on a quoted Received
	// line; relayNameText the same between spaces, in the body text.
	relayName     = lazyRegexp(`\s(\S+\.\S+)\s`)
	relayNameText = lazyRegexp(` (\S+\.\S+) `)
)

// checkWelcomelistBounceRelays (check_welcomelist_bounce_relays()): a
// Received line quoted in the body text, or in the pristine body (a
// message/* attachment, folded lines joined), names a relay of
// welcomelist_bounce_relays.
func checkWelcomelistBounceRelays(c *Context, _ []string) (bool, error) {
	relays := c.list(cf.ListWelcomelistBounceRelay)
	if len(relays) == 0 {
		return false, nil
	}
	listed := func(re *regexp.Regexp, s string) bool {
		// The blanks around a name are consumed (Perl's //g), so two
		// names in a row do not share one.
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if inList(relays, strings.ToLower(m[1])) {
				return true
			}
		}
		return false
	}
	for _, line := range c.Msg.Text {
		if quotedReceived().MatchString(line) && listed(relayNameText(), line) {
			return true, nil
		}
	}
	body := string(c.Msg.Body)
	if !strings.Contains(strings.ToLower(body), "received:") {
		return false, nil
	}
	found := false
	full := ""
	for _, line := range strings.Split(body, "\n") {
		if !found {
			if !quotedReceived().MatchString(line) {
				continue
			}
			found = true
		}
		if line != "" && (line[0] == ' ' || line[0] == '\t' || line[0] == '\r' || line[0] == '\f' || line[0] == '\v') {
			full += line
		} else {
			full = line
		}
		if quotedReceived().MatchString(full) && listed(relayName(), full) {
			return true, nil
		}
	}
	return false, nil
}
