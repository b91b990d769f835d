package mta

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// splitAddress splits local@domain, lower-casing the domain. The local
// part keeps its case.
func splitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], strings.ToLower(strings.TrimSuffix(addr[i+1:], ".")), true
}

// A pattern matches envelope addresses: a whole address, "@domain" (the
// domain and nothing else), or a shell pattern (path.Match, "*" matches
// any run of characters). Matching is case-insensitive.
type pattern struct {
	s string
}

func newPattern(s string) (pattern, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return pattern{}, errors.New("empty pattern")
	}
	if _, err := path.Match(s, ""); err != nil {
		return pattern{}, err
	}
	return pattern{s: s}, nil
}

func (p pattern) match(addr string) bool {
	addr = strings.ToLower(addr)
	if strings.HasPrefix(p.s, "@") {
		return strings.HasSuffix(addr, p.s) && strings.Count(addr, "@") == 1
	}
	if p.s == addr {
		return true
	}
	ok, _ := path.Match(p.s, addr)
	return ok
}

type pairPattern struct{ from, to pattern }

func newPairPattern(s string) (pairPattern, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return pairPattern{}, errors.New(`want "sender recipient"`)
	}
	from, err := newPattern(f[0])
	if err != nil {
		return pairPattern{}, err
	}
	to, err := newPattern(f[1])
	if err != nil {
		return pairPattern{}, err
	}
	return pairPattern{from, to}, nil
}

func compilePatterns(list []string) []pattern {
	out := make([]pattern, 0, len(list))
	for _, s := range list {
		if p, err := newPattern(s); err == nil { // Validate reported errors
			out = append(out, p)
		}
	}
	return out
}

func matchAny(ps []pattern, addr string) bool {
	for _, p := range ps {
		if p.match(addr) {
			return true
		}
	}
	return false
}

// A Mailbox is where a recipient's mail goes.
type Mailbox struct {
	// User is the route's user: the name the message is scanned for.
	User string
	// Maildir is the destination ("" or "-" with a next hop).
	Maildir string
}

// routes is the mailbox routes table, reread when the file changes.
type routes struct {
	path string

	mu      sync.Mutex
	checked time.Time
	mtime   time.Time
	size    int64
	table   map[string]Mailbox // "local@domain", lower case
}

func newRoutes(path string) (*routes, error) {
	r := &routes{path: path}
	if path == "" {
		return r, nil
	}
	if _, err := r.current(time.Now()); err != nil {
		return nil, err
	}
	return r, nil
}

// current returns the table, rereading the file when its size or mtime
// changed (checked at most once a second). A file that turns unreadable
// or broken keeps the last good table and logs nothing here: the error
// is returned alongside for the caller to log.
func (r *routes) current(now time.Time) (map[string]Mailbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.table != nil && now.Sub(r.checked) < time.Second {
		return r.table, nil
	}
	r.checked = now
	fi, err := os.Stat(r.path)
	if err != nil {
		return r.table, fmt.Errorf("routes: %w", err)
	}
	if r.table != nil && fi.ModTime().Equal(r.mtime) && fi.Size() == r.size {
		return r.table, nil
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		return r.table, fmt.Errorf("routes: %w", err)
	}
	t, err := parseRoutes(data)
	if err != nil {
		return r.table, fmt.Errorf("routes %s: %w", r.path, err)
	}
	r.table, r.mtime, r.size = t, fi.ModTime(), fi.Size()
	return t, nil
}

// parseRoutes reads "user domain destination" lines.
func parseRoutes(data []byte) (map[string]Mailbox, error) {
	t := map[string]Mailbox{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want \"user domain destination\"", n)
		}
		user := f[0]
		if strings.ContainsAny(user, "@/") || strings.HasPrefix(user, ".") {
			return nil, fmt.Errorf("line %d: bad user %q", n, user)
		}
		t[strings.ToLower(user+"@"+strings.TrimSuffix(f[1], "."))] = Mailbox{User: user, Maildir: f[2]}
	}
	return t, sc.Err()
}

// lookup finds the mailbox of local@domain: an exact "user+ext" route
// wins, else the one of "user".
func lookup(t map[string]Mailbox, local, domain string) (Mailbox, bool) {
	key := strings.ToLower(local) + "@" + domain
	if mb, ok := t[key]; ok {
		return mb, true
	}
	if base, _, ok := strings.Cut(local, "+"); ok && base != "" {
		mb, ok := t[strings.ToLower(base)+"@"+domain]
		return mb, ok
	}
	return Mailbox{}, false
}
