package re

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// namedGroups returns, for each group name of the tree, the numbers of
// the capture groups carrying it, in pattern order.
func namedGroups(n *node) map[string][]int {
	var out map[string][]int
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		if n.kind == nodeCapture && n.name != "" {
			if out == nil {
				out = map[string][]int{}
			}
			out[n.name] = append(out[n.name], n.cap)
		}
		for _, s := range n.subs {
			walk(s)
		}
	}
	walk(n)
	return out
}

// CaptureNames returns the names of the pattern's named groups
// ((?<NAME>…)), each once.
func (r *Regexp) CaptureNames() []string {
	names := make([]string, 0, len(r.named))
	for name := range r.named {
		names = append(names, name)
	}
	return names
}

// NamedCaptures returns what the named groups captured in the first match
// in t: for each name, the values of the groups of that name that took
// part in the match (Perl's %-), as bytes of the subject. It returns nil
// when the pattern has no named group or does not match.
func (r *Regexp) NamedCaptures(t *Text) map[string][]string {
	caps, _ := r.NamedCapturesBefore(t, time.Time{})
	return caps
}

// NamedCapturesBefore is NamedCaptures bounded by deadline (none when
// zero), as MatchTextBefore: nil with ErrDeadline when a backtracking
// match could last past the deadline.
func (r *Regexp) NamedCapturesBefore(t *Text, deadline time.Time) (map[string][]string, error) {
	if len(r.named) == 0 {
		return nil, nil
	}
	spans, err := r.firstMatchGroups(t, deadline)
	if spans == nil {
		return nil, err
	}
	out := map[string][]string{}
	for name, caps := range r.named {
		for _, c := range caps {
			if 2*c+1 < len(spans) && spans[2*c] >= 0 {
				out[name] = append(out[name], t.s[spans[2*c]:spans[2*c+1]])
			}
		}
	}
	return out, nil
}

// firstMatchGroups returns the byte offsets in t's subject of the first
// match and of each capture group (pairs, -1 for a group not taking
// part), indexed by Perl's group numbers; nil without a match. The
// error is ErrDeadline when a backtracking match was not started.
func (r *Regexp) firstMatchGroups(t *Text, deadline time.Time) ([]int, error) {
	if r.re2Src != "" {
		if !r.latin1 || t.ascii {
			return r.goRegexp().FindStringSubmatchIndex(t.s), nil
		}
		view := t.latin1()
		spans := r.goRegexp().FindStringSubmatchIndex(view)
		return viewToSubject(view, spans), nil
	}
	if !r.gateOpen(t, 0) {
		return nil, nil
	}
	if !r.fits(deadline) {
		return nil, ErrDeadline
	}
	m, err := r.btFind(t)
	if err != nil {
		r.timedOut()
		return nil, nil
	}
	if m == nil {
		return nil, nil
	}
	// Groups are emitted as "gN" for Perl's group N; rune offsets are
	// byte offsets (one rune per byte).
	spans := []int{m.Index, m.Index + m.Length}
	for _, g := range m.Groups() {
		if len(g.Name) < 2 || g.Name[0] != 'g' {
			continue
		}
		n, err := strconv.Atoi(g.Name[1:])
		if err != nil || n < 1 {
			continue
		}
		for len(spans) < 2*n+2 {
			spans = append(spans, -1, -1)
		}
		if len(g.Captures) > 0 {
			c := g.Captures[len(g.Captures)-1]
			spans[2*n], spans[2*n+1] = c.Index, c.Index+c.Length
		}
	}
	return spans, nil
}

// viewToSubject maps offsets in the Latin-1 view of a subject (a byte
// >= 0x80 is two bytes there) back to the subject, in place; -1 stays.
// It walks the view once while offsets do not decrease.
func viewToSubject(view string, offs []int) []int {
	vi, si := 0, 0
	for k, off := range offs {
		if off < 0 {
			continue
		}
		if off < vi {
			vi, si = 0, 0
		}
		for vi < off {
			if view[vi] < utf8.RuneSelf {
				vi++
			} else {
				vi += 2
			}
			si++
		}
		offs[k] = si
	}
	return offs
}

// btFind is the backtracking engine's first match in t; rune offsets are
// byte offsets of the subject (one rune per byte).
func (r *Regexp) btFind(t *Text) (*regexp2.Match, error) {
	return r.bt.FindRunesMatch(t.byteRunes())
}
