package cf

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSettingSource: each setting remembers the line that last set it,
// under its 4.0 name, across files and through user prefs.
func TestSettingSource(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"10_a.cf": "required_hits 4\nrewrite_header Subject [SPAM]\nreject_score 10\n",
		"20_b.cf": "spam_sensitivity high\nrewrite_header From [x]\n",
		"30_c.cf": "reject_score 12\n",
	})
	pol, _, err := LoadSite(context.Background(), dir, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := filepath.Join(dir, "10_a.cf"), filepath.Join(dir, "20_b.cf"), filepath.Join(dir, "30_c.cf")
	tests := []struct {
		key  string
		want Pos
		ok   bool
	}{
		{"required_score", Pos{b, 1}, true}, // the preset set it last
		{"spam_sensitivity", Pos{b, 1}, true},
		{"rewrite_header subject", Pos{a, 2}, true},
		{"rewrite_header from", Pos{b, 2}, true},
		{"reject_score", Pos{c, 1}, true},
		{"use_bayes", Pos{}, false},
	}
	for _, tc := range tests {
		got, ok := pol.SettingSource(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %v %v, want %v %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	user, _, err := pol.WithUserPrefs(strings.NewReader("required_score 7\n"), "prefs")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := user.SettingSource("required_score"); got != (Pos{"prefs", 1}) {
		t.Errorf("user's required_score from %v", got)
	}
	if got, _ := pol.SettingSource("required_score"); got != (Pos{b, 1}) {
		t.Errorf("site's required_score changed by the user's prefs: %v", got)
	}
}
