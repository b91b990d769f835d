package classifier

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/tokenizer"
)

// Environment of a re-executed test binary acting as a learner child.
const (
	childEnv     = "GOSPAMD_CLASSIFIER_CHILD" // "learn" runs childLearn
	childDirEnv  = "GOSPAMD_CLASSIFIER_DIR"
	childOpsEnv  = "GOSPAMD_CLASSIFIER_OPS"  // ops to learn, 0 = until killed
	childHoldEnv = "GOSPAMD_CLASSIFIER_HOLD" // "1": keep the store open until stdin closes
	// childIngestEnv "1" opens the store as gospamd learn does: each
	// batch ingested as a table (Options.Ingest), tables left unmerged.
	childIngestEnv = "GOSPAMD_CLASSIFIER_INGEST"
)

// Exit codes of childLearn.
const (
	childExitLocked = 3
	childExitError  = 1
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "learn" {
		os.Exit(childLearn())
	}
	os.Exit(m.Run())
}

// childLearn opens the store in $GOSPAMD_CLASSIFIER_DIR and learns one
// message per Apply, printing "ack N" after each commit.
func childLearn() int {
	dir := os.Getenv(childDirEnv)
	maxOps, _ := strconv.Atoi(os.Getenv(childOpsEnv))
	opt := Options{}
	if os.Getenv(childIngestEnv) == "1" {
		opt = Options{Ingest: true, L0Tables: 4}
	}
	s, err := Open(dir, opt)
	if errors.Is(err, ErrLocked) {
		fmt.Printf("locked: %v\n", err)
		return childExitLocked
	}
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return childExitError
	}
	fmt.Printf("ready %d\n", os.Getpid())
	vocabulary := make([]tokenizer.Key, 5000)
	for i := range vocabulary {
		vocabulary[i] = tokenizer.KeyOf("word" + strconv.Itoa(i))
	}
	ctx := context.Background()
	for n := 1; maxOps == 0 || n <= maxOps; n++ {
		var id [16]byte
		rand.Read(id[:])
		op := Op{MsgID: hex.EncodeToString(id[:]) + "@sa_generated", Class: Spam, Atime: time.Now().Unix()}
		if n%2 == 0 {
			op.Class = Ham
		}
		for range 300 {
			op.Tokens = append(op.Tokens, vocabulary[mrand.IntN(len(vocabulary))])
		}
		res, err := s.Apply(ctx, []Op{op})
		if err != nil || res[0] != Learned {
			fmt.Printf("error: apply %d: %v %v\n", n, res, err)
			return childExitError
		}
		fmt.Printf("ack %d\n", n) // os.Stdout is unbuffered: one write per line
	}
	if os.Getenv(childHoldEnv) == "1" {
		io.Copy(io.Discard, os.Stdin)
	}
	if err := s.Close(); err != nil {
		fmt.Printf("error: close: %v\n", err)
		return childExitError
	}
	return 0
}

// child is a running childLearn process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // closed at EOF
}

func startChild(t *testing.T, dir string, ops int, hold bool, ingest ...bool) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=learn", childDirEnv+"="+dir, childOpsEnv+"="+strconv.Itoa(ops))
	if hold {
		cmd.Env = append(cmd.Env, childHoldEnv+"=1")
	}
	if len(ingest) > 0 && ingest[0] {
		cmd.Env = append(cmd.Env, childIngestEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c
}

// storeCheck opens dir and checks the store's invariants, returning
// nspam+nham.
func storeCheck(t *testing.T, dir string) int64 {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	c := contents(t, s, "")
	learned := c.Magic.NSpam + c.Magic.NHam
	if int64(len(c.Seen)) != learned {
		t.Fatalf("seen index has %d entries, magic counts %d messages", len(c.Seen), learned)
	}
	if int64(len(c.Tokens)) != c.Magic.NTokens {
		t.Fatalf("%d tokens stored, ntokens %d", len(c.Tokens), c.Magic.NTokens)
	}
	var spamSum, hamSum int64
	for _, cs := range c.Tokens {
		spamSum += int64(cs.Spam)
		hamSum += int64(cs.Ham)
	}
	var seenSpam int64
	for _, cl := range c.Seen {
		if cl == Spam {
			seenSpam++
		}
	}
	if seenSpam != c.Magic.NSpam {
		t.Fatalf("seen index has %d spam, nspam %d", seenSpam, c.Magic.NSpam)
	}
	// Each learned message adds at most 300 token counts and at least one.
	if spamSum > 300*c.Magic.NSpam || hamSum > 300*c.Magic.NHam || (learned > 0 && spamSum+hamSum < learned) {
		t.Fatalf("token counts %d/%d do not fit %d/%d messages", spamSum, hamSum, c.Magic.NSpam, c.Magic.NHam)
	}
	return learned
}

// TestCrashSafety kills a learning child with SIGKILL at random moments;
// every reopen must find exactly the acknowledged messages (or one more,
// committed but not yet acknowledged) and a seen index that agrees;
// whether the child commits through the write-ahead log (the daemon) or
// ingests a table per batch (gospamd learn).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary 25 times")
	}
	for _, tc := range []struct {
		name   string
		ingest bool
	}{{"wal", false}, {"ingest", true}} {
		t.Run(tc.name, func(t *testing.T) { crashRounds(t, tc.ingest) })
	}
}

func crashRounds(t *testing.T, ingest bool) {
	dir := t.TempDir()
	var total int64
	for round := range 25 {
		c := startChild(t, dir, 0, false, ingest)
		delay := time.Duration(5+mustRandInt(t, 196)) * time.Millisecond
		// Most rounds kill while learning; every fourth one counts from
		// the start, so the kill may land inside Open.
		if round%4 != 0 {
			select {
			case line, ok := <-c.lines:
				if !ok || !strings.HasPrefix(line, "ready") {
					t.Fatalf("round %d: child said %q", round, line)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("round %d: child not ready", round)
			}
		}
		time.Sleep(delay)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var acked int64
		for line := range c.lines {
			switch {
			case strings.HasPrefix(line, "ack "):
				n, _ := strconv.ParseInt(strings.TrimPrefix(line, "ack "), 10, 64)
				if n != acked+1 {
					t.Fatalf("round %d: ack %d after %d", round, n, acked)
				}
				acked = n
			case strings.HasPrefix(line, "error"):
				t.Fatalf("round %d: child: %s", round, line)
			}
		}
		c.cmd.Wait()
		got := storeCheck(t, dir)
		if got != total+acked && got != total+acked+1 {
			t.Fatalf("round %d (killed after %v): store has %d messages, acknowledged %d so far (+%d this round)",
				round, delay, got, total+acked, acked)
		}
		t.Logf("round %d: killed after %v, %d acked, store +%d", round, delay, acked, got-total)
		total = got
	}
	if total == 0 {
		t.Fatal("no message was ever acknowledged")
	}
}

func mustRandInt(t *testing.T, n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		t.Fatal(err)
	}
	return v.Int64()
}

// TestTwoProcessesOneStore starts two learners on one directory at once:
// one must get ErrLocked naming the other's pid, and the store must hold
// exactly the winner's messages.
func TestTwoProcessesOneStore(t *testing.T) {
	dir := t.TempDir()
	const ops = 40
	children := []*child{startChild(t, dir, ops, true), startChild(t, dir, ops, true)}
	type outcome struct {
		locked string
		acked  int
	}
	outcomes := make([]outcome, 2)
	// The winner keeps the store open until the loser has given up, so
	// the two really compete.
	type event struct {
		child int
		line  string
		eof   bool
	}
	events := make(chan event)
	for i, c := range children {
		go func() {
			for line := range c.lines {
				events <- event{child: i, line: line}
			}
			events <- event{child: i, eof: true}
		}()
	}
	eofs := 0
	timeout := time.After(60 * time.Second)
	for eofs < 2 {
		var ev event
		select {
		case ev = <-events:
		case <-timeout:
			t.Fatalf("children did not finish: %+v", outcomes)
		}
		o := &outcomes[ev.child]
		switch {
		case ev.eof:
			eofs++
		case strings.HasPrefix(ev.line, "locked: "):
			o.locked = ev.line
		case strings.HasPrefix(ev.line, "ack "):
			o.acked++
		case strings.HasPrefix(ev.line, "error"):
			t.Errorf("child %d: %s", ev.child, ev.line)
		}
		other := &outcomes[1-ev.child]
		if (o.acked == ops && (other.locked != "" || other.acked == ops)) ||
			(o.locked != "" && other.acked == ops) {
			for _, c := range children {
				c.stdin.Close()
			}
		}
	}
	var codes [2]int
	for i, c := range children {
		c.stdin.Close()
		err := c.cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			codes[i] = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	}
	winner, loser := 0, 1
	if outcomes[0].locked != "" {
		winner, loser = 1, 0
	}
	if outcomes[loser].locked == "" || codes[loser] != childExitLocked {
		t.Fatalf("neither child was locked out: %+v, exit codes %v", outcomes, codes)
	}
	if outcomes[winner].locked != "" || codes[winner] != 0 || outcomes[winner].acked != ops {
		t.Fatalf("winner: %+v, exit code %d", outcomes[winner], codes[winner])
	}
	wantPid := fmt.Sprintf("pid %d", children[winner].cmd.Process.Pid)
	t.Logf("loser: %s", outcomes[loser].locked)
	if !strings.Contains(outcomes[loser].locked, wantPid) {
		t.Errorf("locked error %q does not name the holder (%s)", outcomes[loser].locked, wantPid)
	}
	if got := storeCheck(t, dir); got != ops {
		t.Errorf("store has %d messages, want the winner's %d", got, ops)
	}
}
