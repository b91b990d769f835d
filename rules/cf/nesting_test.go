package cf

import (
	"strings"
	"testing"
)

func nested(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// An if condition or meta nested past MaxNesting is an error at its
// file:line, whose message does not quote the condition, and the block
// it opens is skipped; up to the limit it evaluates. Nesting far past it
// (600,000 parentheses, which once overflowed the stack) is the same
// error, not a crash.
func TestNestingLimit(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		applied bool // the score inside the if block (or the meta) applies
	}{
		{"parentheses at the limit", "if " + nested("(", "1", ")", MaxNesting-1), true},
		{"parentheses past the limit", "if " + nested("(", "1", ")", MaxNesting+1), false},
		{"600,000 parentheses", "if " + nested("(", "1", ")", 600_000), false},
		{"unary operators past the limit", "if " + strings.Repeat("! ", MaxNesting+2) + "0", false},
		{"conditionals past the limit", "if " + strings.Repeat("1 ? ", MaxNesting+1) + "1" + strings.Repeat(" : 0", MaxNesting+1), false},
		{"meta at the limit", "meta DEEP " + nested("(", "A", ")", MaxNesting-1), true},
		{"meta past the limit", "meta DEEP " + nested("(", "A", ")", MaxNesting+1), false},
		{"meta with 600,000 parentheses", "meta DEEP " + nested("(", "A", ")", 600_000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "body A /a/\n" + tt.line + "\nscore A 7\n"
			if strings.HasPrefix(tt.line, "if") {
				text += "endif\n"
			}
			pol, diags := parseString(t, text, Options{})
			applied := pol.Rule("A").Scores[0] == 7
			if strings.HasPrefix(tt.line, "meta") {
				applied = pol.Rule("DEEP") != nil && pol.Rule("DEEP").Defined()
			}
			if applied != tt.applied {
				t.Errorf("applied %v, want %v (diagnostics %v)", applied, tt.applied, diags)
			}
			if tt.applied {
				if len(diags) != 0 {
					t.Errorf("diagnostics at the limit: %v", diags)
				}
				return
			}
			if len(diags) != 1 || diags[0].Severity != SeverityError || diags[0].Pos.String() != "test.cf:2" ||
				!strings.Contains(diags[0].Msg, "nested deeper than 100 levels") {
				t.Fatalf("diagnostics %v, want one error at test.cf:2 about nesting", diags)
			}
			if d := diags[0].String(); strings.Contains(d, "((") || strings.Contains(d, "! !") || strings.Contains(d, "1 ?") || len(d) > 200 {
				t.Errorf("the diagnostic quotes the expression: %.300s", d)
			}
		})
	}
}

// Redacted diagnostics name the file, line and a known directive, and
// nothing else of the line: not an unknown first word (a line of
// /etc/shadow read as user_prefs), not a value.
func TestRedactedDiagnostics(t *testing.T) {
	const secret = "root:$y$j9T$s3cr3tHash:19700:0:99999:7:::"
	base, _ := parseString(t, "body A /a/\n", Options{})
	_, diags, err := base.WithUserPrefs(strings.NewReader(strings.Join([]string{
		secret,
		"score A s3cr3t-score",
		"body B /s3cr3t/",
		"if (s3cr3t",
		"endif",
		"if " + nested("(", "1", ")", 200),
		"endif",
	}, "\n")), "users/alice/user_prefs")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"users/alice/user_prefs:1: warning: line not understood",
		"users/alice/user_prefs:2: error: 'score' line not applied",
		"users/alice/user_prefs:3: info: 'body' line refused",
		"users/alice/user_prefs:4: error: 'if' line not applied",
		"users/alice/user_prefs:6: error: bad 'if' condition: expression nested deeper than 100 levels",
	}
	if len(diags) != len(want) {
		t.Fatalf("diagnostics %v, want %d", diags, len(want))
	}
	for i, d := range diags {
		if got := d.Redacted(); got != want[i] {
			t.Errorf("diagnostic %d: Redacted() = %q, want %q", i, got, want[i])
		}
		if strings.Contains(d.Redacted(), "s3cr3t") {
			t.Errorf("Redacted() quotes the line: %q", d.Redacted())
		}
	}
}
