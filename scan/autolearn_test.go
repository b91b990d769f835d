package scan_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
)

// A user's own scores cannot make a message autolearn into the global
// Bayes scope every user shares: there the site's scores and thresholds
// decide (the clear spam below is learned as spam whatever mallory's
// prefs say, never as ham). Into a scope of their own (bayes_scope user)
// the user's scores decide, for their store alone.
func TestUserScoresAutolearnSharedScope(t *testing.T) {
	tests := []struct {
		name, prefs string
		perUser     bool
		want        string   // mallory's autolearn status
		global, own [2]int64 // nspam, nham in the global scope and in mallory's
	}{
		{"no prefs", "", false, rules.AutolearnSpam, [2]int64{1, 0}, [2]int64{}},
		{"negative scores", "score SITE_SPAM_HEAD -20\nscore SITE_SPAM_BODY -20\n", false,
			rules.AutolearnSpam, [2]int64{1, 0}, [2]int64{}},
		{"zeroed rules", "score SITE_SPAM_HEAD 0\nscore SITE_SPAM_BODY 0\n", false,
			rules.AutolearnSpam, [2]int64{1, 0}, [2]int64{}},
		{"own thresholds", "required_score 50\nbayes_auto_learn_threshold_nonspam 30\n", false,
			rules.AutolearnSpam, [2]int64{1, 0}, [2]int64{}},
		{"autolearn off", "bayes_auto_learn 0\n", false, rules.AutolearnDisabled, [2]int64{}, [2]int64{}},
		{"own scope", "score SITE_SPAM_HEAD -20\nscore SITE_SPAM_BODY -20\n", true,
			rules.AutolearnHam, [2]int64{}, [2]int64{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *scan.Config) { c.PerUserBayes = tt.perUser })
			if tt.prefs != "" {
				writeFile(t, filepath.Join(f.prefs, "mallory", "user_prefs"), tt.prefs)
			}
			res := f.scan(t, "mallory", spamMsg)
			if res.Rules.Autolearn != tt.want {
				t.Errorf("autolearn=%s (score %v, hits %v), want %s", res.Rules.Autolearn, res.Rules.Score, res.Rules.Rules(), tt.want)
			}
			for _, s := range []struct {
				scope classifier.Scope
				want  [2]int64
			}{{"", tt.global}, {"mallory", tt.own}} {
				m, err := f.store.Magic(context.Background(), s.scope)
				if err != nil {
					t.Fatal(err)
				}
				if got := [2]int64{m.NSpam, m.NHam}; got != s.want {
					t.Errorf("scope %q: nspam, nham = %v, want %v", s.scope, got, s.want)
				}
			}
		})
	}
}
