package re

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A StateBudget bounds what the dfas charged to it hold together, and a
// dfa that has to start over to stay within it answers as before. When
// the patterns are dropped, their charges are given back.
func TestStateBudget(t *testing.T) {
	exprs := []string{
		`[ab]*a[ab]{12}c`,
		`foo.{0,60}bar`,
		`(?:a|b|c){3,9}d[ab]{6}`,
		`\bab[a-c ]{4,20}ca\b`,
		`^(?:[abc ]{2,30}\n)+cab`,
		`c[^d]{10,40}a{3}`,
	}
	const limit = 256 << 10
	budget := NewStateBudget(limit)
	var budgeted, plain []*Regexp
	for _, e := range exprs {
		b, err := Compile(e, "m", Options{StateBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Compile(e, "m", Options{noDFA: true})
		if err != nil {
			t.Fatal(err)
		}
		if b.dfa == nil {
			t.Fatalf("/%s/: no dfa", e)
		}
		budgeted, plain = append(budgeted, b), append(plain, p)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "ab", "ba", "cab", " ", "\n", "foo", "bar", "aaa", "d"}
	starts := 0
	for i := range 3000 {
		var sb strings.Builder
		for range 20 + rng.IntN(200) {
			sb.WriteString(words[rng.IntN(len(words))])
		}
		text := NewText(sb.String())
		for j, b := range budgeted {
			if got, want := b.MatchText(text), plain[j].MatchText(text); got != want {
				t.Fatalf("text %d, /%s/: %v with a budget, %v without", i, exprs[j], got, want)
			}
		}
		if used := budget.Used(); used > limit+int64(len(budgeted))*budgetedFloor(budgeted) {
			t.Fatalf("text %d: %d bytes charged, budget %d", i, used, limit)
		}
	}
	for _, b := range budgeted {
		starts += b.dfa.emptied()
		if b.dfa.failed.Load() {
			t.Errorf("/%s/: gave up", b.expr)
		}
	}
	if starts == 0 {
		t.Error("no dfa had to start over: the budget was not reached")
	}
	t.Logf("%d bytes charged, %d starts over", budget.Used(), starts)

	budgeted, plain = nil, nil
	deadline := time.Now().Add(10 * time.Second)
	for budget.Used() != 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if u := budget.Used(); u != 0 {
		t.Errorf("%d bytes still charged after the patterns were dropped", u)
	}
}

// budgetedFloor is the most one dfa of rs may hold past a full budget.
func budgetedFloor(rs []*Regexp) int64 {
	var m int64
	for _, r := range rs {
		m = max(m, r.dfa.tableBytes(budgetFloorStates))
	}
	return m
}
