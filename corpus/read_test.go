package corpus

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// walked is what a test sees of one Item.
type walked struct {
	path    string
	subject string
}

var subjectLine = regexp.MustCompile(`(?m)^Subject: (.*)$`)

func walkAll(t *testing.T, path string, opt WalkOptions) ([]walked, []Item) {
	t.Helper()
	opt.Logger = quietLog
	var got []walked
	var items []Item
	err := Walk(context.Background(), path, opt, func(it Item) error {
		subj := ""
		if m := subjectLine.FindSubmatch(it.Data); m != nil {
			subj = string(m[1])
		}
		got = append(got, walked{filepath.ToSlash(it.Path), subj})
		items = append(items, it)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%s): %v", path, err)
	}
	n, err := Count(context.Background(), path, opt)
	if err != nil {
		t.Fatalf("Count(%s): %v", path, err)
	}
	if n != len(got) {
		t.Errorf("Count(%s) = %d, Walk visited %d", path, n, len(got))
	}
	return got, items
}

func TestWalkFixtures(t *testing.T) {
	tests := []struct {
		name string
		path string
		opt  WalkOptions
		want []walked
	}{
		{
			name: "maildir reads new then cur, skips dotfiles, tmp and subfolders",
			path: "testdata/maildir",
			want: []walked{
				{"testdata/maildir/new/1700000001.M1P1.host", "maildir-new"},
				{"testdata/maildir/cur/1700000000.M0P1.host", "maildir-cur"},
			},
		},
		{
			name: "plain directory: files sorted, then subdirectories; dot and comma files skipped",
			path: "testdata/plain",
			want: []walked{
				{"testdata/plain/a.eml", "plain-a"},
				{"testdata/plain/z.eml", "plain-z"},
				{"testdata/plain/sub/m.eml", "plain-sub"},
			},
		},
		{
			name: "single file starting with From is one message",
			path: "testdata/plain/a.eml",
			want: []walked{{"testdata/plain/a.eml", "plain-a"}},
		},
		{
			name: "mbox file without the Mbox option is one message",
			path: "testdata/mboxes/three",
			want: []walked{{"testdata/mboxes/three", "first"}},
		},
		{
			name: "mbox file split at strict From lines",
			path: "testdata/mboxes/three",
			opt:  WalkOptions{Mbox: true},
			want: []walked{
				{"testdata/mboxes/three:1", "first"},
				{"testdata/mboxes/three:2", "second"},
				{"testdata/mboxes/three:3", "third"},
			},
		},
		{
			name: "directory of mboxes skips dotfiles",
			path: "testdata/mboxes",
			opt:  WalkOptions{Mbox: true},
			want: []walked{
				{"testdata/mboxes/three:1", "first"},
				{"testdata/mboxes/three:2", "second"},
				{"testdata/mboxes/three:3", "third"},
			},
		},
		{
			name: "MaxSize skips larger files",
			path: "testdata/plain",
			opt:  WalkOptions{MaxSize: 210},
			want: []walked{
				{"testdata/plain/a.eml", "plain-a"},
				{"testdata/plain/z.eml", "plain-z"},
			},
		},
		{
			name: "MaxSize skips larger mbox messages but keeps their numbers",
			path: "testdata/mboxes/three",
			opt:  WalkOptions{Mbox: true, MaxSize: 140},
			want: []walked{
				{"testdata/mboxes/three:1", "first"},
				{"testdata/mboxes/three:3", "third"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := walkAll(t, tt.path, tt.opt)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestWalkMboxContent(t *testing.T) {
	_, items := walkAll(t, "testdata/mboxes/three", WalkOptions{Mbox: true})
	if len(items) != 3 {
		t.Fatalf("got %d messages, want 3", len(items))
	}
	first := string(items[0].Data)
	if !strings.HasPrefix(first, "From alice@example.com  Mon Jan  6 10:00:00 2003\n") {
		t.Errorf("message does not start with its From line: %q", first)
	}
	if !strings.Contains(first, "\n>From the escaped line, kept as is.\n") {
		t.Errorf(">From line was altered: %q", first)
	}
	if strings.Contains(first, "preamble") {
		t.Errorf("text before the first From line was included: %q", first)
	}
	if !strings.Contains(string(items[1].Data), "\nFrom here on, a line that is not a separator.\n") {
		t.Errorf("non-separator From line missing from second message: %q", items[1].Data)
	}
	// Together the messages are the file minus the preamble.
	raw, err := os.ReadFile("testdata/mboxes/three")
	if err != nil {
		t.Fatal(err)
	}
	joined := bytes.Join([][]byte{items[0].Data, items[1].Data, items[2].Data}, nil)
	if !bytes.HasSuffix(raw, joined) {
		t.Errorf("messages do not tile the mbox")
	}
}

func TestWalkDetectsMboxByName(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile("testdata/mboxes/three")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "Archive.MBOX")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := walkAll(t, p, WalkOptions{})
	if len(got) != 3 {
		t.Errorf("a file named *.mbox gave %d messages, want 3", len(got))
	}
}

func TestWalkMaildirFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, subject string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("Subject: "+subject+"\n\nbody\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("new/3.M3.host", "new")
	write("cur/1.M1.host:2,S", "seen")
	write("cur/2.M2.host:2,ST", "trashed")
	write("cur/4.M4.host:2,FRS", "flagged")
	write("tmp/5.M5.host", "in delivery")
	want := []walked{
		{filepath.ToSlash(filepath.Join(dir, "new/3.M3.host")), "new"},
		{filepath.ToSlash(filepath.Join(dir, "cur/1.M1.host:2,S")), "seen"},
		{filepath.ToSlash(filepath.Join(dir, "cur/4.M4.host:2,FRS")), "flagged"},
	}
	got, _ := walkAll(t, dir, WalkOptions{})
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestWalkCompressedFile(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	msg := "Subject: zipped\n\nbody\n"
	if _, err := zw.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "m.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, items := walkAll(t, dir, WalkOptions{})
	if len(items) != 1 || string(items[0].Data) != msg {
		t.Errorf("gzip message read as %q, want %q", items, msg)
	}
}

func TestWalkSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m"), []byte("Subject: m\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "loop")); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
	got, _ := walkAll(t, dir, WalkOptions{})
	if len(got) != 1 {
		t.Errorf("symlink loop gave %d messages, want 1: %v", len(got), got)
	}
}

func TestWalkStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop here")
	calls := 0
	err := Walk(context.Background(), "testdata/mboxes/three", WalkOptions{Mbox: true, Logger: quietLog}, func(Item) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestWalkCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Walk(ctx, "testdata/plain", WalkOptions{Logger: quietLog}, func(Item) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Walk with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestWalkMissingPath(t *testing.T) {
	err := Walk(context.Background(), "testdata/does-not-exist", WalkOptions{Logger: quietLog}, func(Item) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Walk on a missing path = %v, want an error wrapping ErrNotExist", err)
	}
}

// TestWalkMatchesArchiveIterator checks that Walk reads the same messages,
// byte for byte, as SpamAssassin's own ArchiveIterator (which sa-learn
// uses) on every fixture.
func TestWalkMatchesArchiveIterator(t *testing.T) {
	if err := exec.Command("perl", "-MMail::SpamAssassin::ArchiveIterator", "-MDigest::MD5", "-e1").Run(); err != nil {
		msg := "perl with Mail::SpamAssassin::ArchiveIterator not available: " + err.Error()
		testpeer.Missing(t, "%s", msg)
	}
	const script = `
use Mail::SpamAssassin::ArchiveIterator; use Digest::MD5 qw(md5_hex);
my ($format, $target) = @ARGV;
my $iter = Mail::SpamAssassin::ArchiveIterator->new({});
$iter->set_functions(sub { print md5_hex(join('', @{$_[3]})), "\n"; return 1 }, sub {});
$iter->run("h:$format:$target");
`
	tests := []struct {
		path string
		opt  WalkOptions
	}{
		{"testdata/maildir", WalkOptions{}},
		{"testdata/plain", WalkOptions{}},
		{"testdata/plain/a.eml", WalkOptions{}},
		{"testdata/mboxes/three", WalkOptions{}},
		{"testdata/mboxes/three", WalkOptions{Mbox: true}},
		{"testdata/mboxes", WalkOptions{Mbox: true}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s mbox=%v", tt.path, tt.opt.Mbox), func(t *testing.T) {
			format := "detect"
			if tt.opt.Mbox {
				format = "mbox"
			}
			out, err := exec.Command("perl", "-e", script, format, tt.path).Output()
			if err != nil {
				t.Fatalf("run ArchiveIterator: %v", err)
			}
			want := strings.Fields(string(out))
			_, items := walkAll(t, tt.path, tt.opt)
			var got []string
			for _, it := range items {
				sum := md5.Sum(it.Data)
				got = append(got, hex.EncodeToString(sum[:]))
			}
			// ArchiveIterator's order follows readdir and hashes; compare sets.
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("message digests differ\nWalk:            %v\nArchiveIterator: %v", got, want)
			}
		})
	}
}

func BenchmarkSplitMbox(b *testing.B) {
	one, err := os.ReadFile("testdata/mboxes/three")
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(one, 1000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		err := splitMbox(context.Background(), bytes.NewReader(data), 0, true, func(int, []byte, bool) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestWalkCorpus reads the shared SpamAssassin corpus, when present, and
// checks that every file is read whole as one message and Count agrees.
func TestWalkCorpus(t *testing.T) {
	dir := testpeer.Corpus(t)
	if testing.Short() {
		t.Skip("reads the whole corpus")
	}
	got, items := walkAll(t, dir, WalkOptions{})
	files := 0
	for _, sub := range []string{"easy_ham", "hard_ham", "spam"} {
		names, err := readDirNames(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, ",") {
				files++
			}
		}
	}
	if len(got) != files {
		t.Errorf("Walk gave %d messages, the corpus has %d files", len(got), files)
	}
	// Each file is one whole message, From line or not (some corpus files
	// have none).
	for _, it := range items {
		fi, err := os.Stat(it.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != int64(len(it.Data)) {
			t.Errorf("%s: read %d bytes of %d", it.Path, len(it.Data), fi.Size())
			break
		}
	}
}

// TestWalkReadsWhileListing: a directory's messages are handed over as
// the scan finds them, so that learning a large tree starts at once:
// a message written into a subdirectory while the first one is being
// handled is found by the same walk.
func TestWalkReadsWhileListing(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: one\n\nbody\n")
	if err := os.WriteFile(filepath.Join(dir, "1.eml"), msg, 0o600); err != nil {
		t.Fatal(err)
	}
	var paths []string
	err := Walk(context.Background(), dir, WalkOptions{Logger: quietLog}, func(it Item) error {
		if len(paths) == 0 {
			if err := os.WriteFile(filepath.Join(sub, "2.eml"), msg, 0o600); err != nil {
				return err
			}
		}
		paths = append(paths, filepath.Base(it.Path))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.eml", "2.eml"}; !slices.Equal(paths, want) {
		t.Errorf("walked %v, want %v", paths, want)
	}
}
