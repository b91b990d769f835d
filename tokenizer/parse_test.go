package tokenizer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// updateRequested reports whether the test binary was run with -update
// (the flag is registered by the package's token tests).
func updateRequested() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func parseFixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/parse")
	}
	return files
}

// renderParsed is the golden form of a parsed message.
func renderParsed(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "== mbox-from\n%q\n", m.MboxFrom)
	fmt.Fprintf(&b, "== defects\n")
	for _, d := range m.Defects {
		fmt.Fprintf(&b, "%s\n", d)
	}
	fmt.Fprintf(&b, "== header\n")
	for _, f := range m.Header {
		fmt.Fprintf(&b, "%s: %q\n", f.Name, f.Value)
	}
	fmt.Fprintf(&b, "== parts\n")
	for _, p := range m.Parts {
		fmt.Fprintf(&b, "%s%s charset=%q cte=%q leaf=%v decoded=%d file=%q\n",
			strings.Repeat("  ", p.Depth), p.ContentType, p.Charset, p.TransferEncoding, p.Leaf, len(p.Decoded), p.Filename)
	}
	fmt.Fprintf(&b, "== text\n")
	for _, l := range m.Text {
		fmt.Fprintf(&b, "%q\n", l)
	}
	fmt.Fprintf(&b, "== invisible\n")
	for _, l := range m.Invisible {
		fmt.Fprintf(&b, "%q\n", l)
	}
	fmt.Fprintf(&b, "== uris\n")
	uris := slices.Clone(m.URIs)
	slices.Sort(uris)
	for _, u := range uris {
		fmt.Fprintf(&b, "%q\n", u)
	}
	fmt.Fprintf(&b, "== relays\n")
	for _, r := range m.Relays {
		switch {
		case r.Unparseable:
			fmt.Fprintf(&b, "unparseable %q\n", r.Raw)
		case r.Ignored:
			fmt.Fprintf(&b, "ignored %q\n", r.Raw)
		default:
			fmt.Fprintf(&b, "%s trusted=%v private=%v\n", r.String(), r.Trusted, r.Private)
		}
	}
	rh := m.RelayHeaders()
	fmt.Fprintf(&b, "== relay-headers\nTrusted: %s\nUntrusted: %s\nInternal: %s\nExternal: %s\n",
		rh.Trusted, rh.Untrusted, rh.Internal, rh.External)
	return b.String()
}

// TestParseGolden compares the parse of every fixture with its golden
// file; run with -update to rewrite them after checking the differences.
func TestParseGolden(t *testing.T) {
	for _, f := range parseFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := renderParsed(Parse(raw))
			golden := strings.TrimSuffix(f, ".eml") + ".golden"
			if updateRequested() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("parse of %s differs from %s:\n%s", f, golden, parseGoldenDiff(string(want), got))
			}
		})
	}
}

func parseGoldenDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want %s\n got  %s", i+1, a, b)
		}
	}
	return ""
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name, raw     string
		field, want   string
		wantMbox      string
		wantNoDefects bool
	}{
		{
			name:  "folded value is unfolded with one space",
			raw:   "Subject: Hello\n\t  folded   world\n\nbody\n",
			field: "Subject", want: "Hello folded   world",
		},
		{
			name:  "blanks around the value are removed",
			raw:   "Subject:    padded   \n\nbody\n",
			field: "Subject", want: "padded",
		},
		{
			name:  "adjacent encoded words join without the blank",
			raw:   "Subject: =?UTF-8?Q?a?= =?UTF-8?Q?b?= c\n\nx\n",
			field: "Subject", want: "ab c",
		},
		{
			name:  "latin-1 encoded word becomes UTF-8",
			raw:   "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\n\nx\n",
			field: "Subject", want: "Grüße",
		},
		{
			name:  "Message-ID keeps encoded words",
			raw:   "Message-ID: =?UTF-8?Q?x?=\n\nx\n",
			field: "Message-ID", want: "=?UTF-8?Q?x?=",
		},
		{
			name:  "raw 8-bit that is not UTF-8 is read as Windows-1252",
			raw:   "Subject: na\xefve \x93quoted\x94\n\nx\n",
			field: "Subject", want: "naïve “quoted”",
		},
		{
			name:  "mbox From line is not a header",
			raw:   "From someone@example.org Mon Jun  3 10:00:00 2024\nSubject: s\n\nx\n",
			field: "Subject", want: "s", wantMbox: "From someone@example.org Mon Jun  3 10:00:00 2024",
			wantNoDefects: true,
		},
		{
			name:  "CRLF line endings",
			raw:   "Subject: crlf\r\n folded\r\n\r\nbody\r\n",
			field: "Subject", want: "crlf folded",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Parse([]byte(tc.raw))
			if got := m.Header.Get(tc.field); got != tc.want {
				t.Errorf("Header.Get(%q) = %q, want %q", tc.field, got, tc.want)
			}
			if m.MboxFrom != tc.wantMbox {
				t.Errorf("MboxFrom = %q, want %q", m.MboxFrom, tc.wantMbox)
			}
			if tc.wantNoDefects && len(m.Defects) > 0 {
				t.Errorf("Defects = %v, want none", m.Defects)
			}
		})
	}
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name          string
		raw           string
		wantText      []string
		wantInvisible []string
		wantRendered  []string // what body rules see; nil: same as wantText
		wantURI       string
		wantDefect    Defect
	}{
		{
			name:     "subject first, paragraphs become lines",
			raw:      "Subject: S\n\none\ntwo\n\n\nthree  four\n",
			wantText: []string{"S\n", "one two\n", "three four "},
		},
		{
			name:     "no subject gives an empty first line",
			raw:      "To: x@example.org\n\nbody\n",
			wantText: []string{"\n", "body "},
		},
		{
			name:          "hidden HTML text is kept apart",
			raw:           "Subject: h\nContent-Type: text/html\n\n<p>shown</p><span style=\"display:none\">hidden</span>\n",
			wantText:      []string{"h\n", "\n", "shown\n", " "},
			wantInvisible: []string{"hidden"},
			wantRendered:  []string{"h\n", "\n", "shown\n", "hidden "},
		},
		{
			name:     "base64 body is decoded",
			raw:      "Subject: b\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n",
			wantText: []string{"b\n", "hello world"},
		},
		{
			name:     "quoted-printable soft breaks join lines",
			raw:      "Subject: q\nContent-Transfer-Encoding: quoted-printable\n\nsoft=\nbreak =3D done\n",
			wantText: []string{"q\n", "softbreak = done "},
		},
		{
			name:     "URI in text gets a scheme",
			raw:      "Subject: u\n\nsee www.example.com/page now\n",
			wantText: []string{"u\n", "see www.example.com/page now "},
			wantURI:  "http://www.example.com/page",
		},
		{
			name:       "multipart without closing boundary",
			raw:        "Subject: m\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\npart one\n",
			wantText:   []string{"m\n", "part one "},
			wantDefect: DefectUnterminatedMIME,
		},
		{
			name:       "header without body",
			raw:        "Subject: only",
			wantText:   []string{"only\n"},
			wantDefect: DefectMissingHeaderBody,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Parse([]byte(tc.raw))
			if !slices.Equal(m.Text, tc.wantText) {
				t.Errorf("Text = %q, want %q", m.Text, tc.wantText)
			}
			wantRendered := tc.wantRendered
			if wantRendered == nil {
				wantRendered = tc.wantText
			}
			if !slices.Equal(m.Rendered, wantRendered) {
				t.Errorf("Rendered = %q, want %q", m.Rendered, wantRendered)
			}
			if !slices.Equal(m.Invisible, tc.wantInvisible) {
				t.Errorf("Invisible = %q, want %q", m.Invisible, tc.wantInvisible)
			}
			if tc.wantURI != "" && !slices.Contains(m.URIs, tc.wantURI) {
				t.Errorf("URIs = %q, want %q among them", m.URIs, tc.wantURI)
			}
			if tc.wantDefect != "" && !m.HasDefect(tc.wantDefect) {
				t.Errorf("Defects = %v, want %s", m.Defects, tc.wantDefect)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		limits Limits
		want   Defect
		check  func(t *testing.T, m *Message) // further assertions; may be nil
	}{
		{
			name:   "too many parts",
			raw:    multipartWithParts(50),
			limits: Limits{MaxParts: 10},
			want:   DefectTooManyParts,
			check: func(t *testing.T, m *Message) {
				if len(m.Parts) > 10 {
					t.Errorf("len(Parts) = %d, want at most 10", len(m.Parts))
				}
			},
		},
		{
			name:   "multiparts nested too deep",
			raw:    nestedMultipart(5),
			limits: Limits{MaxDepth: 3},
			want:   DefectTooDeep,
		},
		{
			name:   "decoded part too big",
			raw:    "Subject: big\n\n" + strings.Repeat("x", 5000) + "\n",
			limits: Limits{MaxDecodedBytes: 100},
			want:   DefectTruncated,
			check: func(t *testing.T, m *Message) {
				if got := len(m.Parts[0].Decoded); got != 100 {
					t.Errorf("decoded %d bytes, want 100", got)
				}
			},
		},
		{
			name:   "too many header fields",
			raw:    "Received: from a\nSubject: first\n" + strings.Repeat("X-Filler: x\n", 50) + "Subject: late\n\nbody\n",
			limits: Limits{MaxHeaderFields: 10},
			want:   DefectTooManyHeaders,
			check: func(t *testing.T, m *Message) {
				if len(m.Header) != 10 || m.Header.last("subject") != "first" {
					t.Errorf("kept %d fields, Subject %q; want the first 10, Subject \"first\"", len(m.Header), m.Header.last("subject"))
				}
			},
		},
		{
			name:   "message too long",
			raw:    "Subject: long\n\n" + strings.Repeat("word ", 1000) + "TAIL\n",
			limits: Limits{MaxMessageBytes: 1000},
			want:   DefectTruncated,
			check: func(t *testing.T, m *Message) {
				if text := strings.Join(m.Text, ""); !strings.Contains(text, "word") || strings.Contains(text, "TAIL") {
					t.Errorf("text %q: want the start of the body without its tail", text)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ParseWithLimits([]byte(tc.raw), tc.limits)
			if !m.HasDefect(tc.want) {
				t.Errorf("Defects = %v, want %s", m.Defects, tc.want)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// multipartWithParts is a multipart message with n text parts.
func multipartWithParts(n int) string {
	var sb strings.Builder
	sb.WriteString("Subject: many\nContent-Type: multipart/mixed; boundary=B\n\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "--B\nContent-Type: text/plain\n\npart %d\n", i)
	}
	sb.WriteString("--B--\n")
	return sb.String()
}

// nestedMultipart is a message of depth+1 multiparts, each inside the
// previous one, around a text part.
func nestedMultipart(depth int) string {
	var sb strings.Builder
	sb.WriteString("Subject: deep\nContent-Type: multipart/mixed; boundary=L0\n\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&sb, "--L%d\nContent-Type: multipart/mixed; boundary=L%d\n\n", i-1, i)
	}
	fmt.Fprintf(&sb, "--L%d\nContent-Type: text/plain\n\ndeep text\n", depth)
	return sb.String()
}

func TestParseNeverNil(t *testing.T) {
	for _, raw := range []string{"", "\n", "\x00\xff", "From \n", "--\n--\n", ":\n\n", "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n"} {
		m := Parse([]byte(raw))
		if m == nil {
			t.Fatalf("Parse(%q) = nil", raw)
		}
		if len(m.Parts) == 0 {
			t.Errorf("Parse(%q) has no parts", raw)
		}
	}
}
