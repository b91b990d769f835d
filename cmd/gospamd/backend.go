package main

import (
	"context"
	"log/slog"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn/admin"
)

// openAdmin opens the store in dbpath for gospamd learn, or, when a
// running daemon holds it, connects to that daemon's admin socket.
// A Redis store has no owner: it is opened here whether a daemon runs or
// not. A bulk learner's Pebble store leaves the merging of its flushes
// to the daemon (see bulkL0Tables).
func openAdmin(ctx context.Context, spec storeSpec, log *slog.Logger, readOnly, bulk bool) (admin.Bayes, error) {
	return admin.Open(ctx, spec.store.DBPath, admin.OpenOptions{ReadOnly: readOnly, Logger: log,
		OpenStore: func(dir string, readOnly bool) (admin.Store, error) {
			spec.store.DBPath = dir
			opt := classifier.Options{Logger: log, ReadOnly: readOnly}
			if bulk {
				opt.L0Tables = bulkL0Tables
			}
			return openBayesStore(ctx, spec, opt, false)
		}})
}

// bulkL0Tables is the classifier.Options.L0Tables of gospamd learn: a
// learn's flushes (one at its end, and one per 32 MiB of writes) pile up
// until four of them are merged with the rest of the store, instead of
// each learn after the first rewriting the whole store before it exits.
// The daemon, opening the store with Pebble's default of two, merges
// what the learns left in the background. Reading through four tables
// instead of one costs a learn little: Bloom filters answer for the
// tables that lack a token.
const bulkL0Tables = 4
