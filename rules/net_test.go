package rules

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// listedRelays stands in for the DNSBL checker of the network issue: it
// answers check_rbl for relays in a fixed list, and records when scans
// started their lookups.
type listedRelays struct {
	mu      sync.Mutex
	listed  map[string]bool
	started int
}

func (l *listedRelays) Handles(name string) bool { return name == "check_rbl" }

func (l *listedRelays) Start(_ context.Context, m *tokenizer.Message, _ *cf.Policy) NetScan {
	l.mu.Lock()
	l.started++
	l.mu.Unlock()
	var ips []string
	for _, r := range m.Relays {
		ips = append(ips, r.IP)
	}
	return relayAnswers{l: l, ips: ips}
}

type relayAnswers struct {
	l   *listedRelays
	ips []string
}

func (a relayAnswers) Eval(_ context.Context, _ string, _ *cf.EvalCall) (bool, []string) {
	for _, ip := range a.ips {
		if a.l.listed[ip] {
			return true, []string{"listed " + ip}
		}
	}
	return false, nil
}

// With a NetChecker the network score sets apply and net eval rules get
// its answers, metas over them included; without one they never hit.
func TestNetworkPhase(t *testing.T) {
	const rulesCF = `
header   RCVD_IN_TESTBL  eval:check_rbl('test', 'bl.example.')
tflags   RCVD_IN_TESTBL  net
describe RCVD_IN_TESTBL  Relay listed in the test blocklist
score    RCVD_IN_TESTBL  0 3.0 0 2.5
body     MONEY           /millions of dollars/
score    MONEY           1.0
meta     LISTED_MONEY    RCVD_IN_TESTBL && MONEY
score    LISTED_MONEY    0 1.0 0 1.0
`
	msg := tokenizer.Parse([]byte("Received: from mx.spam.example (mx.spam.example [192.0.2.7])\n\tby mail.example.org with ESMTP id 1; Mon, 8 Jul 2002 12:00:00 +0000\n" +
		"From: a@spam.example\nSubject: hi\n\nmillions of dollars\n"))

	checker := &listedRelays{listed: map[string]bool{"192.0.2.7": true}}
	eng, mk := siteEngine(t, rulesCF, func(o *Options) { o.Net = checker })
	if n := eng.Rules().Stats.SkippedEvals; n != 0 {
		t.Errorf("%d evals skipped with a checker that handles check_rbl", n)
	}
	res, err := eng.Check(context.Background(), msg, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rules(), []string{"LISTED_MONEY", "MONEY", "RCVD_IN_TESTBL"}; !slices.Equal(got, want) {
		t.Errorf("with network tests: hits %v, want %v", got, want)
	}
	if res.ScoreSet != 1 || res.Score != 5.0 {
		t.Errorf("with network tests: score set %d, score %v; want set 1, 3.0+1.0+1.0", res.ScoreSet, res.Score)
	}
	if checker.started != 1 {
		t.Errorf("lookups started %d times for one scan", checker.started)
	}
	if r := mk.Report(res, msg); !contains(splitLines(r), "                            [listed 192.0.2.7]") {
		t.Errorf("report lacks the checker's detail:\n%s", r)
	}

	local, _ := siteEngine(t, rulesCF)
	res, err = local.Check(context.Background(), msg, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rules(), []string{"MONEY"}; !slices.Equal(got, want) || res.ScoreSet != 0 {
		t.Errorf("local tests only: hits %v in score set %d, want %v in set 0", got, res.ScoreSet, want)
	}
}

func splitLines(s string) []string {
	var out []string
	for line := range strings.Lines(s) {
		out = append(out, strings.TrimSuffix(line, "\n"))
	}
	return out
}
