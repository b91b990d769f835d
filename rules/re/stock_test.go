package re

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules/cf"
)

const (
	stockRulesDir = "/usr/share/spamassassin"
	stockSiteDir  = "/etc/spamassassin"
)

// stockPattern is one regex of SpamAssassin's stock rules.
type stockPattern struct {
	rule, kind  string
	expr, flags string
}

// loadStock loads the stock rules as spamassassin does on Debian and
// returns every pattern, with the ReplaceTags plugin's <TAG>s expanded
// for the rules listed in replace_rules.
func loadStock(t testing.TB) []stockPattern {
	t.Helper()
	for _, dir := range []string{stockRulesDir, stockSiteDir} {
		if _, err := os.Stat(dir); err != nil {
			testpeer.Missing(t, "SpamAssassin rules at %s (install the Debian spamassassin package): %v", dir, err)
		}
	}
	pol, _, err := cf.LoadSite(context.Background(), stockSiteDir, cf.SiteOptions{
		Options:  cf.Options{KnownPlugins: cf.DebianDefaultPlugins},
		RulesDir: stockRulesDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := pol.ReplaceTags()
	replace := map[string]bool{}
	for _, r := range rt.Rules {
		replace[r] = true
	}
	var out []stockPattern
	for _, r := range pol.Rules() {
		if !r.HasPattern() {
			continue
		}
		expr := r.Pattern.Expr
		if replace[r.Name] {
			expr = expandTags(rt, expr)
		}
		// Capture templates %{NAME} are filled in at scan time with the
		// quoted value another rule captured; stand in a typical one.
		for _, name := range r.Pattern.Templates {
			expr = strings.ReplaceAll(expr, "%{"+name+"}", regexp.QuoteMeta("someone@example.com"))
		}
		out = append(out, stockPattern{rule: r.Name, kind: r.Kind.String(), expr: expr, flags: r.Pattern.Flags})
	}
	return out
}

var tagPiece = regexp.MustCompile(`<[^<>]+>`)

// expandTags does what SpamAssassin's ReplaceTags plugin does to a rule
// listed in replace_rules: take out the first <pre P>, <post P> and
// <inter P> markers, then replace each <TAG> by its replace_tag text,
// with the pre text before and the post text after every tag and the
// inter text between adjacent tags; repeat while replacements bring new
// tags (at most six passes).
func expandTags(rt cf.ReplaceTags, re string) string {
	start, end := regexp.QuoteMeta(rt.Start), regexp.QuoteMeta(rt.End)
	marker := func(kind string) (string, bool) {
		m := regexp.MustCompile(start + kind + ` (.+?)` + end)
		loc := m.FindStringSubmatchIndex(re)
		if loc == nil {
			return "", false
		}
		name := re[loc[2]:loc[3]]
		re = re[:loc[0]] + re[loc[1]:]
		return name, true
	}
	tagRE := regexp.MustCompile(start + `(.+?)` + end)
	for pass := 0; pass <= 5; pass++ {
		preName, hasPre := marker("pre")
		postName, hasPost := marker("post")
		interName, hasInter := marker("inter")
		// Perl's split with a capturing separator keeps the tags as
		// pieces, keeps a leading empty piece and drops trailing ones.
		var pieces []string
		last := 0
		for _, loc := range tagPiece.FindAllStringIndex(re, -1) {
			pieces = append(pieces, re[last:loc[0]], re[loc[0]:loc[1]])
			last = loc[1]
		}
		pieces = append(pieces, re[last:])
		for len(pieces) > 0 && pieces[len(pieces)-1] == "" {
			pieces = pieces[:len(pieces)-1]
		}
		if pre := rt.Pre[preName]; hasPre && pre != "" {
			for i, p := range pieces {
				if loc := tagRE.FindStringIndex(p); loc != nil {
					pieces[i] = p[:loc[0]] + pre + p[loc[0]:]
				}
			}
		}
		if post := rt.Post[postName]; hasPost && post != "" {
			for i, p := range pieces {
				pieces[i] = tagRE.ReplaceAllStringFunc(p, func(tag string) string { return tag + post })
			}
		}
		if inter := rt.Inter[interName]; hasInter && inter != "" {
			for i, p := range pieces {
				if p == "" {
					pieces[i] = inter
				}
			}
		}
		again := false
		for i, p := range pieces {
			m := tagRE.FindStringSubmatch(p)
			if m == nil {
				continue
			}
			if repl := rt.Tags[m[1]]; repl != "" {
				pieces[i] = strings.ReplaceAll(p, rt.Start+m[1]+rt.End, repl)
				if regexp.MustCompile(`<[^>]+>`).MatchString(repl) {
					again = true
				}
			}
		}
		re = strings.Join(pieces, "")
		if !again {
			break
		}
	}
	return re
}

// TestStockCompile compiles every pattern of the stock rules.
func TestStockCompile(t *testing.T) {
	pats := loadStock(t)
	reasons := map[string]int{}
	compiled, fallback, byteSem, withLiterals := 0, 0, 0, 0
	for _, p := range pats {
		re, err := Compile(p.expr, p.flags, Options{})
		if err != nil {
			t.Logf("%s (%s): %v", p.rule, p.kind, err)
			continue
		}
		compiled++
		if re.Engine() == EngineBacktrack {
			fallback++
			reason := re.FallbackReason()
			if parts := strings.SplitN(reason, ": ", 3); len(parts) == 3 {
				// "RE2: error parsing regexp: invalid repeat count: `{5}`"
				reason = parts[0] + ": " + parts[2]
			}
			reasons[reason]++
		}
		if re.ByteSemantics() {
			byteSem++
		}
		if re.Literals() != nil {
			withLiterals++
			// MatchLiteralCandidateBefore skips the gate a prefilter
			// of the literals already passed.
			if re.bt != nil && !slices.Equal(re.gate, re.literals) {
				t.Errorf("%s: gate %q, literals %q: a prefilter's yes is not the gate's", p.rule, re.gate, re.literals)
			}
		}
	}
	t.Logf("patterns: %d of %d compiled (%d by fallback), %d with byte semantics, %d with prefilter literals",
		compiled, len(pats), fallback, byteSem, withLiterals)
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	for _, k := range keys {
		t.Logf("  fallback: %4d %s", reasons[k], k)
	}
	if len(pats) < 1500 {
		t.Errorf("only %d stock patterns loaded, want the ~1582 of SpamAssassin 4.0.1", len(pats))
	}
	if rate := float64(compiled) / float64(len(pats)); rate < 0.99 {
		t.Errorf("compile rate %.4f, want >= 0.99", rate)
	}
}

// probeTexts builds the subjects of the differential test: pieces of
// corpus messages shaped like what rules see (whole messages for full
// and rawbody rules, header blocks and values with their trailing
// newline, body paragraphs joined into lines) and crafted strings.
func probeTexts(t testing.TB, perFolder int) []string {
	texts := craftedProbes()
	for _, folder := range []string{"spam", "easy_ham", "hard_ham"} {
		files := testpeer.CorpusFiles(t, folder)
		step := max(1, len(files)/perFolder)
		for i := 0; i < len(files) && i/step < perFolder; i += step {
			raw, err := os.ReadFile(files[i])
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, messageProbes(string(raw))...)
		}
	}
	return texts
}

func messageProbes(raw string) []string {
	if strings.HasPrefix(raw, "From ") {
		if i := strings.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	out := []string{raw}
	head, body, _ := strings.Cut(raw, "\n\n")
	// Header fields, unfolded.
	var fields []string
	for _, line := range strings.Split(head, "\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(fields) > 0 {
			fields[len(fields)-1] += " " + strings.TrimLeft(line, " \t")
			continue
		}
		fields = append(fields, line)
	}
	out = append(out, strings.Join(fields, "\n")+"\n")
	want := map[string]bool{"subject": true, "from": true, "to": true, "received": true, "message-id": true, "content-type": true}
	for _, f := range fields {
		name, value, ok := strings.Cut(f, ":")
		if ok && want[strings.ToLower(name)] {
			delete(want, strings.ToLower(name))
			out = append(out, strings.TrimLeft(value, " ")+"\n")
		}
	}
	// Body paragraphs as single lines, as body rules see rendered text.
	n := 0
	for _, para := range strings.Split(body, "\n\n") {
		line := strings.Join(strings.Fields(para), " ")
		if len(line) < 20 {
			continue
		}
		if len(line) > 2048 {
			line = line[:2048]
		}
		out = append(out, line)
		if n++; n == 6 {
			break
		}
	}
	return out
}

func craftedProbes() []string {
	return []string{
		"", "\n", "a\n", "\n\n", " \n", "x",
		"Subject: hello\n",
		"Re: urgent business proposal\n",
		"caf\xe9 na\xefve \xc0 VOTRE SANT\xc9\n",
		"café naïve à votre santé €100\n",
		"Mädchen für alles ÄÖÜ äöü ß\n",
		"\x1b$B$3$s$K$A$O\x1b(B \x1b$BL$>5Bz9-9p\x1b(B\n",
		"\u212a\u017f KELVIN long s\n",
		"tab\there\vvt\fff\r\ncrlf\x85nel\xa0nbsp\n",
		"Click here to unsubscribe http://example.com/remove?id=123\n",
		"<html><body><a href=\"http://203.0.113.5/x\">click</a><div style=\"display:none\">hidden</div></body></html>",
		"<a href=\"http://www.paypal.com\">https://evil.example.ru/login</a>",
		"From: \"John Smith\" <john@example.com>\n",
		"From: <>\n",
		"To: undisclosed-recipients:;\n",
		"Message-ID: <ABC123DEF456@localhost>\n",
		"CIALIS VIAGRA V I A G R A v1agra c\xeealis\n",
		"$1,000,000 USD dollars million wire transfer bank account\n",
		"MAKE MONEY FAST!!! 100% FREE!!! ACT NOW!!!\n",
		"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X",
		strings.Repeat("a", 3000),
		strings.Repeat("<div>", 500),
		strings.Repeat("=20\n", 200),
		"http://0x7f000001/ http://1.2.3.4:80/ https://bit.ly/abc\n",
		"dear webmail user, your mailbox quota has exceeded; upgrade your mailbox\n",
	}
}

// TestStockAgreesWithPerl matches every stock pattern against probe
// subjects in Go and in Perl (compiled as SpamAssassin compiles it) and
// requires the same answer everywhere, except where either side ran out
// of time.
func TestStockAgreesWithPerl(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test over the corpus: skipped with -short")
	}
	pats := loadStock(t)
	texts := probeTexts(t, 17)
	for i, p := range pats {
		texts = append(texts, witnesses(p.expr, p.flags, 2, uint64(i))...)
	}
	perl := startPerl(t)
	perl.setTexts(t, texts)
	prepared := make([]*Text, len(texts))
	for i, s := range texts {
		prepared[i] = NewText(s)
	}

	type result struct {
		p      stockPattern
		perl   string
		goAns  []byte
		err    error
		engine string
		re     *Regexp
	}
	results := make([]result, len(pats))
	for i, p := range pats {
		results[i] = result{p: p, perl: perl.matchProbes(t, p.expr, p.flags)}
	}
	// Go side, two workers.
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 2 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(results) {
					return
				}
				r := &results[i]
				var timeouts atomic.Int64
				re, err := Compile(r.p.expr, r.p.flags, Options{MatchTimeout: time.Second, OnTimeout: func() { timeouts.Add(1) }})
				if err != nil {
					r.err = err
					continue
				}
				r.engine = re.Engine()
				r.re = re
				r.goAns = make([]byte, len(texts))
				for j, tx := range prepared {
					before := timeouts.Load()
					switch {
					case re.MatchText(tx):
						r.goAns[j] = '1'
					case timeouts.Load() != before:
						r.goAns[j] = 'T'
					default:
						r.goAns[j] = '0'
					}
				}
			}
		})
	}
	wg.Wait()

	checkPrefilter(t, texts, len(results), func(i int) (*Regexp, []byte) { return results[i].re, results[i].goAns })

	var compared, agree, perlTimeouts, goTimeouts, perlErrors, goErrors, hitPatterns int
	var disagreements []string
	for _, r := range results {
		if strings.HasPrefix(r.perl, "E ") {
			perlErrors++
			t.Logf("Perl refuses %s /%s/%s: %s", r.p.rule, r.p.expr, r.p.flags, r.perl)
			continue
		}
		if r.err != nil {
			goErrors++
			continue
		}
		hit := false
		for j := range texts {
			pa, ga := r.perl[j], r.goAns[j]
			switch {
			case pa == 'T':
				perlTimeouts++
				continue
			case ga == 'T':
				goTimeouts++
				t.Logf("Go timeout: %s /%s/%s on probe %d (%d bytes), Perl %c", r.p.rule, r.p.expr, r.p.flags, j, len(texts[j]), pa)
				continue
			}
			compared++
			if pa == '1' {
				hit = true
			}
			if pa == ga {
				agree++
				continue
			}
			disagreements = append(disagreements, fmt.Sprintf("%s (%s, %s) /%s/%s on probe %d %.80q: Perl %c, Go %c",
				r.p.rule, r.p.kind, r.engine, r.p.expr, r.p.flags, j, texts[j], pa, ga))
		}
		if hit {
			hitPatterns++
		}
	}
	t.Logf("differential: %d patterns x %d probes: %d comparisons, %d agree (%.4f%%); %d patterns hit at least one probe; timeouts: Perl %d, Go %d; refused: Perl %d, Go %d",
		len(pats), len(texts), compared, agree, 100*float64(agree)/float64(max(compared, 1)), hitPatterns, perlTimeouts, goTimeouts, perlErrors, goErrors)
	for i, d := range disagreements {
		if i == 50 {
			t.Errorf("… %d more", len(disagreements)-50)
			break
		}
		t.Error(d)
	}
}

// witnesses generates subjects meant to match p: a walk of the parsed
// pattern taking random branches, counts and class members (seeded, so
// runs repeat). Lookarounds and backreferences are walked naively, so
// some witnesses do not match; they are probes all the same.
func witnesses(expr, flags string, n int, seed uint64) []string {
	tree, _, err := parsePerl(expr, flags)
	if err != nil {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	style := witnessStyle{
		printable: func(rng *rand.Rand) bool { return rng.IntN(2) == 0 },
		newline:   func(rng *rand.Rand) bool { return rng.IntN(3) == 0 },
	}
	var out []string
	for range n {
		w := string(walkWitness(tree, rng, style))
		switch rng.IntN(4) {
		case 0:
			w += "\n"
		case 1:
			w = "Re: " + w + " ok\n"
		}
		out = append(out, w)
	}
	return out
}

// witnessStyle is how walkWitness makes a subject.
type witnessStyle struct {
	// printable says whether a class member is drawn from the class's
	// printable ASCII members (when it has some); newline whether a
	// "\n" is written where ^ or $ under /m stands.
	printable, newline func(*rand.Rand) bool
	// keepLook keeps the text written for a lookahead (a trailing
	// lookahead's text is part of a match); else it is only walked.
	keepLook bool
	// refs writes, where a backreference stands, what its group wrote
	// (sometimes upper-cased, with a byte's case flipped or cut short,
	// to probe near misses); else nothing.
	refs bool
}

// walkWitness writes one subject meant to match the pattern of tree: a
// walk taking random branches, counts and class members.
func walkWitness(tree *node, rng *rand.Rand, st witnessStyle) []byte {
	var b []byte
	caps := map[int]string{}
	var gen func(nd *node)
	gen = func(nd *node) {
		if len(b) > 4096 {
			return
		}
		switch nd.kind {
		case nodeSet:
			ms := nd.set.members()
			if len(ms) == 0 {
				return
			}
			if st.printable(rng) {
				var pr []byte
				for _, c := range ms {
					if c >= 0x20 && c < 0x7f {
						pr = append(pr, c)
					}
				}
				if len(pr) > 0 {
					ms = pr
				}
			}
			b = append(b, ms[rng.IntN(len(ms))])
		case nodeConcat:
			for _, s := range nd.subs {
				gen(s)
			}
		case nodeAlt:
			gen(nd.subs[rng.IntN(len(nd.subs))])
		case nodeRepeat:
			hi := nd.max
			if hi < 0 || hi > nd.min+3 {
				hi = nd.min + 3
			}
			for range nd.min + rng.IntN(hi-nd.min+1) {
				gen(nd.subs[0])
			}
		case nodeCapture:
			start := len(b)
			gen(nd.subs[0])
			caps[nd.cap] = string(b[start:])
		case nodeAtomic:
			gen(nd.subs[0])
		case nodeBackref:
			if !st.refs {
				return
			}
			c := []byte(caps[nd.cap])
			switch rng.IntN(6) {
			case 0:
				c = []byte(strings.ToUpper(string(c)))
			case 1:
				if len(c) > 0 {
					c[rng.IntN(len(c))] ^= 0x20
				}
			case 2:
				if len(c) > 0 {
					c = c[:len(c)-1]
				}
			}
			b = append(b, c...)
		case nodeAssert:
			switch nd.assert {
			case assertBeginLine, assertEndLine:
				if st.newline(rng) {
					b = append(b, '\n')
				}
			case assertWordBoundary:
				if rng.IntN(3) == 0 {
					b = append(b, ' ')
				}
			}
		case nodeLook:
			if !nd.neg && !nd.behind && rng.IntN(2) == 0 {
				save := len(b)
				gen(nd.subs[0])
				if !st.keepLook {
					b = b[:save]
				}
			}
		}
	}
	gen(tree)
	return b
}

// checkPrefilter verifies that the Prefilter over the compiled patterns
// (re(i) nil for those that failed) keeps every pattern that matched
// (answers(i)[j] == '1' for text j), and that Literals holds for each
// match; it logs how many patterns the prefilter leaves to run.
func checkPrefilter(t *testing.T, texts []string, n int, re func(int) (*Regexp, []byte)) {
	t.Helper()
	rs := make([]*Regexp, n)
	for i := range rs {
		rs[i], _ = re(i)
	}
	pf := NewPrefilter(rs)
	dst := make([]bool, pf.Len())
	candidates, missed := 0, 0
	for j, text := range texts {
		pf.Candidates(text, dst)
		low := LowerASCII(text)
		for i := range rs {
			if dst[i] {
				candidates++
			}
			r, ans := re(i)
			if r == nil || ans[j] != '1' {
				continue
			}
			if !dst[i] {
				missed++
				t.Errorf("prefilter drops %s, which matches probe %d %.60q (literals %q)", r, j, text, r.Literals())
			}
			if lits := r.Literals(); lits != nil && !slices.ContainsFunc(lits, func(l string) bool { return strings.Contains(low, l) }) {
				t.Errorf("%s matches probe %d %.60q holding none of its literals %q", r, j, text, lits)
			}
		}
	}
	t.Logf("prefilter: %d patterns without literals; %.1f%% of pattern x probe pairs left to run; %d matches dropped",
		len(pf.always), 100*float64(candidates)/float64(len(texts)*n), missed)
}
