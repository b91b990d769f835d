package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// While the daemon owns the store, gospamd learn works through the
// daemon's admin socket: learning, dumping, backing up, clearing and
// restoring behave exactly as on a store the command opens itself.
func TestLearnThroughDaemon(t *testing.T) {
	tmp := t.TempDir()
	db := filepath.Join(tmp, "bayes")
	writeMessages(t, filepath.Join(tmp, "spam"), 3, "spam")
	writeMessages(t, filepath.Join(tmp, "ham"), 2, "ham")

	d := startDaemon(t, false, "--dbpath", db)

	steps := []struct {
		args []string
		want string
	}{
		{[]string{"--spam", filepath.Join(tmp, "spam")}, "Learned tokens from 3 message(s) (3 message(s) examined)\n"},
		{[]string{"--spam", filepath.Join(tmp, "spam")}, "Learned tokens from 0 message(s) (3 message(s) examined)\n"},
		{[]string{"--ham", filepath.Join(tmp, "ham")}, "Learned tokens from 2 message(s) (2 message(s) examined)\n"},
		{[]string{"--forget", filepath.Join(tmp, "ham", "hama")}, "Forgot tokens from 1 message(s) (1 message(s) examined)\n"},
	}
	for _, st := range steps {
		out, errOut, code := runCLI(t, "", append([]string{"learn", "--dbpath", db}, st.args...)...)
		if code != 0 || out != st.want {
			t.Fatalf("learn %v through the daemon: exit %d, %q (want %q)\n%s", st.args, code, out, st.want, errOut)
		}
	}
	magic, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic")
	if !strings.Contains(magic, "          3          0  non-token data: nspam\n") || !strings.Contains(magic, "          1          0  non-token data: nham\n") {
		t.Errorf("magic through the daemon:\n%s", magic)
	}
	backup, _, code := runCLI(t, "", "learn", "--dbpath", db, "--backup")
	if code != 0 || !strings.HasPrefix(backup, "v\t3\tdb_version") {
		t.Fatalf("backup through the daemon: exit %d, %q", code, firstLine(backup))
	}
	data, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "data")
	if _, _, code := runCLI(t, "", "learn", "--dbpath", db, "--clear"); code != 0 {
		t.Fatal("clear through the daemon failed")
	}
	if after, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "data"); after != "" {
		t.Errorf("dump data after clear: %q", after)
	}
	bf := filepath.Join(tmp, "backup")
	writeFile(t, bf, backup)
	if _, errOut, code := runCLI(t, "", "learn", "--dbpath", db, "--restore", bf); code != 0 {
		t.Fatalf("restore through the daemon: %s", errOut)
	}
	if after, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "data"); after != data || data == "" {
		t.Errorf("dump data after backup, clear, restore differs")
	}

	if code := d.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	// With the daemon gone the command opens the store itself again.
	if magic2, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic"); magic2 != magic {
		t.Errorf("magic after the daemon stopped:\n%s\nwant\n%s", magic2, magic)
	}
}
