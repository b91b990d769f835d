package classifier

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gospamd/gospamd/tokenizer"
)

func openTestStore(t testing.TB) (*Store, string) {
	t.Helper()
	return openTestStoreWith(t, Options{})
}

// openTestStoreWith opens a store in a new directory with opt, closed
// when the test ends.
func openTestStoreWith(t testing.TB, opt Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if s.db != nil {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return s, dir
}

// keys returns the keys of the named tokens.
func keys(tokens ...string) []tokenizer.Key {
	out := make([]tokenizer.Key, len(tokens))
	for i, tok := range tokens {
		out[i] = tokenizer.KeyOf(tok)
	}
	return out
}

// scopeState is everything a scope holds, for comparisons.
type scopeContents struct {
	Magic  Magic
	Tokens map[tokenizer.Key]Counts
	Seen   map[string]Class
}

func contents(t testing.TB, s *Store, sc Scope) scopeContents {
	t.Helper()
	ctx := context.Background()
	m, err := s.Magic(ctx, sc)
	if err != nil {
		t.Fatalf("Magic: %v", err)
	}
	c := scopeContents{Magic: m, Tokens: map[tokenizer.Key]Counts{}, Seen: map[string]Class{}}
	if err := s.ForEachToken(ctx, sc, func(k tokenizer.Key, cs Counts) error {
		c.Tokens[k] = cs
		return nil
	}); err != nil {
		t.Fatalf("ForEachToken: %v", err)
	}
	if err := s.ForEachSeen(ctx, sc, func(id string, cl Class) error {
		c.Seen[id] = cl
		return nil
	}); err != nil {
		t.Fatalf("ForEachSeen: %v", err)
	}
	return c
}

func learnOp(msgid string, class Class, atime int64, tokens ...string) Op {
	return Op{MsgID: msgid, Class: class, Tokens: keys(tokens...), Atime: atime}
}

func forgetOp(msgid string, tokens ...string) Op {
	return Op{MsgID: msgid, Forget: true, Tokens: keys(tokens...)}
}

// tok builds an expected token entry.
type tok struct {
	name      string
	spam, ham uint32
	atime     int64
}

func TestApplySemantics(t *testing.T) {
	type batch struct {
		ops  []Op
		want []Result
	}
	tests := []struct {
		name        string
		batches     []batch
		nspam, nham int64
		tokens      []tok
		seen        map[string]Class
		newest      int64
		oldest      int64
	}{
		{
			name: "learn spam then ham",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "viagra", "hello")}, []Result{Learned}},
				{[]Op{learnOp("m2", Ham, 200, "hello", "meeting")}, []Result{Learned}},
			},
			nspam: 1, nham: 1,
			tokens: []tok{{"viagra", 1, 0, 100}, {"hello", 1, 1, 200}, {"meeting", 0, 1, 200}},
			seen:   map[string]Class{"m1": Spam, "m2": Ham},
			newest: 200, oldest: 100,
		},
		{
			name: "same class again is already learned",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1", "b1")}, []Result{Learned}},
				{[]Op{learnOp("m1", Spam, 300, "a1", "b1")}, []Result{AlreadyLearned}},
			},
			nspam: 1, tokens: []tok{{"a1", 1, 0, 100}, {"b1", 1, 0, 100}},
			seen: map[string]Class{"m1": Spam}, newest: 100, oldest: 100,
		},
		{
			name: "other class relearns",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1", "b1"), learnOp("m2", Spam, 100, "b1")}, []Result{Learned, Learned}},
				{[]Op{learnOp("m1", Ham, 150, "a1", "b1")}, []Result{Relearned}},
			},
			nspam: 1, nham: 1,
			tokens: []tok{{"a1", 0, 1, 150}, {"b1", 1, 1, 150}},
			seen:   map[string]Class{"m1": Ham, "m2": Spam}, newest: 150, oldest: 100,
		},
		{
			name: "no relearn leaves the other class",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1")}, []Result{Learned}},
				{[]Op{{MsgID: "m1", Class: Ham, NoRelearn: true, Tokens: keys("a1"), Atime: 200}}, []Result{NotLearned}},
			},
			nspam: 1, tokens: []tok{{"a1", 1, 0, 100}},
			seen: map[string]Class{"m1": Spam}, newest: 100, oldest: 100,
		},
		{
			name: "no relearn of an unseen message learns",
			batches: []batch{
				{[]Op{{MsgID: "m1", Class: Ham, NoRelearn: true, Tokens: keys("a1"), Atime: 200}}, []Result{Learned}},
			},
			nham: 1, tokens: []tok{{"a1", 0, 1, 200}},
			seen: map[string]Class{"m1": Ham}, newest: 200, oldest: 200,
		},
		{
			name: "forget removes counts and deletes 0/0 tokens",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1", "b1"), learnOp("m2", Spam, 200, "b1")}, []Result{Learned, Learned}},
				{[]Op{forgetOp("m1", "a1", "b1")}, []Result{Forgotten}},
			},
			nspam: 1, tokens: []tok{{"b1", 1, 0, 200}},
			seen: map[string]Class{"m2": Spam}, newest: 200, oldest: 100,
		},
		{
			name: "forget of an unseen message does nothing",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1")}, []Result{Learned}},
				{[]Op{forgetOp("m9", "a1")}, []Result{NotLearned}},
			},
			nspam: 1, tokens: []tok{{"a1", 1, 0, 100}},
			seen: map[string]Class{"m1": Spam}, newest: 100, oldest: 100,
		},
		{
			name: "later ops in one batch see earlier ones",
			batches: []batch{
				{[]Op{
					learnOp("m1", Spam, 100, "a1", "b1"),
					learnOp("m1", Spam, 100, "a1", "b1"),
					learnOp("m2", Ham, 300, "b1", "c1"),
					learnOp("m1", Ham, 200, "a1", "b1"),
					forgetOp("m2", "b1", "c1"),
					forgetOp("m2", "b1", "c1"),
				}, []Result{Learned, AlreadyLearned, Learned, Relearned, Forgotten, NotLearned}},
			},
			nham: 1, tokens: []tok{{"a1", 0, 1, 200}, {"b1", 0, 1, 300}},
			seen: map[string]Class{"m1": Ham}, newest: 300, oldest: 100,
		},
		{
			name: "a token repeated in one message counts once",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1", "a1", "a1")}, []Result{Learned}},
			},
			nspam: 1, tokens: []tok{{"a1", 1, 0, 100}},
			seen: map[string]Class{"m1": Spam}, newest: 100, oldest: 100,
		},
		{
			name: "atime never goes back",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 500, "a1")}, []Result{Learned}},
				{[]Op{learnOp("m2", Spam, 100, "a1")}, []Result{Learned}},
			},
			nspam: 2, tokens: []tok{{"a1", 2, 0, 500}},
			seen: map[string]Class{"m1": Spam, "m2": Spam}, newest: 500, oldest: 500,
		},
		{
			name: "learn forget learn again in one batch",
			batches: []batch{
				{[]Op{learnOp("m1", Spam, 100, "a1"), forgetOp("m1", "a1"), learnOp("m1", Ham, 50, "a1")},
					[]Result{Learned, Forgotten, Learned}},
			},
			nham: 1, tokens: []tok{{"a1", 0, 1, 50}},
			seen: map[string]Class{"m1": Ham}, newest: 100, oldest: 50,
		},
	}
	// Every case also runs on a store that ingests its batches as tables
	// (Options.Ingest, as gospamd learn opens it).
	for _, tt := range tests {
		for _, ingest := range []bool{false, true} {
			name := tt.name
			if ingest {
				name += " (ingest)"
			}
			t.Run(name, func(t *testing.T) {
				s, _ := openTestStoreWith(t, Options{Ingest: ingest})
				ctx := context.Background()
				for i, b := range tt.batches {
					got, err := s.Apply(ctx, b.ops)
					if err != nil {
						t.Fatalf("batch %d: Apply: %v", i, err)
					}
					if !slices.Equal(got, b.want) {
						t.Fatalf("batch %d: results %v, want %v", i, got, b.want)
					}
				}
				c := contents(t, s, "")
				wantTokens := map[tokenizer.Key]Counts{}
				for _, tk := range tt.tokens {
					wantTokens[tokenizer.KeyOf(tk.name)] = Counts{Spam: tk.spam, Ham: tk.ham, Atime: tk.atime}
				}
				if !maps.Equal(c.Tokens, wantTokens) {
					t.Errorf("tokens %v, want %v", c.Tokens, wantTokens)
				}
				if !maps.Equal(c.Seen, tt.seen) {
					t.Errorf("seen %v, want %v", c.Seen, tt.seen)
				}
				wantMagic := Magic{DBVersion: 3, NSpam: tt.nspam, NHam: tt.nham, NTokens: int64(len(tt.tokens)),
					NewestAtime: tt.newest, OldestAtime: tt.oldest}
				if c.Magic != wantMagic {
					t.Errorf("magic %+v, want %+v", c.Magic, wantMagic)
				}
			})
		}
	}
}

func TestApplyCountsNeverNegative(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	// A store whose counts disagree with its seen index (as an old or
	// hand-edited database may): m1 is seen as spam but nothing counts it.
	backup := "v\t3\tdb_version # this must be the first line!!!\n" +
		"v\t0\tnum_spam\nv\t4\tnum_nonspam\n" +
		"t\t0\t1\t100\t" + tokenizer.KeyOf("a1").String() + "\n" +
		"s\ts\tm1\n"
	if _, err := s.Restore(ctx, "", strings.NewReader(backup)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	res, err := s.Apply(ctx, []Op{forgetOp("m1", "a1", "b1")})
	if err != nil || res[0] != Forgotten {
		t.Fatalf("Apply = %v, %v", res, err)
	}
	c := contents(t, s, "")
	if c.Magic.NSpam != 0 || c.Magic.NHam != 4 || c.Magic.NTokens != 1 {
		t.Errorf("magic %+v: want nspam 0, nham 4, ntokens 1", c.Magic)
	}
	want := map[tokenizer.Key]Counts{tokenizer.KeyOf("a1"): {Spam: 0, Ham: 1, Atime: 100}}
	if !maps.Equal(c.Tokens, want) {
		t.Errorf("tokens %v, want %v", c.Tokens, want)
	}
}

func TestApplyAltMsgID(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	// An old database learned the message under its bare Message-ID.
	if _, err := s.Apply(ctx, []Op{learnOp("old@example.com", Spam, 100, "a1")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		op   Op
		want Result
	}{
		{Op{MsgID: "gen@sa_generated", AltMsgID: "old@example.com", Class: Spam, Tokens: keys("a1"), Atime: 100}, AlreadyLearned},
		{Op{MsgID: "gen@sa_generated", AltMsgID: "old@example.com", Forget: true, Tokens: keys("a1")}, Forgotten},
		{Op{MsgID: "gen@sa_generated", AltMsgID: "old@example.com", Forget: true, Tokens: keys("a1")}, NotLearned},
	}
	for i, tt := range tests {
		got, err := s.Apply(ctx, []Op{tt.op})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("op %d: %v, want %v", i, got[0], tt.want)
		}
	}
	c := contents(t, s, "")
	if len(c.Seen) != 0 || len(c.Tokens) != 0 || c.Magic.NSpam != 0 {
		t.Errorf("after forget via AltMsgID: %+v", c)
	}

	// Relearning through the old id moves the entry to the generated id.
	if _, err := s.Apply(ctx, []Op{learnOp("old2@example.com", Spam, 100, "a1")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Apply(ctx, []Op{{MsgID: "gen2@sa_generated", AltMsgID: "old2@example.com", Class: Ham, Tokens: keys("a1"), Atime: 100}})
	if err != nil || got[0] != Relearned {
		t.Fatalf("relearn via alt id = %v, %v", got, err)
	}
	c = contents(t, s, "")
	if want := map[string]Class{"gen2@sa_generated": Ham}; !maps.Equal(c.Seen, want) {
		t.Errorf("seen %v, want %v", c.Seen, want)
	}
}

func TestScopesIsolated(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	alice := learnOp("m1", Spam, 100, "a1", "b1")
	alice.Scope = "alice"
	bob := learnOp("m1", Ham, 200, "a1")
	bob.Scope = "bob"
	res, err := s.Apply(ctx, []Op{alice, bob, learnOp("m1", Spam, 300, "c1")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res, []Result{Learned, Learned, Learned}) {
		t.Fatalf("results %v: the same msgid in three scopes must learn three times", res)
	}
	ca, cb, cg := contents(t, s, "alice"), contents(t, s, "bob"), contents(t, s, "")
	if ca.Magic.NSpam != 1 || ca.Magic.NHam != 0 || ca.Magic.NTokens != 2 {
		t.Errorf("alice magic %+v", ca.Magic)
	}
	if cb.Magic.NSpam != 0 || cb.Magic.NHam != 1 || cb.Magic.NTokens != 1 {
		t.Errorf("bob magic %+v", cb.Magic)
	}
	if cb.Tokens[tokenizer.KeyOf("a1")] != (Counts{Ham: 1, Atime: 200}) {
		t.Errorf("bob a1 = %v", cb.Tokens[tokenizer.KeyOf("a1")])
	}
	if len(cg.Tokens) != 1 || cg.Seen["m1"] != Spam {
		t.Errorf("global scope %+v", cg)
	}
	scopes, err := s.Scopes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Scope{"", "alice", "bob"}; !slices.Equal(scopes, want) {
		t.Errorf("Scopes = %q, want %q", scopes, want)
	}
	// Clearing one scope leaves the others.
	if err := s.Clear(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	ca = contents(t, s, "alice")
	if len(ca.Tokens) != 0 || len(ca.Seen) != 0 || ca.Magic != emptyMagic() {
		t.Errorf("alice after Clear: %+v", ca)
	}
	if got := contents(t, s, "bob"); len(got.Tokens) != 1 || got.Magic.NHam != 1 {
		t.Errorf("bob after clearing alice: %+v", got)
	}
	// A scope that is a prefix of another stays apart.
	ali := learnOp("m7", Spam, 100, "z1")
	ali.Scope = "ali"
	if _, err := s.Apply(ctx, []Op{ali}); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, s, "ali"); len(got.Tokens) != 1 {
		t.Errorf("scope ali: %+v", got)
	}
	if got := contents(t, s, "alice"); len(got.Tokens) != 0 {
		t.Errorf("scope alice sees ali's tokens: %+v", got)
	}
}

func TestApplyRejectsBadOps(t *testing.T) {
	s, _ := openTestStore(t)
	tests := []struct {
		name string
		op   Op
	}{
		{"no msgid", Op{Class: Spam}},
		{"no class", Op{MsgID: "m1"}},
		{"forget without ids", Op{Forget: true}},
		{"NUL in scope", Op{Scope: "a\x00b", MsgID: "m1", Class: Spam}},
	}
	for _, tt := range tests {
		if _, err := s.Apply(context.Background(), []Op{learnOp("ok", Spam, 1, "x"), tt.op}); err == nil {
			t.Errorf("%s: Apply accepted %+v", tt.name, tt.op)
		}
	}
	if c := contents(t, s, ""); c.Magic.NSpam != 0 {
		t.Errorf("a rejected batch wrote something: %+v", c.Magic)
	}
}

func TestLookupAndSeen(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	var learned []string
	for i := range 50 {
		learned = append(learned, "tok"+strconv.Itoa(i))
	}
	if _, err := s.Apply(ctx, []Op{learnOp("m1", Spam, 100, learned...), learnOp("m2", Ham, 90, learned[:10]...)}); err != nil {
		t.Fatal(err)
	}
	// Both the Get path (few keys) and the sorted-iterator path (many).
	for _, n := range []int{3, 60} {
		var names []string
		for i := range n {
			names = append(names, "tok"+strconv.Itoa(n-1-i)) // descending, some unknown
		}
		out := make([]Counts, n)
		if err := s.Lookup(ctx, "", keys(names...), out); err != nil {
			t.Fatal(err)
		}
		for i, name := range names {
			idx, _ := strconv.Atoi(strings.TrimPrefix(name, "tok"))
			var want Counts
			switch {
			case idx < 10:
				want = Counts{Spam: 1, Ham: 1, Atime: 100}
			case idx < 50:
				want = Counts{Spam: 1, Atime: 100}
			}
			if out[i] != want {
				t.Errorf("n=%d: %s = %+v, want %+v", n, name, out[i], want)
			}
		}
	}
	for _, tt := range []struct {
		id    string
		class Class
		ok    bool
	}{{"m1", Spam, true}, {"m2", Ham, true}, {"m3", 0, false}} {
		c, ok, err := s.Seen(ctx, "", tt.id)
		if err != nil || ok != tt.ok || c != tt.class {
			t.Errorf("Seen(%s) = %v, %v, %v", tt.id, c, ok, err)
		}
	}
}

func TestTouch(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	if _, err := s.Apply(ctx, []Op{learnOp("m1", Spam, 100, "a1", "b1"), learnOp("m2", Spam, 500, "b1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "", keys("a1", "b1", "unknown"), 300); err != nil {
		t.Fatal(err)
	}
	c := contents(t, s, "")
	if got := c.Tokens[tokenizer.KeyOf("a1")].Atime; got != 300 {
		t.Errorf("a1 atime %d, want 300", got)
	}
	if got := c.Tokens[tokenizer.KeyOf("b1")].Atime; got != 500 {
		t.Errorf("b1 atime %d, want 500 (touch never lowers)", got)
	}
	if len(c.Tokens) != 2 || c.Magic.NTokens != 2 {
		t.Errorf("touch created tokens: %+v", c)
	}
	if err := s.Touch(ctx, "", keys("a1"), 900); err != nil {
		t.Fatal(err)
	}
	if m := contents(t, s, "").Magic; m.NewestAtime != 900 {
		t.Errorf("newest atime %d after touch to 900", m.NewestAtime)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Apply(ctx, []Op{learnOp("m1", Spam, 100, "a1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if m, err := ro.Magic(ctx, ""); err != nil || m.NSpam != 1 {
		t.Errorf("read-only magic %+v, %v", m, err)
	}
	if _, err := ro.Apply(ctx, []Op{learnOp("m2", Spam, 100, "a1")}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Apply on read-only store: %v, want ErrReadOnly", err)
	}
}

func TestOpenTwiceInProcess(t *testing.T) {
	s, dir := openTestStore(t)
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error %q does not name the holder pid %d", err, os.Getpid())
	}
	// The first store still works, and after Close the directory opens.
	if _, err := s.Apply(context.Background(), []Op{learnOp("m1", Spam, 1, "a")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadsDuringWrites runs lookups, magic reads and walks while one
// writer applies batches (meant for -race).
func TestReadsDuringWrites(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	msgs := syntheticMessages(7, 40)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]Counts, 300)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				// Counts read first can never exceed the message count read
				// after them.
				if err := s.Lookup(ctx, "", msgs[i%len(msgs)], out); err != nil {
					t.Error(err)
					return
				}
				m, err := s.Magic(ctx, "")
				if err != nil {
					t.Error(err)
					return
				}
				for _, c := range out {
					if int64(c.Spam) > m.NSpam {
						t.Errorf("token spam count %d with nspam %d", c.Spam, m.NSpam)
					}
				}
				if i%10 == 0 {
					n := 0
					if err := s.ForEachToken(ctx, "", func(tokenizer.Key, Counts) error { n++; return nil }); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for b := range 8 {
		ops := make([]Op, 5)
		for j := range ops {
			n := b*5 + j
			ops[j] = Op{MsgID: strconv.Itoa(n), Class: Spam, Tokens: msgs[n], Atime: int64(n)}
		}
		if _, err := s.Apply(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if m, _ := s.Magic(ctx, ""); m.NSpam != 40 {
		t.Errorf("nspam %d, want 40", m.NSpam)
	}
}
