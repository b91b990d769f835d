package tokenizer

import (
	"strings"
	"testing"
)

// The expectations are what SpamAssassin 4.0.1's
// get_decoded_body_text_array gives for the same message.
func TestDecodedBody(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	raw := "Subject: s\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\n" + strings.Repeat(line, 50) +
		"--B\nContent-Type: application/octet-stream\n\nbinary\n" +
		"--B\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n" +
		"--B\nContent-Type: application/octet-stream; name=page.html\n\n<p>hi</p>\n--B--\n"
	got := Parse([]byte(raw)).DecodedBody(RawbodyPartScanSize)
	var lens []int
	for _, c := range got {
		lens = append(lens, len(c))
	}
	if len(got) != 3 || lens[0] != 2100 || lens[1] != 2899 || got[2] != "<p>hi</p>" {
		t.Fatalf("DecodedBody chunk lengths %v (last %q), want [2100 2899 9] ending in <p>hi</p>", lens, got[len(got)-1])
	}
	if !strings.HasSuffix(got[0], "\n") || strings.Join(got[:2], "") != strings.TrimSuffix(strings.Repeat(line, 50), "\n") {
		t.Errorf("text part not split at a line end into pieces that join to the part")
	}
}

func TestDecodedBodyKeepsBytes(t *testing.T) {
	raw := "Subject: s\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\r\n"
	got := Parse([]byte(raw)).DecodedBody(RawbodyPartScanSize)
	if len(got) != 1 || got[0] != "caf\xe9\n" {
		t.Errorf("DecodedBody = %q, want the decoded bytes %q", got, "caf\xe9\n")
	}
}

func TestCutRawbody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		size int
		want string
	}{
		{"short enough", "abc", 10, "abc"},
		{"cut after the next line end", "aaaa bb\ncc", 3, "aaaa bb\n"},
		{"else after the next >", "aaaa<b>cc", 3, "aaaa<b>"},
		{"else after the next space", "aaaa bb", 3, "aaaa "},
		{"else at the limit", "aaaaaaa", 3, "aaa"},
	}
	for _, tt := range tests {
		if got := cutRawbody(tt.in, tt.size); got != tt.want {
			t.Errorf("%s: cutRawbody(%q, %d) = %q, want %q", tt.name, tt.in, tt.size, got, tt.want)
		}
	}
}
