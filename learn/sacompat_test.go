package learn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// saReference is what SpamAssassin itself made of a training set: its
// --backup, and the BAYES_xx rules it hits on each evaluation message.
type saReference struct {
	backup []byte
	bands  map[string]string // path → comma-joined BAYES rules
	probs  map[string]string
}

// spamAssassinReference trains a SpamAssassin database with sa-learn, backs
// it up and scans the evaluation messages with SpamAssassin's Bayes rules.
// The answers are cached outside the repository (SpamAssassin needs
// about a minute for them).
func spamAssassinReference(t *testing.T, spam, ham, eval []string) saReference {
	t.Helper()
	saLearn := testpeer.Program(t, "sa-learn")
	perl := testpeer.Program(t, "perl")
	if err := exec.Command(perl, "-MMail::SpamAssassin", "-e", "1").Run(); err != nil {
		testpeer.Missing(t, "perl module Mail::SpamAssassin: %v", err)
	}
	const stockBayes = "/usr/share/spamassassin/23_bayes.cf"
	if _, err := os.Stat(stockBayes); err != nil {
		testpeer.Missing(t, "SpamAssassin's stock rules (%s)", stockBayes)
	}
	h := sha1.New()
	out, _ := exec.Command(saLearn, "--version").Output()
	h.Write(out)
	for _, set := range [][]string{spam, ham, eval} {
		for _, p := range set {
			fmt.Fprintln(h, filepath.Base(p))
		}
		h.Write([]byte{0})
	}
	cache := testpeer.CacheDir(t, "sa-bayes-"+hex.EncodeToString(h.Sum(nil))[:16])
	backupFile := filepath.Join(cache, "backup.txt")
	bandsFile := filepath.Join(cache, "bands.tsv")
	if _, err := os.Stat(bandsFile); err != nil {
		work := t.TempDir()
		db := filepath.Join(work, "db")
		rulesDir := filepath.Join(work, "rules")
		must(t, os.MkdirAll(rulesDir, 0o700))
		// sa-learn appends /bayes to a --dbpath that is a directory.
		must(t, os.MkdirAll(db, 0o700))
		// Only what Bayes needs: the rule-running and Bayes plugins, the
		// BAYES_xx rules, the TLD list that URI extraction uses and the
		// stopword list (without it SpamAssassin falls back to an
		// unanchored, case-sensitive stopword pattern that a normal
		// install never uses).
		must(t, os.WriteFile(filepath.Join(rulesDir, "bayes.cf"), []byte(
			"loadplugin Mail::SpamAssassin::Plugin::Check\n"+
				"loadplugin Mail::SpamAssassin::Plugin::Bayes\n"+
				"include "+filepath.Join(filepath.Dir(stockBayes), "20_aux_tlds.cf")+"\n"+
				"include "+stockBayes+"\n"+
				"include "+filepath.Join(filepath.Dir(stockBayes), "60_bayes_stopwords.cf")+"\n"), 0o600))
		must(t, os.WriteFile(filepath.Join(rulesDir, "user_prefs"), nil, 0o600))
		learnSA := func(class string, files []string) {
			args := append([]string{"--dbpath", db, "-C", rulesDir, "--siteconfigpath", rulesDir, "-p", filepath.Join(rulesDir, "user_prefs"), "--" + class}, files...)
			cmd := exec.Command(saLearn, args...)
			cmd.Env = append(os.Environ(), "HOME="+work)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sa-learn --%s: %v\n%s", class, err, out)
			}
		}
		learnSA("spam", spam)
		learnSA("ham", ham)
		cmd := exec.Command(saLearn, "--dbpath", db, "-C", rulesDir, "--siteconfigpath", rulesDir, "--backup")
		cmd.Env = append(os.Environ(), "HOME="+work)
		backup, err := cmd.Output()
		if err != nil {
			t.Fatalf("sa-learn --backup: %v", err)
		}
		scan := exec.Command(perl, "testdata/sa/bayes_scan.pl", rulesDir, db)
		scan.Env = append(os.Environ(), "HOME="+work)
		scan.Stdin = strings.NewReader(strings.Join(eval, "\n") + "\n")
		var stderr bytes.Buffer
		scan.Stderr = &stderr
		bands, err := scan.Output()
		if err != nil {
			t.Fatalf("SpamAssassin scan: %v\n%s", err, stderr.Bytes())
		}
		must(t, os.WriteFile(backupFile, backup, 0o600))
		must(t, os.WriteFile(bandsFile, bands, 0o600))
	}
	ref := saReference{bands: map[string]string{}, probs: map[string]string{}}
	var err error
	if ref.backup, err = os.ReadFile(backupFile); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(bandsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			t.Fatalf("bad reference line %q", sc.Text())
		}
		ref.bands[filepath.Base(parts[0])] = parts[1]
		ref.probs[filepath.Base(parts[0])] = parts[2]
	}
	if len(ref.bands) != len(eval) {
		t.Fatalf("SpamAssassin scanned %d of %d messages", len(ref.bands), len(eval))
	}
	return ref
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A SpamAssassin database brought over with sa-learn --backup and
// gospamd learn --restore classifies like SpamAssassin: the same BAYES_xx
// rule on at least 99% of 500 messages it was not trained on.
func TestSpamAssassinBackupClassifiesTheSame(t *testing.T) {
	if testing.Short() {
		t.Skip("runs SpamAssassin over 1000 messages")
	}
	spamFiles := testpeer.CorpusFiles(t, "spam")
	easy := testpeer.CorpusFiles(t, "easy_ham")
	hard := testpeer.CorpusFiles(t, "hard_ham")
	trainSpam, trainHam := spamFiles[:250], easy[:250]
	eval := slices.Concat(spamFiles[250:500], hard[:100], easy[250:400])
	ref := spamAssassinReference(t, trainSpam, trainHam, eval)

	store := openTestStore(t)
	ctx := context.Background()
	w := NewWriter(store, WriterOptions{})
	defer w.Close()
	err := w.Exclusive(ctx, func(ctx context.Context) error {
		_, err := store.Restore(ctx, "", bytes.NewReader(ref.backup))
		return err
	})
	if err != nil {
		t.Fatalf("restore SpamAssassin backup: %v", err)
	}
	opt := rules.DefaultOptions()
	opt.Bayes = store
	eng, err := rules.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	var diffs []string
	for _, p := range eval {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Check(ctx, tokenizer.Parse(raw), rules.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ours []string
		for _, r := range res.Rules() {
			if strings.HasPrefix(r, "BAYES_") {
				ours = append(ours, r)
			}
		}
		got, want := strings.Join(ours, ","), ref.bands[filepath.Base(p)]
		if got == want {
			same++
		} else {
			diffs = append(diffs, fmt.Sprintf("%s: ours %s (%.4f), SpamAssassin %s (%s)", filepath.Base(p), got, res.Bayes, want, ref.probs[filepath.Base(p)]))
		}
	}
	share := float64(same) / float64(len(eval))
	t.Logf("same BAYES rule on %d of %d messages (%.1f%%)", same, len(eval), 100*share)
	for i, d := range diffs {
		if i == 20 {
			t.Logf("... %d more", len(diffs)-20)
			break
		}
		t.Log(d)
	}
	if share < 0.99 {
		t.Errorf("same BAYES rule on %.1f%% of messages, want at least 99%%", 100*share)
	}
}
