// Package redisstore is a Bayes store on a Redis server (or Valkey, or a
// managed Redis) that several mail hosts share, in SpamAssassin 4.0's own
// Redis layout (Mail::SpamAssassin::BayesStore::Redis), so that
// SpamAssassin and gospamd can scan and learn with one database.
//
// # Layout
//
// The global scope's keys are SpamAssassin's:
//
//	v:DB_VERSION        "3"
//	v:TOKEN_FORMAT      "2"
//	v:NSPAM, v:NHAM     message counts (integers)
//	s:<msgid>           seen entry: "s" or "h", expiring after bayes_seen_ttl
//	w:<5-byte token>    hash with fields "s" and "h" (counts; a zero field
//	                    is absent), expiring after bayes_token_ttl
//
// The token in a w: key is the raw 5 bytes of the SHA-1 (bayes.md §4),
// not hex. SpamAssassin keeps no atimes, token count, or expiry counters
// in Redis: tokens and seen entries expire by TTL, refreshed whenever a
// learn counts them, so Expire does nothing and Magic reports zero for
// NTOKENS and the atimes, as sa-learn --dump magic does on Redis; dumps
// and backups print the current time as each token's atime, as
// SpamAssassin's do.
//
// A user's own scope (bayes_scope user), which SpamAssassin's Redis
// store does not have, is the same layout under the prefix
// "u:<user>\x00" (user names contain no NUL).
//
// # Atomicity
//
// A learn or forget of one message is one Lua script run on the server:
// the seen check (MsgID, then AltMsgID), the class count, every token's
// count and the seen entry change together or not at all, so hosts
// learning at once never lose or double a count, and a message learned
// by two hosts at once counts once. A batch of ops is pipelined, one
// round trip for up to 8192 tokens' worth of messages (so that a
// corpus learn's batch of hundreds fits the command timeout); a
// connection lost in the middle fails the batch, and the ops that did
// run are AlreadyLearned when retried.
//
// # Reads
//
// A scan's counters, token counts and (for autolearn) the message's
// seen entry are one round trip (LookupScan): one pipeline of plain
// commands in one write, GET of NSPAM, NHAM and the seen keys, then one
// HMGET <token key> s h per token, inside MULTI/EXEC so that it reads
// one state of the database, as one script call would. Nothing is
// cached, so a learn on one host changes every host's next answer. The
// lookup writes nothing (a replica may serve it).
//
// Plain commands rather than a script because Redis runs a script's
// calls slower than the same commands pipelined: the script this
// replaced cost the server about 1.7 times the CPU (0.45 ms against
// 0.26 ms for 600 tokens). The lookup has connections of its own (at
// most PoolSize, with AUTH, SELECT and TLS as the options say), with
// a small RESP2 reader that allocates nothing per scan; everything else
// goes through go-redis. A connection that fails after sitting idle
// (the server restarted since) is replaced once, at once, so a restart
// costs no scan its Bayes answer; a caller's deadline or cancellation
// interrupts the round trip, and is not counted as an outage.
//
// # Token TTL renewal
//
// As SpamAssassin's scan renews the TTL of the tokens that decided its
// answer (tok_touch_all), a scan notes them (NoteUsed) and a goroutine
// renews them in the background, batched across scans (one pipeline of
// EXPIREs every 250 ms at most), so the scan itself makes no second
// round trip; a token this process renewed within the last hour or so
// is not renewed again.
//
// # Faults
//
// Errors reaching the server wrap classifier.ErrUnavailable. After one,
// the store fails fast (without trying the server) for a backoff that
// doubles from 100 ms to 5 s, then lets one call through to try again;
// the outage is logged once when it starts and once when it ends, and
// each call refused during it is reported to the metrics.
package redisstore
