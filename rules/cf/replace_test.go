package cf

import (
	"context"
	"strings"
	"testing"
)

// The expected patterns are what SpamAssassin 4.0.1's ReplaceTags plugin
// leaves in its compiled rules for the same configuration.
func TestReplaceTags(t *testing.T) {
	const conf = `
replace_tag A [a@]
replace_tag B [b8]
replace_tag AB <A><B>
replace_pre P (?:\s*)
replace_post Q \W*
replace_inter I [\s.]?
replace_rules RT_ONE RT_PRE RT_INTER RT_NEST RT_LEAD RT_POST RT_UNKNOWN RT_HDR
body RT_ONE /x<A>y/i
body RT_PRE /<pre P><A><B>c/
body RT_INTER /<inter I><A><B>c/i
body RT_NEST /z<AB>z/
body RT_LEAD /<inter I><A>z/
body RT_POST /<post Q>q<A>r<B>/
body RT_UNKNOWN /<C><A>/
header RT_HDR Subject =~ /<A>/
body RT_NOT_LISTED /<A>/
`
	p := NewParser(Options{})
	if err := p.Parse(context.Background(), strings.NewReader(conf), "replace.cf"); err != nil {
		t.Fatal(err)
	}
	pol := p.Policy()
	tests := []struct{ rule, want string }{
		{"RT_ONE", `x[a@]y`},
		{"RT_PRE", `(?:\s*)[a@](?:\s*)[b8]c`},
		{"RT_INTER", `[a@][\s.]?[b8]c`},
		{"RT_NEST", `z[a@][b8]z`},
		{"RT_LEAD", `[a@]z`},
		{"RT_POST", `q[a@]\W*r[b8]\W*`},
		{"RT_UNKNOWN", `<C>[a@]`},
		{"RT_HDR", `[a@]`},
		{"RT_NOT_LISTED", `<A>`},
	}
	for _, tt := range tests {
		r := pol.Rule(tt.rule)
		if r == nil {
			t.Fatalf("%s not defined", tt.rule)
		}
		if r.Pattern.Expr != tt.want {
			t.Errorf("%s pattern = %q, want %q", tt.rule, r.Pattern.Expr, tt.want)
		}
	}
	// A second Policy (as a later layer makes) expands from the pattern
	// as written, not again from the expansion.
	if got := p.Policy().Rule("RT_NEST").Pattern.Expr; got != `z[a@][b8]z` {
		t.Errorf("after a second finish RT_NEST = %q", got)
	}
}
