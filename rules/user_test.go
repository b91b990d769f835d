package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/tokenizer"
)

const userTestRules = `
header   WL_FROM      eval:check_from_in_welcomelist()
score    WL_FROM      -50
header   FREE_FROM    eval:check_freemail_from()
score    FREE_FROM    2
freemail_domains      mail.example
body     PRIZE        /\bprize\b/
score    PRIZE        3
describe PRIZE        Mentions a prize
body     ZEROED       /\bnumbers\b/
score    ZEROED       0
`

// A user whose prefs change only scores, descriptions, lists and
// settings gets an engine that shares the site's compiled rules and still
// scans with everything that is theirs: their scores (a rule the site
// scores 0 runs for them), their descriptions, their welcomelist and
// their free-mail domains; the site's engine is unchanged.
func TestUserEngineSharesRules(t *testing.T) {
	site, _ := siteEngine(t, userTestRules)
	msg := tokenizer.Parse([]byte("From: Carol <carol@mail.example>\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\nYou won a prize, see the numbers.\r\n"))
	tests := []struct {
		name, prefs string
		shares      bool
		want        map[string]float64 // rule → score in the hits
		describe    string             // PRIZE's description
	}{
		{"site", "", true, map[string]float64{"PRIZE": 3, "FREE_FROM": 2}, "Mentions a prize"},
		{"own score", "score PRIZE 2.5\n", true, map[string]float64{"PRIZE": 2.5, "FREE_FROM": 2}, "Mentions a prize"},
		{"site's zero made a score", "score ZEROED 1.5\n", true, map[string]float64{"PRIZE": 3, "FREE_FROM": 2, "ZEROED": 1.5}, "Mentions a prize"},
		{"own zero", "score PRIZE 0\n", true, map[string]float64{"FREE_FROM": 2}, "Mentions a prize"},
		{"own description", "describe PRIZE Ein Preis\n", true, map[string]float64{"PRIZE": 3, "FREE_FROM": 2}, "Ein Preis"},
		{"own welcomelist", "welcomelist_from carol@mail.example\n", true, map[string]float64{"PRIZE": 3, "FREE_FROM": 2, "WL_FROM": -50}, "Mentions a prize"},
		{"own free-mail list", "freemail_welcomelist carol@mail.example\n", true, map[string]float64{"PRIZE": 3}, "Mentions a prize"},
		{"own rules (allow_user_rules)", "body PRIZE /\\bnumbers\\b/\nbody WON /\\bwon\\b/\n", false, map[string]float64{"PRIZE": 3, "FREE_FROM": 2, "WON": 1}, "Mentions a prize"},
	}
	userRules, _ := siteEngine(t, userTestRules+"allow_user_rules 1\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := site
			if !tt.shares {
				site = userRules
			}
			eng := site
			if tt.prefs != "" {
				var err error
				if eng, _, err = site.ForUser(strings.NewReader(tt.prefs), "alice"); err != nil {
					t.Fatal(err)
				}
			}
			if got := eng.Rules() == site.Rules(); got != tt.shares {
				t.Errorf("shares the site's rule set: %v, want %v", got, tt.shares)
			}
			res, err := eng.Check(context.Background(), msg, CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, h := range res.Hits {
				got[h.Rule] = h.Score
				if h.Rule == "PRIZE" && h.Description != tt.describe {
					t.Errorf("PRIZE described %q, want %q", h.Description, tt.describe)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("hits %v, want %v", got, tt.want)
			}
			for r, s := range tt.want {
				if g, ok := got[r]; !ok || g != s {
					t.Errorf("hit %s: %v (present %v), want %v; hits %v", r, g, ok, s, got)
				}
			}
		})
	}
}
