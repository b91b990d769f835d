package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/rules"
)

// The [store] backends.
const (
	backendPebble = "pebble"
	backendRedis  = "redis"
)

// saRedisModule is SpamAssassin's bayes_store_module for Redis.
const saRedisModule = "Mail::SpamAssassin::BayesStore::Redis"

// A storeSpec says which Bayes store a command opens: the [store]
// section (with --dbpath applied) and the site policy, whose
// bayes_store_module, bayes_sql_dsn, bayes_token_ttl, bayes_seen_ttl and
// bayes_auto_expire configure a Redis store as they configure
// SpamAssassin's.
type storeSpec struct {
	store     storeConfig
	policyDir string
}

// specFor is the store spec of a command whose --dbpath is dbpath and
// whose policy is policyDir.
func specFor(cfg storeConfig, dbpath, policyDir string) storeSpec {
	cfg.DBPath = dbpath
	return storeSpec{store: cfg, policyDir: policyDir}
}

// redisSettings resolves spec to Redis options, or ok false for Pebble.
// The policy is read only when it can matter.
func (spec storeSpec) redisSettings(ctx context.Context) (opt redisstore.Options, ok bool, err error) {
	sc := spec.store
	if sc.Backend == backendPebble {
		return opt, false, nil
	}
	dsn := sc.RedisDSN
	tokenTTL, seenTTL := redisstore.DefaultTokenTTL, redisstore.DefaultSeenTTL
	policyRedis := false
	if spec.policyDir != "" {
		pol, _, perr := rules.LoadPolicy(ctx, spec.policyDir)
		if perr != nil {
			return opt, false, fmt.Errorf("read the policy for its Bayes store settings: %w", perr)
		}
		last := func(key string) string {
			d := pol.Directives(key)
			if len(d) == 0 {
				return ""
			}
			return strings.TrimSpace(d[len(d)-1].Value)
		}
		policyRedis = last("bayes_store_module") == saRedisModule
		if dsn == "" {
			dsn = last("bayes_sql_dsn")
		}
		set := pol.Settings()
		tokenTTL, seenTTL = set.BayesTokenTTL, set.BayesSeenTTL
		if !set.BayesAutoExpire {
			tokenTTL, seenTTL = 0, 0
		}
	}
	if sc.Backend != backendRedis && !policyRedis {
		return opt, false, nil
	}
	opt, err = redisstore.ParseDSN(dsn)
	if err != nil {
		return opt, false, err
	}
	if sc.RedisPasswordFile != "" {
		data, err := os.ReadFile(sc.RedisPasswordFile)
		if err != nil {
			return opt, false, fmt.Errorf("read the redis password: %w", err)
		}
		opt.Password = strings.TrimRight(strings.SplitN(string(data), "\n", 2)[0], "\r")
	}
	opt.TokenTTL, opt.SeenTTL = tokenTTL, seenTTL
	return opt, true, nil
}

// openBayesStore opens the store spec names: a Redis store, or the
// Pebble store in spec's dbpath (see openStoreWith). A daemon
// (lazy) starts with its Redis server down and connects when it is
// back; a command fails at once.
func openBayesStore(ctx context.Context, spec storeSpec, opt classifier.Options, lazy bool) (classifier.Backend, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	ropt, isRedis, err := spec.redisSettings(ctx)
	if err != nil {
		return nil, err
	}
	if !isRedis {
		s, err := openStoreWith(spec.store.DBPath, opt)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	ropt.Logger, ropt.Metrics, ropt.ReadOnly = opt.Logger, opt.Metrics, opt.ReadOnly
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(octx, ropt)
	if err != nil {
		if lazy && errors.Is(err, classifier.ErrUnavailable) {
			opt.Logger.Warn("redis bayes store unreachable at start: scanning without Bayes until it is back", "addr", ropt.Addr, "err", err)
			return redisstore.OpenLazy(ropt), nil
		}
		return nil, fmt.Errorf("open redis bayes store: %w", err)
	}
	opt.Logger.Debug("redis bayes store", "addr", s.Addr(), "db", ropt.DB)
	return s, nil
}

// isPebble reports whether s is the embedded store (which has a
// directory, a lock and an admin socket).
func isPebble(s classifier.Backend) bool {
	_, ok := s.(*classifier.Store)
	return ok
}
