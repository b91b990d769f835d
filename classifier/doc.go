// Package classifier owns the Bayes math and the token store.
//
// # Math
//
// Probability reproduces SpamAssassin 4.0's Bayes plugin: Gary Robinson's
// f(w) per token (with S = 0.030 and X = 0.538) over the Graham-style ratio
// of the token's spam and ham counts, selection of the 150 most
// interesting tokens that lie outside 0.5 ± 0.346, and Fisher's chi-square
// combining seeded with the class priors. Bands maps a probability to the
// BAYES_xx rules it fires.
//
// # Store
//
// Store keeps, per scope (one global scope or one per user), the token
// counts with their last access time, the seen index (which messages were
// learned as which class), and the magic counters sa-learn --dump magic
// prints. It lives in a Pebble database directory. Its contract is
// "one writer": Apply must be called from one goroutine at a time (the
// learn package's writer), reads may run concurrently with it, and a
// second process opening the same directory gets ErrLocked naming the
// holder. A commit is synced before Apply returns, so a crash at any
// moment loses only unacknowledged work.
//
// The package imports no other package of the project except tokenizer,
// for the token Key type.
package classifier
