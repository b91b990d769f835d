package redisstore

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseDSN reads SpamAssassin's bayes_sql_dsn for the Redis store:
// semicolon-separated option=value pairs, "server" (host:port, [v6]:port
// or the absolute path of a UNIX socket; default 127.0.0.1:6379),
// "password" and "database" (a small non-negative integer, default 0).
// As SpamAssassin does, it ignores options it does not know; "username"
// (a Redis 6 ACL user) and "tls" (1 or 0) are ours. A pair without "="
// is an error, as SpamAssassin warns and gives up on it.
func ParseDSN(dsn string) (Options, error) {
	opt := Options{Addr: DefaultAddr}
	for _, pair := range strings.Split(dsn, ";") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return opt, fmt.Errorf("invalid bayes_sql_dsn: %q is not option=value", pair)
		}
		switch strings.TrimSpace(k) {
		case "server":
			opt.Addr = v
		case "password":
			opt.Password = v
		case "username":
			opt.Username = v
		case "database":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return opt, fmt.Errorf("invalid bayes_sql_dsn: database %q is not a non-negative integer", v)
			}
			opt.DB = n
		case "tls":
			opt.TLS = v == "1" || v == "yes" || v == "true"
		}
	}
	return opt, nil
}
