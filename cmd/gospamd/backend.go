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
// not. A bulk learner's Pebble store ingests its batches as tables and
// leaves their merging to the daemon (see bulkL0Tables).
func openAdmin(ctx context.Context, spec storeSpec, log *slog.Logger, readOnly, bulk bool) (admin.Bayes, error) {
	return admin.Open(ctx, spec.store.DBPath, admin.OpenOptions{ReadOnly: readOnly, Logger: log,
		OpenStore: func(dir string, readOnly bool) (admin.Store, error) {
			spec.store.DBPath = dir
			opt := classifier.Options{Logger: log, ReadOnly: readOnly}
			if bulk {
				opt.L0Tables = bulkL0Tables
				opt.Ingest = true
			}
			return openBayesStore(ctx, spec, opt, false)
		}})
}

// bulkL0Tables is the classifier.Options.L0Tables of gospamd learn. A
// bulk learn ingests each batch as a table of its own (Options.Ingest:
// no memtable to flush before it exits), and token keys are hashes, so
// each overlaps the store: they pile up in Pebble's top level until
// sixteen of them are merged with the rest of the store, instead of a
// learn rewriting the whole store as it goes (learning the training set,
// spam then ham, leaves ten). The daemon, opening the store with
// Pebble's default of two, merges what the learns left in the
// background. Reading through sixteen tables instead of one costs a
// learn little: Bloom filters answer for the tables that lack a token.
const bulkL0Tables = 16
