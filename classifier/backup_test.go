package classifier

import (
	"bytes"
	"context"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// requirePeer skips the test when a peer (program or corpus) is missing,
// or fails it under GOSPAMD_REQUIRE_PEERS=1.
func requirePeer(t *testing.T, what string) {
	t.Helper()
	testpeer.Missing(t, "%s", what)
}

// fillSmallStore learns a few messages in scope sc.
func fillSmallStore(t testing.TB, s *Store, sc Scope) {
	t.Helper()
	ops := []Op{
		learnOp("m1@sa_generated", Spam, 1717236000, "viagra", "cheap", "hello"),
		learnOp("m2@sa_generated", Ham, 1717200000, "hello", "meeting", "agenda"),
		learnOp("m3@sa_generated", Spam, 1717000000, "viagra", "offer"),
		learnOp("m4@sa_generated", Ham, 1716000000, "agenda", "minutes"),
	}
	for i := range ops {
		ops[i].Scope = sc
	}
	if _, err := s.Apply(context.Background(), ops); err != nil {
		t.Fatal(err)
	}
}

func TestBackupGolden(t *testing.T) {
	s, _ := openTestStore(t)
	fillSmallStore(t, s, "")
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), "", &buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "backup.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("backup differs from %s:\n%s", golden, buf.String())
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, _ := openTestStore(t)
	fillSmallStore(t, src, "alice")
	var buf bytes.Buffer
	if err := src.Backup(ctx, "alice", &buf); err != nil {
		t.Fatal(err)
	}
	dst, _ := openTestStore(t)
	// Existing data of the target scope is replaced, other scopes kept.
	fillSmallStore(t, dst, "bob")
	if _, err := dst.Apply(ctx, []Op{{Scope: "carol", MsgID: "x", Class: Spam, Tokens: keys("zzz"), Atime: 5}}); err != nil {
		t.Fatal(err)
	}
	st, err := dst.Restore(ctx, "carol", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := contents(t, src, "alice")
	got := contents(t, dst, "carol")
	if st.Tokens != int64(len(want.Tokens)) || st.Seen != int64(len(want.Seen)) || st.NSpam != 2 || st.NHam != 2 {
		t.Errorf("stats %+v", st)
	}
	if !mapsEqual(got.Tokens, want.Tokens) || !mapsEqual(got.Seen, want.Seen) {
		t.Errorf("restored %+v\nwant %+v", got, want)
	}
	if got.Magic != want.Magic {
		t.Errorf("restored magic %+v, want %+v", got.Magic, want.Magic)
	}
	if b := contents(t, dst, "bob"); b.Magic.NSpam != 2 || len(b.Tokens) != len(want.Tokens) {
		t.Errorf("restore into carol changed bob: %+v", b.Magic)
	}
	var again bytes.Buffer
	if err := dst.Backup(ctx, "carol", &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Errorf("backup of the restored scope differs:\n%s\nwant\n%s", again.String(), buf.String())
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRestore(t *testing.T) {
	now := time.Now().Unix()
	hexA := tokenizer.KeyOf("a1").String()
	hexB := tokenizer.KeyOf("b1").String()
	tests := []struct {
		name       string
		backup     string
		wantErr    string
		wantTokens map[tokenizer.Key]Counts
		wantSeen   map[string]Class
		wantMagic  Magic // NewestAtime/OldestAtime checked when nonzero
		check      func(t *testing.T, st RestoreStats)
	}{
		{
			name:    "version line must come first",
			backup:  "v\t2\tnum_spam\nv\t3\tdb_version\n",
			wantErr: "first line",
		},
		{
			name:    "unsupported version",
			backup:  "v\t4\tdb_version # x\nv\t1\tnum_spam\nv\t1\tnum_nonspam\n",
			wantErr: "unsupported",
		},
		{
			name:    "empty",
			backup:  "",
			wantErr: "empty",
		},
		{
			name:    "num_nonspam missing",
			backup:  "v\t3\tdb_version\nv\t1\tnum_spam\n",
			wantErr: "num_nonspam",
		},
		{
			name: "version 3: hex keys, 0/0 skipped, negatives and future clamped",
			backup: "v\t3\tdb_version # this must be the first line!!!\nv\t7\tnum_spam\nv\t9\tnum_nonspam\n" +
				"t\t2\t-1\t100\t" + hexA + "\n" +
				"t\t0\t0\t100\t" + tokenizer.KeyOf("zero").String() + "\n" +
				"t\t1\t3\t99999999999\t" + hexB + "\n" +
				"t\t1\t1\t100\tnothex\n" +
				"s\th\tm1@x\n" + "s\tq\tm2@x\n" + "s\ts\tm3@x with space\n" + "garbage\n",
			wantTokens: map[tokenizer.Key]Counts{
				tokenizer.KeyOf("a1"): {Spam: 2, Ham: 0, Atime: 100},
				tokenizer.KeyOf("b1"): {Spam: 1, Ham: 3, Atime: now},
			},
			wantSeen:  map[string]Class{"m1@x": Ham, "m3@x with space": Spam},
			wantMagic: Magic{DBVersion: 3, NSpam: 7, NHam: 9, NTokens: 2, OldestAtime: 100, NewestAtime: now},
			check: func(t *testing.T, st RestoreStats) {
				if st.Version != 3 || st.Skipped != 4 || st.Clamped != 2 {
					t.Errorf("stats %+v: want version 3, 4 skipped, 2 clamped", st)
				}
			},
		},
		{
			name: "version 2: token strings are hashed",
			backup: "v 2 db_version\nv 1 num_spam\nv 1 num_nonspam\n" +
				"t 1 0 200 Viagra\nt 0 1 300 H*F:D*example.com\n",
			wantTokens: map[tokenizer.Key]Counts{
				mustKey(t, "5a6aff3b73"): {Spam: 1, Atime: 200},
				mustKey(t, "d2e2f22315"): {Ham: 1, Atime: 300},
			},
			wantSeen:  map[string]Class{},
			wantMagic: Magic{DBVersion: 3, NSpam: 1, NHam: 1, NTokens: 2, OldestAtime: 200, NewestAtime: 300},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTestStore(t)
			fillSmallStore(t, s, "")
			before := contents(t, s, "")
			st, err := s.Restore(context.Background(), "", strings.NewReader(tt.backup))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Restore error %v, want one containing %q", err, tt.wantErr)
				}
				if after := contents(t, s, ""); after.Magic != before.Magic || len(after.Tokens) != len(before.Tokens) {
					t.Errorf("failed restore changed the store")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := contents(t, s, "")
			for k, w := range tt.wantTokens {
				// A clamped atime is "now" at restore time: allow a little.
				if g, ok := c.Tokens[k]; ok && w.Atime == now && g.Atime-now >= 0 && g.Atime-now <= 2 {
					g.Atime = now
					c.Tokens[k] = g
				}
			}
			if !mapsEqual(c.Tokens, tt.wantTokens) {
				t.Errorf("tokens %v, want %v", c.Tokens, tt.wantTokens)
			}
			if !mapsEqual(c.Seen, tt.wantSeen) {
				t.Errorf("seen %v, want %v", c.Seen, tt.wantSeen)
			}
			got := c.Magic
			if d := got.NewestAtime - tt.wantMagic.NewestAtime; d >= 0 && d <= 2 {
				got.NewestAtime = tt.wantMagic.NewestAtime
			}
			if got != tt.wantMagic {
				t.Errorf("magic %+v, want %+v", got, tt.wantMagic)
			}
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

func mustKey(t *testing.T, hex string) tokenizer.Key {
	k, ok := tokenizer.ParseKey(hex)
	if !ok {
		t.Fatalf("bad key %q", hex)
	}
	return k
}

func TestFormatGolden(t *testing.T) {
	var buf bytes.Buffer
	m := Magic{DBVersion: 3, NSpam: 250, NHam: 312, NTokens: 48213, OldestAtime: 1714000000,
		NewestAtime: 1717236000, LastJournalSync: 1717230000, LastExpire: 1717200000,
		LastExpireDelta: 1382400, LastExpireReduce: 12345}
	if err := FormatMagic(&buf, m); err != nil {
		t.Fatal(err)
	}
	k := tokenizer.KeyOf("Viagra")
	c := Counts{Spam: 12, Ham: 1, Atime: 1717236000}
	if err := FormatToken(&buf, k, c, DumpProbability(c, 250, 312, DefaultParams())); err != nil {
		t.Fatal(err)
	}
	if err := FormatToken(&buf, k, c, DumpProbability(c, 250, 0, DefaultParams())); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "dump.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("dump differs from %s:\n%s", golden, buf.String())
	}
}

// TestRestoreRealSpamAssassinBackup learns corpus messages with the real
// sa-learn, restores its --backup and checks that our dump matches its
// --dump output line for line.
func TestRestoreRealSpamAssassinBackup(t *testing.T) {
	saLearn, err := exec.LookPath("sa-learn")
	if err != nil {
		requirePeer(t, "sa-learn")
	}
	corpus := testpeer.CorpusDir()
	spam, _ := filepath.Glob(filepath.Join(corpus, "spam", "0*"))
	ham, _ := filepath.Glob(filepath.Join(corpus, "easy_ham", "0*"))
	if len(spam) < 15 || len(ham) < 15 {
		requirePeer(t, "corpus "+corpus)
	}
	home := t.TempDir()
	dbdir := filepath.Join(home, "bayes")
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(saLearn, append([]string{"--dbpath", dbdir}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sa-learn %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	run(append([]string{"--spam"}, spam[:15]...)...)
	run(append([]string{"--ham"}, ham[:15]...)...)
	backup := run("--backup")
	saMagic := run("--dump", "magic")
	saData := run("--dump", "data")

	s, _ := openTestStore(t)
	ctx := context.Background()
	st, err := s.Restore(ctx, "", bytes.NewReader(backup))
	if err != nil {
		t.Fatal(err)
	}
	if st.NSpam != 15 || st.NHam != 15 || st.Seen != 30 {
		t.Errorf("restore stats %+v: want 15 spam, 15 ham, 30 seen", st)
	}
	m, err := s.Magic(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// Compare the magic lines sa-learn printed with ours; the journal and
	// expiry counters are reset by a restore, like sa-learn --restore does.
	var ours bytes.Buffer
	if err := FormatMagic(&ours, m); err != nil {
		t.Fatal(err)
	}
	saLines := strings.Split(strings.TrimSpace(string(saMagic)), "\n")
	ourLines := strings.Split(strings.TrimSpace(ours.String()), "\n")
	for i := range 6 { // version, nspam, nham, ntokens, oldest, newest
		if i >= len(saLines) || i >= len(ourLines) || saLines[i] != ourLines[i] {
			t.Errorf("magic line %d:\n ours %q\n sa   %q", i, at(ourLines, i), at(saLines, i))
		}
	}

	// Every data line must match sa-learn's, probabilities included.
	var data bytes.Buffer
	p := DefaultParams()
	err = s.ForEachToken(ctx, "", func(k tokenizer.Key, c Counts) error {
		return FormatToken(&data, k, c, DumpProbability(c, m.NSpam, m.NHam, p))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sortedLines(string(saData))
	got := sortedLines(data.String())
	if len(got) != int(m.NTokens) || !slices.Equal(got, want) {
		t.Errorf("dump data differs: %d lines vs sa-learn's %d", len(got), len(want))
		for i := 0; i < len(got) && i < len(want); i++ {
			if got[i] != want[i] {
				t.Errorf("first difference:\n ours %q\n sa   %q", got[i], want[i])
				break
			}
		}
	}

	// And our backup has the same lines as sa-learn's (order aside).
	var ourBackup bytes.Buffer
	if err := s.Backup(ctx, "", &ourBackup); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sortedLines(ourBackup.String()), sortedLines(string(backup))) {
		t.Errorf("our backup of the restored store differs from sa-learn's backup")
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<missing>"
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

// TestRestoredCountsNeverWrap: a backup with counts at or past the
// limits of the store's integers restores held at those limits, and
// learning or forgetting on top of them moves them towards sense, never
// wraps (one more spam on 2^63-1 was 0 spam).
func TestRestoredCountsNeverWrap(t *testing.T) {
	const maxI64, maxU32 = math.MaxInt64, math.MaxUint32
	hexA := tokenizer.KeyOf("viagra").String()
	hexB := tokenizer.KeyOf("hello").String()
	backup := "v\t3\tdb_version\n" +
		"v\t9223372036854775807\tnum_spam\n" + // 2^63-1
		"v\t99999999999999999999999\tnum_nonspam\n" + // past it
		"t\t4294967295\t99999999999\t100\t" + hexA + "\n" +
		"t\t4294967295\t4294967295\t-9223372036854775808\t" + hexB + "\n"
	tests := []struct {
		name      string
		ops       []Op
		wantNSpam int64
		wantNHam  int64
		want      map[string]Counts
	}{
		{
			name:      "restored as is",
			wantNSpam: maxI64, wantNHam: maxI64,
			want: map[string]Counts{"viagra": {Spam: maxU32, Ham: maxU32, Atime: 100}, "hello": {Spam: maxU32, Ham: maxU32, Atime: 0}},
		},
		{
			name:      "learning more holds at the limit",
			ops:       []Op{learnOp("s1", Spam, 200, "viagra", "hello"), learnOp("h1", Ham, 200, "viagra")},
			wantNSpam: maxI64, wantNHam: maxI64,
			want: map[string]Counts{"viagra": {Spam: maxU32, Ham: maxU32, Atime: 200}, "hello": {Spam: maxU32, Ham: maxU32, Atime: 200}},
		},
		{
			name:      "forgetting comes down from the limit",
			ops:       []Op{learnOp("s1", Spam, 200, "viagra"), forgetOp("s1", "viagra")},
			wantNSpam: maxI64 - 1, wantNHam: maxI64,
			want: map[string]Counts{"viagra": {Spam: maxU32 - 1, Ham: maxU32, Atime: 200}, "hello": {Spam: maxU32, Ham: maxU32, Atime: 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTestStore(t)
			ctx := context.Background()
			if _, err := s.Restore(ctx, "", strings.NewReader(backup)); err != nil {
				t.Fatal(err)
			}
			if len(tt.ops) > 0 {
				if _, err := s.Apply(ctx, tt.ops); err != nil {
					t.Fatal(err)
				}
			}
			c := contents(t, s, "")
			if c.Magic.NSpam != tt.wantNSpam || c.Magic.NHam != tt.wantNHam {
				t.Errorf("nspam %d nham %d, want %d %d", c.Magic.NSpam, c.Magic.NHam, tt.wantNSpam, tt.wantNHam)
			}
			for tok, w := range tt.want {
				if g := c.Tokens[tokenizer.KeyOf(tok)]; g != w {
					t.Errorf("%s: %+v, want %+v", tok, g, w)
				}
			}
			// The probability such counts give is a number, and expiry
			// runs over them without overflowing an age.
			p, ok := TokenProbability(c.Tokens[tokenizer.KeyOf("viagra")], c.Magic.NSpam, c.Magic.NHam, DefaultParams())
			if !ok || math.IsNaN(p) || p < 0 || p > 1 {
				t.Errorf("probability %v (ok %v)", p, ok)
			}
			if _, err := s.Expire(ctx, "", ExpireOptions{Force: true}); err != nil {
				t.Errorf("Expire: %v", err)
			}
		})
	}
}
