package main

import (
	"fmt"
	"os/exec"
	"slices"
	"time"

	"github.com/gospamd/gospamd/internal/loadgen"
)

// A server is a started, warmed-up scanner that the rounds measure.
type server struct {
	name     string
	addr     string
	proto    loadgen.Protocol
	msgs     [][]byte // what a round sends, in turn
	requests int      // a round's requests
	pids     []int    // the processes whose CPU time and memory count
	metrics  string   // gospamd's /metrics URL; "" for the peers
	stops    []func()
}

// stop stops the server's processes, the last started first.
func (s *server) stop() {
	for _, stop := range slices.Backward(s.stops) {
		stop()
	}
	s.stops = nil
}

// Idle is when a server's processes used less than idleCPU of CPU time in
// each of two idleStep intervals running; waitIdle gives up after
// idleWait.
const (
	idleStep = 250 * time.Millisecond
	idleCPU  = 10 * time.Millisecond
	idleWait = 20 * time.Second
)

// waitIdle waits until the server's processes have finished what they
// do on their own (a store's compactions, workers still starting), so
// that a round measures only the scans it sends.
func (b *bench) waitIdle(s *server) error {
	last, err := treeCPU(s.pids...)
	if err != nil {
		return err
	}
	quiet := 0
	for deadline := time.Now().Add(idleWait); quiet < 2 && time.Now().Before(deadline); {
		select {
		case <-b.ctx.Done():
			return b.ctx.Err()
		case <-time.After(idleStep):
		}
		now, err := treeCPU(s.pids...)
		if err != nil {
			return err
		}
		if now-last < idleCPU {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	if quiet < 2 {
		b.logf("%s: still busy after %v; measured anyway", s.name, idleWait)
	}
	return nil
}

// measureRound waits for the server to be idle, sends it a round of
// load, and reads the CPU time its processes (and their children) used
// during it, their RSS after it and, for gospamd, its own scan-time
// histogram. Answers naming a BAYES_ rule are counted.
func (b *bench) measureRound(s *server) (row, error) {
	r := row{name: s.name}
	if err := b.waitIdle(s); err != nil {
		return r, err
	}
	var before *histogram
	if s.metrics != "" {
		var err error
		if before, err = scrapeHistogram(b.ctx, s.metrics, "gospamd_scan_seconds"); err != nil {
			return r, err
		}
	}
	b.logf("%s: %d requests, %d clients (load average %s)", s.name, s.requests, b.clients, loadAverage())
	cpu0, err := treeCPU(s.pids...)
	if err != nil {
		return r, err
	}
	self0 := selfCPU()
	res, err := loadgen.Run(b.ctx, loadgen.Options{Addr: s.addr, Protocol: s.proto, Clients: b.clients, Messages: s.msgs,
		Requests: s.requests, Match: []byte("BAYES_")})
	if err != nil {
		return r, err
	}
	r.clientCPU = selfCPU() - self0
	cpu1, err := treeCPU(s.pids...)
	if err != nil {
		return r, err
	}
	r.cpu = cpu1 - cpu0
	if res.Failed > 0 {
		return r, fmt.Errorf("%d of %d requests failed: %w", res.Failed, res.Requests, res.FirstErr)
	}
	r.res = res
	if r.rss, err = treeRSS(s.pids...); err != nil {
		return r, err
	}
	if before != nil {
		after, err := scrapeHistogram(b.ctx, s.metrics, "gospamd_scan_seconds")
		if err != nil {
			return r, err
		}
		h := after.minus(before)
		r.scanSeen, r.scanP99 = h.count(), h.quantileBound(0.99)
	}
	return r, nil
}

// The servers of a run, in the order of its table (row indexes).
const (
	rowBuiltin = iota
	rowStock
	rowRspamd
	rowSpamAssassin
	rowCount
)

// benchScanners starts the four servers, measures each once a round, in
// turn, for rounds rounds (so that the changes of a shared machine's load
// fall alike on all of them), and returns each server's summary row and
// its rounds. Gospamd and rspamd scan requests messages a round, gospamd
// with the stock rules the test set once, SpamAssassin's spamd the
// sample.
func (b *bench) benchScanners(requests, rounds int, stockDir string, sample [][]byte, rspamdLearn *learnRow) ([]row, [][]row) {
	names := [rowCount]string{"gospamd, built-in rules", "gospamd + SpamAssassin stock rules", "rspamd + redis", "SpamAssassin spamd (sample)"}
	servers := make([]*server, rowCount)
	errs := make([]error, rowCount)
	defer func() {
		for _, s := range servers {
			if s != nil {
				s.stop()
			}
		}
	}()
	// SpamAssassin's Bayes is restored from the store's backup, which
	// needs the store closed: before any gospamd serves it. Gospamd with
	// the stock rules serves a copy, since a store has one daemon.
	b.logf("SpamAssassin's spamd")
	servers[rowSpamAssassin], errs[rowSpamAssassin] = b.startSpamAssassin(b.gospamdDB, sample)
	stockDB := ""
	if b.gospamdDB != "" {
		stockDB = b.gospamdDB + "-stock"
		if out, err := exec.CommandContext(b.ctx, "cp", "-a", b.gospamdDB, stockDB).CombinedOutput(); err != nil {
			errs[rowStock] = fmt.Errorf("copy the store: %w: %s", err, out)
		}
	}
	b.logf("rspamd")
	servers[rowRspamd], errs[rowRspamd] = b.startRspamd(requests, rspamdLearn)
	b.logf("gospamd, built-in rules")
	noLearn := []string{"bayes_auto_learn 0", "bayes_auto_expire 0"}
	servers[rowBuiltin], errs[rowBuiltin] = b.startGospamd("gospamd", b.gospamdDB, noLearn, requests)
	if errs[rowStock] == nil {
		b.logf("gospamd, built-in and stock rules")
		servers[rowStock], errs[rowStock] = b.startGospamd("gospamd-stock", stockDB,
			append([]string{"rules_dir " + stockDir}, noLearn...), len(b.testMsgs))
	}

	perRound := make([][]row, rowCount)
	for round := range rounds {
		b.logf("round %d of %d", round+1, rounds)
		for i, s := range servers {
			if s == nil || b.ctx.Err() != nil {
				continue
			}
			r, err := b.measureRound(s)
			if err != nil {
				errs[i] = err
				s.stop()
				servers[i] = nil
				continue
			}
			r.loadAfter = loadAverage()
			perRound[i] = append(perRound[i], r)
		}
	}
	rows := make([]row, rowCount)
	for i := range rows {
		rows[i] = summarize(names[i], perRound[i])
		if errs[i] != nil {
			rows[i] = row{name: names[i], skipped: errs[i].Error()}
		}
	}
	return rows, perRound
}

// summarize is the row of a server's rounds: messages/s and CPU time a
// message are the rounds' medians, latencies and answers pooled, RSS the
// largest after any round.
func summarize(name string, rounds []row) row {
	s := row{name: name, skipped: "not measured"}
	if len(rounds) == 0 {
		return s
	}
	pooled := &loadgen.Result{}
	var rates []float64
	var cpus []time.Duration
	for _, r := range rounds {
		pooled.Requests += r.res.Requests
		pooled.Matched += r.res.Matched
		pooled.Elapsed += r.res.Elapsed
		pooled.Latencies = append(pooled.Latencies, r.res.Latencies...)
		s.cpu += r.cpu
		s.clientCPU += r.clientCPU
		s.rss = max(s.rss, r.rss)
		s.scanSeen += r.scanSeen
		s.scanP99 = max(s.scanP99, r.scanP99)
		rates = append(rates, r.res.PerSecond())
		cpus = append(cpus, r.cpuPerMessage())
	}
	slices.Sort(pooled.Latencies)
	s.res, s.skipped = pooled, ""
	s.rate, s.cpuPer = median(rates), median(cpus)
	return s
}

// roundRatios is, round by round, num's messages/s over den's and den's
// CPU time a message over num's (the rounds both were measured in).
func roundRatios(num, den []row) (rate, cpu []float64) {
	for i := range min(len(num), len(den)) {
		rate = append(rate, num[i].res.PerSecond()/den[i].res.PerSecond())
		if num[i].cpu > 0 && den[i].cpu > 0 {
			cpu = append(cpu, den[i].cpuPerMessage().Seconds()/num[i].cpuPerMessage().Seconds())
		}
	}
	return rate, cpu
}
