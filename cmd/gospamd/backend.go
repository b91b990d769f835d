package main

import (
	"context"
	"log/slog"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn/admin"
)

// openAdmin opens the store in dbpath for gospamd learn, or, when a
// running daemon holds it, connects to that daemon's admin socket.
func openAdmin(ctx context.Context, dbpath string, log *slog.Logger, readOnly bool) (admin.Bayes, error) {
	return admin.Open(ctx, dbpath, admin.OpenOptions{ReadOnly: readOnly, Logger: log,
		OpenStore: func(dir string, readOnly bool) (*classifier.Store, error) { return openStore(dir, log, readOnly) }})
}
