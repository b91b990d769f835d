package re

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// The ...Before methods never start a backtracking match that could run
// past the deadline: they answer at once with ErrDeadline instead. RE2
// patterns, and backtracking ones the gate rules out, still answer.
func TestDeadline(t *testing.T) {
	// Catastrophic on the backtracking engine: a nested quantifier and a
	// backreference over a long run of "a" that does not end the match.
	const slow = `^(a+)+\1$`
	runaway := strings.Repeat("a", 40) + "!"
	tests := []struct {
		name, expr, subj string
		in               time.Duration // deadline from now; 0: none
		want             bool
		wantErr          error
		// most is how long the call may take.
		most time.Duration
	}{
		{"no deadline: the match runs out of its own time", slow, runaway, 0, false, nil, 0},
		{"deadline far enough: the match runs", slow, runaway, time.Minute, false, nil, 0},
		{"deadline nearer than one match: not started", slow, runaway, 50 * time.Millisecond, false, ErrDeadline, 20 * time.Millisecond},
		{"deadline passed: not started", slow, runaway, -time.Second, false, ErrDeadline, 20 * time.Millisecond},
		{"deadline passed, backtracking pattern matches quickly: still not started", `(?<=x)y`, "xy", -time.Second, false, ErrDeadline, 20 * time.Millisecond},
		{"deadline passed, gate shut: no match without running", `(?<=x)yz`, "no such letters", -time.Second, false, nil, 20 * time.Millisecond},
		{"deadline passed, RE2 pattern: runs", `a+b`, "xaab", -time.Second, true, nil, 20 * time.Millisecond},
		{"deadline ahead, backtracking pattern matches", `(?<=x)y`, "xy", time.Minute, true, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile(tt.expr, "", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var deadline time.Time
			if tt.in != 0 {
				deadline = time.Now().Add(tt.in)
			}
			start := time.Now()
			got, err := r.MatchTextBefore(NewText(tt.subj), deadline)
			took := time.Since(start)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("MatchTextBefore = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
			most := tt.most
			if most == 0 {
				// The bound the engine promises, and room for a loaded machine.
				most = r.MaxMatchTime() + 200*time.Millisecond
			}
			if took > most {
				t.Errorf("took %v, want at most %v", took, most)
			}
			idx, err := r.FindAllTextIndexBefore(NewText(tt.subj), -1, deadline)
			if (len(idx) > 0) != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("FindAllTextIndexBefore = %v, %v; want a match %v, %v", idx, err, tt.want, tt.wantErr)
			}
		})
	}
}

// One backtracking match lasts at most MaxMatchTime: the clock regexp2
// times matches with is coarse, and the slack covers it.
func TestMaxMatchTime(t *testing.T) {
	// Without a solver, which would answer in linear time.
	r, err := Compile(`(\w+\s?)+(?=\d{3}X)`, "", Options{MatchTimeout: 50 * time.Millisecond, noSolver: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Engine() != EngineBacktrack {
		t.Fatalf("engine %s, want the backtracking one", r.Engine())
	}
	subj := NewText(strings.Repeat("word ", 30) + "12")
	// Unbounded, this match backtracks for minutes. The shortest of three
	// tries is compared: a try can also be late because the machine gave
	// its goroutine no core for a while (seen at load averages above 10),
	// which a bounded match does not make three times running.
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		if r.MatchText(subj) {
			t.Fatal("matched")
		}
		best = min(best, time.Since(start))
	}
	if best > r.MaxMatchTime() {
		t.Errorf("the quickest of three matches took %v, more than MaxMatchTime %v", best, r.MaxMatchTime())
	}
	if re2 := compileForTest(t, `a+`); re2.MaxMatchTime() != 0 {
		t.Errorf("RE2 MaxMatchTime = %v, want 0", re2.MaxMatchTime())
	}
}

// After a deadline refusal FindAllTextIndexBefore keeps the matches it
// found; NamedCapturesBefore refuses the same way.
func TestDeadlineCaptures(t *testing.T) {
	r := compileForTest(t, `(?<=<)(?<TAG>\w+)(?=>)`)
	subj := NewText("<a> <b> <c>")
	caps, err := r.NamedCapturesBefore(subj, time.Now().Add(time.Minute))
	if err != nil || len(caps["TAG"]) != 1 || caps["TAG"][0] != "a" {
		t.Errorf("NamedCapturesBefore = %v, %v; want TAG=a", caps, err)
	}
	if caps, err := r.NamedCapturesBefore(subj, time.Now().Add(-time.Second)); caps != nil || !errors.Is(err, ErrDeadline) {
		t.Errorf("NamedCapturesBefore past the deadline = %v, %v; want nil, ErrDeadline", caps, err)
	}
}

func compileForTest(t *testing.T, expr string) *Regexp {
	t.Helper()
	r, err := Compile(expr, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
