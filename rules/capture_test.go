package rules

import (
	"context"
	"slices"
	"testing"

	"github.com/gospamd/gospamd/tokenizer"
)

// A rule capturing a value with (?<NAME>…) lets a later rule match that
// value through %{NAME}, quoted: here a link carrying the recipient's own
// address, a phishing tell.
func TestCaptureTemplates(t *testing.T) {
	eng, _ := siteEngine(t, `
header   __TO_ADDR      To:addr =~ /(?<TO_ADDR>\S+)/
uri      URI_HAS_TO     /[\#=\/]%{TO_ADDR}$/i
describe URI_HAS_TO     A link carries the recipient's address
score    URI_HAS_TO     2.0
body     BODY_NAMES_TO  /dear %{TO_ADDR}\b/i
score    BODY_NAMES_TO  1.0
`)
	if st := eng.Rules().Stats; st.Errors != 0 || st.Compiled != st.Patterns {
		t.Fatalf("compile stats %+v, problems %v", st, eng.Rules().Problems)
	}
	tests := []struct {
		name, msg string
		want      []string
	}{
		{"link with the address", "To: Bob <bob.smith+x@example.com>\nSubject: verify\n\nDear bob.smith+x@example.com, verify at http://phish-site.com/login#bob.smith+x@example.com\n",
			[]string{"BODY_NAMES_TO", "URI_HAS_TO"}},
		// The captured value is quoted: "." and "+" are not pattern
		// syntax, so a look-alike address does not match.
		{"look-alike", "To: bob.smith+x@example.com\nSubject: verify\n\nDear bobXsmithhx@example.com, see http://phish-site.com/login#bobXsmithhx@example.com\n",
			nil},
		{"other address", "To: bob@example.com\nSubject: hi\n\nsee http://news-site.com/#carol@example.com\n", nil},
		{"no To, the tag is unset", "Subject: hi\n\nDear x, see http://news-site.com/#bob@example.com\n", nil},
	}
	for _, tt := range tests {
		res, err := eng.Check(context.Background(), tokenizer.Parse([]byte(tt.msg)), CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rules(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: hits %v, want %v", tt.name, got, tt.want)
		}
	}
}
