package testpeer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

//go:embed sa_hits.pl
var saHitsScript []byte

// SpamAssassinHits returns, per message file, the rules and sub-rules
// SpamAssassin's stock configuration hits on it with local tests only (no
// network, no Bayes, no auto-welcomelist), from the cache (keyed by the
// message's bytes) or by running sa_hits.pl on the messages not cached.
// Missing SpamAssassin is Missing.
func SpamAssassinHits(t testing.TB, files []string) map[string]map[string]bool {
	t.Helper()
	cache := CacheDir(t, "eval-sa-hits")
	out := map[string]map[string]bool{}
	keyOf := map[string]string{}
	var missing []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		key := hex.EncodeToString(sum[:12])
		keyOf[f] = key
		if b, err := os.ReadFile(filepath.Join(cache, key)); err == nil {
			out[f] = HitSet(string(b))
		} else {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return out
	}
	perl := Program(t, "perl")
	if err := exec.Command(perl, "-MMail::SpamAssassin", "-e1").Run(); err != nil {
		Missing(t, "Perl module Mail::SpamAssassin: %v", err)
	}
	script := filepath.Join(t.TempDir(), "sa_hits.pl")
	if err := os.WriteFile(script, saHitsScript, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("asking SpamAssassin about %d messages (cached in %s)", len(missing), cache)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, perl, append([]string{script}, missing...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("sa_hits.pl: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		file, names, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		out[file] = HitSet(names)
		if err := os.WriteFile(filepath.Join(cache, keyOf[file]), []byte(names), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range missing {
		if out[f] == nil {
			t.Fatalf("sa_hits.pl gave no answer for %s", f)
		}
	}
	return out
}

// HitSet is a set of the rule names in a space-separated list.
func HitSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(s) {
		m[n] = true
	}
	return m
}
