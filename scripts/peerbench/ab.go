package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"
)

// compare is peerbench -ab: gospamd with the built-in rules alone,
// served by each of bins in turn, round after round, on the same trained
// store (learned by the first binary), requests messages each. On a
// machine shared with other work, alternating the binaries puts each
// through the same changes of load, and the CPU time per message moves
// much less than messages/s; the summary is each binary's median.
func (b *bench) compare(w io.Writer, bins []string, rounds, requests int) error {
	if err := absPaths(bins); err != nil {
		return err
	}
	db := filepath.Join(b.dir, "gospamd-ab")
	for _, l := range [][]string{{"--spam", b.trainSpamDir}, {"--ham", b.trainHamDir}} {
		if _, err := b.runTimed("gospamd-learn", bins[0], append([]string{"learn", "--dbpath", db}, l...)...); err != nil {
			return err
		}
	}
	b.gospamdDB = db
	site := []string{"bayes_auto_learn 0", "bayes_auto_expire 0"}
	fmt.Fprintf(w, "\n%d concurrent clients, one connection per message, %d messages a round; load average %s at the start.\n\n",
		b.clients, requests, loadAverage())
	fmt.Fprintln(w, "| round | binary | messages/s | p50 | p99 | server CPU/message | client CPU/message | RSS after | load average |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---|")
	cpu := make([][]time.Duration, len(bins))
	for round := range rounds {
		for i, bin := range bins {
			b.bin = bin
			r, err := b.measureOnce(fmt.Sprintf("gospamd-ab-%d", i), db, site, requests)
			if err != nil {
				return fmt.Errorf("%s: %w", bin, err)
			}
			cpu[i] = append(cpu[i], r.cpuPerMessage())
			fmt.Fprintf(w, "| %d | %s | %.1f | %s | %s | %s | %s | %.0f MiB | %s |\n", round+1, bin, r.res.PerSecond(),
				ms(r.res.Percentile(0.5)), ms(r.res.Percentile(0.99)), cpuMS(r.cpuPerMessage()),
				cpuMS(r.clientCPU/time.Duration(len(r.res.Latencies))), float64(r.rss)/(1<<20), loadAverage())
		}
	}
	fmt.Fprintln(w)
	for i, bin := range bins {
		fmt.Fprintf(w, "- %s: median server CPU %s a message", bin, cpuMS(median(cpu[i])))
		if i > 0 {
			fmt.Fprintf(w, " (%+.1f%% against the first)", 100*(median(cpu[i]).Seconds()/median(cpu[0]).Seconds()-1))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// measureOnce starts gospamd (b.bin) on db, measures one round and stops
// it.
func (b *bench) measureOnce(name, db string, site []string, requests int) (row, error) {
	s, err := b.startGospamd(name, db, site, requests)
	if err != nil {
		return row{}, err
	}
	defer s.stop()
	return b.measureRound(s)
}

// median of xs (0 for none): of durations, or of ratios.
func median[T time.Duration | float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// compareLearning times gospamd learn of each binary and bogofilter, one
// round each in turn, b.rounds rounds, and prints each one's best wall
// time and its CPU time.
func (b *bench) compareLearning(w io.Writer, bins []string) error {
	if err := absPaths(bins); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nLearning the training set (%d messages), best of %d rounds; load average %s at the start.\n\n",
		len(b.split.trainSpam)+len(b.split.trainHam), b.rounds, loadAverage())
	best := make([]learnRow, len(bins)+1)
	rounds := b.rounds
	b.rounds = 1
	defer func() { b.rounds = rounds }()
	for range rounds {
		for i, bin := range bins {
			b.bin = bin
			rows := b.benchLearning()
			if rows[0].wall == 0 {
				return fmt.Errorf("%s: %s", bin, rows[0].skipped)
			}
			rows[0].name = bin
			if best[i].wall == 0 || rows[0].wall < best[i].wall {
				best[i] = rows[0]
			}
			if i == 0 && rows[1].wall > 0 && (best[len(bins)].wall == 0 || rows[1].wall < best[len(bins)].wall) {
				best[len(bins)] = rows[1]
			}
		}
	}
	fmt.Fprintln(w, "| learner | messages/s | seconds | CPU s | ÷ bogofilter |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	bogo := best[len(bins)]
	for _, l := range best {
		if l.wall == 0 {
			continue
		}
		ratio := "–"
		if bogo.wall > 0 {
			ratio = fmt.Sprintf("%.3g", bogo.wall.Seconds()/l.wall.Seconds())
		}
		fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %s |\n", l.name, float64(l.msgs)/l.wall.Seconds(), l.wall.Seconds(), l.cpu.Seconds(), ratio)
	}
	return nil
}

// absPaths makes every path of paths absolute, in place.
func absPaths(paths []string) error {
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		paths[i] = abs
	}
	return nil
}
