package spamdproto

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated sections of testdata/transcripts")

// Transcript files (testdata/transcripts/*.txt) are byte-exact exchanges
// with the server over loopback. A file is comment lines, then sections:
//
//	-- server --      key: value lines: tell: off, maxmessagesize: N,
//	                  halfclose: no (the client never half-closes, like
//	                  the Perl client), scanner: gtube|fixed|error|panic
//	-- result --      for scanner: fixed: score, threshold, spam, symbols
//	-- report --      for scanner: fixed: the REPORT text (escaped)
//	-- rewritten --   for scanner: fixed: the PROCESS message (escaped)
//	-- tell --        a fixed Teller answer: didset:, didremove: (targets);
//	                  without it a Teller that remembers what it learned
//	-- request --     the bytes the client sends (escaped)
//	-- response --    generated: the bytes the server answered (escaped)
//	-- seen --        generated: what the Scanner/Teller were given
//
// Escaped text: the file's own line breaks are not content; \r \n \t \\
// and \xHH are. Request, report and rewritten text may also use
// {{msg NAME}} (testdata/messages/NAME), {{len NAME}}, {{zlib NAME}} (its
// zlib stream), {{zlen NAME}} and {{repeat N TEXT}}. -update rewrites
// response and seen; the spec's examples were written by hand first.

type section struct{ name, text string }

type transcript struct {
	head     string // comment lines before the first section
	sections []section
}

func parseTranscript(data string) (*transcript, error) {
	tr := &transcript{}
	cur := -1
	for line := range strings.Lines(data) {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			tr.sections = append(tr.sections, section{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = len(tr.sections) - 1
			continue
		}
		if cur < 0 {
			tr.head += line
			continue
		}
		tr.sections[cur].text += line
	}
	return tr, nil
}

func (tr *transcript) get(name string) (string, bool) {
	for _, s := range tr.sections {
		if s.name == name {
			return s.text, true
		}
	}
	return "", false
}

func (tr *transcript) set(name, text string) {
	for i := range tr.sections {
		if tr.sections[i].name == name {
			tr.sections[i].text = text
			return
		}
	}
	tr.sections = append(tr.sections, section{name: name, text: text})
}

func (tr *transcript) String() string {
	var b strings.Builder
	b.WriteString(tr.head)
	for _, s := range tr.sections {
		b.WriteString("-- " + s.name + " --\n")
		b.WriteString(s.text)
	}
	return b.String()
}

func keyValues(text string) map[string]string {
	kv := map[string]string{}
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return kv
}

// expand turns escaped section text into bytes.
func expand(t testing.TB, text string, directives bool) []byte {
	t.Helper()
	var out bytes.Buffer
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		for line != "" {
			i := strings.Index(line, "{{")
			if !directives || i < 0 {
				out.Write(unescape(t, line))
				break
			}
			out.Write(unescape(t, line[:i]))
			j := strings.Index(line[i:], "}}")
			if j < 0 {
				t.Fatalf("unterminated {{ in %q", line)
			}
			out.Write(directive(t, line[i+2:i+j]))
			line = line[i+j+2:]
		}
	}
	return out.Bytes()
}

func directive(t testing.TB, d string) []byte {
	t.Helper()
	op, arg, _ := strings.Cut(d, " ")
	switch op {
	case "msg":
		return readMessage(t, arg)
	case "len":
		return []byte(strconv.Itoa(len(readMessage(t, arg))))
	case "zlib":
		return zlibBytes(t, readMessage(t, arg))
	case "zlen":
		return []byte(strconv.Itoa(len(zlibBytes(t, readMessage(t, arg)))))
	case "repeat":
		n, text, _ := strings.Cut(arg, " ")
		count, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("repeat count %q: %v", n, err)
		}
		return bytes.Repeat(unescape(t, text), count)
	}
	t.Fatalf("unknown directive {{%s}}", d)
	return nil
}

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, 3) // spamc -z uses level 3
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unescape(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			t.Fatalf("trailing backslash in %q", s)
		}
		i++
		switch s[i] {
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case '\\':
			out = append(out, '\\')
		case '{':
			out = append(out, '{')
		case 'x':
			if i+2 >= len(s) {
				t.Fatalf("short \\x in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("bad \\x in %q: %v", s, err)
			}
			out = append(out, byte(v))
			i += 2
		default:
			t.Fatalf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return out
}

// escape renders bytes as escaped text, one file line per content line.
func escape(b []byte) string {
	var out strings.Builder
	atLineStart := true
	for i, c := range b {
		atLineStart = false
		switch {
		case c == '\r':
			out.WriteString(`\r`)
		case c == '\n':
			out.WriteString(`\n` + "\n")
			atLineStart = true
		case c == '\t':
			out.WriteString(`\t`)
		case c == '\\':
			out.WriteString(`\\`)
		case c == '{' && i+1 < len(b) && b[i+1] == '{':
			out.WriteString(`\{`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&out, `\x%02x`, c)
		default:
			out.WriteByte(c)
		}
	}
	if !atLineStart {
		out.WriteString("\n")
	}
	return out.String()
}

// fixedTeller answers every TELL the same.
type fixedTeller struct {
	res  TellResult
	seen []string
}

func (f *fixedTeller) Tell(_ context.Context, req *TellRequest) (TellResult, error) {
	f.seen = append(f.seen, fmt.Sprintf("tell user=%q class=%s set=%s remove=%s bytes=%d",
		req.User, req.Class, req.Set, req.Remove, len(req.Message)))
	return f.res, nil
}

func parseTargets(s string) Targets {
	return Targets{Local: strings.Contains(s, "local"), Remote: strings.Contains(s, "remote")}
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

func runTranscript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := parseTranscript(string(data))
	if err != nil {
		t.Fatal(err)
	}
	serverText, _ := tr.get("server")
	opts := keyValues(serverText)
	cfg := Config{}
	if v, ok := opts["maxmessagesize"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxMessageSize = n
	}

	scanner := transcriptScanner(t, tr, opts["scanner"])
	var teller Teller
	var tellLog func() []string
	if opts["tell"] != "off" {
		if text, ok := tr.get("tell"); ok {
			kv := keyValues(text)
			ft := &fixedTeller{res: TellResult{DidSet: parseTargets(kv["didset"]), DidRemove: parseTargets(kv["didremove"])}}
			teller, tellLog = ft, func() []string { return ft.seen }
		} else {
			ft := newFakeTeller()
			teller, tellLog = ft, ft.log
		}
	}
	ts := startServer(t, cfg, scanner, teller)

	reqText, ok := tr.get("request")
	if !ok {
		t.Fatal("no request section")
	}
	got := exchangeRaw(t, ts.addr, expand(t, reqText, true), opts["halfclose"] != "no")

	var seen strings.Builder
	for _, l := range scanner.log() {
		seen.WriteString(l + "\n")
	}
	if tellLog != nil {
		for _, l := range tellLog() {
			seen.WriteString(l + "\n")
		}
	}

	if *update {
		tr.set("response", escape(got))
		tr.set("seen", seen.String())
		if err := os.WriteFile(file, []byte(tr.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantText, ok := tr.get("response")
	if !ok {
		t.Fatal("no response section (run with -update)")
	}
	if want := expand(t, wantText, false); !bytes.Equal(got, want) {
		t.Errorf("answer differs\n got: %q\nwant: %q", got, want)
	}
	wantSeen, _ := tr.get("seen")
	if seen.String() != wantSeen {
		t.Errorf("engine calls differ\n got: %q\nwant: %q", seen.String(), wantSeen)
	}
}

func transcriptScanner(t *testing.T, tr *transcript, kind string) *fakeScanner {
	t.Helper()
	switch kind {
	case "", "gtube":
		return gtubeScanner()
	case "error":
		return &fakeScanner{fn: func(context.Context, *ScanRequest) (ScanResult, error) {
			return nil, errors.New("rules engine exploded (secret path /etc/gospamd)")
		}}
	case "panic":
		return &fakeScanner{fn: func(context.Context, *ScanRequest) (ScanResult, error) {
			panic("scanner bug")
		}}
	case "fixed":
	default:
		t.Fatalf("unknown scanner %q", kind)
	}
	resultText, _ := tr.get("result")
	kv := keyValues(resultText)
	res := &fakeResult{}
	var err error
	if res.score, err = strconv.ParseFloat(kv["score"], 64); err != nil {
		t.Fatalf("result score: %v", err)
	}
	if res.threshold, err = strconv.ParseFloat(kv["threshold"], 64); err != nil {
		t.Fatalf("result threshold: %v", err)
	}
	res.spam = res.score >= res.threshold
	if v, ok := kv["spam"]; ok {
		res.spam = v == "true"
	}
	res.symbols = strings.Fields(kv["symbols"])
	if text, ok := tr.get("report"); ok {
		res.report = string(expand(t, text, true))
	}
	if text, ok := tr.get("rewritten"); ok {
		res.rewritten = expand(t, text, true)
	}
	return &fakeScanner{fn: func(context.Context, *ScanRequest) (ScanResult, error) { return res, nil }}
}
