// Package learn owns every way mail gets learned: the sa-learn operations
// (learn, forget, dump, backup, restore, clear, sync, expire) over message
// sources, TELL from the spamd protocol, autolearn decisions, and the IMAP
// folder trainer.
//
// All of them go through one Writer: a single goroutine that owns the
// write side of the classifier.Store, gathers learns into batches, commits
// each batch synced, and only then acknowledges the learns in it. Scans
// read the store concurrently and never wait for the writer.
//
// Before a message is learned, SpamAssassin markup added by an earlier scan
// is stripped (the report_safe wrapper unwrapped, X-Spam-* headers
// dropped), so that learning a scanned message teaches the same tokens as
// learning the original.
package learn
