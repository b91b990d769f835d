package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// runCLI runs gospamd with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, log: slog.New(slog.NewTextHandler(&errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	code := run(context.Background(), env, args)
	return out.String(), errOut.String(), code
}

func writeMessages(t *testing.T, dir string, n int, kind string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		body := "Hello friend, this is message number " + strings.Repeat("x", i+1) + " about " + kind + " offers.\n"
		msg := "From: sender" + kind + "@example.com\nTo: you@example.org\nSubject: " + kind + " " + string(rune('a'+i)) +
			"\nDate: Mon, 8 Jul 2002 12:00:0" + string(rune('0'+i%10)) + " +0000\nMessage-Id: <" + kind + string(rune('a'+i)) + "@example.com>\n\n" + body
		if err := os.WriteFile(filepath.Join(dir, kind+string(rune('a'+i))), []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLearnCommand(t *testing.T) {
	tmp := t.TempDir()
	db := filepath.Join(tmp, "bayes")
	writeMessages(t, filepath.Join(tmp, "spam"), 3, "spam")
	writeMessages(t, filepath.Join(tmp, "ham"), 2, "ham")

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantOut  string // exact stdout, or a regexp when it starts with ^
		wantCode int
	}{
		{"learn spam dir", []string{"learn", "--dbpath", db, "--spam", filepath.Join(tmp, "spam")}, "",
			"Learned tokens from 3 message(s) (3 message(s) examined)\n", 0},
		{"relearn is a no-op", []string{"learn", "--dbpath", db, "--spam", filepath.Join(tmp, "spam")}, "",
			"Learned tokens from 0 message(s) (3 message(s) examined)\n", 0},
		{"learn ham files", []string{"learn", "--dbpath", db, "--ham", filepath.Join(tmp, "ham", "hama"), filepath.Join(tmp, "ham", "hamb")}, "",
			"Learned tokens from 2 message(s) (2 message(s) examined)\n", 0},
		{"move spam to ham", []string{"learn", "--dbpath", db, "--ham", filepath.Join(tmp, "spam", "spama")}, "",
			"Learned tokens from 1 message(s) (1 message(s) examined)\n", 0},
		{"magic after", []string{"learn", "--dbpath", db, "--dump", "magic"}, "",
			`^0\.000          0          3          0  non-token data: bayes db version\n` +
				`0\.000          0          2          0  non-token data: nspam\n` +
				`0\.000          0          3          0  non-token data: nham\n` +
				`0\.000          0 +\d+          0  non-token data: ntokens\n`, 0},
		{"forget from stdin", []string{"learn", "--dbpath", db, "--forget"}, mustRead(t, filepath.Join(tmp, "ham", "hama")),
			"Forgot tokens from 1 message(s) (1 message(s) examined)\n", 0},
		{"forget unknown", []string{"learn", "--dbpath", db, "--forget"}, "From: x@y\n\nnever learned\n",
			"Forgot tokens from 0 message(s) (1 message(s) examined)\n", 0},
		{"no operation", []string{"learn", "--dbpath", db}, "", "", exitUsage},
		{"unknown option", []string{"learn", "--dbpath", db, "--bogus"}, "", "", exitUsage},
		{"unknown dump", []string{"learn", "--dbpath", db, "--dump", "tokens"}, "", "", exitFail},
		{"bad user", []string{"learn", "--dbpath", db, "-u", "../root", "--spam", filepath.Join(tmp, "spam")}, "", "", exitUsage},
	}
	for _, tt := range tests {
		out, errOut, code := runCLI(t, tt.stdin, tt.args...)
		if code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", tt.name, code, tt.wantCode, errOut)
		}
		if strings.HasPrefix(tt.wantOut, "^") {
			if !regexp.MustCompile(tt.wantOut).MatchString(out) {
				t.Errorf("%s: stdout\n%s\ndoes not match\n%s", tt.name, out, tt.wantOut)
			}
		} else if out != tt.wantOut {
			t.Errorf("%s: stdout %q, want %q", tt.name, out, tt.wantOut)
		}
	}

	// backup → clear → restore gives back the same data.
	backup, _, code := runCLI(t, "", "learn", "--dbpath", db, "--backup")
	if code != 0 || !strings.HasPrefix(backup, "v\t3\tdb_version # this must be the first line!!!\n") {
		t.Fatalf("backup: exit %d, output starts %q", code, firstLine(backup))
	}
	dataBefore, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "data")
	if _, _, code := runCLI(t, "", "learn", "--dbpath", db, "--clear"); code != 0 {
		t.Fatalf("clear: exit %d", code)
	}
	if magic, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic"); !strings.Contains(magic, "         0          0  non-token data: nspam\n") {
		t.Errorf("after clear, magic still counts spam:\n%s", magic)
	}
	bf := filepath.Join(tmp, "backup.txt")
	if err := os.WriteFile(bf, []byte(backup), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "", "learn", "--dbpath", db, "--restore", bf); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	dataAfter, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "data")
	if dataAfter != dataBefore || dataAfter == "" {
		t.Errorf("dump data differs after backup, clear and restore:\nbefore:\n%s\nafter:\n%s", dataBefore, dataAfter)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// gospamd learn --dump magic prints what sa-learn --dump magic prints for
// the same training: the same lines, labels and columns, and the same
// counts (times differ: they are when each ran).
func TestDumpMagicMatchesSALearn(t *testing.T) {
	saLearn := testpeer.Program(t, "sa-learn")
	spam := testpeer.CorpusFiles(t, "spam")[:5]
	ham := testpeer.CorpusFiles(t, "easy_ham")[:5]
	tmp := t.TempDir()
	saDB := filepath.Join(tmp, "sa")
	sa := func(args ...string) string {
		cmd := exec.Command(saLearn, append([]string{"--dbpath", saDB}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+tmp)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sa-learn %v: %v", args, err)
		}
		return string(out)
	}
	db := filepath.Join(tmp, "ours")
	for _, step := range []struct {
		class string
		files []string
	}{{"--spam", spam}, {"--ham", ham}} {
		saOut := sa(append([]string{step.class}, step.files...)...)
		ours, _, _ := runCLI(t, "", append([]string{"learn", "--dbpath", db, step.class}, step.files...)...)
		if ours != saOut {
			t.Errorf("learn %s output %q, sa-learn's %q", step.class, ours, saOut)
		}
	}
	saMagic := sa("--dump", "magic")
	ours, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic")
	saLines, ourLines := strings.Split(saMagic, "\n"), strings.Split(ours, "\n")
	if len(saLines) != len(ourLines) {
		t.Fatalf("sa-learn prints %d magic lines, we print %d:\n%s\n---\n%s", len(saLines), len(ourLines), saMagic, ours)
	}
	magicLine := regexp.MustCompile(`^0\.000 {10}0 [ \d]{10} {10}0  non-token data: [a-z ]+$|^$`)
	for i := range saLines {
		if saLines[i] == "" || ourLines[i] == "" {
			if saLines[i] != ourLines[i] {
				t.Errorf("magic line %d: ours %q, sa-learn %q", i, ourLines[i], saLines[i])
			}
			continue
		}
		label := saLines[i][strings.LastIndex(saLines[i], "  ")+2:]
		switch {
		case strings.HasSuffix(label, "bayes db version"), strings.HasSuffix(label, "nspam"), strings.HasSuffix(label, "nham"):
			if ourLines[i] != saLines[i] {
				t.Errorf("magic line %d: ours %q, sa-learn %q", i, ourLines[i], saLines[i])
			}
		default: // same label in the same column; values are times
			ourLabel := ourLines[i][strings.LastIndex(ourLines[i], "  ")+2:]
			if ourLabel != label || len(ourLines[i])-len(ourLabel) != len(saLines[i])-len(label) || !magicLine.MatchString(ourLines[i]) {
				t.Errorf("magic line %d layout: ours %q, sa-learn %q", i, ourLines[i], saLines[i])
			}
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// gospamd lint reports a broken rule with its file and line, ends with
// the summary line, and exits 1; a clean policy exits 0.
func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "local.cf"), "body GOOD_RULE /cheap pills/i\nscore GOOD_RULE 1.0\nmeta BROKEN_META GOOD_RULE &&\n")
	out, _, code := runCLI(t, "", "lint", "--config", dir)
	if code != exitFail || !strings.Contains(out, "local.cf:3: error: meta:") ||
		!regexp.MustCompile(`(?m)^rules: \d+; patterns: \d+ of \d+ compiled \(\d+ by fallback\); skipped evals: \d+; errors: 1\n\z`).MatchString(out) {
		t.Errorf("lint of a broken policy: exit %d\n%s", code, out)
	}
	writeFile(t, filepath.Join(dir, "local.cf"), "body GOOD_RULE /cheap pills/i\nscore GOOD_RULE 1.0\n")
	if out, _, code := runCLI(t, "", "lint", "--config", dir); code != 0 || !strings.HasSuffix(out, "errors: 0\n") {
		t.Errorf("lint of a clean policy: exit %d\n%s", code, out)
	}
}

// gospamd lint says which layers it loaded: the built-in rules (or that
// use_builtin_rules 0 left them out), the rules_dir and the site's files.
func TestLintLayers(t *testing.T) {
	root := t.TempDir()
	rulesDir, site := filepath.Join(root, "sa"), filepath.Join(root, "site")
	writeFile(t, filepath.Join(rulesDir, "20_rules.cf"), "body SA_RULE /x/\n")
	writeFile(t, filepath.Join(site, "local.cf"), "rules_dir "+rulesDir+"\n")
	out, _, code := runCLI(t, "", "lint", "--config", site)
	want := regexp.MustCompile(`^layer built-in: \d+ files\nlayer rules_dir: ` + regexp.QuoteMeta(rulesDir) + `, 1 files\nlayer site: ` +
		regexp.QuoteMeta(site) + `, 1 files\n  ` + regexp.QuoteMeta(filepath.Join(site, "local.cf")) + "\n")
	if code != exitOK || !want.MatchString(out) || strings.Contains(out, "rules: 1;") {
		t.Errorf("lint with our rules and a rules_dir: exit %d\n%s\nwant it to match\n%s", code, out, want)
	}
	writeFile(t, filepath.Join(site, "local.cf"), "rules_dir "+rulesDir+"\nuse_builtin_rules 0\n")
	out, _, code = runCLI(t, "", "lint", "--config", site)
	if code != exitOK || !strings.HasPrefix(out, "layer built-in: not loaded (use_builtin_rules 0)\nlayer rules_dir: ") || !strings.Contains(out, "rules: 1;") {
		t.Errorf("lint with the rules_dir alone: exit %d\n%s", code, out)
	}
}

// gospamd check prints the message with its markup and the report, as
// spamassassin -t does; GTUBE is spam.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	msg := "From: a@example.com\nSubject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n"
	writeFile(t, filepath.Join(dir, "local.cf"), "report_safe 0\n")
	out, errOut, code := runCLI(t, msg, "check", "--config", dir, "--dbpath", filepath.Join(dir, "none"))
	if code != 0 || !strings.Contains(out, "X-Spam-Flag: YES\n") || !strings.Contains(out, "GTUBE") ||
		!strings.Contains(out, "Content analysis details:") || !strings.Contains(out, "\n\nXJS*C4JDBQADN1") {
		t.Errorf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, _ = runCLI(t, msg, "check", "--summary", "--config", dir, "--dbpath", filepath.Join(dir, "none"))
	if !strings.HasPrefix(out, "spam 10") {
		t.Errorf("check --summary: %q", out)
	}
}
