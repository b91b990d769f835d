package eval

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

func addFreemail(m map[string]Func) {
	m["check_freemail_from"] = checkFreemailFrom
	m["check_freemail_replyto"] = checkFreemailReplyto
	m["check_freemail_header"] = checkFreemailHeader
	m["check_freemail_body"] = checkFreemailBody
}

// freemail holds the FreeMail plugin's settings from the policy.
type freemail struct {
	domains   map[string]bool
	wildcards *regexp.Regexp // "@(?:dom|…)$" from globbed entries, or nil
	welcome   map[string]bool
	// describe is freemail_add_describe_email: log the address found
	// for the report, "@" written "(at)".
	describe bool
}

// log records the free-mail address a rule found, when the policy asks.
func (f *freemail) log(c *Context, email string) {
	if f.describe {
		c.TestLog(strings.ReplaceAll(email, "@", "(at)"))
	}
}

func (c *Context) freemail() *freemail {
	return policyCached(c, "freemail", func() *freemail {
		fm := &freemail{domains: map[string]bool{}, welcome: map[string]bool{}, describe: true}
		if c.Policy == nil {
			return fm
		}
		for _, d := range c.Policy.Directives("freemail_add_describe_email") {
			fm.describe = d.Value != "0" && !strings.EqualFold(d.Value, "no")
		}
		var wc []string
		for _, d := range c.Policy.Directives("freemail_domains") {
			for _, w := range strings.Fields(d.Value) {
				if strings.Trim(strings.ToLower(w), "abcdefghijklmnopqrstuvwxyz0123456789.*?-") != "" {
					continue
				}
				w = strings.ToLower(w)
				if strings.ContainsAny(w, "*?") {
					p := strings.NewReplacer(".", `\.`, "?", ".", "*", `[^.]*`).Replace(w)
					wc = append(wc, p)
				} else {
					fm.domains[w] = true
				}
			}
		}
		if len(wc) > 0 {
			fm.wildcards = regexp.MustCompile(`@(?:` + strings.Join(wc, "|") + `)$`)
		}
		for _, key := range []string{"freemail_welcomelist", "freemail_whitelist"} {
			for _, d := range c.Policy.Directives(key) {
				for _, w := range strings.Fields(d.Value) {
					fm.welcome[strings.ToLower(w)] = true
				}
			}
		}
		return fm
	})
}

func (f *freemail) available() bool { return len(f.domains) > 0 || f.wildcards != nil }

var freemailLocalWelcome = regexp.MustCompile(`(?i)^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master|undisclosed.*|request-[a-f0-9]{16}|bounced?-|[a-f0-9]{8}(?:\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)@`)

// is reports whether email (lower case) is at a free-mail provider.
func (f *freemail) is(email string) bool {
	if email == "" || f.welcome[email] {
		return false
	}
	dom := email
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		dom = email[i+1:]
	}
	if f.welcome[dom] || freemailLocalWelcome.MatchString(email) {
		return false
	}
	return f.domains[dom] || f.wildcards != nil && f.wildcards.MatchString(email)
}

// checkFreemailFrom (check_freemail_from([REGEX])): a sender address is at
// a freemail_domains provider (and matches REGEX).
func checkFreemailFrom(c *Context, args []string) (bool, error) {
	fm := c.freemail()
	if !fm.available() {
		return false, nil
	}
	re, err := optionalRegex(c, args, 0)
	if err != nil {
		return false, err
	}
	for _, a := range c.allFromAddrs() {
		a = strings.ToLower(a)
		if fm.is(a) && (re == nil || re.MatchString(a)) {
			fm.log(c, a)
			return true, nil
		}
	}
	return false, nil
}

func optionalRegex(c *Context, args []string, i int) (matcher, error) {
	if i >= len(args) {
		return nil, nil
	}
	return c.compileArg(args[i])
}

// checkFreemailHeader (check_freemail_header(HEADER[, REGEX])): an address
// in HEADER is at a free-mail provider (and matches REGEX).
func checkFreemailHeader(c *Context, args []string) (bool, error) {
	if err := needArgs("check_freemail_header", args, 1); err != nil {
		return false, err
	}
	fm := c.freemail()
	if !fm.available() {
		return false, nil
	}
	re, err := optionalRegex(c, args, 1)
	if err != nil {
		return false, err
	}
	for _, a := range c.addrs(strings.TrimSuffix(args[0], ":addr")) {
		a = strings.ToLower(a)
		if fm.is(a) && (re == nil || re.MatchString(a)) {
			fm.log(c, a)
			return true, nil
		}
	}
	return false, nil
}

var (
	skipReplytoEnvfrom = lazyRegexp(`(?i)(?:^(?:post|host|domain)master|^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-.+|-(?:request|bounces?|admin|owner)|\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|.+=.+)@`)
	bodyEmail          = lazyRegexp(`(?i)(?:^|[^a-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-])([a-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\.){1,4}[a-z0-9-]{2,})`)
	bodyURLWithAt      = lazyRegexp(`(?i)<?https?://\S{0,255}(?:@|%40)\S{0,255}`)
	// quoteWord is the word before a colon that, after an address,
	// makes it a quote attribution ("wrote:"), unless it starts a
	// contact field (fax:, tel:, phone:, e-mail:).
	contactWord = lazyRegexp(`(?i)^(?:fa(?:x|csi)|tel|phone|e?-?mail)`)
)

// findEmails gives the spans of FreeMail's email_regex matches in s: an
// address not preceded by an address character, with at most 64
// characters before its '@' (a '.' is no address character, so a longer
// local part matches from after one of its dots), whose domain ends in a
// known top-level domain that ends the name (valid_tlds_re: no letter,
// digit, '-' or '.' and a letter or digit follows).
func findEmails(s string) [][2]int {
	if strings.IndexByte(s, '@') < 0 {
		// Every match holds one: no regexp walk for most lines.
		return nil
	}
	var out [][2]int
	for _, m := range bodyEmail().FindAllStringSubmatchIndex(s, -1) {
		a, b := m[2], m[3]
		if !tokenizer.IsTLD(s[strings.LastIndexByte(s[:b], '.')+1 : b]) {
			continue
		}
		if b < len(s) && (isAlnum(s[b]) || s[b] == '-' || s[b] == '.' && b+1 < len(s) && isAlnum(s[b+1])) {
			continue
		}
		at := a + strings.IndexByte(s[a:b], '@')
		for at-a > 64 {
			i := strings.IndexByte(s[a:at], '.')
			if i < 0 {
				break
			}
			a += i + 1
		}
		if at-a <= 64 {
			out = append(out, [2]int{a, b})
		}
	}
	return out
}

// stripQuotedEmails blanks what FreeMail's _parse_body does not take as a
// body address: one in angle brackets (not right after "mailto:") and one
// followed, after 1 to 10 spaces, by a word of 2 to 11 letters and a colon
// ("bob@example.com wrote:"), unless the word is fax, facsi, tel, phone
// or (e-)mail.
func stripQuotedEmails(s string) string {
	var b strings.Builder
	last := 0
	for _, sp := range findEmails(s) {
		start, end := sp[0], sp[1]
		afterMailto := start >= 7 && strings.EqualFold(s[start-7:start], "mailto:")
		if afterMailto {
			// The address may still match from after a dot of its
			// local part ("mailto:bob.other@…" loses "other@…").
			at := start + strings.IndexByte(s[start:end], '@')
			i := strings.IndexByte(s[start:at], '.')
			if i < 0 {
				continue
			}
			start += i + 1
		}
		stop := -1
		if end < len(s) && s[end] == '>' {
			stop = end + 1
		} else {
			p := end
			for p < len(s) && p-end < 10 && isSpace(s[p]) {
				p++
			}
			q := p
			for q < len(s) && q-p < 12 && isASCIILetter(s[q]) {
				q++
			}
			if p > end && !(p < len(s) && isSpace(s[p])) && q-p >= 2 && q-p <= 11 &&
				q < len(s) && s[q] == ':' && !contactWord().MatchString(s[p:q]) {
				stop = q + 1
			}
		}
		if stop < 0 {
			continue
		}
		if !afterMailto && start > 0 && s[start-1] == '<' {
			start--
		}
		if start < last {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteByte(' ')
		last = stop
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isASCIILetter(c) || c >= '0' && c <= '9' }

// freemailLimit reads a numeric FreeMail setting from the policy.
func (c *Context) freemailLimit(name string, def int) int {
	if c.Policy == nil {
		return def
	}
	for _, d := range c.Policy.Directives(name) {
		if n, err := strconv.Atoi(strings.TrimSpace(d.Value)); err == nil {
			def = n
		}
	}
	return def
}

// bodyFreemails is _parse_body: free-mail addresses written in the body;
// ok is false when the body has so many addresses that FreeMail skips it.
// The addresses come from the <a href="mailto:"> links the text does not
// also give (tokenizer's MailtoLinks), then from the rendered text with
// web addresses holding an '@', addresses in <...> and addresses
// followed by "Word:" left out.
func (c *Context) bodyFreemails() (emails []string, ok bool) {
	type res struct {
		emails []string
		ok     bool
	}
	r := cached(c, "fmbody", func() res {
		fm := c.freemail()
		seen := map[string]bool{}
		var all []string
		for _, u := range c.Msg.MailtoLinks {
			if len(u) < 7 || !strings.EqualFold(u[:7], "mailto:") {
				continue
			}
			sp := findEmails(u[7:])
			if len(sp) == 0 || sp[0][0] != 0 {
				continue
			}
			e := strings.ToLower(u[7 : 7+sp[0][1]])
			if !seen[e] {
				seen[e] = true
				all = append(all, e)
			}
			if len(all) >= 20 {
				break
			}
		}
	body:
		for _, line := range c.Msg.Rendered { // the Subject first
			if strings.IndexByte(line, '@') >= 0 || strings.Contains(line, "%40") {
				// Every match holds one of them.
				line = bodyURLWithAt().ReplaceAllString(line, " ")
			}
			line = stripQuotedEmails(line)
			for _, sp := range findEmails(line) {
				e := strings.ToLower(line[sp[0]:sp[1]])
				if !seen[e] {
					seen[e] = true
					all = append(all, e)
				}
				if len(all) >= 40 {
					break body
				}
			}
		}
		maxAll := c.freemailLimit("freemail_max_body_emails", 5)
		maxFM := c.freemailLimit("freemail_max_body_freemails", 3)
		skip := c.freemailLimit("freemail_skip_when_over_max", 1) != 0
		var out []string
		countAll, countFM := 0, 0
		for _, e := range all {
			countAll++
			if countAll == maxAll && skip {
				return res{nil, false}
			}
			if !fm.is(e) {
				continue
			}
			countFM++
			if countFM == maxFM && skip {
				return res{nil, false}
			}
			out = append(out, e)
		}
		return res{out, true}
	})
	return r.emails, r.ok
}

// checkFreemailBody (check_freemail_body([REGEX])): the body gives a
// free-mail address (matching REGEX).
func checkFreemailBody(c *Context, args []string) (bool, error) {
	if !c.freemail().available() {
		return false, nil
	}
	re, err := optionalRegex(c, args, 0)
	if err != nil {
		return false, err
	}
	emails, ok := c.bodyFreemails()
	if !ok || len(emails) == 0 {
		return false, nil
	}
	if re == nil {
		c.freemail().log(c, strings.Join(emails, ", "))
		return true, nil
	}
	for _, e := range emails {
		if re.MatchString(e) {
			c.freemail().log(c, e)
			return true, nil
		}
	}
	return false, nil
}

// checkFreemailReplyto (check_freemail_replyto("replyto"|"reply")): From
// and Reply-To are different free-mail addresses, or the reply address is
// free mail and the body asks for replies to another free-mail address.
func checkFreemailReplyto(c *Context, args []string) (bool, error) {
	fm := c.freemail()
	if !fm.available() {
		return false, nil
	}
	what := arg(args, 0)
	if what == "" {
		what = "replyto"
	}
	if what != "replyto" && what != "reply" {
		return false, nil
	}
	if e := c.envelopeFrom(); e != "" && skipReplytoEnvfrom().MatchString(e) {
		return false, nil
	}
	lower := func(xs []string) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = strings.ToLower(x)
		}
		return out
	}
	from, replyto := lower(c.addrs("From")), lower(c.addrs("Reply-To"))
	anyFM := func(xs []string) bool {
		for _, x := range xs {
			if fm.is(x) {
				return true
			}
		}
		return false
	}
	fromFM, replyFM := anyFM(from), anyFM(replyto)
	notIn := true
	for _, f := range from {
		for _, r := range replyto {
			if f == r {
				notIn = false
			}
		}
	}
	if fromFM && replyFM && notIn {
		fm.log(c, strings.Join(from, ",")+" -> "+strings.Join(replyto, ","))
		return true, nil
	}
	switch what {
	case "replyto":
		if !replyFM {
			return false, nil
		}
	case "reply":
		if len(replyto) > 0 && !replyFM {
			return false, nil
		} else if !fromFM {
			return false, nil
		}
	}
	body, ok := c.bodyFreemails()
	if !ok || len(body) == 0 {
		return false, nil
	}
	reply := from
	if what == "replyto" || replyFM {
		reply = replyto
	}
	for _, b := range body {
		for _, r := range reply {
			if b != r {
				fm.log(c, r+", "+b)
				return true, nil
			}
		}
	}
	return false, nil
}
