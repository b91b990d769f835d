package classifier

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRestore feeds arbitrary text to Restore, the parser of sa-learn
// --backup files. It must never panic; whatever it accepts must back up
// to a file that restores to the same backup again.
func FuzzRestore(f *testing.F) {
	if seed, err := os.ReadFile(filepath.Join("testdata", "backup.golden")); err == nil {
		f.Add(seed)
	}
	f.Add([]byte("v\t3\tdb_version # this must be the first line!!!\nv\t1\tnum_spam\nv\t2\tnum_nonspam\nt\t1\t0\t1000\t0123456789\ns\th\tabc@sa_generated\n"))
	f.Add([]byte("v\t2\tdb_version\nt\t1\t1\t5\tsome token\n"))
	f.Add([]byte("t\t1\t1\t5\t0123456789\n"))
	s, _ := openTestStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := s.Restore(ctx, "", bytes.NewReader(data)); err != nil {
			return
		}
		var first, second bytes.Buffer
		if err := s.Backup(ctx, "", &first); err != nil {
			t.Fatalf("backup after restore: %v", err)
		}
		if _, err := s.Restore(ctx, "", bytes.NewReader(first.Bytes())); err != nil {
			t.Fatalf("restoring our own backup failed: %v\n%s", err, first.Bytes())
		}
		if err := s.Backup(ctx, "", &second); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("backup changed across a restore:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
	})
}
