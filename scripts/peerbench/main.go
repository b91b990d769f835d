// Command peerbench is make bench's comparison of gospamd with its peers
// in one run, on mail none of the stores has learned:
//
//   - the shared corpus is cut by Date header: each class's oldest part
//     is the training set, its newest part (-held-out) the test set;
//   - learning: gospamd learn and bogofilter's bulk registration
//     (bogofilter -s -B, -n -B) of the training set into a fresh store,
//     spam then ham, process start included, timed wall and CPU;
//   - scanning: one load generator (internal/loadgen: -clients concurrent
//     clients, one connection per message as spamc) against gospamd serve
//     with the built-in rules, gospamd with SpamAssassin's stock rules
//     layered in (rules_dir), rspamd with a private redis and config
//     (network modules off, Bayes trained with rspamc, Learn-Type: bulk)
//     and SpamAssassin's spamd (stock rules, network tests off, Bayes
//     restored from gospamd's backup: the same tokens) on a sample. Every
//     store is trained on the training set alone; autolearn is off.
//
// The four servers run side by side and are measured in turn, once a
// round (-rounds), each when it is idle, so that the changes of a shared
// machine's speed fall alike on all of them; the ratios are the medians
// of the rounds' ratios.
//
// It prints Markdown tables: messages/s, p50 and p99 latency, the ratio to
// gospamd, each daemon's resident memory after its run, every round's
// figures, and the load average, since on a shared machine the figures
// move with it. A peer
// that is not installed (make bench-deps) gets a row saying so.
//
// With -ab OLD,NEW it measures only gospamd with the built-in rules, the
// binaries alternated round by round on one trained store, and prints
// each round's figures and each binary's median CPU time per message:
// the A/B comparison of two builds on a machine shared with other work.
//
// Usage: go run ./scripts/peerbench -bin bin/gospamd -corpus DIR
//
//	go run ./scripts/peerbench -ab old/gospamd,bin/gospamd -ab-rounds 3 -corpus DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gospamd/gospamd/internal/perfrec"
)

// bench is one run's settings and shared state.
type bench struct {
	ctx     context.Context
	bin     string // gospamd binary, absolute
	dir     string // private work directory
	clients int
	rounds  int
	log     io.Writer

	split                     *split
	trainSpamDir, trainHamDir string
	testMsgs                  [][]byte
	// warmMsgs are the training messages, spam and ham alternating:
	// what the servers scan before they are measured.
	warmMsgs  [][]byte
	gospamdDB string // trained store (set by benchLearning)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "peerbench: "+format+"\n", args...)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin/gospamd", "the gospamd `binary` to measure")
	corpusDir := fs.String("corpus", "../shared/corpus/spamassassin-2002-set1", "corpus `DIR` (easy_ham, hard_ham, spam)")
	heldOut := fs.Float64("held-out", 0.3, "newest `fraction` of each class kept out of training and scanned")
	clients := fs.Int("clients", 8, "concurrent clients")
	repeat := fs.Int("repeat", 2, "passes over the test set a round for gospamd with the built-in rules and rspamd")
	scanRounds := fs.Int("rounds", 5, "scan rounds: every server is measured once a round, in turn, and the ratios are the rounds' medians")
	saSample := fs.Int("sa-sample", 120, "messages of the test set sent to SpamAssassin's spamd")
	rounds := fs.Int("learn-rounds", 2, "learning runs of each learner (the best is kept)")
	keep := fs.Bool("keep", false, "keep the work directory")
	stock := fs.String("stock-rules", "/usr/share/spamassassin", "SpamAssassin's stock rules `DIR`")
	ab := fs.String("ab", "", "comma-separated gospamd `binaries` to compare instead: only gospamd with the built-in rules, the binaries alternated round by round (see -ab-rounds)")
	abRounds := fs.Int("ab-rounds", 3, "rounds of -ab")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's CPU profile to `FILE` (to see what the client costs)")
	learnOnly := fs.Bool("learn-only", false, "time only the learners (with -ab: each binary's gospamd learn, alternated, against bogofilter)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		stopProfile, err := perfrec.CPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "peerbench:", err)
			return 1
		}
		defer stopProfile()
	}

	if _, err := os.Stat(filepath.Join(*corpusDir, "spam")); err != nil {
		fmt.Fprintf(stderr, "peerbench: no corpus at %s; skipped\n", *corpusDir)
		return 0
	}
	absBin, err := filepath.Abs(*bin)
	if err != nil {
		fmt.Fprintln(stderr, "peerbench:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "peerbench-")
	if err != nil {
		fmt.Fprintln(stderr, "peerbench:", err)
		return 1
	}
	if *keep {
		fmt.Fprintln(stderr, "peerbench: work directory", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// spamd scans as nobody, under this directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "peerbench:", err)
		return 1
	}
	b := &bench{ctx: ctx, bin: absBin, dir: dir, clients: *clients, rounds: max(*rounds, 1), log: stderr}
	if err := b.prepare(*corpusDir, *heldOut); err != nil {
		fmt.Fprintln(stderr, "peerbench:", err)
		return 1
	}
	if *learnOnly {
		bins := []string{absBin}
		if *ab != "" {
			bins = strings.Split(*ab, ",")
		}
		if err := b.compareLearning(stdout, bins); err != nil {
			fmt.Fprintln(stderr, "peerbench:", err)
			return 1
		}
		return 0
	}
	if *ab != "" {
		if err := b.compare(stdout, strings.Split(*ab, ","), *abRounds, *repeat*len(b.testMsgs)); err != nil {
			fmt.Fprintln(stderr, "peerbench:", err)
			return 1
		}
		return 0
	}
	loadStart := loadAverage()
	start := time.Now()

	b.logf("learning the training set (%d rounds each)", b.rounds)
	learns := b.benchLearning()
	var rspamdLearn learnRow
	rows, perRound := b.benchScanners(*repeat*len(b.testMsgs), *scanRounds, *stock, sampleOf(b.testMsgs, *saSample), &rspamdLearn)
	learns = append(learns, rspamdLearn)

	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "peerbench: interrupted")
		return 1
	}
	b.report(stdout, rows, perRound, learns, loadStart, loadAverage(), time.Since(start))
	return 0
}

// prepare splits the corpus and writes the training set out.
func (b *bench) prepare(corpusDir string, heldOut float64) error {
	s, err := splitCorpus(corpusDir, heldOut)
	if err != nil {
		return err
	}
	b.split = s
	b.trainSpamDir = filepath.Join(b.dir, "train", "spam")
	b.trainHamDir = filepath.Join(b.dir, "train", "ham")
	if err := writeMessages(b.trainSpamDir, s.trainSpam); err != nil {
		return err
	}
	if err := writeMessages(b.trainHamDir, s.trainHam); err != nil {
		return err
	}
	for _, m := range s.test {
		b.testMsgs = append(b.testMsgs, m.raw)
	}
	for i := range max(len(s.trainSpam), len(s.trainHam)) {
		for _, class := range [][]corpusMessage{s.trainSpam, s.trainHam} {
			if i < len(class) {
				b.warmMsgs = append(b.warmMsgs, class[i].raw)
			}
		}
	}
	return nil
}

// sampleOf takes n messages spread evenly over msgs.
func sampleOf(msgs [][]byte, n int) [][]byte {
	if n >= len(msgs) || n <= 0 {
		return msgs
	}
	out := make([][]byte, 0, n)
	for i := range n {
		out = append(out, msgs[i*len(msgs)/n])
	}
	return out
}

// report prints the tables.
func (b *bench) report(w io.Writer, rows []row, perRound [][]row, learns []learnRow, loadStart, loadEnd string, took time.Duration) {
	s := b.split
	testSpam := 0
	for _, m := range s.test {
		if m.spam {
			testSpam++
		}
	}
	fmt.Fprintf(w, "\nTrained on the oldest %d ham and %d spam (by Date header), scanned the newest %d ham and %d spam, which no store learned.\n",
		len(s.trainHam), len(s.trainSpam), len(s.test)-testSpam, testSpam)
	fmt.Fprintf(w, "%d concurrent clients, one connection per message. Load average %s at the start, %s at the end (%v in all).\n",
		b.clients, loadStart, loadEnd, took.Round(time.Second))
	fmt.Fprintln(w, "Server CPU is the user and system time of the daemon and its workers (and rspamd's redis, its Bayes store) during the run,")
	fmt.Fprintln(w, "client CPU the load generator's; both per answered message.")
	fmt.Fprintf(w, "Before it is measured, gospamd (each set of rules) and rspamd scan %d training messages, as a daemon in service has\n", warmUpRequests)
	fmt.Fprintln(w, "scanned mail before (none of them is measured); SpamAssassin's spamd two per client.")
	fmt.Fprintf(w, "All four servers run side by side and are measured in turn, once a round, %d rounds, each round after its server is idle;\n", len(perRound[rowBuiltin]))
	fmt.Fprintln(w, "messages/s and CPU/message are the rounds' medians, latencies pooled, RSS the largest after a round, and the ratios the")
	fmt.Fprintln(w, "medians of each round's ratio (see the table of rounds).")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| server | messages | messages/s | p50 | p99 | ÷ gospamd | server CPU/message | ÷ gospamd by CPU | client CPU/message | RSS after | with a BAYES_ rule |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	base := rows[0].res
	for i, r := range rows {
		if r.res == nil {
			fmt.Fprintf(w, "| %s | skipped: %s |||||||||\n", r.name, oneLine(r.skipped))
			continue
		}
		ratio, cpuRatio := "–", "–"
		if base != nil {
			rate, cpu := roundRatios(perRound[i], perRound[rowBuiltin])
			ratio = fmt.Sprintf("%.3g", median(rate))
			if len(cpu) > 0 {
				cpuRatio = fmt.Sprintf("%.3g", median(cpu))
			}
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %s | %s | %s | %s | %s | %s | %.0f MiB | %.0f%% |\n", r.name, len(r.res.Latencies), r.perSecond(),
			ms(r.res.Percentile(0.5)), ms(r.res.Percentile(0.99)), ratio, cpuMS(r.cpuPerMessage()), cpuRatio,
			cpuMS(r.clientCPU/time.Duration(max(len(r.res.Latencies), 1))), float64(r.rss)/(1<<20),
			100*float64(r.res.Matched)/float64(max(len(r.res.Latencies), 1)))
	}
	b.reportRounds(w, perRound)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| learner (training set, fresh store, spam then ham) | messages | seconds | messages/s | CPU s | ÷ gospamd |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, l := range learns {
		if l.wall == 0 {
			fmt.Fprintf(w, "| %s | skipped: %s |||||\n", l.name, oneLine(l.skipped))
			continue
		}
		ratio, cpu := "–", "–"
		if learns[0].wall > 0 {
			ratio = fmt.Sprintf("%.3g", learns[0].wall.Seconds()/l.wall.Seconds())
		}
		if l.cpu > 0 {
			cpu = fmt.Sprintf("%.2f", l.cpu.Seconds())
		}
		fmt.Fprintf(w, "| %s | %d | %.2f | %.0f | %s | %s |\n", l.name, l.msgs, l.wall.Seconds(), float64(l.msgs)/l.wall.Seconds(), cpu, ratio)
	}

	fmt.Fprintln(w, "\nIssue 16's targets:")
	target := func(what string, got float64, ok bool, want string) {
		if got == 0 {
			fmt.Fprintf(w, "- %s: not measured\n", what)
			return
		}
		mark := "missed"
		if ok {
			mark = "met"
		}
		fmt.Fprintf(w, "- %s: %.3g (want %s): %s\n", what, got, want, mark)
	}
	ratio := func(what string, num, den int, want float64) {
		rate, cpu := roundRatios(perRound[num], perRound[den])
		x := median(rate)
		target(what, x, x >= want, fmt.Sprintf("≥ %g", want))
		if len(rate) > 0 {
			fmt.Fprintf(w, "  (rounds: %s; by the servers' CPU time per message, which the machine's other load moves less: %.3g, rounds %s)\n",
				floats(rate), median(cpu), floats(cpu))
		}
	}
	ratio("gospamd (built-in rules) ÷ rspamd, messages/s", rowBuiltin, rowRspamd, 5)
	ratio("gospamd (stock rules) ÷ SpamAssassin spamd, messages/s", rowStock, rowSpamAssassin, 40)
	if r := rows[0]; r.res != nil {
		p99 := float64(r.res.Percentile(0.99).Microseconds()) / 1000
		target(fmt.Sprintf("gospamd p99 at %d clients, ms", b.clients), p99, p99 <= 30, "≤ 30")
		fmt.Fprintf(w, "  (gospamd_scan_seconds, the daemon's own histogram: %.0f scans in the run, 99%% within %s ms in every round)\n", r.scanSeen, bucketMS(r.scanP99))
	}
	for i, limit := range []float64{100, 250} {
		if r := rows[i]; r.res != nil {
			mib := float64(r.rss) / (1 << 20)
			target(r.name+", RSS MiB after the run", mib, mib <= limit, fmt.Sprintf("≤ %.0f", limit))
		}
	}
	if learns[0].wall > 0 && learns[1].wall > 0 {
		x := learns[1].wall.Seconds() / learns[0].wall.Seconds()
		target("gospamd learn ÷ bogofilter, messages/s", x, x >= 1, "≥ 1")
	}
}

// reportRounds prints every round's messages/s and CPU time a message,
// and its ratios.
func (b *bench) reportRounds(w io.Writer, perRound [][]row) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | gospamd built-in | rspamd | ÷ (by CPU) | gospamd stock | SpamAssassin | ÷ (by CPU) | load average after |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---|")
	cell := func(i, round int) string {
		if round >= len(perRound[i]) {
			return "–"
		}
		r := perRound[i][round]
		return fmt.Sprintf("%.1f/s, %s", r.res.PerSecond(), cpuMS(r.cpuPerMessage()))
	}
	ratio := func(num, den, round int) string {
		if round >= len(perRound[num]) || round >= len(perRound[den]) {
			return "–"
		}
		rate, cpu := roundRatios(perRound[num][round:round+1], perRound[den][round:round+1])
		if len(cpu) == 0 {
			return fmt.Sprintf("%.3g", rate[0])
		}
		return fmt.Sprintf("%.3g (%.3g)", rate[0], cpu[0])
	}
	rounds := 0
	for _, rs := range perRound {
		rounds = max(rounds, len(rs))
	}
	for round := range rounds {
		load := ""
		for _, rs := range perRound {
			if round < len(rs) {
				load = rs[round].loadAfter
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", round+1, cell(rowBuiltin, round), cell(rowRspamd, round),
			ratio(rowBuiltin, rowRspamd, round), cell(rowStock, round), cell(rowSpamAssassin, round),
			ratio(rowStock, rowSpamAssassin, round), load)
	}
}

// floats is xs, three digits each.
func floats(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.3g", x))
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func cpuMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func bucketMS(bound float64) string {
	if bound > 1e9 {
		return "+Inf"
	}
	return fmt.Sprintf("%g", bound*1000)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ReplaceAll(s, "|", "/")
}
