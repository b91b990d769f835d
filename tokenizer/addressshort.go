package tokenizer

import "strings"

// Shortcuts of parseHeaderAddresses for the commonest address fields.

// bareHeaderAddress recognizes the commonest address field, which
// parseHeaderAddressesFull takes a dozen expressions to read: one address
// alone, user@host or <user@host> with blanks around, made of letters,
// digits and addrPunct (none of addrPunct at either end of the host),
// read as that address and no phrase. ok is false for anything else.
func bareHeaderAddress(s string) (addr string, ok bool) {
	s = trimPerlSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = s[1 : len(s)-1]
	}
	return plainAddress(s)
}

// namedHeaderAddress recognizes the next commonest address field, a name
// and an address: Name <user@host> or "Name" <user@host>, with blanks
// around, the address as bareHeaderAddress takes it, the name of letters,
// digits, blanks and ".'-" starting with a letter or digit (inside the
// quotes, if any). The phrase is the name with the blanks after it (and
// without its quotes), as the parsers read it.
func namedHeaderAddress(s string) (phrase, addr string, ok bool) {
	s = trimPerlSpace(s)
	lt := strings.IndexByte(s, '<')
	if lt < 1 || s[len(s)-1] != '>' {
		return "", "", false
	}
	if addr, ok = plainAddress(s[lt+1 : len(s)-1]); !ok {
		return "", "", false
	}
	name := s[:lt]
	blanks := len(name)
	for blanks > 0 && isPerlSpace(name[blanks-1]) {
		blanks--
	}
	name, tail := name[:blanks], name[blanks:]
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = name[1 : len(name)-1]
	}
	if name == "" || !isAlnum(name[0]) {
		return "", "", false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != ' ' && strings.IndexByte(".'-", c) < 0 {
			return "", "", false
		}
	}
	return name + tail, addr, true
}

// addrPunct are the bytes besides letters and digits a plain address
// may hold.
const addrPunct = "._%+=-"

// plainAddress reports whether s is user@host of letters, digits and
// addrPunct with none of addrPunct at either end of the host, and
// returns it.
func plainAddress(s string) (string, bool) {
	at := strings.IndexByte(s, '@')
	if at < 1 || at >= len(s)-1 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; i != at && !isAlnum(c) && strings.IndexByte(addrPunct, c) < 0 {
			return "", false
		}
	}
	host := s[at+1:]
	if strings.IndexByte(addrPunct, host[0]) >= 0 || strings.IndexByte(addrPunct, host[len(host)-1]) >= 0 {
		return "", false
	}
	return s, true
}
