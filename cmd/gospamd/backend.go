package main

import (
	"context"
	"log/slog"

	"github.com/gospamd/gospamd/learn/admin"
)

// openAdmin opens the store in dbpath for gospamd learn, or, when a
// running daemon holds it, connects to that daemon's admin socket.
// A Redis store has no owner: it is opened here whether a daemon runs or
// not.
func openAdmin(ctx context.Context, spec storeSpec, log *slog.Logger, readOnly bool) (admin.Bayes, error) {
	return admin.Open(ctx, spec.store.DBPath, admin.OpenOptions{ReadOnly: readOnly, Logger: log,
		OpenStore: func(dir string, readOnly bool) (admin.Store, error) {
			spec.store.DBPath = dir
			return openStore(ctx, spec, log, readOnly)
		}})
}
