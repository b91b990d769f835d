package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gospamd/gospamd/classifier"
)

// defaultDBPath is where the Bayes store lives when --dbpath is not given:
// $GOSPAMD_DBPATH, else ~/.gospamd/bayes.
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

// openStore opens the Bayes store in dir, creating its parent directory
// with owner-only permissions.
func openStore(dir string, log *slog.Logger, readOnly bool) (*classifier.Store, error) {
	return openStoreWith(dir, classifier.Options{Logger: log, ReadOnly: readOnly})
}

// openStoreWith is openStore with all the store's options.
func openStoreWith(dir string, opt classifier.Options) (*classifier.Store, error) {
	readOnly := opt.ReadOnly
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
