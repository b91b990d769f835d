package policyedit

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gospamd/gospamd/rules/cf"
)

// FragmentName is the site directory file the panel owns. 50 puts it
// after the usual local.cf and 20_* score files and before the 90_*
// files of a site's own last word.
const FragmentName = "50_panel.cf"

// fragmentHeader opens the fragment.
const fragmentHeader = `# Written by the gospamd web panel (Policy page). Do not edit: the panel
# rewrites this file whole on every change. Put hand edits in a file of
# your own; one read after this one (e.g. 90_local.cf) wins over it.
`

// A Change is what the Policy page's form asks for: every value as typed,
// so that the lint, not the form, judges it. Fields hold the whole
// desired state, not only what was edited.
type Change struct {
	Sensitivity    string // a preset of Sensitivities, or "custom"
	TagScore       string // required_score, used when Sensitivity is "custom"
	RejectScore    string // reject_score, "0" for never
	RewriteSubject bool
	SubjectText    string
	// Lists say per NetList.Key whether the list is on; lists not
	// named keep their state.
	Lists                map[string]bool
	SPFFail, SPFSoftFail string
	// RuleScores are rule name → score ("" forgets the panel's score).
	RuleScores     map[string]string
	Welcome, Block []string
	Daemon         DaemonChange
}

// DaemonChange are the daemon settings as typed.
type DaemonChange struct {
	JunkSort          bool
	JunkRetentionDays string
}

// ChangeFrom is the change that keeps s as it is: the form's starting
// values.
func ChangeFrom(s Settings) Change {
	c := Change{
		Sensitivity:    s.Sensitivity,
		TagScore:       formatNum(s.TagScore),
		RejectScore:    formatNum(s.RejectScore),
		RewriteSubject: s.RewriteSubject(),
		SubjectText:    s.SubjectText,
		Lists:          map[string]bool{},
		SPFFail:        s.SPFFail,
		SPFSoftFail:    s.SPFSoftFail,
		RuleScores:     maps.Clone(s.RuleScores),
		Welcome:        slices.Clone(s.Welcome),
		Block:          slices.Clone(s.Block),
		Daemon: DaemonChange{JunkSort: s.Daemon.JunkSort,
			JunkRetentionDays: strconv.Itoa(s.Daemon.JunkRetentionDays)},
	}
	for _, l := range s.Lists {
		c.Lists[l.Key()] = l.On
	}
	return c
}

// unsafeValue reports a value that could add a line of its own to the
// fragment, or comment out the rest of its line.
func unsafeValue(v string) bool { return strings.ContainsAny(v, "\r\n\x00#") }

// sameNumber reports whether typed (as the form sent it) is the number
// or score text cur.
func sameNumber(typed, cur string) bool {
	typed = strings.Join(strings.Fields(typed), " ")
	if typed == cur {
		return true
	}
	a, errA := strconv.ParseFloat(typed, 64)
	b, errB := strconv.ParseFloat(cur, 64)
	return errA == nil && errB == nil && a == b
}

// renderFragment writes the fragment that turns base (the policy of every
// file but the fragment) into c: a line only for what differs. Values
// are written as typed; lint judges them. The error is for a value that
// could not be one line.
func renderFragment(base Settings, c Change) ([]byte, error) {
	var b strings.Builder
	b.WriteString(fragmentHeader)
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	check := func(what, v string) error {
		if unsafeValue(v) {
			return fmt.Errorf("%s: %q: no line breaks or '#' allowed", what, v)
		}
		return nil
	}

	sens := strings.ToLower(strings.TrimSpace(c.Sensitivity))
	if err := check("sensitivity", sens); err != nil {
		return nil, err
	}
	switch {
	case sens == "" || sens == "custom":
		if !sameNumber(c.TagScore, formatNum(base.TagScore)) || base.Sensitivity != "custom" {
			if err := check("tag level", c.TagScore); err != nil {
				return nil, err
			}
			line("required_score %s", strings.TrimSpace(c.TagScore))
		}
	case sens != base.Sensitivity:
		line("spam_sensitivity %s", sens)
	}
	if !sameNumber(c.RejectScore, formatNum(base.RejectScore)) {
		if err := check("reject level", c.RejectScore); err != nil {
			return nil, err
		}
		line("reject_score %s", strings.TrimSpace(c.RejectScore))
	}
	subject := ""
	if c.RewriteSubject {
		subject = strings.TrimSpace(c.SubjectText)
		if err := check("subject text", subject); err != nil {
			return nil, err
		}
		if subject == "" {
			return nil, fmt.Errorf("subject text: empty; turn the rewrite off instead")
		}
	}
	if subject != base.SubjectText {
		line(strings.TrimSpace("rewrite_header Subject " + subject))
	}

	for _, l := range base.Lists {
		on, asked := c.Lists[l.Key()]
		if !asked || on == l.On {
			continue
		}
		switch {
		case on && len(l.Rules) == 0:
			line("%s %s", l.Kind, l.Zone)
		case on:
			for _, r := range l.Rules {
				line("score %s 1", r)
			}
		default:
			for _, r := range l.Rules {
				line("score %s 0", r)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Lists)) {
		if !c.Lists[k] || slices.ContainsFunc(base.Lists, func(l NetList) bool { return l.Key() == k }) {
			continue
		}
		// A list the form added.
		if err := check("block list", k); err != nil {
			return nil, err
		}
		line("%s", k)
	}

	scores := map[string]string{RuleSPFFail: c.SPFFail, RuleSPFSoftFail: c.SPFSoftFail}
	baseScores := map[string]string{RuleSPFFail: base.SPFFail, RuleSPFSoftFail: base.SPFSoftFail}
	for n, v := range c.RuleScores {
		scores[n] = v
		baseScores[n] = base.RuleScores[n]
	}
	for _, n := range slices.Sorted(maps.Keys(scores)) {
		v := strings.TrimSpace(scores[n])
		if v == "" || sameNumber(v, baseScores[n]) {
			continue
		}
		if err := check("score of "+n, n+" "+v); err != nil {
			return nil, err
		}
		line("score %s %s", n, v)
	}

	for _, l := range []struct {
		list, un   string
		want, base []string
	}{
		{cf.ListWelcomelistFrom, "unwelcomelist_from", c.Welcome, base.Welcome},
		{cf.ListBlocklistFrom, "unblocklist_from", c.Block, base.Block},
	} {
		want := normAddrs(l.want)
		for _, a := range l.base {
			if !slices.Contains(want, a) {
				line("%s %s", l.un, a)
			}
		}
		for _, a := range want {
			if err := check(l.list, a); err != nil {
				return nil, err
			}
			if !slices.Contains(l.base, a) {
				line("%s %s", l.list, a)
			}
		}
	}
	return []byte(b.String()), nil
}

// normAddrs lower-cases, splits on white space and sorts list entries,
// dropping duplicates.
func normAddrs(in []string) []string {
	var out []string
	for _, s := range in {
		for _, w := range strings.Fields(s) {
			out = append(out, strings.ToLower(w))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
