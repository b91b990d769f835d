// Package testpeer finds the real programs and the shared corpus that
// integration tests run against. A test whose peer is missing is skipped
// with a message, or fails when GOSPAMD_REQUIRE_PEERS=1 (as CI sets it),
// so that a missing install step can never pass silently.
package testpeer

import (
	"bytes"
	"context"
	"errors"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Required reports whether missing peers fail tests instead of skipping.
func Required() bool { return os.Getenv("GOSPAMD_REQUIRE_PEERS") == "1" }

// Missing skips t, or fails it under GOSPAMD_REQUIRE_PEERS=1.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("peer missing (GOSPAMD_REQUIRE_PEERS=1): "+format, args...)
	}
	t.Skipf("skipped, peer missing: "+format+" (run make test-deps)", args...)
}

// Program returns the path of the named program on PATH.
func Program(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not found on PATH", name)
	}
	return p
}

// GoBinProgram returns the path of a peer that make test-deps builds from
// source into $(go env GOPATH)/bin, which need not be on PATH (spamc-zlib,
// from the shared peers directory), else the one on PATH. A missing
// program is Missing: the test skips, or fails under
// GOSPAMD_REQUIRE_PEERS=1, since make test-deps always builds it.
func GoBinProgram(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(goPath(), "bin")
	p := filepath.Join(dir, name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return p
	}
	if onPath, err := exec.LookPath(name); err == nil {
		return onPath
	}
	Missing(t, "%s not found in %s or on PATH", name, dir)
	return ""
}

// goPath is the first entry of $(go env GOPATH), where go install and
// make test-deps put programs.
func goPath() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gopath := build.Default.GOPATH
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		gopath = string(bytes.TrimSpace(out))
	}
	if list := filepath.SplitList(gopath); len(list) > 0 {
		return list[0]
	}
	return gopath
}

// SharedDir is the project's shared directory (corpus/, peers/):
// $GOSPAMD_SHARED, else ../shared beside the repository, else ../shared
// beside the repository this one was cloned from when that is a local
// directory (a fresh clone in /tmp), as scripts/test-deps.sh finds it.
func SharedDir() string {
	if dir := os.Getenv("GOSPAMD_SHARED"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	beside := filepath.Join(root, "..", "shared")
	if isDir(beside) {
		return beside
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", root, "config", "--get", "remote.origin.url").Output()
	if origin := strings.TrimPrefix(strings.TrimSpace(string(out)), "file://"); err == nil && filepath.IsAbs(origin) {
		if dir := filepath.Join(origin, "..", "shared"); isDir(dir) {
			return dir
		}
	}
	return beside
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// CorpusDir is where the shared corpus is: $GOSPAMD_CORPUS, else
// corpus/spamassassin-2002-set1 in SharedDir. Corpus also checks that it
// is there.
func CorpusDir() string {
	if dir := os.Getenv("GOSPAMD_CORPUS"); dir != "" {
		return dir
	}
	return filepath.Join(SharedDir(), "corpus", "spamassassin-2002-set1")
}

// Corpus returns the shared corpus directory (the one with easy_ham,
// hard_ham and spam): $GOSPAMD_CORPUS, else corpus/spamassassin-2002-set1
// in SharedDir.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := CorpusDir()
	if fi, err := os.Stat(filepath.Join(dir, "spam")); err != nil || !fi.IsDir() {
		Missing(t, "shared corpus not found at %s (set GOSPAMD_CORPUS)", dir)
	}
	return dir
}

// CorpusFiles returns the sorted file paths of one corpus folder
// ("easy_ham", "hard_ham" or "spam").
func CorpusFiles(t testing.TB, folder string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Corpus(t), folder, "[0-9]*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus folder %s: no files (%v)", folder, err)
	}
	return files
}

// ReadAll reads the files, failing the test on an error.
func ReadAll(t testing.TB, files []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(files))
	for i, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// CorpusMessages reads every message of the corpus (easy_ham, hard_ham,
// then spam) and says which are spam.
func CorpusMessages(t testing.TB) (raws [][]byte, spam []bool) {
	t.Helper()
	for _, folder := range []string{"easy_ham", "hard_ham", "spam"} {
		for _, raw := range ReadAll(t, CorpusFiles(t, folder)) {
			raws = append(raws, raw)
			spam = append(spam, folder == "spam")
		}
	}
	return raws, spam
}

// CacheDir is a directory for expensive reference results (SpamAssassin's
// answers), kept between runs outside the repository.
func CacheDir(t testing.TB, name string) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "gospamd-test", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Run runs the program bin with args and stdin (a peer such as spamc),
// and returns what it printed on standard output and its exit code.
// Anything on standard error is logged. A program that cannot be started
// or runs over 30 seconds fails the test.
func Run(t testing.TB, bin string, stdin []byte, args ...string) (stdout string, exit int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run %s %v: %v", filepath.Base(bin), args, err)
	}
	if errOut.Len() > 0 {
		t.Logf("%s %v stderr: %s", filepath.Base(bin), args, errOut.String())
	}
	return out.String(), cmd.ProcessState.ExitCode()
}
