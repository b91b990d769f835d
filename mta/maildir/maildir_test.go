package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustCount(t *testing.T, root, folder string) int {
	t.Helper()
	n, err := Count(root, folder)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// files lists every file under dir's tmp/ and new/ (of every folder).
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := filepath.Base(filepath.Dir(p))
		if !e.IsDir() && (base == "tmp" || base == "new") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTransaction(t *testing.T) {
	msg := []byte("Subject: hi\r\n\r\nbody\r\n")
	for _, tc := range []struct {
		name string
		// breakAfterStage damages the second Maildir between Stage and
		// Commit; nil leaves it alone.
		breakAfterStage func(t *testing.T, root string)
		wantErr         bool
	}{
		{name: "all copies delivered"},
		{name: "new/ of one copy replaced by a file: none delivered", wantErr: true,
			breakAfterStage: func(t *testing.T, root string) {
				dir := FolderPath(root, "junkmail")
				if err := os.RemoveAll(filepath.Join(dir, "new")); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			alice, bob := filepath.Join(tmp, "alice"), filepath.Join(tmp, "bob")
			d := New("mx/1:2")
			tx := d.Begin()
			defer tx.Abort()
			p1, err := tx.Stage(alice, "INBOX", msg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Stage(bob, "junkmail", msg); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(filepath.Base(p1), `mx\0571\0722,S=`) {
				t.Errorf("name %q: host not escaped or size missing", filepath.Base(p1))
			}
			if _, err := os.Stat(filepath.Join(FolderPath(bob, "junkmail"), "maildirfolder")); err != nil {
				t.Errorf("Maildir++ folder has no maildirfolder file: %v", err)
			}
			if tc.breakAfterStage != nil {
				tc.breakAfterStage(t, bob)
			}
			err = tx.Commit()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Commit: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if got := files(t, tmp); len(got) != 0 {
					t.Errorf("left after a failed commit: %q", got)
				}
				return
			}
			if mustCount(t, alice, "") != 1 || mustCount(t, bob, "junkmail") != 1 {
				t.Errorf("copies in new/: alice %d, bob junk %d", mustCount(t, alice, ""), mustCount(t, bob, "junkmail"))
			}
			got, err := os.ReadFile(p1)
			if err != nil || string(got) != string(msg) {
				t.Errorf("delivered %q, %v", got, err)
			}
		})
	}
}

func TestStageFailsWhenTmpIsNotADirectory(t *testing.T) {
	root := filepath.Join(t.TempDir(), "m")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tx := New("h").Begin()
	defer tx.Abort()
	if _, err := tx.Stage(root, "", []byte("x")); err == nil {
		t.Fatal("Stage into a broken Maildir succeeded")
	}
}
