package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadingAsSpamAssassin: messages SpamAssassin reads in its own way
// (an IPv6 relay with "::" inside, an HTML comment never closed, runs of
// blank lines, a multipart body that starts with text): each is read as
// the user would see it described, and, where SpamAssassin is
// installed, exactly as it renders them (text, URIs, relays, headers).
func TestReadingAsSpamAssassin(t *testing.T) {
	head := "From: a@example.com\nTo: b@example.com\nSubject: test\nDate: Fri, 23 Aug 2002 10:00:00 +0000\nMessage-ID: <1@example.com>\n"
	html := func(body string) string {
		return head + "MIME-Version: 1.0\nContent-Type: text/html\n\n" + body
	}
	tests := []struct {
		name  string
		msg   string
		check func(m *Message) error
	}{
		{"IPv6 relay with :: inside", "Received: from mail.example.org (mail.example.org [2002:c101:da82::1]) by mx.example.com (Postfix) with ESMTP id 1234 for <b@example.com>; Fri, 23 Aug 2002 10:00:00 +0000\n" + head + "\nbody\n",
			func(m *Message) error {
				if len(m.Relays) != 1 || m.Relays[0].IP != "2002:c101:da82::1" || m.Relays[0].Unparseable {
					return fmt.Errorf("relays %+v", m.Relays)
				}
				return nil
			}},
		{"IPv6 relay with the IPv6: tag", "Received: from mail.example.org ([IPv6:2001:db8::25]) by mx.example.com with ESMTP id 1x; Fri, 23 Aug 2002 10:00:00 +0000\n" + head + "\nbody\n",
			func(m *Message) error {
				if len(m.Relays) != 1 || m.Relays[0].IP != "2001:db8::25" {
					return fmt.Errorf("relays %+v", m.Relays)
				}
				return nil
			}},
		{"comment never closed", html("<html><body><p>Visible <!-- note > Buy <a href=\"http://spam.example.com/\">now</a> cheap</p></body></html>\n"),
			func(m *Message) error {
				text := strings.Join(m.Text, "")
				if !strings.Contains(text, "Buy now cheap") || !slices.Contains(m.URIs, "http://spam.example.com/") {
					return fmt.Errorf("text after the comment lost: %q, URIs %q", text, m.URIs)
				}
				if st := m.Parts[0].HTMLStats(); st == nil || !slices.Equal(st.Comments, []string{"<!-- note >"}) {
					return fmt.Errorf("comments %q", st.Comments)
				}
				return nil
			}},
		{"comment closed by -- >", html("<p>a <!-- x -- > b</p>\n"), func(m *Message) error {
			if text := strings.Join(m.Text, ""); !strings.Contains(text, "a b") {
				return fmt.Errorf("text %q", text)
			}
			return nil
		}},
		// HTML::Parser knows no "<!-->", "<!--->" or "--!>": the
		// comment runs to the next "-->"; x/net/html ends it early.
		{"comment opened by <!-->", html("<p>a <!-->hidden <a href=\"http://hidden.example.com/\">x</a>--> b</p>\n"), func(m *Message) error {
			if text := strings.Join(m.Text, ""); strings.Contains(text, "hidden") || !strings.Contains(text, "a b") {
				return fmt.Errorf("text %q", text)
			}
			if slices.Contains(m.URIs, "http://hidden.example.com/") {
				return fmt.Errorf("URIs %q", m.URIs)
			}
			if st := m.Parts[0].HTMLStats(); st == nil || len(st.Comments) != 1 || !strings.HasSuffix(st.Comments[0], "</a>-->") {
				return fmt.Errorf("comments %q", st.Comments)
			}
			return nil
		}},
		{"comment opened by <!--->", html("<p>a <!--->hidden--> b</p>\n"), nil},
		{"comment with --!> inside", html("<p>a <!-- x --!> hidden --> b</p>\n"), func(m *Message) error {
			if text := strings.Join(m.Text, ""); strings.Contains(text, "hidden") {
				return fmt.Errorf("text %q", text)
			}
			return nil
		}},
		{"comment ended by --!> alone", html("<p>a <!-- x --!> b c</p>\n"), nil},
		{"<!-- in a script, never closed", html("<p>a</p><script>var x = 1; <!-- y</script><p>shown after the script</p>\n"), func(m *Message) error {
			if text := strings.Join(m.Text, ""); !strings.Contains(text, "shown after the script") {
				return fmt.Errorf("text %q", text)
			}
			return nil
		}},
		{"<!-- in a script, closed after it", html("<script><!-- y</script><p>shown</p> <!-- z --> after</p>\n"), nil},
		{"<!--<script> in a script", html("<script>a<!--<script>b</script><p>c</p></script><p>d</p>\n"), func(m *Message) error {
			if st := m.Parts[0].HTMLStats(); st == nil || !slices.Equal(st.Scripts, []string{"a<!--<script>b"}) {
				return fmt.Errorf("scripts %q", st.Scripts)
			}
			return nil
		}},
		{"<!-- in a style and a title", html("<html><head><title>t <!-- u</title><STYLE>p {} <!-- q</STYLE ></head><body>seen <!-- c --> too</body></html>\n"), nil},
		{"25 blank lines", html("<p>one</p>" + strings.Repeat("\n", 26) + "<p>two</p>\n"), func(m *Message) error {
			if st := m.Parts[0].HTMLStats(); st == nil || st.Length != len("<p>one</p>")+21+len("<p>two</p>\n") {
				return fmt.Errorf("HTML length %d, want the blank run cut to 20 lines", st.Length)
			}
			return nil
		}},
		{"multipart body starting with text", head + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\nContent-Type: text/plain\nnot a header block\n", nil},
	}
	dir := t.TempDir()
	var files []string
	for i, tc := range tests {
		f := filepath.Join(dir, fmt.Sprintf("%02d.eml", i))
		if err := os.WriteFile(f, []byte(tc.msg), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if tc.check != nil {
			if err := tc.check(Parse([]byte(tc.msg))); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
	}
	ref := runSAReference(t, files)
	for i, tc := range tests {
		r, ok := ref[files[i]]
		if !ok {
			t.Errorf("%s: SpamAssassin gave no result", tc.name)
			continue
		}
		for _, d := range saMismatches(Parse([]byte(tc.msg)), r) {
			t.Errorf("%s: %s", tc.name, d)
		}
	}
}
