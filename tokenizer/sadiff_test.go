package tokenizer

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// Differential tests against SpamAssassin itself: the real sa-learn and a
// small Perl driver (testdata/tokens/satokens.pl) that calls the Bayes
// plugin's tokenizer. They skip when SpamAssassin or the corpus is
// missing, and fail instead under GOSPAMD_REQUIRE_PEERS=1.

// corpusRoot is the shared corpus (testpeer.CorpusDir).
func corpusRoot() string { return testpeer.CorpusDir() }

// requirePeer skips (or, under GOSPAMD_REQUIRE_PEERS=1, fails) the test
// with msg.
func requirePeer(t testing.TB, msg string) {
	t.Helper()
	testpeer.Missing(t, "%s", msg)
}

// saSiteConfig returns a site config directory holding only the stock
// plugin loader files, so that a local.cf on this host cannot change the
// tokens; the stock rules (with the stopwords) come from the default
// rules directory.
func saSiteConfig(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("sa-learn"); err != nil {
		requirePeer(t, "sa-learn not installed (Debian package spamassassin)")
	}
	if err := exec.Command("perl", "-MMail::SpamAssassin", "-e", "1").Run(); err != nil {
		requirePeer(t, "Perl module Mail::SpamAssassin not usable: "+err.Error())
	}
	pres, _ := filepath.Glob("/etc/spamassassin/*.pre")
	if len(pres) == 0 {
		requirePeer(t, "no /etc/spamassassin/*.pre: SpamAssassin's plugin loaders are missing")
	}
	dir := t.TempDir()
	for _, p := range pres {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read plugin loader: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatalf("write plugin loader: %v", err)
		}
	}
	return dir
}

// stockIgnoreHeaders returns the bayes_ignore_header names of the stock
// rules SpamAssassin loads (/usr/share/spamassassin/*.cf), which sa-learn
// applies on top of the plugin's built-in list.
func stockIgnoreHeaders(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob("/usr/share/spamassassin/*.cf")
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read stock rules: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) > 1 && fields[0] == "bayes_ignore_header" {
				names = append(names, fields[1:]...)
			}
		}
	}
	return names
}

// saTokenOptions are the default options plus the stock rules'
// bayes_ignore_header names: what sa-learn runs with.
func saTokenOptions(t testing.TB) TokenOptions {
	opt := DefaultTokenOptions()
	opt.IgnoreHeaders = stockIgnoreHeaders(t)
	return opt
}

// saCommand returns a command running SpamAssassin code with a private
// HOME and no network.
func saCommand(t testing.TB, home string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "LANG=C", "LC_ALL=C")
	return cmd
}

// corpusFiles returns a deterministic selection of corpus messages: the
// first n of each folder in name order.
func corpusFiles(t testing.TB, perFolder map[string]int) []string {
	t.Helper()
	var files []string
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		n := perFolder[folder]
		if n == 0 {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(corpusRoot(), folder))
		if err != nil {
			requirePeer(t, "corpus missing: "+err.Error())
		}
		var names []string
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && e.Name() != "cmds" {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		if len(names) > n {
			names = names[:n]
		}
		for _, name := range names {
			files = append(files, filepath.Join(corpusRoot(), folder, name))
		}
	}
	return files
}

// TestTokenizeLineMatchesSpamAssassin runs lines from the corpus and
// generated lines through SpamAssassin's _tokenize_line and ours, and
// requires the same tokens in the same order.
func TestTokenizeLineMatchesSpamAssassin(t *testing.T) {
	site := saSiteConfig(t)
	files := corpusFiles(t, map[string]int{"easy_ham": 40, "hard_ham": 30, "spam": 60})

	type record struct {
		region Region
		prefix string
		text   string
	}
	var recs []record
	prefixes := []string{"", "I*:", "H*r:", "HX-Foo:"}
	for i, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Paragraphs and single lines of raw text, 8-bit bytes included.
		for j, para := range bytes.Split(raw, []byte("\n\n")) {
			if j > 30 {
				break
			}
			para = bytes.ReplaceAll(para, []byte{0}, nil)
			para = bytes.ReplaceAll(para, []byte{1}, nil)
			if len(para) > 4000 {
				para = para[:4000]
			}
			recs = append(recs, record{Region((i + j) % 3), prefixes[(i+j)%len(prefixes)], string(para)})
		}
	}
	// Generated lines stressing each step.
	rng := rand.New(rand.NewPCG(7, 11))
	pieces := []string{"Hello", "World", ". ", "...", "--", "---", "-", "a", "B", "CHEAP",
		"foo@bar.example.com", "@", "x@", "@y", "www.Example.COM", ".com", "U.S.A.", "e-mail",
		"Supercalifragilisticexpialidocious", "日本語のテキストです", "é", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		"\xa0", "\x85", "\xe2\x80", "\xff\xfe", "$1,000,000", "'quoted'", "\"dq\"", "it's", "You're",
		"THE", "the", "The", " ", "  ", "\t", "\n", "!!!", "f*ck", "H*r:x", "a*b*c", "http://x.y/z?q=1&r=2",
		"__init__", "foo_bar", "ab", "abc", "Ab.", "Ab. Cd", "x.Y", "1.2.3.4", "é.com", "ÉCOLE", "Über",
		"aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaa", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
		"word...word", "a....b", "a.......b", "x--y--z", "x-------y", "Mr. Smith", ". Élan"}
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		for k := rng.IntN(12); k >= 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			if rng.IntN(3) == 0 {
				b.WriteByte(' ')
			}
		}
		recs = append(recs, record{Region(i % 3), prefixes[i%len(prefixes)], b.String()})
	}

	var in bytes.Buffer
	for _, r := range recs {
		fmt.Fprintf(&in, "%d\x01%s\x01%s\x00", r.region, r.prefix, r.text)
	}
	cmd := saCommand(t, t.TempDir(), "perl", "testdata/tokens/satokens.pl", "--lines", site)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run satokens.pl: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("satokens.pl answered %d lines for %d records", len(lines), len(recs))
	}
	bad, total := 0, 0
	for i, r := range recs {
		var want []string
		if lines[i] != "" {
			want = strings.Split(lines[i], "\x01")
		}
		got := TokenizeLine(r.text, r.prefix, r.region)
		total += len(want)
		if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
			bad++
			if bad <= 5 {
				t.Errorf("region %d prefix %q text %q:\n got %q\nwant %q", r.region, r.prefix, r.text, got, want)
			}
		}
	}
	t.Logf("%d lines, %d tokens compared", len(recs), total)
	if bad > 0 {
		t.Errorf("%d of %d lines differ", bad, len(recs))
	}
}

// saTokenDump runs satokens.pl over files and returns, per file, SA's
// tokens by hex key.
func saTokenDump(t testing.TB, site string, files []string) map[string]map[string]string {
	t.Helper()
	args := append([]string{"testdata/tokens/satokens.pl", site}, files...)
	cmd := saCommand(t, t.TempDir(), "perl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run satokens.pl: %v\n%s", err, stderr.String())
	}
	res := make(map[string]map[string]string)
	var cur map[string]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "== "); ok {
			cur = make(map[string]string)
			res[name] = cur
			continue
		}
		key, tok, _ := strings.Cut(line, " ")
		if cur != nil {
			cur[key] = tok
		}
	}
	return res
}

// saLearnDump learns files into a fresh database with the real sa-learn
// (ham folders as ham, spam as spam) and returns the set of hex token
// keys `sa-learn --dump data` lists. The result is cached under the user
// cache directory, keyed by the file list, since sa-learn is slow.
func saLearnDump(t testing.TB, site string, files []string) map[string]bool {
	t.Helper()
	h := sha1.New()
	for _, f := range files {
		fmt.Fprintln(h, f)
	}
	var cacheFile string
	if dir, err := os.UserCacheDir(); err == nil {
		cacheFile = filepath.Join(dir, "gospamd-test", "salearn-"+hex.EncodeToString(h.Sum(nil))[:16]+".txt")
		if b, err := os.ReadFile(cacheFile); err == nil {
			set := make(map[string]bool)
			for _, k := range strings.Fields(string(b)) {
				set[k] = true
			}
			if len(set) > 0 {
				return set
			}
		}
	}
	home := t.TempDir()
	db := filepath.Join(t.TempDir(), "bayes")
	var ham, spam []string
	for _, f := range files {
		if strings.Contains(f, "/spam/") {
			spam = append(spam, f)
		} else {
			ham = append(ham, f)
		}
	}
	learn := func(class string, list []string) {
		if len(list) == 0 {
			return
		}
		args := append([]string{"-L", "--siteconfigpath", site, "--dbpath", db, "--" + class}, list...)
		cmd := saCommand(t, home, "sa-learn", args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sa-learn --%s: %v\n%s", class, err, out)
		}
	}
	learn("ham", ham)
	learn("spam", spam)
	cmd := saCommand(t, home, "sa-learn", "--siteconfigpath", site, "--dbpath", db, "--dump", "data")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sa-learn --dump data: %v", err)
	}
	set := make(map[string]bool)
	var keys []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && len(f[4]) == 10 {
			set[f[4]] = true
			keys = append(keys, f[4])
		}
	}
	if cacheFile != "" && len(keys) > 0 {
		if err := os.MkdirAll(filepath.Dir(cacheFile), 0o755); err == nil {
			_ = os.WriteFile(cacheFile, []byte(strings.Join(keys, "\n")+"\n"), 0o644)
		}
	}
	return set
}

// TestTokenKeysMatchSALearn learns 200 corpus messages with the real
// sa-learn and compares its token database with the union of our keys.
func TestTokenKeysMatchSALearn(t *testing.T) {
	if testing.Short() {
		t.Skip("sa-learn differential test is slow")
	}
	site := saSiteConfig(t)
	files := corpusFiles(t, map[string]int{"easy_ham": 120, "hard_ham": 30, "spam": 50})
	saKeys := saLearnDump(t, site, files)
	if len(saKeys) == 0 {
		t.Fatal("sa-learn produced no tokens")
	}
	ours := make(map[string]bool)
	opt := saTokenOptions(t)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range TokenKeys(Parse(raw), opt) {
			ours[k.String()] = true
		}
	}
	common := 0
	for k := range ours {
		if saKeys[k] {
			common++
		}
	}
	overlap := float64(common) / float64(len(saKeys))
	extra := float64(len(ours)-common) / float64(len(ours))
	t.Logf("%d messages: SA %d tokens, ours %d; |ours∩SA|/|SA| = %.4f, |ours\\SA|/|ours| = %.4f",
		len(files), len(saKeys), len(ours), overlap, extra)
	if overlap < 0.97 {
		t.Errorf("only %.2f%% of sa-learn's tokens are ours, want ≥ 97%%", 100*overlap)
	}
}

// TestTokenStringDiff is a debugging aid: for the messages named in
// GOSPAMD_TOKDIFF (file paths, or "corpus:N" for the first N of each
// folder) it logs the token strings SpamAssassin makes that we do not, and
// ours that it does not, with counts by token kind. Run with -v.
func TestTokenStringDiff(t *testing.T) {
	spec := os.Getenv("GOSPAMD_TOKDIFF")
	if spec == "" {
		t.Skip("set GOSPAMD_TOKDIFF to message files or corpus:N to diff token strings")
	}
	site := saSiteConfig(t)
	var files []string
	if n, ok := strings.CutPrefix(spec, "corpus:"); ok {
		var k int
		fmt.Sscan(n, &k)
		files = corpusFiles(t, map[string]int{"easy_ham": k, "hard_ham": k, "spam": k})
	} else {
		files = strings.Fields(spec)
	}
	sa := saTokenDump(t, site, files)
	opt := saTokenOptions(t)
	kinds := make(map[string]int)
	verbose := len(files) <= 5
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ours := make(map[string]string)
		for _, tok := range Tokens(Parse(raw), opt) {
			ours[KeyOf(tok).String()] = tok
		}
		var missing, extra []string
		for k, tok := range sa[f] {
			if _, ok := ours[k]; !ok {
				missing = append(missing, tok)
				kinds["missing "+tokenKind(tok)]++
			}
		}
		for k, tok := range ours {
			if _, ok := sa[f][k]; !ok {
				extra = append(extra, tok)
				kinds["extra "+tokenKind(tok)]++
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing)+len(extra) > 0 {
			if verbose {
				t.Logf("%s: SA only %q\nours only %q", f, missing, extra)
			} else {
				t.Logf("%s: %d SA only %.200q, %d ours only %.200q", filepath.Base(f), len(missing), missing, len(extra), extra)
			}
		}
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		t.Logf("%6d %s", kinds[k], k)
	}
}

// tokenKind classifies a token by its source for TestTokenStringDiff.
func tokenKind(tok string) string {
	switch {
	case strings.HasPrefix(tok, "H"):
		if i := strings.IndexByte(tok, ':'); i > 0 {
			return "header " + tok[:i]
		}
		return "header"
	case strings.HasPrefix(tok, "I*:"):
		return "invisible"
	case strings.HasPrefix(tok, "UD:"), strings.HasPrefix(tok, "U*"), strings.HasPrefix(tok, "D*"):
		return "body/uri address"
	default:
		return "body/uri word"
	}
}

// testHeaderFields reads the header block of raw the way SpamAssassin
// does for plain ASCII headers (mbox line skipped, folds joined, WSP
// before the colon dropped, value trimmed), without RFC 2047 decoding.
// ok is false when a field needs decoding.
func testHeaderFields(raw []byte) (h Header, ok bool) {
	lines := strings.SplitAfter(string(raw), "\n")
	if len(lines) > 0 && strings.HasPrefix(lines[0], "From ") {
		lines = lines[1:]
	}
	var cur string
	flush := func() {
		if cur == "" {
			return
		}
		name, val, found := strings.Cut(cur, ":")
		if !found {
			return
		}
		name = strings.TrimRight(name, " \t")
		val = strings.ReplaceAll(val, "\r\n", "\n")
		for {
			i := strings.Index(val, "\n ")
			j := strings.Index(val, "\n\t")
			if i < 0 || j >= 0 && j < i {
				i = j
			}
			if i < 0 {
				break
			}
			k := i + 1
			for k < len(val) && (val[k] == ' ' || val[k] == '\t') {
				k++
			}
			val = val[:i] + " " + val[k:]
		}
		val = strings.Trim(val, " \t\r\n\v\f")
		h = append(h, Field{Name: name, Raw: val, Value: val})
	}
	for _, l := range lines {
		if l == "\n" || l == "\r\n" {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			cur += l
			continue
		}
		flush()
		cur = l
	}
	flush()
	for _, f := range h {
		if strings.Contains(f.Value, "=?") {
			return h, false
		}
		for i := 0; i < len(f.Value); i++ {
			if f.Value[i] >= 0x80 {
				return h, false
			}
		}
	}
	return h, true
}

// TestHeaderSourcesMatchSpamAssassin compares the rewritten header text
// of each header prefix with SpamAssassin's _tokenize_headers on corpus
// messages whose headers need no decoding. The relay pseudo-headers are
// left out: they depend on the Received parser.
func TestHeaderSourcesMatchSpamAssassin(t *testing.T) {
	site := saSiteConfig(t)
	files := corpusFiles(t, map[string]int{"easy_ham": 150, "hard_ham": 100, "spam": 150})
	args := append([]string{"testdata/tokens/satokens.pl", "--headers", site}, files...)
	cmd := saCommand(t, t.TempDir(), "perl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run satokens.pl --headers: %v\n%s", err, stderr.String())
	}
	want := make(map[string]map[string]string)
	var cur map[string]string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "== "); ok {
			cur = make(map[string]string)
			want[name] = cur
			continue
		}
		if p, v, ok := strings.Cut(line, "\x01"); ok && cur != nil {
			cur["H"+p+":"] = v
		}
	}
	skipPrefix := map[string]bool{"H*RT:": true, "H*RU:": true,
		"Hx-spam-relays-external:": true, "Hx-spam-relays-internal:": true}
	ignore := stockIgnoreHeaders(t)
	compared, bad := 0, 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := testHeaderFields(raw)
		if !ok {
			continue
		}
		compared++
		got := make(map[string]string)
		for _, g := range headerTokenSources(&Message{Header: h}, TokenOptions{IgnoreHeaders: ignore}) {
			got[g.prefix] = strings.Join(g.values, " ")
		}
		for p, w := range want[f] {
			if skipPrefix[p] {
				continue
			}
			if got[p] != w {
				bad++
				if bad <= 10 {
					t.Errorf("%s %s\n got %q\nwant %q", filepath.Base(f), p, got[p], w)
				}
			}
		}
		for p := range got {
			if _, ok := want[f][p]; !ok && !skipPrefix[p] {
				bad++
				if bad <= 10 {
					t.Errorf("%s: we have %s, SpamAssassin has not", filepath.Base(f), p)
				}
			}
		}
	}
	t.Logf("compared the headers of %d messages", compared)
	if bad > 0 {
		t.Errorf("%d header sources differ", bad)
	}
}

// TestHeaderCasesMatchSpamAssassin runs the header cases of
// headers_test.go through SpamAssassin, so that their expectations are
// SpamAssassin's and not ours.
func TestHeaderCasesMatchSpamAssassin(t *testing.T) {
	site := saSiteConfig(t)
	dir := t.TempDir()
	var files []string
	var cases []headerCase
	for i, c := range headerCases {
		if len(c.ignore) > 0 {
			continue // needs a bayes_ignore_header line in SpamAssassin's config
		}
		f := filepath.Join(dir, fmt.Sprintf("case%02d.eml", i))
		msg := strings.Join(c.fields, "\n") + "\n\nbody\n"
		if err := os.WriteFile(f, []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		cases = append(cases, c)
	}
	sa := saTokenDump(t, site, files)
	for i, c := range cases {
		var got []string
		for _, tok := range sa[files[i]] {
			if !strings.HasPrefix(tok, "H") || !strings.Contains(tok, ":") ||
				strings.HasPrefix(tok, "H*RT:") || strings.HasPrefix(tok, "H*RU:") || strings.HasPrefix(tok, "Hx-spam-relays-") {
				continue
			}
			got = append(got, tok)
		}
		want := slices.Clone(c.want)
		slices.Sort(got)
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: SpamAssassin's header tokens differ from the case's:\n%s", c.name,
				lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
		}
	}
}
