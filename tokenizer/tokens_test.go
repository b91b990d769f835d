package tokenizer

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata/tokens")

// The vectors of spec/bayes.md §2 and §4.
func TestSpecVectors(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		region Region
		want   string
	}{
		{
			name:   "body",
			text:   "Hello World. Buy CHEAP Viagra now!!! Visit www.Example.com/offer or mail sales@shop.example.org",
			region: RegionBody,
			want: "hello buy cheap CHEAP viagra Viagra now now!!! visit Visit UD:www.Example.com UD:Example.com " +
				"UD:com wwwExamplecom www.example.com wwwexamplecom www.Example.com offer U*sales " +
				"D*shop.example.org D*example.org D*org sk:saless sk:sales@s",
		},
		{
			name:   "uri",
			text:   "http://www.example.com/offer?id=123",
			region: RegionURI,
			want:   "UD:www.example.com UD:example.com UD:com wwwexamplecom www.example.com offer 123",
		},
		{
			name:   "u8",
			text:   "你好世界你好",
			region: RegionBody,
			want:   "u8:你 u8:好 u8:世 u8:界 u8:你 u8:好",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(TokenizeLine(tt.text, "", tt.region), " ")
			if got != tt.want {
				t.Errorf("TokenizeLine(%q)\n got %s\nwant %s", tt.text, got, tt.want)
			}
		})
	}

	t.Run("from header", func(t *testing.T) {
		m := &Message{Header: Header{{Name: "From", Value: `"John Doe" <john.doe@mail.example.co.uk>`}}}
		got := Tokens(m, DefaultTokenOptions())
		addr := []string{"N*John", "N*Doe", "U*john.doe", "D*mail.example.co.uk", "D*example.co.uk", "D*co.uk", "D*uk"}
		var want []string
		for _, p := range []string{"H*Ad:", "H*F:"} {
			for _, a := range addr {
				want = append(want, p+a)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("From tokens\n got %q\nwant %q", got, want)
		}
	})

	t.Run("keys", func(t *testing.T) {
		for tok, want := range map[string]string{"Viagra": "5a6aff3b73", "H*F:D*example.com": "d2e2f22315"} {
			if got := KeyOf(tok).String(); got != want {
				t.Errorf("KeyOf(%q) = %s, want %s", tok, got, want)
			}
		}
	})
}

// TestTokenizeLineSteps checks each step of the line tokenizer on its own.
func TestTokenizeLineSteps(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		prefix string
		region Region
		want   []string
	}{
		// Step 1: separators.
		{"separators", "foo:bar/baz=qux<uno>(two)?three%four&five#six+seven;eight[nine]", "", RegionHeader,
			[]string{"foo", "bar", "baz", "qux", "uno", "two", "three", "four", "five", "six", "seven", "eight", "nine"}},
		{"kept punctuation", "$31,000,000 f*ck Hits!", "", RegionHeader, []string{"$31,000,000", "f*ck", "Hits!"}},
		{"tab and newline", "abc\tdef\nghi", "", RegionHeader, []string{"abc", "def", "ghi"}},
		{"utf-8 kept", "café straße", "", RegionHeader, []string{"café", "straße"}},
		{"lone continuation byte", "abc\x85def", "", RegionHeader, []string{"abc", "def"}},
		{"latin-1 byte kept", "abc\xe9def", "", RegionHeader, []string{"abc\xe9def"}},
		{"nbsp byte", "abc\xa0def", "", RegionHeader, []string{"abc", "def"}},

		// Step 2: runs of dots and dashes.
		{"ellipsis", "wait...what", "", RegionHeader, []string{"wait", "what"}},
		{"long ellipsis kept", "wait.......what", "", RegionHeader, []string{"wait.......what"}},
		{"dashes", "foo--bar---baz", "", RegionHeader, []string{"foo", "bar", "baz"}},
		{"word after a run not reused", "foo--b--baz", "", RegionHeader, []string{"foo", "b--baz"}},

		// Step 3: title case.
		{"title case at start", "Hello there", "", RegionBody, []string{"hello", "there"}},
		{"title case after full stop", "uno dos. Three", "", RegionBody, []string{"uno", "dos", "three"}},
		{"no title case after leading space", " Hello", "", RegionBody, []string{"hello", "Hello"}},
		{"second sentence after match kept", "Foo. Bar", "", RegionBody, []string{"foo", "bar", "Bar"}},
		{"all caps kept", "HELLO there", "", RegionBody, []string{"hello", "HELLO", "there"}},
		{"no title case in headers", "Hello there", "", RegionHeader, []string{"Hello", "there"}},

		// Step 4: trim, length, stopwords.
		{"trim", `"quoted", 'single' --dash-- ...dots...`, "", RegionHeader, []string{"quoted", "single", "dash", "dots"}},
		{"short dropped", "a ab abc", "", RegionHeader, []string{"abc"}},
		{"stopwords", "the THE The you're It's information informations", "", RegionHeader, []string{"informations"}},
		{"stopwords in body", "With with WITH", "", RegionBody, nil},

		// Step 5: addresses and host names.
		{"mail address", "me@a.b.c", "", RegionBody, []string{"U*me", "D*a.b.c", "D*b.c", "D*c", "meabc", "me@a.b.c"}},
		{"mail address in header not split", "me@a.b.c", "", RegionHeader, []string{"me@a.b.c"}},
		{"host", "www.Example.com", "", RegionBody, []string{"UD:www.Example.com", "UD:Example.com", "UD:com",
			"wwwExamplecom", "www.example.com", "wwwexamplecom", "www.Example.com"}},
		{"no host in headers", "ab.cd", "", RegionHeader, []string{"ab.cd"}},
		{"no host without letter after dot", "1.234", "", RegionBody, []string{"1234", "1.234"}},
		{"invisible prefix not on UD", "ab.cd", "I*:", RegionBody, []string{"UD:ab.cd", "UD:cd", "I*:abcd", "I*:ab.cd"}},

		// Step 6: long tokens.
		{"sk body", "abcdefghijklmnopqrstu", "", RegionBody, []string{"sk:abcdefg"}},
		{"sk header", "abcdefghijklmnopqrstu", "H*x:", RegionHeader, []string{"H*x:sk:abcdefg"}},
		{"uri long kept", "abcdefghijklmnopqrstu", "", RegionURI, []string{"abcdefghijklmnopqrstu"}},
		{"star long kept", "abcdefghij*klmnopqrstu", "", RegionHeader, []string{"abcdefghij*klmnopqrstu"}},
		{"15 bytes kept", "abcdefghijklmno", "", RegionHeader, []string{"abcdefghijklmno"}},
		{"16 bytes shortened", "abcdefghijklmnop", "", RegionHeader, []string{"sk:abcdefg"}},
		{"sk counts utf-8 characters", "ééééééééé", "", RegionHeader, []string{"sk:ééééééé"}},
		{"u8", "日本語のテキスト", "I*:", RegionBody, []string{"I*:u8:日", "I*:u8:本", "I*:u8:語", "I*:u8:の",
			"I*:u8:テ", "I*:u8:キ", "I*:u8:ス", "I*:u8:ト"}},
		{"u8 in uri", "日本語のテキスト", "", RegionURI, []string{"u8:日", "u8:本", "u8:語", "u8:の", "u8:テ", "u8:キ", "u8:ス", "u8:ト"}},

		// Step 7: decomposition.
		{"decompose punctuation", "now!!!", "", RegionBody, []string{"now", "now!!!"}},
		{"decompose case", "BUY", "", RegionBody, []string{"buy", "BUY"}},
		{"decompose both", "xyz BUY!!", "I*:", RegionBody, []string{"I*:xyz", "I*:BUY", "I*:buy!!", "I*:buy", "I*:BUY!!"}},
		{"no decomposition in headers", "BUY!!", "", RegionHeader, []string{"BUY!!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TokenizeLine(tt.text, tt.prefix, tt.region)
			if !slices.Equal(got, tt.want) {
				t.Errorf("TokenizeLine(%q, %q, %d)\n got %q\nwant %q", tt.text, tt.prefix, tt.region, got, tt.want)
			}
		})
	}
}

func TestStopwords(t *testing.T) {
	en := EnglishStopwords()
	for _, w := range []string{"able", "ABLE", "It's", "you're", "YOUR", "without", "mailto"} {
		if !en.IsStopword([]byte(w)) {
			t.Errorf("%q is an English stopword", w)
		}
	}
	for _, w := range []string{"ab", "viagra", "mails", "yours", "it"} {
		if en.IsStopword([]byte(w)) {
			t.Errorf("%q is not an English stopword", w)
		}
	}
	de, err := StopwordPattern(`(?^:(?:a(?:ber|lso)|k(?:\xc3\xb6nnen)))`)
	if err != nil {
		t.Fatal(err)
	}
	for w, want := range map[string]bool{"aber": true, "ALSO": true, "können": true, "abers": false, "xaber": false} {
		if got := de.IsStopword([]byte(w)); got != want {
			t.Errorf("German pattern on %q = %v, want %v", w, got, want)
		}
	}
	opt := DefaultTokenOptions()
	opt.Stopwords = StopwordList{en, de}
	m := &Message{Text: []string{"aber the viagra"}}
	if got := Tokens(m, opt); !slices.Equal(got, []string{"viagra"}) {
		t.Errorf("tokens with en+de stopwords = %q, want [viagra]", got)
	}
	opt.Stopwords = nil
	if got := Tokens(m, opt); !slices.Equal(got, []string{"aber", "the", "viagra"}) {
		t.Errorf("tokens without stopwords = %q", got)
	}
}

func TestMaxTokenLength(t *testing.T) {
	m := &Message{Text: []string{"abcdefghijklmnopqrst"}}
	opt := DefaultTokenOptions()
	opt.MaxTokenLength = 20
	if got := Tokens(m, opt); !slices.Equal(got, []string{"abcdefghijklmnopqrst"}) {
		t.Errorf("with MaxTokenLength 20: %q", got)
	}
	opt.MaxTokenLength = 10
	if got := Tokens(m, opt); !slices.Equal(got, []string{"sk:abcdefg"}) {
		t.Errorf("with MaxTokenLength 10: %q", got)
	}
}

func TestSources(t *testing.T) {
	m := &Message{
		Header:    Header{{Name: "X-Foo", Value: "headerword"}},
		Text:      []string{"visibleword"},
		Invisible: []string{"hiddenword"},
		URIs:      []string{"http://uriword.example/"},
		Parts:     []*Part{{Leaf: true, ContentType: "text/plain", Decoded: nil}},
	}
	tests := []struct {
		src  Sources
		want []string
	}{
		{SourceHeader, []string{"HX-Foo:headerword"}},
		{SourceVisible, []string{"visibleword"}},
		{SourceInvisible, []string{"I*:hiddenword"}},
		{SourceURI, []string{"UD:uriword.example", "UD:example", "uriwordexample", "uriword.example"}},
		{SourceMIMEPart, []string{"MIME:Empty-Plaintext"}},
	}
	for _, tt := range tests {
		opt := DefaultTokenOptions()
		opt.Sources = tt.src
		if got := Tokens(m, opt); !slices.Equal(got, tt.want) {
			t.Errorf("sources %b: got %q, want %q", tt.src, got, tt.want)
		}
	}
	opt := DefaultTokenOptions()
	all := Tokens(m, opt)
	if slices.Contains(all, "MIME:Empty-Plaintext") {
		t.Errorf("MIME part tokens are off by default: %q", all)
	}
	if len(all) != 1+1+1+4 {
		t.Errorf("default sources gave %q", all)
	}
}

func TestTokensDistinct(t *testing.T) {
	m := &Message{Text: []string{"buy Viagra viagra VIAGRA", "viagra again"}}
	toks := Tokens(m, DefaultTokenOptions())
	want := []string{"buy", "viagra", "Viagra", "VIAGRA", "again"}
	if !slices.Equal(toks, want) {
		t.Errorf("Tokens = %q, want %q", toks, want)
	}
	keys := TokenKeys(m, DefaultTokenOptions())
	if len(keys) != len(want) {
		t.Fatalf("TokenKeys gave %d keys, want %d", len(keys), len(want))
	}
	for i, k := range keys {
		if k != KeyOf(want[i]) {
			t.Errorf("key %d = %s, want KeyOf(%q) = %s", i, k, want[i], KeyOf(want[i]))
		}
	}
}

// TestBodyTokenCap checks that body tokens stop after the line that
// reaches 50 000 tokens.
func TestBodyTokenCap(t *testing.T) {
	var lines []string
	for i := 0; i < 300; i++ {
		var b strings.Builder
		for j := 0; j < 200; j++ {
			b.WriteString("tok")
			b.WriteString(itoa(i*200 + j))
			b.WriteString(" ")
		}
		lines = append(lines, b.String())
	}
	m := &Message{Text: lines}
	got := len(Tokens(m, DefaultTokenOptions()))
	if got != 50000 {
		t.Errorf("got %d body tokens, want 50000 (250 lines of 200)", got)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestTokensGolden tokenizes the hand-built messages of
// testdata/tokens/*.txt (see loadTestMessage) and compares the sorted
// tokens with the .golden files. Regenerate with -update after checking
// the change against SpamAssassin (GOSPAMD_TOKDIFF).
func TestTokensGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/tokens/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/tokens/*.txt")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m := loadTestMessage(t, f)
			toks := Tokens(m, DefaultTokenOptions())
			slices.Sort(toks)
			got := strings.Join(toks, "\n") + "\n"
			golden := strings.TrimSuffix(f, ".txt") + ".golden"
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("tokens of %s differ from %s:\n%s", f, golden, lineDiff(string(want), got))
			}
		})
	}
}

// loadTestMessage reads a hand-built Message: sections introduced by
// "== header", "== text", "== invisible", "== uri", "== relay"; header
// lines are "Name: value", relays are "ip rdns helo by auth trust" with
// "-" for an empty field and trust "trusted" or "untrusted".
func loadTestMessage(t testing.TB, path string) *Message {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{}
	section := ""
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if s, ok := strings.CutPrefix(line, "== "); ok {
			section = s
			continue
		}
		switch section {
		case "header":
			name, val, _ := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			m.Header = append(m.Header, Field{Name: name, Raw: " " + val, Value: val})
		case "text":
			m.Text = append(m.Text, line)
		case "invisible":
			m.Invisible = append(m.Invisible, line)
		case "uri":
			m.URIs = append(m.URIs, line)
		case "relay":
			f := strings.Fields(line)
			for i := range f {
				if f[i] == "-" {
					f[i] = ""
				}
			}
			if len(f) != 6 {
				t.Fatalf("relay line %q: want ip rdns helo by auth trusted", line)
			}
			trusted := f[5] == "trusted"
			m.Relays = append(m.Relays, Relay{IP: f[0], RDNS: f[1], HELO: f[2], By: f[3], Auth: f[4],
				Trusted: trusted, Internal: trusted})
		}
	}
	return m
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// BenchmarkTokens measures TokenKeys on parsed fixture messages.
func BenchmarkTokens(b *testing.B) {
	files, _ := filepath.Glob("testdata/tokens/*.eml")
	if len(files) == 0 {
		b.Fatal("no testdata/tokens/*.eml")
	}
	var msgs []*Message
	size := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, Parse(raw))
		size += len(raw)
	}
	opt := DefaultTokenOptions()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			TokenKeys(m, opt)
		}
	}
}

// BenchmarkCorpusParseTokens parses and tokenizes the whole corpus, on
// all CPUs, and reports messages per second.
func BenchmarkCorpusParseTokens(b *testing.B) {
	var raws [][]byte
	size := 0
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		entries, err := os.ReadDir(filepath.Join(corpusRoot(), folder))
		if err != nil {
			b.Skip("corpus missing: " + err.Error())
		}
		for _, e := range entries {
			raw, err := os.ReadFile(filepath.Join(corpusRoot(), folder, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, raw)
			size += len(raw)
		}
	}
	opt := DefaultTokenOptions()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j := int(next.Add(1)) - 1
					if j >= len(raws) {
						return
					}
					TokenKeys(Parse(raws[j]), opt)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(len(raws)*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// isEnglishStopword holds exactly the words of englishStopwordList: each
// of them, and no other word of the corpus's text (nor a word's prefix or
// extension).
func TestEnglishStopwordSwitch(t *testing.T) {
	words := map[string]bool{}
	for _, w := range strings.Fields(englishStopwordList) {
		words[w] = true
	}
	for w := range words {
		for _, v := range []string{w, w[:len(w)-1], w + "s", "x" + w} {
			if got := isEnglishStopword(v); got != words[v] {
				t.Errorf("isEnglishStopword(%q) = %v, want %v", v, got, words[v])
			}
		}
	}
	if len(words) != 71 {
		t.Errorf("%d stopwords, want SpamAssassin's 71", len(words))
	}
	raws, _ := testpeer.CorpusMessages(t)
	for i := 0; i < len(raws); i += 10 {
		for _, line := range Parse(raws[i]).Text {
			for _, w := range strings.Fields(strings.ToLower(line)) {
				if got := isEnglishStopword(w); got != words[w] {
					t.Errorf("isEnglishStopword(%q) = %v, want %v", w, got, words[w])
				}
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { EnglishStopwords().IsStopword([]byte("Because")) }); n != 0 {
		t.Errorf("IsStopword allocates %v times", n)
	}
}

// keySet holds what a map[Key]bool holds, through its growth, for the
// zero key, keys differing in one byte and digests.
func TestKeySet(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []Key
	}{
		{"empty", nil},
		{"zero key", []Key{{}, {}, {0, 0, 0, 0, 1}, {}}},
		{"one byte apart", []Key{{1}, {0, 1}, {0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0, 1}, {1}, {0, 0, 0, 0, 1}}},
		{"all ones", []Key{{255, 255, 255, 255, 255}, {255, 255, 255, 255, 254}, {255, 255, 255, 255, 255}}},
		{"digests", func() []Key {
			var ks []Key
			for i := range 5000 {
				ks = append(ks, KeyOf(fmt.Sprint(i%3000)))
			}
			return ks
		}()},
	} {
		s := newKeySet(2)
		seen := map[Key]bool{}
		for _, k := range tc.keys {
			if got, want := s.insert(k), !seen[k]; got != want {
				t.Errorf("%s: insert(%v) = %v, want %v", tc.name, k, got, want)
			}
			seen[k] = true
		}
		if s.n != len(seen) {
			t.Errorf("%s: %d keys held, want %d", tc.name, s.n, len(seen))
		}
	}
}

// normalizeReference is step 1 written byte by byte, as normalize was
// before it copied the text whole: the reference for
// TestNormalizeMatchesReference.
func normalizeReference(text string) []byte {
	var b []byte
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if c < 0x80 {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(",@*!_'\"$. -", c) >= 0 {
				b = append(b, c)
			} else {
				b = append(b, ' ')
			}
			i++
			continue
		}
		switch {
		case c >= 0xC0 && c <= 0xDF && i+1 < n && tokIsCont(text[i+1]):
			b = append(b, text[i:i+2]...)
			i += 2
		case c >= 0xE0 && c <= 0xEF && i+2 < n && tokIsCont(text[i+1]) && tokIsCont(text[i+2]):
			b = append(b, text[i:i+3]...)
			i += 3
		case c >= 0xF0 && c <= 0xF4 && i+3 < n && tokIsCont(text[i+1]) && tokIsCont(text[i+2]) && tokIsCont(text[i+3]):
			b = append(b, text[i:i+4]...)
			i += 4
		case c >= 0xA1:
			b = append(b, c)
			i++
		default:
			b = append(b, ' ')
			i++
		}
	}
	return b
}

// TestNormalizeMatchesReference checks step 1 against the byte-by-byte
// reference on random byte strings rich in UTF-8 lead and continuation
// bytes, reusing one tokenizer as a message does.
func TestNormalizeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("aZ09 .-,@*!_'\"$\t\n<>%~\x00\x7f\x80\x9f\xa0\xa1\xbf\xc0\xc3\xdf\xe0\xe2\xef\xf0\xf4\xf5\xff")
	tk := newLineTokenizer(DefaultTokenOptions(), func([]byte) {})
	for range 50000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		want := normalizeReference(string(b))
		if got := tk.normalize(string(b)); string(got) != string(want) {
			t.Fatalf("normalize(%q) = %q, want %q", b, got, want)
		}
	}
}

// tokLowerTitleCaseReference is step 3 as it was before it jumped from
// one '.' to the next: the reference for
// TestLowerTitleCaseMatchesReference.
func tokLowerTitleCaseReference(b []byte) {
	n := len(b)
	p := 0
	for p < n {
		var capAt int
		switch {
		case p == 0 && tokIsUpper(b[0]):
			capAt = 0
		case b[p] == '.':
			q := p + 1
			for q < n && b[q] == ' ' {
				q++
			}
			if q == p+1 || q >= n || !tokIsUpper(b[q]) {
				p++
				continue
			}
			capAt = q
		default:
			p++
			continue
		}
		j := capAt + 1
		e := j
		for e < n && !tokIsUpper(b[e]) {
			e++
		}
		if e == j { // [^A-Z]+ needs one byte
			p++
			continue
		}
		end := -1
		if e == n {
			end = n
		} else {
			for k := e - 1; k > j; k-- {
				if b[k] == ' ' {
					end = k + 1
					break
				}
			}
		}
		if end < 0 {
			p++
			continue
		}
		b[capAt] += 'a' - 'A'
		p = end
	}
}

// TestLowerTitleCaseMatchesReference checks step 3 against the reference
// on random lines of capitals, dots, spaces and lower-case runs.
func TestLowerTitleCaseMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pieces := []string{" ", " ", "  ", ".", ". ", ".  ", "A", "Hello", "WORLD", "x", "abc", "I", "Mr.", "U.S.", "é"}
	changed := 0
	for range 50000 {
		var b []byte
		for k := rng.IntN(12); k >= 0; k-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		got, want := slices.Clone(b), slices.Clone(b)
		tokLowerTitleCase(got)
		tokLowerTitleCaseReference(want)
		if string(got) != string(want) {
			t.Fatalf("tokLowerTitleCase(%q) = %q, want %q", b, got, want)
		}
		if string(got) != string(b) {
			changed++
		}
	}
	if changed < 5000 {
		t.Errorf("only %d random lines changed: the test is too weak", changed)
	}
}

// reset and clearRuns leave every slot empty, whatever the keys' runs:
// sets filled from sparse to the full load at which they grow (long runs,
// runs wrapping around the end of the table), of keys inserted more than
// once, in tables grown for an earlier message and then reused.
func TestKeySetResetEmpties(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	randomKey := func() Key {
		var k Key
		for i := range k {
			k[i] = byte(rng.UintN(256))
		}
		return k
	}
	s := newKeySet(keySetSlots)
	for _, tc := range []struct {
		name string
		n    int  // keys inserted
		runs bool // clearRuns, whatever the load
	}{
		{"empty", 0, false},
		{"few", 20, false},
		{"grows", 5000, false},
		{"sparse in grown table", 30, false},
		{"half full, by runs", 8000, true},
		{"one, by runs", 1, true},
		{"dense again", 3000, false},
		{"sparse again", 100, false},
	} {
		var list []Key
		for range tc.n {
			k := randomKey()
			if len(list) > 0 && rng.IntN(4) == 0 {
				k = list[rng.IntN(len(list))]
			}
			if s.insert(k) {
				list = append(list, k)
			}
		}
		if tc.runs {
			s.clearRuns(list)
		} else {
			s.reset(list)
		}
		for i, v := range s.slots {
			if v != 0 {
				t.Fatalf("%s: slot %d of %d still holds %x", tc.name, i, len(s.slots), v)
			}
		}
		if s.n != 0 {
			t.Errorf("%s: %d keys counted after reset", tc.name, s.n)
		}
	}
}
