package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// A redisLogger carries the lines go-redis logs (through its
// package-global logger, set with redis.SetLogger) to slog, so that they
// reach the daemon's log in its format instead of Go's standard logger
// on stderr.
//
// Failed dials are logged at debug level: the Redis store already logs
// an outage once when it starts and once when it ends, and counts every
// call it refuses in gospamd_bayes_store_unavailable_total, while
// go-redis would add a line for every dial it tries during the outage.
// Anything else go-redis reports (a recovered panic, a pool hook
// failure) is a warning.
//
// # Why a global
//
// go-redis has no per-client logger: redis.SetLogger replaces one
// package-global, so it is set once, in main, when the process starts,
// and never from a library package or a test (which would change it for
// every test in the process). It logs to main's logger (warnings on
// stderr, where the daemon's log goes too), not to the logger serve
// builds from --log-level, which does not exist yet; so the dial lines
// are dropped even at --log-level debug, and the store's own outage
// lines are what an operator sees.
type redisLogger struct {
	log *slog.Logger
}

// Printf implements go-redis's internal.Logging.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	level := slog.LevelWarn
	if strings.Contains(msg, "failed to dial") {
		level = slog.LevelDebug
	}
	l.log.Log(ctx, level, "redis client", "detail", strings.TrimPrefix(msg, "redis: "))
}
