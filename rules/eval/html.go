package eval

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/gospamd/gospamd/tokenizer"
)

// htmlAll returns the statistics of every HTML part, in part order
// (SpamAssassin's html_all).
func (c *Context) htmlAll() []*tokenizer.HTMLStats {
	return cached(c, "html_all", func() []*tokenizer.HTMLStats {
		var out []*tokenizer.HTMLStats
		for _, p := range c.Msg.Parts {
			if st := p.HTMLStats(); st != nil {
				out = append(out, st)
			}
		}
		return out
	})
}

func addHTML(m map[string]Func) {
	m["html_test"] = htmlTest
	m["html_range"] = htmlRange
	m["html_eval"] = htmlEval
	m["html_tag_exists"] = htmlTagExists
	m["html_tag_balance"] = htmlTagBalance
	m["html_image_only"] = htmlImageOnly
	m["html_image_ratio"] = htmlImageRatio
	m["html_text_match"] = htmlTextMatch
	m["html_text_not_match"] = htmlTextNotMatch
	m["html_title_subject_ratio"] = htmlTitleSubjectRatio
	m["html_charset_faraway"] = htmlCharsetFaraway
	m["check_iframe_src"] = checkIframeSrc
}

// htmlTest (html_test(NAME)): an HTML part set the flag NAME ("html",
// "font_low_contrast", "embeds"…) or has a non-zero statistic NAME.
func htmlTest(c *Context, args []string) (bool, error) {
	if err := needArgs("html_test", args, 1); err != nil {
		return false, err
	}
	for _, h := range c.htmlAll() {
		if v, ok := h.Value(args[0]); ok && v != 0 {
			return true, nil
		}
	}
	return false, nil
}

// htmlRange (html_range(NAME, MIN[, MAX])): an HTML part's statistic is
// in (MIN, MAX]; MAX missing or "inf" means no upper bound.
func htmlRange(c *Context, args []string) (bool, error) {
	if err := needArgs("html_range", args, 2); err != nil {
		return false, err
	}
	lo := perlNum(args[1])
	for _, h := range c.htmlAll() {
		v, ok := h.Value(args[0])
		if !ok {
			continue
		}
		if len(args) < 3 || args[2] == "inf" {
			if v > lo {
				return true, nil
			}
			continue
		}
		if math.IsInf(v, 1) {
			continue
		}
		if v > lo && v <= perlNum(args[2]) {
			return true, nil
		}
	}
	return false, nil
}

// htmlEval (html_eval(NAME, EXPR)): an HTML part's statistic satisfies a
// comparison such as "< 384".
func htmlEval(c *Context, args []string) (bool, error) {
	if err := needArgs("html_eval", args, 2); err != nil {
		return false, err
	}
	for _, h := range c.htmlAll() {
		v, ok := h.Value(args[0])
		if !ok {
			continue
		}
		hit, valid := compareExpr(v, args[1])
		if !valid {
			return false, fmt.Errorf("html_eval: bad expression %q", args[1])
		}
		if hit {
			return true, nil
		}
	}
	return false, nil
}

// htmlTagExists (html_tag_exists(TAG)): an HTML part contains TAG.
func htmlTagExists(c *Context, args []string) (bool, error) {
	if err := needArgs("html_tag_exists", args, 1); err != nil {
		return false, err
	}
	for _, h := range c.htmlAll() {
		if _, ok := h.Inside[args[0]]; ok {
			return true, nil
		}
	}
	return false, nil
}

var alnumTag = lazyRegexp(`^[a-zA-Z0-9]+$`)

// htmlTagBalance (html_tag_balance(TAG, EXPR)): the open count of TAG at
// the end of an HTML part satisfies EXPR (e.g. "!= 0").
func htmlTagBalance(c *Context, args []string) (bool, error) {
	if err := needArgs("html_tag_balance", args, 2); err != nil {
		return false, err
	}
	if !alnumTag().MatchString(args[0]) {
		return false, nil
	}
	for _, h := range c.htmlAll() {
		n, ok := h.Inside[args[0]]
		if !ok {
			continue
		}
		hit, valid := compareExpr(float64(n), args[1])
		if !valid {
			return false, fmt.Errorf("html_tag_balance: bad expression %q", args[1])
		}
		if hit {
			return true, nil
		}
	}
	return false, nil
}

// htmlImageOnly (html_image_only(MIN, MAX)): an HTML part with an <img>
// whose source length is in (MIN, MAX].
func htmlImageOnly(c *Context, args []string) (bool, error) {
	if err := needArgs("html_image_only", args, 2); err != nil {
		return false, err
	}
	lo, hi := perlNum(args[0]), perlNum(args[1])
	for _, h := range c.htmlAll() {
		if _, ok := h.Inside["img"]; ok && float64(h.Length) > lo && float64(h.Length) <= hi {
			return true, nil
		}
	}
	return false, nil
}

// htmlImageRatio (html_image_ratio(MIN, MAX)): an HTML part's non-blank
// text length per pixel of image area is in (MIN, MAX].
func htmlImageRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("html_image_ratio", args, 2); err != nil {
		return false, err
	}
	lo, hi := perlNum(args[0]), perlNum(args[1])
	for _, h := range c.htmlAll() {
		if h.ImageArea <= 0 {
			continue
		}
		r := float64(h.NonSpaceLen) / float64(h.ImageArea)
		if r > lo && r <= hi {
			return true, nil
		}
	}
	return false, nil
}

// htmlTextMatch (html_text_match(LIST, REGEX)): a text of an HTML part's
// list ("comment", "title", "anchor", "script") matches REGEX.
func htmlTextMatch(c *Context, args []string) (bool, error) {
	return htmlTextMatching(c, "html_text_match", args, true)
}

// htmlTextNotMatch (html_text_not_match(LIST, REGEX)): a text of the list
// does not match REGEX.
func htmlTextNotMatch(c *Context, args []string) (bool, error) {
	return htmlTextMatching(c, "html_text_not_match", args, false)
}

func htmlTextMatching(c *Context, name string, args []string, want bool) (bool, error) {
	if err := needArgs(name, args, 2); err != nil {
		return false, err
	}
	re, err := c.compileArg(args[1])
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	for _, h := range c.htmlAll() {
		list, ok := h.TextList(args[0])
		if !ok {
			continue
		}
		for _, s := range list {
			if re.MatchString(s) == want {
				return true, nil
			}
		}
	}
	return false, nil
}

// htmlTitleSubjectRatio (html_title_subject_ratio(RATIO)): an HTML title
// is more than RATIO times as long as the Subject.
func htmlTitleSubjectRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("html_title_subject_ratio", args, 1); err != nil {
		return false, err
	}
	subject := c.get("Subject")
	if subject == "" {
		return false, nil
	}
	sl := float64(utf8.RuneCountInString(subject))
	limit := perlNum(args[0])
	for _, h := range c.htmlAll() {
		best := 0.0
		for _, t := range h.Titles {
			if t != "" && t != "0" {
				best = math.Max(best, float64(utf8.RuneCountInString(t))/sl)
			}
		}
		if best > limit {
			return true, nil
		}
	}
	return false, nil
}

// htmlCharsetFaraway (html_charset_faraway()): the charsets an HTML part
// declares in <meta> tags are mostly outside ok_locales.
func htmlCharsetFaraway(c *Context, _ []string) (bool, error) {
	locales := c.okLocales()
	if locales == nil {
		return false, nil
	}
	for _, h := range c.htmlAll() {
		if h.Charsets == nil {
			continue
		}
		okay, bad := 0, 0
		for _, cs := range strings.Fields(strings.Join(h.Charsets, " ")) {
			if charsetOKForLocales(cs, locales) {
				okay++
			} else {
				bad++
			}
		}
		if bad > 0 && bad >= okay {
			return true, nil
		}
	}
	return false, nil
}

// checkIframeSrc (check_iframe_src()): an HTML part has an <iframe src>.
func checkIframeSrc(c *Context, _ []string) (bool, error) {
	for _, h := range c.htmlAll() {
		if h.IframeSrc {
			return true, nil
		}
	}
	return false, nil
}
