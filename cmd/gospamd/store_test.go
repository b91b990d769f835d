package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingStore checks that the commands that read the Bayes store say
// what to do when there is none, rather than what the database engine
// found missing.
func TestMissingStore(t *testing.T) {
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "bayes")
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	writeMessages(t, filepath.Join(tmp, "spam"), 1, "spam")
	tests := []struct {
		name string
		args []string
		dir  string
	}{
		{"dump", []string{"learn", "--dbpath", missing, "--dump", "magic"}, missing},
		{"dump of an empty directory", []string{"learn", "--dbpath", empty, "--dump"}, empty},
		{"backup", []string{"learn", "--dbpath", missing, "--backup"}, missing},
		{"masscheck", []string{"masscheck", "--dbpath", missing, "--spam", filepath.Join(tmp, "spam")}, missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, "", tt.args...)
			if code != exitFatal {
				t.Errorf("exit %d, want %d", code, exitFatal)
			}
			for _, want := range []string{"no Bayes store at " + tt.dir + ":", "gospamd learn --spam DIR", "--dbpath", "GOSPAMD_DBPATH", "./data/bayes"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr does not say %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(errOut, "LOCK") {
				t.Errorf("stderr shows the store's internals:\n%s", errOut)
			}
			if _, err := os.Stat(missing); !os.IsNotExist(err) {
				t.Errorf("the missing store was created: %v", err)
			}
		})
	}
}
