package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// go-redis's log lines reach slog: failed dials at debug level (the
// store logs the outage itself), anything else as a warning.
func TestRedisLogger(t *testing.T) {
	tests := []struct {
		format string
		args   []any
		want   string // the slog line, without time
	}{
		{"redis: connection pool: failed to dial after %d attempts: %v", []any{1, "dial tcp 127.0.0.1:6379: connect: connection refused"},
			`level=DEBUG msg="redis client" detail="connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:6379: connect: connection refused"`},
		{"redis: failed to close connection: %v\n", []any{"broken pipe"},
			`level=WARN msg="redis client" detail="failed to close connection: broken pipe"`},
		{"addIdleConn panic: %+v", []any{"boom"}, `level=WARN msg="redis client" detail="addIdleConn panic: boom"`},
	}
	for _, tt := range tests {
		var out strings.Builder
		h := slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})
		redisLogger{log: slog.New(h)}.Printf(context.Background(), tt.format, tt.args...)
		if got := strings.TrimSpace(out.String()); got != tt.want {
			t.Errorf("Printf(%q):\n got %s\nwant %s", tt.format, got, tt.want)
		}
	}
}
