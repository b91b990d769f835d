package re

import (
	"reflect"
	"testing"
)

func TestNamedCaptures(t *testing.T) {
	tests := []struct {
		name, expr, flags, subject string
		want                       map[string][]string
	}{
		{"RE2", `(?<USER>\w+)@(?<DOM>[a-z.]+)`, "", "mail bob@example.org now",
			map[string][]string{"USER": {"bob"}, "DOM": {"example.org"}}},
		{"whole line", `(?<ADDR>.*)`, "", "a@example.com\nb@example.net",
			map[string][]string{"ADDR": {"a@example.com"}}},
		// A byte pattern over a non-ASCII subject: offsets are the
		// subject's bytes, not the Latin-1 view's.
		{"Latin-1 view", `\xe9(?<REST>\w+)`, "", "caf\xc3\xa9 d\xe9tail",
			map[string][]string{"REST": {"tail"}}},
		{"backtracking engine", `(?<=to: )(?<WHO>\w+)(?=\b)`, "i", "Mail To: carol please",
			map[string][]string{"WHO": {"carol"}}},
		{"optional group left out", `(?<A>x)?(?<B>y)`, "", "y",
			map[string][]string{"B": {"y"}}},
		{"no match", `(?<A>zz)`, "", "abc", nil},
		{"no named group", `(a)`, "", "abc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile(tt.expr, tt.flags, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := r.NamedCaptures(NewText(tt.subject))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NamedCaptures(%q) = %q, want %q (engine %s)", tt.subject, got, tt.want, r.Engine())
			}
		})
	}
}
