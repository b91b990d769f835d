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
// one state of the database, as one script call would. The lookup
// writes nothing (a replica may serve it).
//
// Plain commands rather than a script because Redis runs a script's
// calls slower than the same commands pipelined: the script this
// replaced cost the server about 1.7 times the CPU (0.45 ms against
// 0.26 ms for 600 tokens). The lookups have connections of their own
// (with AUTH, SELECT and TLS as the options say) and a small RESP
// reader that allocates nothing per scan; everything else goes through
// go-redis. A connection that fails after sitting idle (the server
// restarted since) is replaced once, at once, so a restart costs no scan
// its Bayes answer; a caller's deadline or cancellation interrupts the
// round trip, and is not counted as an outage.
//
// The global scope's token counts are cached, exactly: a few caches
// (one a core, 2 to 4), each a connection in RESP3 with CLIENT TRACKING
// on and the counts read on it, do those lookups, each cache one at a
// time, and a lookup fetches only the tokens not cached (the counters
// and seen keys every time). The server pushes an invalidation on that connection
// whenever a key it read changes (a learn on any host, an expiry, a TTL
// renewal, a flush), and pushes it before the reply to any later
// command there, so a token still cached when a lookup's reply has been
// read has the count the server had when it ran that lookup: a learn on
// one host changes every host's next answer, as without a cache. A
// lookup whose cached tokens changed while it waited is done again; the
// cache is dropped whole with its connection (whose invalidations may be
// lost) and past its share of a million tokens (as many keys in the server's
// tracking table). Tracking is Redis's default mode, not BCAST, whose
// invalidations are sent at the end of the server's event loop, after
// replies to other clients' commands of the same loop. On a server
// without RESP3 or tracking (before Redis 6, or a user not allowed
// CLIENT TRACKING) every lookup reads every token. Users' scopes are
// not cached. With the cache warm, a scan of the shared corpus costs
// redis-server a few GETs instead of a few hundred HMGETs (about 0.06 ms
// of its CPU a message instead of 0.35, BenchmarkDaemonLoadRatio's third
// Redis round on a loaded machine).
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
