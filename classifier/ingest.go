package classifier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ingestFile is the name, inside the store's directory, of the table a
// bulk writer builds for each batch before Pebble takes it in (Pebble
// moves it away; one left by a crash is removed by the next writer's
// Open).
// Pebble passes over files whose names are not its own.
const ingestFile = "GOSPAMD-INGEST"

// An ingester commits Apply's batches as tables (Options.Ingest).
type ingester struct {
	path string
	fs   vfs.FS
	opts sstable.WriterOptions
}

// newIngester returns the ingester of the store in dir, whose files
// are written through fs, opened with popts, and whose tables Pebble
// writes in format.
func newIngester(dir string, fs vfs.FS, popts *pebble.Options, format sstable.TableFormat) *ingester {
	o := popts.Clone()
	o.EnsureDefaults()
	return &ingester{path: filepath.Join(dir, ingestFile), fs: fs, opts: o.MakeWriterOptions(0, format)}
}

// commit writes what write puts (in ascending key order) into a table,
// synced, and ingests it: the batch is then in the store, atomically and
// durably, as a synced batch commit would have put it; on error nothing
// is.
func (in *ingester) commit(db *pebble.DB, write func(keySink) error) error {
	f, err := in.fs.Create(in.path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("create bayes ingest table: %w", err)
	}
	// Close syncs the file before closing it, as Ingest requires.
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), in.opts)
	err = write(tableSink{w})
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write bayes ingest table: %w", cerr)
	}
	if err == nil {
		if ierr := db.Ingest(context.Background(), []string{in.path}); ierr != nil {
			err = fmt.Errorf("commit bayes learn batch (ingest): %w", ierr)
		}
	}
	if err != nil {
		// Ingest removes the table once it has taken it; any other
		// outcome leaves it for us.
		if rerr := in.fs.Remove(in.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// removeStaleIngest removes the table a bulk writer was building in dir
// when it crashed, if any.
func removeStaleIngest(dir string) error {
	if err := os.Remove(filepath.Join(dir, ingestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// tableSink writes into a table.
type tableSink struct{ w *sstable.Writer }

func (s tableSink) set(key, val []byte) error { return s.w.Set(key, val) }
func (s tableSink) del(key []byte) error      { return s.w.Delete(key) }
