package imaptrain

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/learn"
)

// The environment of a re-executed test binary acting as a trainer
// process (childPass).
const (
	childEnv       = "GOSPAMD_IMAPTRAIN_CHILD" // "pass" runs childPass
	childDirEnv    = "GOSPAMD_IMAPTRAIN_DIR"
	childServerEnv = "GOSPAMD_IMAPTRAIN_SERVER"
	childPwEnv     = "GOSPAMD_IMAPTRAIN_PASSWORD_FILE"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "pass" {
		os.Exit(childPass())
	}
	os.Exit(m.Run())
}

// printLearner prints "committed" once each learn is committed.
type printLearner struct{ next Learner }

func (p printLearner) Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error) {
	r, err := p.next.Learn(ctx, user, class, raw)
	if err == nil {
		fmt.Println("committed")
	}
	return r, err
}

// childPass runs one pass of alice's account into the store in
// $GOSPAMD_IMAPTRAIN_DIR, as gospamd train --once does.
func childPass() int {
	s, err := classifier.Open(os.Getenv(childDirEnv), classifier.Options{})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	w := learn.NewWriter(s, learn.WriterOptions{})
	cfg := Config{Server: os.Getenv(childServerEnv), BatchSize: 10,
		Accounts: []Account{{User: "alice", PasswordFile: os.Getenv(childPwEnv)}}}
	if err := cfg.Validate(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	tr, err := New(cfg, Options{Learner: printLearner{&SubmitLearner{Submitter: w}}})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	rep, err := tr.Pass(context.Background())
	if err != nil || rep.Failed() {
		fmt.Println("error:", err, rep.Rows[0].Err)
		return 1
	}
	fmt.Println("done")
	_ = w.Close()
	_ = s.Close()
	return 0
}

// A trainer process killed with SIGKILL right after a learn's commit,
// before the message's expunge: the rerun learns every message exactly
// once (nspam is the number of messages, never more or less) and empties
// the folder. Several rounds kill at different points of the pass.
func TestDovecotKilledBetweenLearnAndExpunge(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dc := testpeer.StartDovecot(t, testpeer.DovecotOptions{Users: map[string]string{"alice": "alice-pw"}})
	alice := dovecotClient(t, dc.Addr, "alice", "alice-pw")
	pw := passwordFile(t, "alice-pw")
	inWindow := 0 // rounds whose kill fell between a commit and its expunge
	for round, killAfter := range []int{1, 7, 10, 23} {
		const n = 30
		dir := filepath.Join(t.TempDir(), "bayes")
		dovecotPut(t, alice, "LearnAsSpam", messages("spam", round*100, n))

		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=pass", childDirEnv+"="+dir, childServerEnv+"="+dc.Addr, childPwEnv+"="+pw)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		committed := 0
		for committed < killAfter && lines.Scan() {
			switch line := lines.Text(); {
			case line == "committed":
				committed++
			case strings.HasPrefix(line, "error"), line == "done":
				t.Fatalf("round %d: the child said %q before the kill", round, line)
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() {
		}
		_ = cmd.Wait()
		left := dovecotCount(t, alice, "LearnAsSpam")

		// The rerun, in this process, on the store the child left.
		s, err := classifier.Open(dir, classifier.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after the kill: %v", round, err)
		}
		before, _ := s.Magic(context.Background(), "")
		w := learn.NewWriter(s, learn.WriterOptions{})
		cfg := testConfig(dc.Addr, Account{User: "alice", PasswordFile: pw})
		tr, _ := New(cfg, Options{Learner: &SubmitLearner{Submitter: w}})
		deadline, cancel := context.WithTimeout(context.Background(), time.Minute)
		rep, err := tr.Pass(deadline)
		cancel()
		_ = w.Close()
		after, _ := s.Magic(context.Background(), "")
		_ = s.Close()
		if err != nil || rep.Rows[0].Err != nil {
			t.Fatalf("round %d: rerun: %v %v", round, err, rep.Rows[0].Err)
		}
		if int(before.NSpam)+left < n {
			t.Errorf("round %d: after the kill %d learned and %d left of %d: a message was expunged unlearned", round, before.NSpam, left, n)
		}
		if after.NSpam != n {
			t.Errorf("round %d: nspam %d after the rerun, want %d", round, after.NSpam, n)
		}
		if got := dovecotCount(t, alice, "LearnAsSpam"); got != 0 {
			t.Errorf("round %d: %d messages left after the rerun", round, got)
		}
		r := rep.Rows[0]
		if r.Known > 0 {
			inWindow++
		}
		t.Logf("round %d: killed after %d commits: %d learned, %d left; rerun learned %d, %d already known",
			round, committed, before.NSpam, left, r.Spam, r.Known)
	}
	if inWindow == 0 {
		t.Error("no kill fell between a learn's commit and its expunge")
	}
}
