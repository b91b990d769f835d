package scan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospamd/gospamd/internal/peakmem"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/scan"
)

const stockRulesDir = "/usr/share/spamassassin"

// TestUserEnginesMemory gives 1000 users one-line user_prefs on
// SpamAssassin's stock rules, each a score of their own for GTUBE, and
// scans for them. Every user gets their own score, and the daemon's
// peak resident set (see package peakmem) rises by less than 500 MB:
// users whose prefs change only scores share the site's compiled rules
// (each once had a compiled copy, 4.37 GB for 1000 users).
func TestUserEnginesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1000 users' engines on the stock rules")
	}
	if _, err := os.Stat(filepath.Join(stockRulesDir, "20_body_tests.cf")); err != nil {
		testpeer.Missing(t, "SpamAssassin's stock rules in %s (Debian package spamassassin)", stockRulesDir)
	}
	const users, maxExtra = 1000, 500 << 20
	tmp := t.TempDir()
	site, prefs := filepath.Join(tmp, "site"), filepath.Join(tmp, "users")
	writeFile(t, filepath.Join(site, "local.cf"), "rules_dir "+stockRulesDir+"\n")
	name := func(i int) string { return fmt.Sprintf("user%04d", i) }
	score := func(i int) float64 { return float64(2500+i) / 1000 }
	for i := range users {
		writeFile(t, filepath.Join(prefs, name(i), "user_prefs"), fmt.Sprintf("score GTUBE %g\n", score(i)))
	}
	svc, err := scan.New(context.Background(), scan.Config{PolicyDir: site, UserPrefsDir: prefs})
	if err != nil {
		t.Fatal(err)
	}
	gtube := message("test", "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X")
	check := func(i int) {
		res, err := svc.Scan(context.Background(), &scan.Request{User: name(i), Message: gtube})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Rules.Hits {
			if h.Rule == "GTUBE" {
				if h.Score != score(i) {
					t.Errorf("%s: GTUBE scored %v, want their %v", name(i), h.Score, score(i))
				}
				return
			}
		}
		t.Errorf("%s: no GTUBE hit in %v", name(i), res.Rules.Rules())
	}
	check(0) // the site's engine and the shared texts are built before the measure
	extra, err := peakmem.Measure(func() {
		for i := range users {
			check(i)
		}
	})
	if errors.Is(err, peakmem.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d users with one-line user_prefs on the stock rules: peak RSS +%.1f MB", users, float64(extra)/(1<<20))
	if extra >= maxExtra {
		t.Errorf("peak RSS rose by %.1f MB, want under %d MB", float64(extra)/(1<<20), maxExtra>>20)
	}
	for _, i := range []int{0, 499, 999} { // and again, from the cache
		check(i)
	}
}
