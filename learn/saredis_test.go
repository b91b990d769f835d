package learn

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/tokenizer"
)

// saRedisRules writes a SpamAssassin configuration that keeps Bayes in
// Redis database db of srv (as a site configures it in local.cf) and
// returns its directory.
func saRedisRules(t *testing.T, srv *testpeer.Redis, db int) string {
	t.Helper()
	const stockBayes = "/usr/share/spamassassin/23_bayes.cf"
	if _, err := os.Stat(stockBayes); err != nil {
		testpeer.Missing(t, "SpamAssassin's stock rules (%s)", stockBayes)
	}
	dir := filepath.Join(t.TempDir(), "rules")
	must(t, os.MkdirAll(dir, 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "bayes.cf"), []byte(
		"loadplugin Mail::SpamAssassin::Plugin::Check\n"+
			"loadplugin Mail::SpamAssassin::Plugin::Bayes\n"+
			"include "+filepath.Join(filepath.Dir(stockBayes), "20_aux_tlds.cf")+"\n"+
			"include "+stockBayes+"\n"+
			"include "+filepath.Join(filepath.Dir(stockBayes), "60_bayes_stopwords.cf")+"\n"+
			"bayes_store_module Mail::SpamAssassin::BayesStore::Redis\n"+
			fmt.Sprintf("bayes_sql_dsn server=%s;database=%d\n", srv.Addr, db)), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "user_prefs"), nil, 0o600))
	return dir
}

// saBands scans eval with SpamAssassin's Bayes on the Redis database
// rulesDir names: path base → comma-joined BAYES rules.
func saBands(t *testing.T, rulesDir string, eval []string) map[string]string {
	t.Helper()
	perl := testpeer.Program(t, "perl")
	scan := exec.Command(perl, "testdata/sa/bayes_scan.pl", rulesDir, t.TempDir())
	scan.Env = append(os.Environ(), "HOME="+t.TempDir())
	scan.Stdin = strings.NewReader(strings.Join(eval, "\n") + "\n")
	var stderr bytes.Buffer
	scan.Stderr = &stderr
	out, err := scan.Output()
	if err != nil {
		t.Fatalf("SpamAssassin scan: %v\n%s", err, stderr.Bytes())
	}
	bands := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) == 3 {
			bands[filepath.Base(parts[0])] = parts[1]
		}
	}
	if len(bands) != len(eval) {
		t.Fatalf("SpamAssassin scanned %d of %d messages\n%s", len(bands), len(eval), stderr.Bytes())
	}
	return bands
}

// ourBands scans eval with gospamd's engine on store.
func ourBands(t *testing.T, store rules.BayesReader, eval []string) map[string]string {
	t.Helper()
	opt := rules.DefaultOptions()
	opt.Bayes = store
	eng, err := rules.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	bands := map[string]string{}
	for _, p := range eval {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Check(context.Background(), tokenizer.Parse(raw), rules.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var hits []string
		for _, r := range res.Rules() {
			if strings.HasPrefix(r, "BAYES_") {
				hits = append(hits, r)
			}
		}
		slices.Sort(hits)
		bands[filepath.Base(p)] = strings.Join(hits, ",")
	}
	return bands
}

func compareBands(t *testing.T, what string, ours, sa map[string]string) {
	t.Helper()
	same := 0
	var diffs []string
	for name, want := range sa {
		if ours[name] == want {
			same++
		} else {
			diffs = append(diffs, fmt.Sprintf("%s: gospamd %q, SpamAssassin %q", name, ours[name], want))
		}
	}
	slices.Sort(diffs)
	t.Logf("%s: the same BAYES rule on %d of %d messages", what, same, len(sa))
	for i, d := range diffs {
		if i == 10 {
			break
		}
		t.Log(d)
	}
	if float64(same) < 0.99*float64(len(sa)) {
		t.Errorf("%s: the same BAYES rule on %d of %d messages, want at least 99%%", what, same, len(sa))
	}
}

// SpamAssassin and gospamd on one Redis database, in SpamAssassin's
// layout: what sa-learn learns gospamd classifies with the same BAYES_xx
// rule as SpamAssassin, and what gospamd learns SpamAssassin classifies
// as gospamd does.
func TestSpamAssassinRedisInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sa-learn over 500 messages and SpamAssassin over 1000")
	}
	saLearn := testpeer.Program(t, "sa-learn")
	perl := testpeer.Program(t, "perl")
	if err := exec.Command(perl, "-MMail::SpamAssassin::BayesStore::Redis", "-e", "1").Run(); err != nil {
		testpeer.Missing(t, "perl module Mail::SpamAssassin::BayesStore::Redis: %v", err)
	}
	srv := testpeer.StartRedis(t)
	spamFiles := testpeer.CorpusFiles(t, "spam")
	easy := testpeer.CorpusFiles(t, "easy_ham")
	hard := testpeer.CorpusFiles(t, "hard_ham")
	trainSpam, trainHam := spamFiles[:250], easy[:250]
	// 500 held-out messages: 200 spam, 100 hard ham, 200 easy ham.
	eval := slices.Concat(spamFiles[250:450], hard[:100], easy[250:450])
	ctx := context.Background()

	// The two directions use databases of their own and run at once:
	// each is mostly a single-threaded Perl process.
	t.Run("sa-learn learns, gospamd classifies", func(t *testing.T) {
		t.Parallel()
		rulesDir := saRedisRules(t, srv, 1)
		start := time.Now()
		for _, set := range []struct {
			class string
			files []string
		}{{"spam", trainSpam}, {"ham", trainHam}} {
			args := append([]string{"-C", rulesDir, "--siteconfigpath", rulesDir, "-p", filepath.Join(rulesDir, "user_prefs"), "--" + set.class}, set.files...)
			cmd := exec.Command(saLearn, args...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sa-learn --%s: %v\n%s", set.class, err, out)
			}
		}
		store, err := redisstore.Open(ctx, redisstore.Options{Addr: srv.Addr, DB: 1, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		m, err := store.Magic(ctx, "")
		// (3 of the spam are the same message twice: 247 learned.)
		if err != nil || m.NSpam != 247 || m.NHam != 250 {
			t.Fatalf("gospamd reads SpamAssassin's counters as %+v, %v; want 247/250", m, err)
		}
		learned := time.Now()
		ours := ourBands(t, store, eval)
		scanned := time.Now()
		theirs := saBands(t, rulesDir, eval)
		t.Logf("sa-learn %v, gospamd's scans %v, SpamAssassin's scans %v", learned.Sub(start).Round(time.Second),
			scanned.Sub(learned).Round(time.Second), time.Since(scanned).Round(time.Second))
		compareBands(t, "learned by sa-learn", ours, theirs)
	})

	t.Run("gospamd learns, SpamAssassin classifies", func(t *testing.T) {
		t.Parallel()
		rulesDir := saRedisRules(t, srv, 2)
		start := time.Now()
		store, err := redisstore.Open(ctx, redisstore.Options{Addr: srv.Addr, DB: 2,
			TokenTTL: redisstore.DefaultTokenTTL, SeenTTL: redisstore.DefaultSeenTTL})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		w := NewWriter(store, WriterOptions{})
		defer w.Close()
		l := &Learner{Writer: w, TokenOptions: tokenizer.DefaultTokenOptions(), Now: func() time.Time { return time.Unix(1700000000, 0) }}
		for _, set := range []struct {
			class classifier.Class
			files []string
		}{{classifier.Spam, trainSpam}, {classifier.Ham, trainHam}} {
			src := func(ctx context.Context, fn func(string, []byte) error) error {
				for _, p := range set.files {
					raw, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					if err := fn(p, raw); err != nil {
						return err
					}
				}
				return nil
			}
			if st, err := l.Run(ctx, src, Request{Class: set.class}); err != nil || st.Changed < len(set.files)-3 {
				t.Fatalf("learn %v: %+v, %v", set.class, st, err)
			}
		}
		learned := time.Now()
		ours := ourBands(t, store, eval)
		scanned := time.Now()
		theirs := saBands(t, rulesDir, eval)
		t.Logf("gospamd's learn %v, gospamd's scans %v, SpamAssassin's scans %v", learned.Sub(start).Round(time.Second),
			scanned.Sub(learned).Round(time.Second), time.Since(scanned).Round(time.Second))
		compareBands(t, "learned by gospamd", ours, theirs)
	})
}
