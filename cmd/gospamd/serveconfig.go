package main

// serveFlagsFromConfig is the bridge from a daemon config to the
// serveFlags that serve takes today, so that runServe can become
//
//	cfg, code := parseServeArgs(env, args)
//	if code >= 0 {
//		return code
//	}
//	f := serveFlagsFromConfig(cfg)
//	log, _ := serveLogger(env, f.logLevel)  // the level was validated
//	nets, _ := cfg.Spamd.allowedNets()      // so were the networks
//	if err := serve(ctx, env, log, &f, nets); ...
//
// MaxConnections and MaxConnectionsPerIP have no serveFlags field: pass
// cfg.Spamd.MaxConnections and cfg.Spamd.MaxConnectionsPerIP to
// spamdproto.Config's MaxOpenConns and MaxConnsPerIP. Once serve takes a
// *daemonConfig, this file goes.
func serveFlagsFromConfig(cfg *daemonConfig) serveFlags {
	s, p, d := &cfg.Spamd, &cfg.Policy, &cfg.Daemon
	f := serveFlags{
		listen:       s.Listen,
		socket:       s.Socket,
		dbpath:       cfg.Store.DBPath,
		maxChildren:  s.MaxChildren,
		maxSize:      valueOr(s.MaxSize, 512000),
		maxSizeSet:   s.MaxSize != nil,
		timeoutTCP:   s.TimeoutTCP.std(),
		timeoutChild: s.TimeoutChild.std(),
		allowTell:    s.AllowTell,
		bayesScope:   p.BayesScope,
		required:     valueOr(p.RequiredScore, 5.0),
		requiredSet:  p.RequiredScore != nil,
		hostname:     d.Hostname,
		logLevel:     d.LogLevel,
		metrics:      d.MetricsListen,
		configDir:    p.Dir,
		prefsDir:     p.UserPrefsDir,
		ssl:          s.SSL,
		sslListen:    s.SSLListen,
		sslCert:      s.TLSCert,
		sslKey:       s.TLSKey,
	}
	for i, n := range s.AllowedIPs {
		if i > 0 {
			f.allowedIPs += ","
		}
		f.allowedIPs += n
	}
	return f
}
