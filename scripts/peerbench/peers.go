package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gospamd/gospamd/internal/loadgen"
)

// A row is one server's line of the scan table.
type row struct {
	name string
	res  *loadgen.Result
	rss  int64 // bytes, daemon and workers (and rspamd's redis), after the run
	// cpu is the CPU time the same processes used during the run, and
	// clientCPU the load generator's: on a machine shared with other
	// work they say what messages/s cannot.
	cpu, clientCPU time.Duration
	skipped        string // why there are no figures
	scanP99        float64
	scanSeen       float64 // scans in the gospamd_scan_seconds histogram during the run
	// rate and cpuPer are a summary's medians over its rounds (0 for a
	// round's row), and loadAfter the load average after a round.
	rate      float64
	cpuPer    time.Duration
	loadAfter string
}

// perSecond is the messages/s of the row (for a summary of rounds, their
// median).
func (r *row) perSecond() float64 {
	if r.rate > 0 {
		return r.rate
	}
	if r.res == nil {
		return 0
	}
	return r.res.PerSecond()
}

// A learnRow is one learner's line of the learning table.
type learnRow struct {
	name    string
	msgs    int
	wall    time.Duration // best round
	cpu     time.Duration // of that round
	skipped string
}

// errMissing marks a peer that is not installed.
var errMissing = errors.New("not installed (make bench-deps)")

func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s %w", name, errMissing)
	}
	return p, nil
}

// runTimed runs a command to its end and returns its CPU time; its
// output goes to the log file name in dir.
func (b *bench) runTimed(name string, bin string, args ...string) (time.Duration, error) {
	out, err := os.OpenFile(filepath.Join(b.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	cmd := exec.CommandContext(b.ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		tail, _ := os.ReadFile(out.Name())
		if len(tail) > 800 {
			tail = tail[len(tail)-800:]
		}
		return 0, fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, tail)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// benchLearning times gospamd learn and bogofilter's bulk registration of
// the training set (spam, then ham, two processes each, into a fresh
// store), rounds times each, interleaved, and keeps the best round of
// each. The last gospamd store stays at b.gospamdDB for the scans.
func (b *bench) benchLearning() []learnRow {
	n := len(b.split.trainSpam) + len(b.split.trainHam)
	gos := learnRow{name: "gospamd learn", msgs: n}
	bogo := learnRow{name: "bogofilter -s/-n -B", msgs: n}
	bogofilter, err := lookPath("bogofilter")
	if err != nil {
		bogo.skipped = err.Error()
	}
	keep := func(r *learnRow, wall, cpu time.Duration) {
		if r.wall == 0 || wall < r.wall {
			r.wall, r.cpu = wall, cpu
		}
	}
	for round := range b.rounds {
		db := filepath.Join(b.dir, fmt.Sprintf("gospamd-learn-%d", round))
		// A fresh store each time (compareLearning calls this once a
		// round, with round 0).
		if err := os.RemoveAll(db); err != nil {
			gos.skipped = err.Error()
			break
		}
		start := time.Now()
		c1, err := b.runTimed("gospamd-learn", b.bin, "learn", "--dbpath", db, "--spam", b.trainSpamDir)
		var c2 time.Duration
		if err == nil {
			c2, err = b.runTimed("gospamd-learn", b.bin, "learn", "--dbpath", db, "--ham", b.trainHamDir)
		}
		if err != nil {
			gos.skipped = err.Error()
			break
		}
		keep(&gos, time.Since(start), c1+c2)
		b.gospamdDB = db

		if bogo.skipped != "" {
			continue
		}
		bdb := filepath.Join(b.dir, fmt.Sprintf("bogofilter-%d", round))
		if err := os.RemoveAll(bdb); err != nil {
			bogo.skipped = err.Error()
			continue
		}
		if err := os.MkdirAll(bdb, 0o755); err != nil {
			bogo.skipped = err.Error()
			continue
		}
		start = time.Now()
		c1, err = b.runTimed("bogofilter", bogofilter, "-d", bdb, "-s", "-B", b.trainSpamDir)
		if err == nil {
			c2, err = b.runTimed("bogofilter", bogofilter, "-d", bdb, "-n", "-B", b.trainHamDir)
		}
		if err != nil {
			bogo.skipped = err.Error()
			continue
		}
		keep(&bogo, time.Since(start), c1+c2)
	}
	return []learnRow{gos, bogo}
}

// warmUpRequests is how many training messages gospamd and rspamd scan
// before they are measured: a daemon in service has scanned many
// messages, so its caches and lazily built matchers (gospamd's dfa
// states, rspamd's worker processes and redis connections) are warm.
// None of the measured (test) messages is among them.
const warmUpRequests = 1000

// warmUp sends n requests that are not measured (caches, lazily built
// matchers, worker processes).
func (b *bench) warmUp(addr string, proto loadgen.Protocol, msgs [][]byte, n int) error {
	w, err := loadgen.Run(b.ctx, loadgen.Options{Addr: addr, Protocol: proto, Clients: b.clients, Messages: msgs, Requests: n})
	if err != nil {
		return err
	}
	if w.Failed > 0 {
		return fmt.Errorf("warm-up: %d of %d requests failed: %w", w.Failed, w.Requests, w.FirstErr)
	}
	return nil
}

// startGospamd serves db with the built-in rules plus the site lines and
// warms it up; each round sends it requests of the test set.
func (b *bench) startGospamd(name, db string, site []string, requests int) (*server, error) {
	if db == "" {
		return nil, errors.New("no trained store (gospamd learn failed)")
	}
	siteDir := filepath.Join(b.dir, name+"-site")
	if err := os.MkdirAll(siteDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(siteDir, "zz-bench.cf"), []byte(strings.Join(site, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	maddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	d, err := startDaemon(name, b.dir, nil, b.bin, "serve", "--dbpath", db, "--listen", addr, "--config", siteDir,
		"--max-children", strconv.Itoa(b.clients), "--metrics-listen", maddr, "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	s := &server{name: name, addr: addr, proto: loadgen.SpamdSymbols, msgs: b.testMsgs, requests: requests,
		pids: []int{d.cmd.Process.Pid}, metrics: "http://" + maddr + "/metrics", stops: []func(){d.stop}}
	if err := d.waitListening(b.ctx, addr, 3*time.Minute); err != nil {
		s.stop()
		return nil, err
	}
	if err := b.warmUp(addr, loadgen.SpamdSymbols, b.warmMsgs, warmUpRequests); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startRspamd starts a private redis and rspamd (network modules off,
// Bayes in that redis), trains it on the training set with rspamc
// (Learn-Type: bulk) and warms it up; each round sends requests of the
// test set to POST /checkv2 on its normal worker. Its learning time goes
// to learned.
func (b *bench) startRspamd(requests int, learned *learnRow) (srv *server, err error) {
	s := &server{name: "rspamd + redis", proto: loadgen.RspamdCheckV2, msgs: b.testMsgs, requests: requests}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	learned.name = fmt.Sprintf("rspamc learn_spam/learn_ham (Learn-Type: bulk, %d parallel, into the running rspamd)", b.clients)
	learned.msgs = len(b.split.trainSpam) + len(b.split.trainHam)
	var bins [4]string
	for i, name := range []string{"rspamd", "rspamc", "redis-server", "redis-cli"} {
		p, err := lookPath(name)
		if err != nil {
			learned.skipped = err.Error()
			return nil, err
		}
		bins[i] = p
	}
	rspamd, rspamc, redisServer, redisCLI := bins[0], bins[1], bins[2], bins[3]
	dir := filepath.Join(b.dir, "rspamd")
	for _, sub := range []string{"local/local.d", "run", "db", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	sock := filepath.Join(dir, "redis.sock")
	redis, err := startDaemon("redis", b.dir, nil, redisServer, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", dir)
	if err != nil {
		return nil, err
	}
	s.stops = append(s.stops, redis.stop)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	caddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// Hyperscan databases take a minute to compile: keep them between runs.
	hsCache := filepath.Join(dir, "db")
	if c, err := os.UserCacheDir(); err == nil {
		hsCache = filepath.Join(c, "gospamd-bench", "rspamd-hs")
		if err := os.MkdirAll(hsCache, 0o700); err != nil {
			return nil, err
		}
	}
	if err := writeRspamdConfig(dir, addr, caddr, sock, hsCache, runtime.NumCPU()); err != nil {
		return nil, err
	}
	for range 50 {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	d, err := startDaemon("rspamd", b.dir, nil, rspamd, "-f", "-i", "-c", filepath.Join(dir, "rspamd.conf"),
		"--var=LOCAL_CONFDIR="+filepath.Join(dir, "local"), "--var=RUNDIR="+filepath.Join(dir, "run"),
		"--var=DBDIR="+filepath.Join(dir, "db"), "--var=LOGDIR="+filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	s.stops = append(s.stops, d.stop)
	s.addr, s.pids = addr, []int{d.cmd.Process.Pid, redis.cmd.Process.Pid}
	if err := d.waitListening(b.ctx, addr, 5*time.Minute); err != nil {
		return nil, err
	}
	if err := d.waitListening(b.ctx, caddr, time.Minute); err != nil {
		return nil, err
	}
	b.logf("rspamd: learning the training set")
	start := time.Now()
	for _, l := range []struct{ verb, dir string }{{"learn_spam", b.trainSpamDir}, {"learn_ham", b.trainHamDir}} {
		if _, err := b.runTimed("rspamc", rspamc, "-h", caddr, "-P", "q1", "-t", "120", "-n", strconv.Itoa(b.clients),
			"--header", "Learn-Type: bulk", l.verb, l.dir); err != nil {
			learned.skipped = err.Error()
			return nil, err
		}
	}
	learned.wall = time.Since(start)
	counts := []string{redisLearns(b.ctx, redisCLI, sock, "BAYES_SPAM", true), redisLearns(b.ctx, redisCLI, sock, "BAYES_HAM", false)}
	b.logf("rspamd: learned in %v (%s)", learned.wall.Round(time.Millisecond), strings.Join(counts, " "))
	learned.name += "; rspamd counted " + strings.Join(counts, " ")
	if err := b.warmUp(addr, loadgen.RspamdCheckV2, b.warmMsgs, warmUpRequests); err != nil {
		return nil, err
	}
	return s, nil
}

// redisLearns is "SYMBOL=N": the learns rspamd's Bayes counted for the
// statfile symbol: the learns_spam or learns_ham field of each key listed
// in SYMBOL_keys (one, "RS", without per-user statistics).
func redisLearns(ctx context.Context, cli, sock, symbol string, spam bool) string {
	field := "learns_ham"
	if spam {
		field = "learns_spam"
	}
	keys, err := exec.CommandContext(ctx, cli, "-s", sock, "SMEMBERS", symbol+"_keys").Output()
	if err != nil {
		return symbol + "=?"
	}
	total := 0
	for _, k := range strings.Fields(string(keys)) {
		out, err := exec.CommandContext(ctx, cli, "-s", sock, "HGET", k, field).Output()
		if err != nil {
			return symbol + "=?"
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		total += n
	}
	return fmt.Sprintf("%s=%d", symbol, total)
}

// writeRspamdConfig writes a top-level rspamd.conf that takes Debian's
// stock configuration (common.conf: rules, modules, scores) with only a
// controller and normal workers on the given addresses, and local.d
// files that turn off every module that asks the network and put Bayes
// in the private redis.
//
// The bench runs rspamd as it runs gospamd: scanning on every core
// (normal workers, one process each; rspamd's own default is the cores
// less two, so one on a 2-core machine, which left a core to gospamd it
// did not get), and without a log line per message (gospamd runs with
// --log-level warn; rspamd logs each task at notice).
func writeRspamdConfig(dir, addr, caddr, sock, hsCache string, normalWorkers int) error {
	top := `.include "$CONFDIR/common.conf"
options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "warning";
}
worker "normal" {
    bind_socket = "` + addr + `";
    count = ` + strconv.Itoa(normalWorkers) + `;
    .include "$CONFDIR/worker-normal.inc"
}
worker "controller" {
    bind_socket = "` + caddr + `";
    .include "$CONFDIR/worker-controller.inc"
}
`
	files := map[string]string{
		"rspamd.conf":                         top,
		"local/local.d/redis.conf":            fmt.Sprintf("servers = %q;\n", sock),
		"local/local.d/classifier-bayes.conf": fmt.Sprintf("backend = \"redis\";\nservers = %q;\nautolearn = false;\n", sock),
		// No resolver to ask: DNS lookups left (remote maps) fail at once.
		"local/local.d/options.inc": fmt.Sprintf("dns { nameserver = [\"127.0.0.1:1\"]; timeout = 0.1s; retransmits = 0; }\nhs_cache_dir = %q;\n", hsCache+"/"),
	}
	for _, m := range []string{"rbl", "surbl", "spf", "dkim", "dmarc", "arc", "asn", "fuzzy_check", "dcc", "mx_check",
		"url_redirector", "neural", "ratelimit", "greylist", "replies", "history_redis", "reputation", "dkim_signing",
		"bimi", "hfilter", "phishing", "emails", "rspamd_update", "metric_exporter", "p0f", "antivirus",
		"external_services", "clickhouse", "elastic", "aws_s3", "spamtrap"} {
		files["local/local.d/"+m+".conf"] = "enabled = false;\n"
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("write rspamd config: %w", err)
		}
	}
	return nil
}

// startSpamAssassin restores the gospamd store's backup (db, which no
// daemon may hold open) into a private SpamAssassin Bayes database (the
// same tokens: gospamd's are SpamAssassin's) and starts spamd on it with
// the stock rules, network tests off; each round sends it the sample.
func (b *bench) startSpamAssassin(db string, sample [][]byte) (*server, error) {
	fail := func(err error) (*server, error) { return nil, err }
	spamd, err := lookPath("spamd")
	if err != nil {
		return fail(err)
	}
	saLearn, err := lookPath("sa-learn")
	if err != nil {
		return fail(err)
	}
	if db == "" {
		return fail(errors.New("no trained store (gospamd learn failed)"))
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		return fail(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	dir := filepath.Join(b.dir, "spamassassin")
	site, home := filepath.Join(dir, "site"), filepath.Join(dir, "home")
	for _, d := range []string{site, home, filepath.Join(dir, "bayes")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail(err)
		}
	}
	if err := exec.Command("cp", "-r", "/etc/spamassassin/.", site).Run(); err != nil {
		return fail(fmt.Errorf("copy /etc/spamassassin: %w", err))
	}
	local := fmt.Sprintf("use_bayes 1\nbayes_auto_learn 0\nbayes_auto_expire 0\nbayes_path %s\nskip_rbl_checks 1\n", filepath.Join(dir, "bayes", "bayes"))
	if err := os.WriteFile(filepath.Join(site, "zz-bench.cf"), []byte(local), 0o644); err != nil {
		return fail(err)
	}
	backup := filepath.Join(dir, "gospamd.backup")
	out, err := os.Create(backup)
	if err != nil {
		return fail(err)
	}
	cmd := exec.CommandContext(b.ctx, b.bin, "learn", "--dbpath", db, "--backup")
	cmd.Stdout = out
	err = cmd.Run()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("gospamd learn --backup: %w", err))
	}
	b.logf("spamassassin: restoring gospamd's Bayes backup with sa-learn")
	if _, err := b.runTimed("sa-learn", saLearn, "--siteconfigpath", site, "--restore", backup); err != nil {
		return fail(err)
	}
	if err := chownTree(dir, uid, gid); err != nil {
		return fail(err)
	}
	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	n := strconv.Itoa(b.clients)
	d, err := startDaemon("spamd", b.dir, []string{"HOME=" + home}, spamd, "--listen", addr, "--max-children", n, "--min-children", n,
		"--local", "--nouser-config", "--siteconfigpath", site, "--helper-home-dir", home, "-u", "nobody",
		"--pidfile", filepath.Join(dir, "spamd.pid"))
	if err != nil {
		return fail(err)
	}
	s := &server{name: "SpamAssassin spamd (sample)", addr: addr, proto: loadgen.SpamdSymbols, msgs: sample, requests: len(sample),
		pids: []int{d.cmd.Process.Pid}, stops: []func(){d.stop}}
	if err := d.waitListening(b.ctx, addr, 3*time.Minute); err != nil {
		s.stop()
		return fail(err)
	}
	if err := b.warmUp(addr, loadgen.SpamdSymbols, sample, 2*b.clients); err != nil {
		s.stop()
		return fail(err)
	}
	return s, nil
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// cpuPerMessage is the server's CPU time per answered request (for a
// summary of rounds, their median).
func (r *row) cpuPerMessage() time.Duration {
	if r.cpuPer > 0 {
		return r.cpuPer
	}
	if r.res == nil || len(r.res.Latencies) == 0 {
		return 0
	}
	return r.cpu / time.Duration(len(r.res.Latencies))
}
