// Package storetest is the behaviour every Bayes store backend
// (classifier.Backend) must show, as one test suite: run it with Run
// from each backend's tests.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// A Backend opens a fresh, empty store for one test.
type Backend struct {
	Name string
	Open func(t testing.TB) classifier.Backend
	// Atimes is true when the store keeps token atimes and the atime and
	// token counters of Magic (the Pebble store; SpamAssassin's Redis
	// layout has none).
	Atimes bool
}

// Run runs every behaviour test against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"ApplySemantics", testApplySemantics},
		{"CountsNeverNegative", testCountsNeverNegative},
		{"AltMsgID", testAltMsgID},
		{"ScopesIsolated", testScopesIsolated},
		{"RejectsBadOps", testRejectsBadOps},
		{"LookupAndSeen", testLookupAndSeen},
		{"BackupRestoreRoundTrip", testBackupRestore},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, b) })
	}
}

func keys(tokens ...string) []tokenizer.Key {
	out := make([]tokenizer.Key, len(tokens))
	for i, tok := range tokens {
		out[i] = tokenizer.KeyOf(tok)
	}
	return out
}

func learnOp(msgid string, class classifier.Class, atime int64, tokens ...string) classifier.Op {
	return classifier.Op{MsgID: msgid, Class: class, Tokens: keys(tokens...), Atime: atime}
}

func forgetOp(msgid string, tokens ...string) classifier.Op {
	return classifier.Op{MsgID: msgid, Forget: true, Tokens: keys(tokens...)}
}

// Contents is everything a scope holds; Atime is left out of the tokens
// unless the backend keeps atimes.
type Contents struct {
	Magic  classifier.Magic
	Tokens map[tokenizer.Key]classifier.Counts
	Seen   map[string]classifier.Class
}

// ReadContents reads scope sc of s.
func ReadContents(t testing.TB, s classifier.Backend, sc classifier.Scope, atimes bool) Contents {
	t.Helper()
	ctx := context.Background()
	m, err := s.Magic(ctx, sc)
	if err != nil {
		t.Fatalf("Magic: %v", err)
	}
	c := Contents{Magic: m, Tokens: map[tokenizer.Key]classifier.Counts{}, Seen: map[string]classifier.Class{}}
	if err := s.ForEachToken(ctx, sc, func(k tokenizer.Key, cs classifier.Counts) error {
		if !atimes {
			cs.Atime = 0
		}
		c.Tokens[k] = cs
		return nil
	}); err != nil {
		t.Fatalf("ForEachToken: %v", err)
	}
	if err := s.ForEachSeen(ctx, sc, func(id string, cl classifier.Class) error {
		c.Seen[id] = cl
		return nil
	}); err != nil {
		t.Fatalf("ForEachSeen: %v", err)
	}
	return c
}

type tok struct {
	name      string
	spam, ham uint32
	atime     int64
}

func testApplySemantics(t *testing.T, b Backend) {
	S, H := classifier.Spam, classifier.Ham
	L, A, R, F, N := classifier.Learned, classifier.AlreadyLearned, classifier.Relearned, classifier.Forgotten, classifier.NotLearned
	type batch struct {
		ops  []classifier.Op
		want []classifier.Result
	}
	tests := []struct {
		name        string
		batches     []batch
		nspam, nham int64
		tokens      []tok
		seen        map[string]classifier.Class
	}{
		{"learn spam then ham", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "viagra", "hello")}, []classifier.Result{L}},
			{[]classifier.Op{learnOp("m2", H, 200, "hello", "meeting")}, []classifier.Result{L}},
		}, 1, 1, []tok{{"viagra", 1, 0, 100}, {"hello", 1, 1, 200}, {"meeting", 0, 1, 200}},
			map[string]classifier.Class{"m1": S, "m2": H}},
		{"same class again is already learned", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1", "b1")}, []classifier.Result{L}},
			{[]classifier.Op{learnOp("m1", S, 300, "a1", "b1")}, []classifier.Result{A}},
		}, 1, 0, []tok{{"a1", 1, 0, 100}, {"b1", 1, 0, 100}}, map[string]classifier.Class{"m1": S}},
		{"other class relearns", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1", "b1"), learnOp("m2", S, 100, "b1")}, []classifier.Result{L, L}},
			{[]classifier.Op{learnOp("m1", H, 150, "a1", "b1")}, []classifier.Result{R}},
		}, 1, 1, []tok{{"a1", 0, 1, 150}, {"b1", 1, 1, 150}}, map[string]classifier.Class{"m1": H, "m2": S}},
		{"no relearn leaves the other class", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1")}, []classifier.Result{L}},
			{[]classifier.Op{{MsgID: "m1", Class: H, NoRelearn: true, Tokens: keys("a1"), Atime: 200}}, []classifier.Result{N}},
		}, 1, 0, []tok{{"a1", 1, 0, 100}}, map[string]classifier.Class{"m1": S}},
		{"forget removes counts and deletes 0/0 tokens", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1", "b1"), learnOp("m2", S, 200, "b1")}, []classifier.Result{L, L}},
			{[]classifier.Op{forgetOp("m1", "a1", "b1")}, []classifier.Result{F}},
		}, 1, 0, []tok{{"b1", 1, 0, 200}}, map[string]classifier.Class{"m2": S}},
		{"forget of an unseen message does nothing", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1")}, []classifier.Result{L}},
			{[]classifier.Op{forgetOp("m9", "a1")}, []classifier.Result{N}},
		}, 1, 0, []tok{{"a1", 1, 0, 100}}, map[string]classifier.Class{"m1": S}},
		{"later ops in one batch see earlier ones", []batch{
			{[]classifier.Op{
				learnOp("m1", S, 100, "a1", "b1"),
				learnOp("m1", S, 100, "a1", "b1"),
				learnOp("m2", H, 300, "b1", "c1"),
				learnOp("m1", H, 200, "a1", "b1"),
				forgetOp("m2", "b1", "c1"),
				forgetOp("m2", "b1", "c1"),
			}, []classifier.Result{L, A, L, R, F, N}},
		}, 0, 1, []tok{{"a1", 0, 1, 200}, {"b1", 0, 1, 300}}, map[string]classifier.Class{"m1": H}},
		{"a token repeated in one message counts once", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1", "a1", "a1")}, []classifier.Result{L}},
		}, 1, 0, []tok{{"a1", 1, 0, 100}}, map[string]classifier.Class{"m1": S}},
		{"learn forget learn again in one batch", []batch{
			{[]classifier.Op{learnOp("m1", S, 100, "a1"), forgetOp("m1", "a1"), learnOp("m1", H, 50, "a1")},
				[]classifier.Result{L, F, L}},
		}, 0, 1, []tok{{"a1", 0, 1, 50}}, map[string]classifier.Class{"m1": H}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := b.Open(t)
			ctx := context.Background()
			for i, bt := range tt.batches {
				got, err := s.Apply(ctx, bt.ops)
				if err != nil {
					t.Fatalf("batch %d: Apply: %v", i, err)
				}
				if !slices.Equal(got, bt.want) {
					t.Fatalf("batch %d: results %v, want %v", i, got, bt.want)
				}
			}
			c := ReadContents(t, s, "", b.Atimes)
			want := map[tokenizer.Key]classifier.Counts{}
			for _, tk := range tt.tokens {
				cs := classifier.Counts{Spam: tk.spam, Ham: tk.ham}
				if b.Atimes {
					cs.Atime = tk.atime
				}
				want[tokenizer.KeyOf(tk.name)] = cs
			}
			if !maps.Equal(c.Tokens, want) {
				t.Errorf("tokens %v, want %v", c.Tokens, want)
			}
			if !maps.Equal(c.Seen, tt.seen) {
				t.Errorf("seen %v, want %v", c.Seen, tt.seen)
			}
			if c.Magic.NSpam != tt.nspam || c.Magic.NHam != tt.nham || c.Magic.DBVersion != classifier.DBVersion {
				t.Errorf("magic %+v, want nspam %d nham %d version 3", c.Magic, tt.nspam, tt.nham)
			}
			if b.Atimes && c.Magic.NTokens != int64(len(tt.tokens)) {
				t.Errorf("ntokens %d, want %d", c.Magic.NTokens, len(tt.tokens))
			}
		})
	}
}

func restoreString(t testing.TB, s classifier.Backend, sc classifier.Scope, backup string) {
	t.Helper()
	if _, err := s.Restore(context.Background(), sc, strings.NewReader(backup)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
}

func testCountsNeverNegative(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx := context.Background()
	// Counts that disagree with the seen index: m1 is seen as spam but
	// nothing counts it.
	restoreString(t, s, "", "v\t3\tdb_version # this must be the first line!!!\n"+
		"v\t0\tnum_spam\nv\t4\tnum_nonspam\n"+
		"t\t0\t1\t100\t"+tokenizer.KeyOf("a1").String()+"\n"+
		"s\ts\tm1\n")
	res, err := s.Apply(ctx, []classifier.Op{forgetOp("m1", "a1", "b1")})
	if err != nil || res[0] != classifier.Forgotten {
		t.Fatalf("Apply = %v, %v", res, err)
	}
	c := ReadContents(t, s, "", false)
	if c.Magic.NSpam != 0 || c.Magic.NHam != 4 {
		t.Errorf("magic %+v: want nspam 0, nham 4", c.Magic)
	}
	want := map[tokenizer.Key]classifier.Counts{tokenizer.KeyOf("a1"): {Ham: 1}}
	if !maps.Equal(c.Tokens, want) {
		t.Errorf("tokens %v, want %v", c.Tokens, want)
	}
}

func testAltMsgID(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx := context.Background()
	if _, err := s.Apply(ctx, []classifier.Op{learnOp("old@example.com", classifier.Spam, 100, "a1")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		op   classifier.Op
		want classifier.Result
	}{
		{classifier.Op{MsgID: "gen@sa_generated", AltMsgID: "old@example.com", Class: classifier.Spam, Tokens: keys("a1"), Atime: 100}, classifier.AlreadyLearned},
		{classifier.Op{MsgID: "gen@sa_generated", AltMsgID: "old@example.com", Forget: true, Tokens: keys("a1")}, classifier.Forgotten},
		{classifier.Op{MsgID: "gen@sa_generated", AltMsgID: "old@example.com", Forget: true, Tokens: keys("a1")}, classifier.NotLearned},
	}
	for i, tt := range tests {
		got, err := s.Apply(ctx, []classifier.Op{tt.op})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("op %d: %v, want %v", i, got[0], tt.want)
		}
	}
	c := ReadContents(t, s, "", false)
	if len(c.Seen) != 0 || len(c.Tokens) != 0 || c.Magic.NSpam != 0 {
		t.Errorf("after forget via AltMsgID: %+v", c)
	}
	if _, err := s.Apply(ctx, []classifier.Op{learnOp("old2@example.com", classifier.Spam, 100, "a1")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Apply(ctx, []classifier.Op{{MsgID: "gen2@sa_generated", AltMsgID: "old2@example.com", Class: classifier.Ham, Tokens: keys("a1"), Atime: 100}})
	if err != nil || got[0] != classifier.Relearned {
		t.Fatalf("relearn via alt id = %v, %v", got, err)
	}
	c = ReadContents(t, s, "", false)
	if want := map[string]classifier.Class{"gen2@sa_generated": classifier.Ham}; !maps.Equal(c.Seen, want) {
		t.Errorf("seen %v, want %v", c.Seen, want)
	}
}

func testScopesIsolated(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx := context.Background()
	alice := learnOp("m1", classifier.Spam, 100, "a1", "b1")
	alice.Scope = "alice"
	bob := learnOp("m1", classifier.Ham, 200, "a1")
	bob.Scope = "bob"
	res, err := s.Apply(ctx, []classifier.Op{alice, bob, learnOp("m1", classifier.Spam, 300, "c1")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []classifier.Result{classifier.Learned, classifier.Learned, classifier.Learned}; !slices.Equal(res, want) {
		t.Fatalf("results %v: the same msgid in three scopes must learn three times", res)
	}
	ca, cb, cg := ReadContents(t, s, "alice", false), ReadContents(t, s, "bob", false), ReadContents(t, s, "", false)
	if ca.Magic.NSpam != 1 || ca.Magic.NHam != 0 || len(ca.Tokens) != 2 {
		t.Errorf("alice %+v", ca)
	}
	if cb.Magic.NSpam != 0 || cb.Magic.NHam != 1 || cb.Tokens[tokenizer.KeyOf("a1")] != (classifier.Counts{Ham: 1}) {
		t.Errorf("bob %+v", cb)
	}
	if len(cg.Tokens) != 1 || cg.Seen["m1"] != classifier.Spam {
		t.Errorf("global scope %+v", cg)
	}
	scopes, err := s.Scopes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []classifier.Scope{"", "alice", "bob"}; !slices.Equal(scopes, want) {
		t.Errorf("Scopes = %q, want %q", scopes, want)
	}
	if err := s.Clear(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	ca = ReadContents(t, s, "alice", false)
	if len(ca.Tokens) != 0 || len(ca.Seen) != 0 || ca.Magic.NSpam+ca.Magic.NHam != 0 {
		t.Errorf("alice after Clear: %+v", ca)
	}
	if got := ReadContents(t, s, "bob", false); len(got.Tokens) != 1 || got.Magic.NHam != 1 {
		t.Errorf("bob after clearing alice: %+v", got)
	}
	ali := learnOp("m7", classifier.Spam, 100, "z1")
	ali.Scope = "ali*"
	if _, err := s.Apply(ctx, []classifier.Op{ali}); err != nil {
		t.Fatal(err)
	}
	if got := ReadContents(t, s, "ali*", false); len(got.Tokens) != 1 {
		t.Errorf("scope ali*: %+v", got)
	}
	if got := ReadContents(t, s, "alice", false); len(got.Tokens) != 0 {
		t.Errorf("scope alice sees ali*'s tokens: %+v", got)
	}
	// Clearing the global scope leaves the users'.
	if err := s.Clear(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := ReadContents(t, s, "bob", false); len(got.Tokens) != 1 {
		t.Errorf("bob after clearing the global scope: %+v", got)
	}
}

func testRejectsBadOps(t *testing.T, b Backend) {
	s := b.Open(t)
	tests := []struct {
		name string
		op   classifier.Op
	}{
		{"no msgid", classifier.Op{Class: classifier.Spam}},
		{"no class", classifier.Op{MsgID: "m1"}},
		{"forget without ids", classifier.Op{Forget: true}},
		{"NUL in scope", classifier.Op{Scope: "a\x00b", MsgID: "m1", Class: classifier.Spam}},
	}
	for _, tt := range tests {
		if _, err := s.Apply(context.Background(), []classifier.Op{learnOp("ok", classifier.Spam, 1, "x"), tt.op}); err == nil {
			t.Errorf("%s: Apply accepted %+v", tt.name, tt.op)
		}
	}
	if c := ReadContents(t, s, "", false); c.Magic.NSpam != 0 {
		t.Errorf("a rejected batch wrote something: %+v", c.Magic)
	}
}

func testLookupAndSeen(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx := context.Background()
	var learned []string
	for i := range 50 {
		learned = append(learned, "tok"+strconv.Itoa(i))
	}
	if _, err := s.Apply(ctx, []classifier.Op{learnOp("m1", classifier.Spam, 100, learned...), learnOp("m2", classifier.Ham, 90, learned[:10]...)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 60} {
		var names []string
		for i := range n {
			names = append(names, "tok"+strconv.Itoa(n-1-i))
		}
		out := make([]classifier.Counts, n)
		if err := s.Lookup(ctx, "", keys(names...), out); err != nil {
			t.Fatal(err)
		}
		for i, name := range names {
			idx, _ := strconv.Atoi(strings.TrimPrefix(name, "tok"))
			var want classifier.Counts
			switch {
			case idx < 10:
				want = classifier.Counts{Spam: 1, Ham: 1}
			case idx < 50:
				want = classifier.Counts{Spam: 1}
			}
			got := out[i]
			if !b.Atimes {
				got.Atime = 0
			} else if want != (classifier.Counts{}) {
				want.Atime = 100
			}
			if got != want {
				t.Errorf("n=%d: %s = %+v, want %+v", n, name, got, want)
			}
		}
		if ml, ok := s.(classifier.MagicLookuper); ok {
			out2 := make([]classifier.Counts, n)
			m, err := ml.LookupMagic(ctx, "", keys(names...), out2)
			if err != nil || m.NSpam != 1 || m.NHam != 1 || !slices.Equal(out, out2) {
				t.Errorf("LookupMagic = %+v, %v; counts equal to Lookup's: %v", m, err, slices.Equal(out, out2))
			}
		}
	}
	for _, tt := range []struct {
		id    string
		class classifier.Class
		ok    bool
	}{{"m1", classifier.Spam, true}, {"m2", classifier.Ham, true}, {"m3", 0, false}} {
		c, ok, err := s.Seen(ctx, "", tt.id)
		if err != nil || ok != tt.ok || c != tt.class {
			t.Errorf("Seen(%s) = %v, %v, %v", tt.id, c, ok, err)
		}
	}
}

func testBackupRestore(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx := context.Background()
	var ops []classifier.Op
	for i := range 30 {
		class := classifier.Spam
		if i%3 == 0 {
			class = classifier.Ham
		}
		ops = append(ops, learnOp(fmt.Sprintf("m%d@sa_generated", i), class, int64(1000+i), "common", fmt.Sprintf("t%d", i), fmt.Sprintf("t%d", i/2)))
	}
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	before := ReadContents(t, s, "", false)
	var buf bytes.Buffer
	if err := s.Backup(ctx, "", &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "v\t3\tdb_version # this must be the first line!!!\nv\t20\tnum_spam\nv\t10\tnum_nonspam\n") {
		t.Errorf("backup starts %q", buf.String()[:min(buf.Len(), 120)])
	}
	// Into a second store, and back into the first after a learn.
	s2 := b.Open(t)
	st, err := s2.Restore(ctx, "", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if st.Tokens != int64(len(before.Tokens)) || st.Seen != 30 {
		t.Errorf("restore stats %+v, want %d tokens and 30 seen", st, len(before.Tokens))
	}
	after := ReadContents(t, s2, "", false)
	if !maps.Equal(before.Tokens, after.Tokens) || !maps.Equal(before.Seen, after.Seen) ||
		before.Magic.NSpam != after.Magic.NSpam || before.Magic.NHam != after.Magic.NHam {
		t.Errorf("restored store differs:\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := s.Apply(ctx, []classifier.Op{learnOp("extra", classifier.Spam, 5000, "extra1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Restore(ctx, "", bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := ReadContents(t, s, "", false); !maps.Equal(got.Tokens, before.Tokens) || !maps.Equal(got.Seen, before.Seen) || got.Magic.NSpam != 20 {
		t.Errorf("restore over a learned store did not replace it: %+v", got.Magic)
	}
}

// testConcurrentWriters applies learns from several goroutines at once,
// each message twice (as two hosts learning the same mail), and checks
// exact counts.
func testConcurrentWriters(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx := context.Background()
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*2)
	for w := range writers * 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				m := (w % writers) * perWriter // two goroutines per message range
				class := classifier.Spam
				if i%2 == 1 {
					class = classifier.Ham
				}
				op := learnOp(fmt.Sprintf("w%d-%d", m, i), class, 100, "shared", fmt.Sprintf("own%d-%d", m, i))
				if _, err := s.Apply(ctx, []classifier.Op{op}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := ReadContents(t, s, "", false)
	total := int64(writers * perWriter)
	if c.Magic.NSpam != total/2 || c.Magic.NHam != total/2 {
		t.Errorf("nspam %d nham %d, want %d each", c.Magic.NSpam, c.Magic.NHam, total/2)
	}
	if got := c.Tokens[tokenizer.KeyOf("shared")]; got.Spam != uint32(total/2) || got.Ham != uint32(total/2) {
		t.Errorf("shared token %+v, want %d/%d", got, total/2, total/2)
	}
	if len(c.Seen) != int(total) {
		t.Errorf("%d seen entries, want %d", len(c.Seen), total)
	}
}
