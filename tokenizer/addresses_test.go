package tokenizer

import (
	"slices"
	"testing"
)

// The expectations follow SpamAssassin 4.0.1's parse_header_addresses
// and its :name clean-up.
func TestHeaderAddressesAndNames(t *testing.T) {
	tests := []struct {
		raw      string
		addrs    []string
		names    []string // decoded
		rawNames []string
	}{
		{`"" Angles " Puglisi" <angles@aminvestments.com>`, []string{"angles@aminvestments.com"},
			[]string{"Angles Puglisi"}, []string{" Angles  Puglisi "}},
		{`skip@pobox.com (Skip Montanaro)`, []string{"skip@pobox.com"}, []string{"Skip Montanaro"}, []string{"Skip Montanaro"}},
		{`"A" <a@x.org>, b@y.org, "C D" <c@z.org>`, []string{"a@x.org", "b@y.org", "c@z.org"},
			[]string{"A", "C D"}, []string{"A ", "C D "}},
		{`=?iso-8859-1?q?Andr=E9?= <a@b.c>`, []string{"a@b.c"}, []string{"André"}, []string{"=?iso-8859-1?q?Andr=E9?= "}},
		{`'Joe  Q' <j@q.org>`, []string{"j@q.org"}, []string{"Joe Q"}, []string{"'Joe  Q' "}},
		{``, nil, nil, nil},
		// Where SpamAssassin's relaxed parser finds fewer addresses than
		// commas plus one, Email::Address::XS's RFC 5322 parse is used.
		{`Broken <broken`, nil, []string{"Broken"}, []string{"Broken"}},
		{`Group: a@b.example, "C" <c@d.example>;, e@f.example`, []string{"a@b.example", "c@d.example", "e@f.example"},
			[]string{"C"}, []string{"C"}},
		// Two results for one comma: the relaxed parser's, nested comment and all.
		{`joe@x.example (Joe (the) Q), y`, nil, []string{"joe@x.example (Joe Q)", "y"}, []string{"joe@x.example (Joe  Q)", "y"}},
		{`"a b"@c.example, x`, []string{`"a b"@c.example`}, []string{"x"}, []string{"x"}},
	}
	for _, tt := range tests {
		if got := HeaderAddresses(tt.raw); !slices.Equal(got, tt.addrs) {
			t.Errorf("HeaderAddresses(%q) = %q, want %q", tt.raw, got, tt.addrs)
		}
		if got := HeaderNames(tt.raw, true); !slices.Equal(got, tt.names) {
			t.Errorf("HeaderNames(%q, decode) = %q, want %q", tt.raw, got, tt.names)
		}
		if got := HeaderNames(tt.raw, false); !slices.Equal(got, tt.rawNames) {
			t.Errorf("HeaderNames(%q, raw) = %q, want %q", tt.raw, got, tt.rawNames)
		}
	}
}
