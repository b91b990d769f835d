package scan_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/scan"
)

// syncBuffer is a log sink several scans may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// withLog sends the service's log to a buffer.
func withLog(buf *syncBuffer) func(*scan.Config) {
	return func(c *scan.Config) { c.Logger = slog.New(slog.NewTextHandler(buf, nil)) }
}

// levelsWithin returns user's tag level, failing when the service does
// not answer within d (a scan blocked on a file would never answer).
func levelsWithin(t *testing.T, svc *scan.Service, user string, d time.Duration) float64 {
	t.Helper()
	type answer struct {
		tag float64
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := svc.Scan(context.Background(), &scan.Request{User: user, Message: fourMsg})
		if err != nil {
			done <- answer{err: err}
			return
		}
		done <- answer{tag: res.Levels.Tag}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatalf("scan for %s: %v", user, a.err)
		}
		return a.tag
	case <-time.After(d):
		t.Fatalf("scan for %s not answered within %v", user, d)
	}
	return 0
}

// A hostile user_prefs is refused with a lint-style diagnostic (file,
// line, what is wrong, nothing of the content) and its user is served
// with the site policy, as is everyone else with theirs: a condition
// nested 100,000 deep (once a stack overflow that killed the daemon on
// every mail to that user) and a file over the size limit.
func TestHostileUserPrefs(t *testing.T) {
	var logs syncBuffer
	f := newFixture(t, withLog(&logs))
	deep := func(n int) string {
		return "if " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + "\nrequired_score 1\nendif\n"
	}
	tests := []struct {
		user, prefs string
		wantLog     string
	}{
		{"nested", deep(100_000), "user_prefs:1: error: bad 'if' condition: expression nested deeper than 100 levels"},
		{"nested600k", deep(600_000), "over the 262144-byte limit"},
		{"big", strings.Repeat("# a comment line that is long enough\n", 8000) + "required_score 1\n", "over the 262144-byte limit"},
	}
	for _, tt := range tests {
		writeFile(t, filepath.Join(f.prefs, tt.user, "user_prefs"), tt.prefs)
	}
	writeFile(t, filepath.Join(f.prefs, "bob", "user_prefs"), "required_score 3\n")
	for round := range 2 { // and again on the next mail
		for _, tt := range tests {
			if tag := levelsWithin(t, f.svc, tt.user, 30*time.Second); tag != 5 {
				t.Errorf("round %d: %s: tag level %v, want the site's 5", round, tt.user, tag)
			}
		}
		if tag := levelsWithin(t, f.svc, "bob", 30*time.Second); tag != 3 {
			t.Errorf("round %d: bob: tag level %v, want his 3", round, tag)
		}
	}
	log := logs.String()
	for _, tt := range tests {
		if !strings.Contains(log, tt.wantLog) {
			t.Errorf("%s: the log lacks %q:\n%.2000s", tt.user, tt.wantLog, log)
		}
		if n := strings.Count(log, "user="+tt.user+" "); n > 2 {
			t.Errorf("%s: %d log lines, want the refusal logged once, not at every scan", tt.user, n)
		}
	}
	if strings.Contains(log, "(((") || len(log) > 20000 {
		t.Errorf("the log quotes the files (%d bytes):\n%.2000s", len(log), log)
	}
}

// A user_prefs that is a FIFO, a symbolic link (here to a secret file of
// the daemon's), a directory or a socket is refused without being read:
// no scan blocks, neither that user's nor anyone else's, the user gets the
// site policy, and nothing of the secret reaches the log, not even as an
// "unknown directive". A regular user_prefs with lines the parser does
// not understand is applied, its diagnostics logged without its content.
func TestUntrustedUserPrefsFiles(t *testing.T) {
	var logs syncBuffer
	f := newFixture(t, withLog(&logs))
	const secret = "root:$y$j9T$S3CR3T.HASH:19700:0:99999:7:::"
	secretFile := filepath.Join(t.TempDir(), "shadow")
	writeFile(t, secretFile, "required_score 1\n"+secret+"\n")

	mkdir := func(user string) string {
		dir := filepath.Join(f.prefs, user)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "user_prefs")
	}
	fifo := mkdir("fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Unblock a reader stuck on the FIFO, should there be one.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	if err := os.Symlink(secretFile, mkdir("link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(mkdir("dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.prefs, "plain", "user_prefs"), "required_score 4\n"+secret+"\nscore SITE_FOUR S3CR3T\n")
	writeFile(t, filepath.Join(f.prefs, "bob", "user_prefs"), "required_score 3\n")

	want := map[string]float64{"fifo": 5, "link": 5, "dir": 5, "plain": 4, "bob": 3, "nobody": 5}
	var wg sync.WaitGroup
	for round := range 3 {
		for user, tag := range want {
			wg.Go(func() {
				if got := levelsWithin(t, f.svc, user, 30*time.Second); got != tag {
					t.Errorf("round %d: %s: tag level %v, want %v", round, user, got, tag)
				}
			})
		}
		wg.Wait()
	}
	log := logs.String()
	if strings.Contains(log, "S3CR3T") || strings.Contains(log, "root:") {
		t.Errorf("the secret reached the log:\n%s", log)
	}
	for _, w := range []string{
		"user=fifo path=" + fifo + ` err="not a regular file (a FIFO)"`,
		"user=link", "a symbolic link",
		"user=dir", "not a regular file (a directory)",
		"user_prefs:2: warning: line not understood",
		"user_prefs:3: error: 'score' line not applied",
	} {
		if !strings.Contains(log, w) {
			t.Errorf("the log lacks %q:\n%s", w, log)
		}
	}
}

// Concurrent scans for one user whose engine is being built wait for
// that one build; the engine is rebuilt when the file changes, and
// dropped when it goes away.
func TestUserEngineRebuilt(t *testing.T) {
	f := newFixture(t, nil)
	prefs := filepath.Join(f.prefs, "carol", "user_prefs")
	writeFile(t, prefs, "required_score 4\n")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if tag := levelsWithin(t, f.svc, "carol", 30*time.Second); tag != 4 {
				t.Errorf("carol: tag level %v, want 4", tag)
			}
		})
	}
	wg.Wait()
	for i, step := range []struct {
		prefs string // "" removes the file
		want  float64
	}{{"required_score 6\n", 6}, {"required_score 7.5\n", 7.5}, {"", 5}, {"required_score 2\n", 2}} {
		if step.prefs == "" {
			if err := os.Remove(prefs); err != nil {
				t.Fatal(err)
			}
		} else {
			writeFile(t, prefs, fmt.Sprintf("%s# edit %d\n", step.prefs, i))
		}
		if tag := levelsWithin(t, f.svc, "carol", 30*time.Second); tag != step.want {
			t.Errorf("step %d: carol: tag level %v, want %v", i, tag, step.want)
		}
	}
}

// Past the cache's bounds the least recently used engines are dropped
// and rebuilt when needed: every user still gets their own policy.
func TestUserEngineCacheBound(t *testing.T) {
	f := newFixture(t, func(c *scan.Config) { c.MaxUserEngines = 2 })
	for i := range 5 {
		writeFile(t, filepath.Join(f.prefs, fmt.Sprintf("u%d", i), "user_prefs"), fmt.Sprintf("required_score %d\n", 10+i))
	}
	for round := range 3 {
		for i := range 5 {
			user := fmt.Sprintf("u%d", (i*3+round)%5)
			want := float64(10 + (i*3+round)%5)
			if tag := levelsWithin(t, f.svc, user, 30*time.Second); tag != want {
				t.Errorf("round %d: %s: tag level %v, want %v", round, user, tag, want)
			}
		}
	}
}
