package cf

import (
	"regexp"
	"strings"
)

// tagPiece matches one tag in a pattern, whatever replace_start and
// replace_end say: SpamAssassin splits patterns on "<…>" always.
var tagPiece = regexp.MustCompile(`<[^<>]+>`)

// maxReplacePasses bounds the re-expansion of tags whose replacement
// holds tags itself (SpamAssassin makes at most six passes).
const maxReplacePasses = 6

// expandTags returns expr of a rule listed in replace_rules with its tags
// replaced as the ReplaceTags plugin does it: a "<pre NAME>",
// "<post NAME>" or "<inter NAME>" tag (first of each, removed) puts
// replace_pre NAME before each tag, replace_post NAME after each tag, and
// replace_inter NAME between adjacent tags; then each "<TAG>" with a
// replace_tag becomes its text, again while replacements bring new tags.
func (rt ReplaceTags) expandTags(expr string) string {
	// SpamAssassin 4 compiles every rule pattern with the "aa" modifier,
	// so the string form always starts with a modifier group and a tag at
	// the start of the pattern never has an empty piece before it.
	const prefix = "(?aa)"
	start, end := regexp.QuoteMeta(rt.Start), regexp.QuoteMeta(rt.End)
	modifier := func(kind string) *regexp.Regexp {
		return regexp.MustCompile(start + kind + ` (.+?)` + end)
	}
	preTag, postTag, interTag := modifier("pre"), modifier("post"), modifier("inter")
	oneTag := regexp.MustCompile(start + `(.+?)` + end)

	re := prefix + expr
	for pass := 0; pass < maxReplacePasses; pass++ {
		var preName, postName, interName string
		cut := func(m *regexp.Regexp) string {
			loc := m.FindStringSubmatchIndex(re)
			if loc == nil {
				return ""
			}
			name := re[loc[2]:loc[3]]
			re = re[:loc[0]] + re[loc[1]:]
			return name
		}
		preName, postName, interName = cut(preTag), cut(postTag), cut(interTag)

		pieces := splitKeepingTags(re)
		if pre := rt.Pre[preName]; preName != "" && pre != "" {
			for i, p := range pieces {
				if loc := oneTag.FindStringIndex(p); loc != nil {
					pieces[i] = p[:loc[0]] + pre + p[loc[0]:]
				}
			}
		}
		if post := rt.Post[postName]; postName != "" && post != "" {
			for i, p := range pieces {
				pieces[i] = oneTag.ReplaceAllStringFunc(p, func(tag string) string { return tag + post })
			}
		}
		if inter := rt.Inter[interName]; interName != "" && inter != "" {
			for i, p := range pieces {
				if p == "" {
					pieces[i] = inter
				}
			}
		}
		again := false
		for i, p := range pieces {
			m := oneTag.FindStringSubmatch(p)
			if m == nil {
				continue
			}
			repl := rt.Tags[m[1]]
			if repl == "" {
				continue
			}
			pieces[i] = strings.ReplaceAll(p, rt.Start+m[1]+rt.End, repl)
			if !again && tagLike.MatchString(repl) {
				again = true
			}
		}
		re = strings.Join(pieces, "")
		if !again {
			break
		}
	}
	if rest, ok := strings.CutPrefix(re, prefix); ok {
		return rest
	}
	return re
}

// tagLike is what makes the plugin take another pass over a replacement.
var tagLike = regexp.MustCompile(`<[^>]+>`)

// splitKeepingTags splits s around tags, keeping the tags as pieces, with
// Perl's split semantics: an empty leading piece is kept, empty trailing
// pieces are dropped.
func splitKeepingTags(s string) []string {
	var pieces []string
	last := 0
	for _, loc := range tagPiece.FindAllStringIndex(s, -1) {
		pieces = append(pieces, s[last:loc[0]], s[loc[0]:loc[1]])
		last = loc[1]
	}
	pieces = append(pieces, s[last:])
	for len(pieces) > 0 && pieces[len(pieces)-1] == "" {
		pieces = pieces[:len(pieces)-1]
	}
	return pieces
}

// applyReplaceTags expands the tags of every rule named by replace_rules
// that has a pattern. The pattern as written is kept in Unreplaced so a
// later layer (user prefs) expands from it again rather than twice.
func (p *Parser) applyReplaceTags() {
	rt := p.pol.replace
	if len(rt.Rules) == 0 {
		return
	}
	seen := map[string]bool{}
	for _, name := range rt.Rules {
		if seen[name] {
			continue
		}
		seen[name] = true
		r := p.pol.Rule(name)
		if r == nil || r.Pattern.Expr == "" || r.Kind == KindMeta {
			continue
		}
		base := r.Pattern.Expr
		if r.Pattern.Unreplaced != "" {
			base = r.Pattern.Unreplaced
		}
		expanded := rt.expandTags(base)
		if expanded == r.Pattern.Expr {
			continue
		}
		m := p.mutRule(name)
		m.Pattern.Unreplaced = base
		m.Pattern.Expr = expanded
	}
}
