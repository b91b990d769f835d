package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gospamd/gospamd/classifier"
)

// defaultDBPath is where the Bayes store lives when neither --dbpath nor
// the daemon config's [store] dbpath says: $GOSPAMD_DBPATH, else
// ~/.gospamd/bayes. Every command resolves the store the same way
// (defaultDaemonConfig starts from this), so that serve, learn, check
// and masscheck find one store.
func defaultDBPath() string {
	if p := os.Getenv("GOSPAMD_DBPATH"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".gospamd", "bayes")
	}
	return filepath.Join(home, ".gospamd", "bayes")
}

// openStore opens the Bayes store spec names: the Pebble store in its
// dbpath (creating the parent directory with owner-only permissions), or
// the Redis store its [store] section or policy configures.
func openStore(ctx context.Context, spec storeSpec, log *slog.Logger, readOnly bool) (classifier.Backend, error) {
	return openBayesStore(ctx, spec, classifier.Options{Logger: log, ReadOnly: readOnly}, false)
}

// A noStoreError says that a command that reads the Bayes store found
// none, and how to get one.
type noStoreError struct {
	dir string
}

func (e *noStoreError) Error() string {
	return fmt.Sprintf("no Bayes store at %s: train one with 'gospamd learn --spam DIR' and 'gospamd learn --ham DIR', "+
		"or point --dbpath (or [store] dbpath in the daemon config, or GOSPAMD_DBPATH) at the store you have; "+
		"'make run' keeps its store in ./data/bayes", e.dir)
}

// storeMissing reports whether dir holds no store: it does not exist, or
// is empty.
func storeMissing(dir string) bool {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	return err == nil && len(entries) == 0
}

// openStoreWith is openStore with all the store's options. Opening a
// store that is not there read-only fails with a *noStoreError.
func openStoreWith(dir string, opt classifier.Options) (*classifier.Store, error) {
	readOnly := opt.ReadOnly
	if readOnly && storeMissing(dir) {
		return nil, &noStoreError{dir: dir}
	}
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, fmt.Errorf("create directory for bayes store: %w", err)
		}
	}
	s, err := classifier.Open(dir, opt)
	if err != nil {
		if errors.Is(err, classifier.ErrLocked) {
			return nil, fmt.Errorf("%w (is gospamd serve running? stop it, or train through it)", err)
		}
		return nil, err
	}
	return s, nil
}
