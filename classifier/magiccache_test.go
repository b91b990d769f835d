package classifier

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestMagicFollowsEveryWrite: the message counts a scan reads (Magic,
// cached) are the store's after every kind of write, so that a learn, a
// restore, a clear or an expiry is seen by the next scan.
func TestMagicFollowsEveryWrite(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Unix()
	var backup bytes.Buffer
	{
		src, _ := openTestStore(t)
		if _, err := src.Apply(ctx, []Op{
			learnOp("<b1@x>", Spam, now, "alpha", "beta"),
			learnOp("<b2@x>", Spam, now, "gamma"),
			learnOp("<b3@x>", Ham, now, "delta"),
		}); err != nil {
			t.Fatal(err)
		}
		if err := src.Backup(ctx, "", &backup); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := openTestStore(t)
	steps := []struct {
		name      string
		write     func() error
		spam, ham int64
	}{
		{"learn spam", func() error {
			_, err := s.Apply(ctx, []Op{learnOp("<a@x>", Spam, now, "viagra", "cheap")})
			return err
		}, 1, 0},
		{"learn ham", func() error {
			_, err := s.Apply(ctx, []Op{learnOp("<b@x>", Ham, now, "meeting"), learnOp("<c@x>", Ham, now, "lunch")})
			return err
		}, 1, 2},
		{"forget", func() error {
			_, err := s.Apply(ctx, []Op{forgetOp("<b@x>", "meeting")})
			return err
		}, 1, 1},
		{"touch", func() error { return s.Touch(ctx, "", keys("cheap"), now+60) }, 1, 1},
		{"restore", func() error {
			_, err := s.Restore(ctx, "", bytes.NewReader(backup.Bytes()))
			return err
		}, 2, 1},
		{"expire", func() error {
			_, err := s.Expire(ctx, "", ExpireOptions{Force: true, Now: time.Unix(now+3600, 0)})
			return err
		}, 2, 1},
		{"clear", func() error { return s.Clear(ctx, "") }, 0, 0},
	}
	for _, st := range steps {
		if _, err := s.Magic(ctx, ""); err != nil { // what a scan before the write read
			t.Fatal(err)
		}
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.Magic(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		stored, err := readMagic(s.db, "")
		if err != nil {
			t.Fatal(err)
		}
		if got != stored {
			t.Errorf("after %s: Magic %+v, the store holds %+v", st.name, got, stored)
		}
		if got.NSpam != st.spam || got.NHam != st.ham {
			t.Errorf("after %s: nspam %d nham %d, want %d %d", st.name, got.NSpam, got.NHam, st.spam, st.ham)
		}
	}
}
