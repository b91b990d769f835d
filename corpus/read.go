package corpus

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// An Item is one message of a corpus.
//
// # Ownership
//
// Data is freshly allocated for every Item; the callback may keep it.
type Item struct {
	// Path names the message: the file path for a message stored in a
	// file of its own, or "mbox-path:N" for the Nth message (counting
	// from 1, in file order, skipped messages included) of an mbox file.
	Path string
	// Data is the raw message exactly as stored, including an mbox
	// "From " separator line when the message has one. Nothing is
	// unescaped (">From " lines stay as they are), as in sa-learn.
	Data []byte
}

// WalkOptions says how to read a corpus.
type WalkOptions struct {
	// Mbox treats every file as an mbox holding many messages, like
	// sa-learn --mbox. A directory then means a directory of mbox files
	// (not recursive). Without it a file is one message, even when it
	// begins with a "From " line, unless its path contains ".mbox".
	Mbox bool
	// MaxSize skips messages larger than this many bytes; 0 means no
	// limit. Skips are logged at info level, as sa-learn does.
	MaxSize int64
	// Logger receives skip notices and warnings; nil means slog.Default().
	Logger *slog.Logger
}

func (o WalkOptions) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// mboxFromLine is the separator sa-learn accepts between mbox messages
// (its default mbox_format_from_regex): "From " then the envelope sender
// then an asctime-style date or a qmail-style timestamp. A "From " line
// that does not look like this stays inside the message.
var mboxFromLine = regexp.MustCompile(`^From \S+  ?(\S\S\S \S\S\S .?\d .?\d:\d\d:\d\d \d{4}|.?\d-\d\d-\d{4}_\d\d:\d\d:\d\d_)`)

// maildirTrashed matches a Maildir file name whose info flags contain T
// (trashed, i.e. deleted); such messages are not read.
var maildirTrashed = regexp.MustCompile(`:2,.*T`)

// compressedMbox matches mbox file names that sa-learn refuses to read.
var compressedMbox = regexp.MustCompile(`(?i)\.(?:gz|bz2|xz|lz[o4]?)$`)

// cyrusMeta matches the metadata files of a Cyrus mail folder.
var cyrusMeta = regexp.MustCompile(`^cyrus\.(?:index|header|cache|seen)`)

// A source is one file to read: a single message or an mbox.
type source struct {
	path string
	mbox bool
	size int64
}

// Walk calls fn for every message under path, in a deterministic order.
//
// # What path may be
//
// The rules are those of sa-learn's default "detect" format:
//
//   - A file is one message. With opt.Mbox, or when the path contains
//     ".mbox" (any case), it is an mbox instead: messages start at lines
//     matching sa-learn's From-line pattern, text before the first such
//     line is ignored.
//   - A directory holding new/ and cur/ subdirectories is a Maildir: the
//     files of new/ then of cur/, skipping names that start with "." and
//     messages flagged T (trashed). Its tmp/ and Maildir++ subfolders are
//     not read. (sa-learn also wants tmp/; it is optional here because
//     copies of a Maildir often lose the empty directory.)
//   - A Cyrus folder (a directory with a cyrus.header file) is its files
//     minus Cyrus metadata.
//   - Any other directory is read recursively: its files first, skipping
//     names that start with "." or "," (MH metadata, deleted messages),
//     then its subdirectories, each treated by these same rules.
//   - With opt.Mbox, a directory is a directory of mbox files: its regular
//     files whose names start with a character other than "." and contain
//     no spaces; not recursive.
//
// Entries are visited in sorted name order. Single-message files
// compressed with gzip or bzip2 are decompressed; compressed mbox files
// and other compression formats are skipped with a warning. Files that
// vanish during the walk are skipped silently, unreadable entries with a
// warning, like sa-learn.
//
// # Errors
//
// Walk returns an error when path itself cannot be read, when ctx is
// done, or when reading a file fails midway. It stops at the first error
// fn returns and returns that error unchanged.
func Walk(ctx context.Context, path string, opt WalkOptions, fn func(Item) error) error {
	read := func(src source) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if src.mbox {
			return readMbox(ctx, src, opt, fn)
		}
		return readSingle(src, opt, fn)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() && !opt.Mbox {
		// A directory's files are read as the scan finds them, so that
		// the first messages are being learned while the rest of a large
		// tree is still listed.
		c := dirCollector{log: opt.logger(), visit: read}
		return c.scan(ctx, path, nil)
	}
	sources, err := collect(ctx, path, opt)
	if err != nil {
		return err
	}
	for _, src := range sources {
		if err := read(src); err != nil {
			return err
		}
	}
	return nil
}

// Count returns how many messages Walk would visit under path, for
// progress reporting. It only stats single-message files (so MaxSize is
// applied to their stored size, compressed or not) and scans mbox files
// for separator lines without keeping them.
func Count(ctx context.Context, path string, opt WalkOptions) (int, error) {
	sources, err := collect(ctx, path, opt)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !src.mbox {
			if opt.MaxSize <= 0 || src.size <= opt.MaxSize {
				n++
			}
			continue
		}
		err := splitMboxFile(ctx, src.path, opt.MaxSize, false, func(_ int, _ []byte, tooBig bool) error {
			if !tooBig {
				n++
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// collect lists the files to read under path, in reading order.
func collect(ctx context.Context, path string, opt WalkOptions) ([]source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read corpus %s: %w", path, err)
	}
	if !fi.IsDir() {
		mbox := opt.Mbox || strings.Contains(strings.ToLower(path), ".mbox")
		return []source{{path: path, mbox: mbox, size: fi.Size()}}, nil
	}
	if opt.Mbox {
		return collectMboxDir(path, opt.logger())
	}
	var c dirCollector
	c.log = opt.logger()
	if err := c.scan(ctx, path, nil); err != nil {
		return nil, err
	}
	return c.sources, nil
}

// collectMboxDir lists the mbox files directly inside dir.
func collectMboxDir(dir string, log *slog.Logger) ([]source, error) {
	names, err := readDirNames(dir)
	if err != nil {
		return nil, err
	}
	var out []source
	for _, name := range names {
		if strings.HasPrefix(name, ".") || strings.ContainsAny(name, " \t\n\r\f\v") {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				log.Warn("corpus: cannot access mbox", "path", p, "err", err)
			}
			continue
		}
		if fi.Mode().IsRegular() {
			out = append(out, source{path: p, mbox: true, size: fi.Size()})
		}
	}
	return out, nil
}

// dirCollector walks directories by sa-learn's rules for "dir" targets.
type dirCollector struct {
	log     *slog.Logger
	sources []source
	// visit, when set, is called with each file at once instead of
	// adding it to sources; its error ends the scan.
	visit func(source) error
}

// scan adds the messages of dir; ancestors are the directories above it,
// to stop symlink loops.
func (c *dirCollector) scan(ctx context.Context, dir string, ancestors []os.FileInfo) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	self, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("read corpus directory %s: %w", dir, err)
	}
	for _, a := range ancestors {
		if os.SameFile(a, self) {
			c.log.Warn("corpus: directory loop, skipped", "path", dir)
			return nil
		}
	}
	ancestors = append(ancestors, self)

	var entries []string // paths relative to dir
	switch {
	case isDir(filepath.Join(dir, "new")) && isDir(filepath.Join(dir, "cur")):
		for _, sub := range []string{"new", "cur"} {
			names, err := readDirNames(filepath.Join(dir, sub))
			if err != nil {
				return err
			}
			for _, name := range names {
				if strings.HasPrefix(name, ".") || maildirTrashed.MatchString(name) {
					continue
				}
				entries = append(entries, filepath.Join(sub, name))
			}
		}
	case isRegular(filepath.Join(dir, "cyrus.header")):
		names, err := readDirNames(dir)
		if err != nil {
			return err
		}
		for _, name := range names {
			if strings.ContainsAny(name, " \t\n\r\f\v") || cyrusMeta.MatchString(name) {
				continue
			}
			entries = append(entries, name)
		}
	default:
		names, err := readDirNames(dir)
		if err != nil {
			return err
		}
		for _, name := range names {
			if strings.HasPrefix(name, ".") || strings.HasPrefix(name, ",") {
				continue
			}
			entries = append(entries, name)
		}
	}

	var subdirs []string
	for _, e := range entries {
		p := filepath.Join(dir, e)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Gone since the directory was listed (a Maildir message
			// moved from new/ to cur/, say).
		case err != nil:
			c.log.Warn("corpus: cannot access file, skipped", "path", p, "err", err)
		case fi.Mode().IsRegular():
			src := source{path: p, size: fi.Size()}
			if c.visit == nil {
				c.sources = append(c.sources, src)
			} else if err := c.visit(src); err != nil {
				return err
			}
		case fi.IsDir():
			subdirs = append(subdirs, p)
		default:
			c.log.Warn("corpus: not a plain file or directory, skipped", "path", p)
		}
	}
	for _, sub := range subdirs {
		if err := c.scan(ctx, sub, ancestors); err != nil {
			return err
		}
	}
	return nil
}

// readDirNames returns the names in dir, sorted.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("read corpus directory: %w", err)
	}
	names, err := f.Readdirnames(-1)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read corpus directory %s: %w", dir, err)
	}
	slices.Sort(names)
	return names, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// readSingle reads a file holding one message.
func readSingle(src source, opt WalkOptions, fn func(Item) error) error {
	log := opt.logger()
	if opt.MaxSize > 0 && src.size > opt.MaxSize {
		log.Info("corpus: skipping large message", "path", src.path, "size", src.size, "limit", opt.MaxSize)
		return nil
	}
	f, err := os.Open(src.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	defer f.Close() // read-only; a close error cannot lose data

	// Read the file whole into a buffer of its size (most messages are
	// stored plain), then decompress it if it turns out to be compressed.
	limit := int64(-1)
	if opt.MaxSize > 0 {
		limit = opt.MaxSize + 1
	}
	data, err := readSized(f, src.size, limit)
	if err != nil {
		return fmt.Errorf("read message %s: %w", src.path, err)
	}
	var r io.Reader
	switch magic := data; {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("read gzip message %s: %w", src.path, err)
		}
		r = zr
	case bytes.HasPrefix(magic, []byte("BZh")) || bytes.HasPrefix(magic, []byte("BZ0")):
		r = bzip2.NewReader(bytes.NewReader(data))
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}),
		bytes.HasPrefix(magic, []byte{0x04, 0x22, 0x4d, 0x18}),
		bytes.HasPrefix(magic, []byte("LZIP")),
		bytes.HasPrefix(magic, []byte{0x89, 'L', 'Z', 'O', 0x00, 0x0d}):
		log.Warn("corpus: compressed message format not supported, skipped", "path", src.path)
		return nil
	}
	if r != nil {
		if opt.MaxSize > 0 {
			r = io.LimitReader(r, opt.MaxSize+1)
		}
		if data, err = io.ReadAll(r); err != nil {
			return fmt.Errorf("read message %s: %w", src.path, err)
		}
	}
	if opt.MaxSize > 0 && int64(len(data)) > opt.MaxSize {
		log.Info("corpus: skipping large message", "path", src.path, "limit", opt.MaxSize)
		return nil
	}
	return fn(Item{Path: src.path, Data: data})
}

// readSized reads r to its end, or to limit bytes when limit >= 0, into
// a buffer sized for the size bytes it is expected to hold: one read
// and no copy for a file whose size was just taken.
func readSized(r io.Reader, size, limit int64) ([]byte, error) {
	if limit >= 0 {
		r = io.LimitReader(r, limit)
		size = min(size, limit)
	}
	var b bytes.Buffer
	b.Grow(int(max(size, 0)) + bytes.MinRead) // MinRead: the read that finds the end
	if _, err := b.ReadFrom(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readMbox reads the messages of one mbox file.
func readMbox(ctx context.Context, src source, opt WalkOptions, fn func(Item) error) error {
	log := opt.logger()
	if compressedMbox.MatchString(src.path) {
		log.Warn("corpus: compressed mbox files are not supported, skipped", "path", src.path)
		return nil
	}
	return splitMboxFile(ctx, src.path, opt.MaxSize, true, func(n int, data []byte, tooBig bool) error {
		p := fmt.Sprintf("%s:%d", src.path, n)
		if tooBig {
			log.Info("corpus: skipping large message", "path", p, "limit", opt.MaxSize)
			return nil
		}
		return fn(Item{Path: p, Data: data})
	})
}

// splitMboxFile opens path and splits it with splitMbox.
func splitMboxFile(ctx context.Context, path string, maxSize int64, keep bool, emit func(n int, data []byte, tooBig bool) error) error {
	if compressedMbox.MatchString(path) {
		return nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read mbox: %w", err)
	}
	defer f.Close() // read-only; a close error cannot lose data
	if err := splitMbox(ctx, f, maxSize, keep, emit); err != nil {
		return fmt.Errorf("read mbox %s: %w", path, err)
	}
	return nil
}

// splitMbox cuts r into messages at From lines and calls emit for each,
// numbering them from 1. A message larger than maxSize (when maxSize > 0)
// is reported with tooBig and no data. With keep false no data is kept.
// Errors from emit are returned unchanged.
//
// # Memory
//
// splitMbox holds its 64 KiB read buffer and, with keep, the current
// message up to maxSize bytes (and the copy handed to emit); bytes past
// maxSize are counted, never kept, however long the message or its lines
// (a line is taken in pieces of the read buffer's size). A line is a From
// line when its first piece (the whole line, unless it is longer than
// 64 KiB) matches sa-learn's pattern.
func splitMbox(ctx context.Context, r io.Reader, maxSize int64, keep bool, emit func(n int, data []byte, tooBig bool) error) error {
	br := bufio.NewReaderSize(r, mboxReadBuffer)
	var (
		n           int          // number of the current message, 0 before the first
		msg         bytes.Buffer // current message, while it fits
		size        int64        // bytes of the current message
		atLineStart = true       // the next piece begins a line
	)
	flush := func() error {
		if n == 0 {
			return nil
		}
		tooBig := maxSize > 0 && size > maxSize
		var data []byte
		if keep && !tooBig {
			data = bytes.Clone(msg.Bytes())
		}
		msg.Reset()
		size = 0
		return emit(n, data, tooBig)
	}
	for {
		piece, err := br.ReadSlice('\n')
		if len(piece) > 0 {
			if atLineStart && bytes.HasPrefix(piece, []byte("From ")) && mboxFromLine.Match(piece) {
				if err := flush(); err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				n++
			}
			if n > 0 {
				size += int64(len(piece))
				if keep && (maxSize <= 0 || size <= maxSize) {
					msg.Write(piece)
				}
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			atLineStart = false
			continue
		case errors.Is(err, io.EOF):
			return flush()
		case err != nil:
			return err
		}
		atLineStart = true
	}
}

// mboxReadBuffer is splitMbox's read buffer: the longest piece of a line
// it looks at at once.
const mboxReadBuffer = 64 << 10
