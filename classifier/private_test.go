package classifier

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestStoreFilesPrivate: the store's tokens and seen Message-IDs are
// readable by its owner only, even in a directory made earlier with the
// usual 0755/0644 modes and whatever the umask.
func TestStoreFilesPrivate(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"new directory", func(t *testing.T, dir string) {}},
		{"existing 0755 directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o755); err != nil { // past the umask
				t.Fatal(err)
			}
		}},
		{"existing store left readable by all", func(t *testing.T, dir string) {
			learnAndClose(t, dir, "m0")
			loosen(t, dir)
		}},
		{"tables ingested by a bulk learn", func(t *testing.T, dir string) {
			s, err := Open(dir, Options{Ingest: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"m0", "m00"} {
				if _, err := s.Apply(context.Background(), []Op{learnOp(id, Ham, 100, "hello", id)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bayes")
			tt.setup(t, dir)
			learnAndClose(t, dir, "m1")
			checkPrivate(t, dir)
		})
	}
}

// TestReadOnlyOpenChangesNoModes: a read-only opener (gospamd check)
// changes nothing, modes included.
func TestReadOnlyOpenChangesNoModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bayes")
	learnAndClose(t, dir, "m1")
	loosen(t, dir)
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o755 {
		t.Errorf("read-only open changed the directory to %o", got)
	}
}

func learnAndClose(t *testing.T, dir, msgid string) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(context.Background(), []Op{learnOp(msgid, Spam, 100, "viagra", "hello")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // flushes: a table file too
		t.Fatal(err)
	}
}

// loosen gives everything in dir the modes a 022 umask gives.
func loosen(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(path, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Errorf("only %d files in the store: the test saw nothing Pebble writes", files)
	}
}
