package eval

import (
	"strings"
)

// okLocales returns the ok_locales words, or nil when "all" is among them
// (then no charset is far away). The process locale is not consulted: a
// daemon's environment is not the mail's audience.
func (c *Context) okLocales() []string {
	ls := strings.Fields(c.settings().OKLocales)
	for _, l := range ls {
		if l == "all" {
			return nil
		}
	}
	if len(ls) == 0 {
		return nil
	}
	return ls
}

// charsetsForLocale are the charsets acceptable for a locale beyond the
// universal ones (Locales.pm).
var charsetsForLocale = func() map[string][]string {
	cyr := "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866"
	m := map[string]string{
		"ja": "EUCJP JISX020119760 JISX020819830 JISX020819900 JISX020819970 JISX021219900 JISX021320001 JISX021320002 SHIFT_JIS SHIFTJIS ISO2022JP SJIS JIS7 JISX0201 JISX0208 JISX0212",
		"ko": "EUCKR KSC56011987",
		"ru": cyr, "ka": cyr, "tg": cyr, "be": cyr, "uk": cyr, "bg": cyr,
		"th": "TIS620",
		"zh": "GB1988 GB2312 GB231219800 GB18030 GBK BIG5HKSCS BIG5 EUCTW ISO2022CN",
	}
	out := map[string][]string{}
	for k, v := range m {
		out[k] = strings.Fields(v)
	}
	return out
}()

var universalCharset = lazyRegexp(`^(?:USASCII|ASCII|ISO8859.*|ISO10646.*|UTF.*|UCS.*|CP125.*|WINDOWS.*|IBM852|UNICODE11UTF[78].*|XUNKNOWN|ISO)$`)

// charsetOKForLocales reports whether a charset suits one of the locales.
func charsetOKForLocales(cs string, locales []string) bool {
	cs = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 32
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return -1
	}, cs)
	cs = strings.TrimPrefix(cs, "3D")
	if universalCharset().MatchString(cs) {
		return true
	}
	for _, l := range locales {
		if l == "C" {
			l = "en"
		}
		if len(l) >= 2 {
			l = l[:2]
		}
		for _, x := range charsetsForLocale[l] {
			if x == cs {
				return true
			}
		}
	}
	return false
}
