package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/spamdproto"
)

// redisTestDB is the Redis database index the daemon tests use (not 0,
// as a site would not).
const redisTestDB = 2

// redisDaemonConfig writes a daemon config file in dir for a daemon on
// the Redis server srv: [store] backend redis, TELL allowed, a site
// policy that lets Bayes answer after one spam and one ham and learns
// nothing by itself (so that the counts are the TELLs'), and extra
// appended (further sections). It returns the file's path.
func redisDaemonConfig(t testing.TB, dir string, srv *testpeer.Redis, extra string) string {
	t.Helper()
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(site, 0o700); err != nil {
		t.Fatal(err)
	}
	policy := "bayes_min_spam_num 1\nbayes_min_ham_num 1\nbayes_auto_learn 0\n"
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[store]\ndbpath = %q\nbackend = \"redis\"\nredis_dsn = \"server=%s;database=%d\"\n\n"+
		"[spamd]\nallow_tell = true\nmax_children = 12\n\n[policy]\ndir = %q\n\n[daemon]\nlog_level = \"warn\"\n%s",
		filepath.Join(dir, "unused-bayes"), srv.Addr, redisTestDB, site, extra)
	file := filepath.Join(dir, "gospamd.toml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// redisMagic reads the global scope's counters straight from srv.
func redisMagic(t testing.TB, srv *testpeer.Redis) classifier.Magic {
	t.Helper()
	ctx := context.Background()
	s, err := redisstore.Open(ctx, redisstore.Options{Addr: srv.Addr, DB: redisTestDB, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.Magic(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Vocabularies for the messages the Redis tests learn: each message
// takes words of its class, so that Bayes separates them clearly.
var (
	spamWords = strings.Fields("viagra cheap pills casino winner lottery prize offer unsubscribe mortgage refinance " +
		"bargain replica watches guaranteed income click limited discount pharmacy")
	hamWords = strings.Fields("meeting agenda quarterly report review draft minutes schedule colleague project " +
		"budget deadline thursday conference slides notes feedback patch build release")
)

// redisMessage is message n of kind ("spam" or "ham"), unique to tag
// and n: its body names both, since the seen index's id is a hash of
// To, Date and the body (SpamAssassin's).
func redisMessage(kind, tag string, n int) []byte {
	words := hamWords
	if kind == "spam" {
		words = spamWords
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Reference %s %d.\r\n", tag, n)
	for i := range 40 {
		body.WriteString(words[(n*7+i*3)%len(words)])
		if i%10 == 9 {
			body.WriteString("\r\n")
		} else {
			body.WriteString(" ")
		}
	}
	return fmt.Appendf(nil, "From: %s%d@example.com\r\nTo: you@example.org\r\nSubject: %s %s %d\r\n"+
		"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-Id: <%s-%s-%d@example.com>\r\n\r\n%s",
		kind, n, kind, words[n%len(words)], n, tag, kind, n, body.String())
}

// tell learns msg as class through the daemon at addr and reports
// whether the daemon says it learned it (DidSet local) rather than
// finding it learned already.
func tell(ctx context.Context, addr string, class spamdproto.Class, msg []byte) (bool, error) {
	c := &spamdproto.Client{Hosts: []string{addr}, Timeout: 30 * time.Second}
	res, err := c.Tell(ctx, &spamdproto.TellRequest{Message: msg, Class: class, Set: spamdproto.Targets{Local: true}}, false)
	if err != nil {
		return false, fmt.Errorf("tell %s: %w", class, err)
	}
	return res.DidSet.Local, nil
}

var bayesRule = regexp.MustCompile(`\bBAYES_\d+\b`)

// bayesAnswer is the BAYES_xx rule the daemon at addr gives msg, "" for
// none.
func bayesAnswer(t testing.TB, addr string, msg []byte) string {
	t.Helper()
	c := &spamdproto.Client{Hosts: []string{addr}, Timeout: 30 * time.Second}
	res, err := c.Symbols(context.Background(), "", msg, false)
	if err != nil {
		t.Fatalf("SYMBOLS to %s: %v", addr, err)
	}
	return bayesRule.FindString(string(res.Body))
}

// Two gospamd serve daemons on one Redis are one Bayes: a message learned
// through one daemon's TELL changes the other's answer on the next scan,
// and 4 learners on each daemon at once, sending the same messages to
// both, give counts equal to the learns acknowledged, each message once.
func TestTwoDaemonsOneRedis(t *testing.T) {
	srv := testpeer.StartRedis(t)
	a := startDaemon(t, false, "--daemon-config", redisDaemonConfig(t, t.TempDir(), srv, ""))
	b := startDaemon(t, false, "--daemon-config", redisDaemonConfig(t, t.TempDir(), srv, ""))
	ctx := context.Background()
	for i := range 5 {
		for _, c := range []struct {
			d     *testDaemon
			class spamdproto.Class
			kind  string
		}{{a, spamdproto.ClassSpam, "spam"}, {b, spamdproto.ClassHam, "ham"}} {
			if ok, err := tell(ctx, c.d.addr(), c.class, redisMessage(c.kind, "train", i)); err != nil || !ok {
				t.Fatalf("training %s %d: learned %v, %v", c.kind, i, ok, err)
			}
		}
	}

	// The probe has words of neither class until it is learned.
	probe := []byte("From: someone@example.net\r\nTo: you@example.org\r\nSubject: zebra quokka\r\n" +
		"Message-Id: <probe@example.net>\r\n\r\n" + strings.Repeat("zebra quokka narwhal axolotl pangolin okapi tapir\r\n", 6))
	// None of its tokens are known: Bayes does not answer, as
	// SpamAssassin's does not.
	if got := bayesAnswer(t, b.addr(), probe); got != "" {
		t.Fatalf("before any learn of the probe, daemon B answers %s, want no BAYES_xx rule", got)
	}
	steps := []struct {
		name           string
		learner, other *testDaemon
		class          spamdproto.Class
		want           []string // the other daemon's answer right after
	}{
		{"A learns it as spam, B sees spam", a, b, spamdproto.ClassSpam, []string{"BAYES_99", "BAYES_999"}},
		{"B relearns it as ham, A sees ham", b, a, spamdproto.ClassHam, []string{"BAYES_00"}},
	}
	for _, s := range steps {
		if ok, err := tell(ctx, s.learner.addr(), s.class, probe); err != nil || !ok {
			t.Fatalf("%s: TELL learned %v, %v", s.name, ok, err)
		}
		if got := bayesAnswer(t, s.other.addr(), probe); !slices.Contains(s.want, got) {
			t.Errorf("%s: the other daemon answers %q, want one of %v", s.name, got, s.want)
		}
	}

	// Concurrent learning: learner i on A and learner i on B send the same
	// messages, so that every message is told twice at about the same
	// time and must be counted once.
	const learnersPerDaemon, perLearner = 4, 15
	before := redisMagic(t, srv)
	var acked, spamAcked atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2*learnersPerDaemon)
	for _, d := range []*testDaemon{a, b} {
		for l := range learnersPerDaemon {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perLearner {
					n := l*perLearner + i
					kind, class := "ham", spamdproto.ClassHam
					if n%2 == 0 {
						kind, class = "spam", spamdproto.ClassSpam
					}
					ok, err := tell(ctx, d.addr(), class, redisMessage(kind, "concurrent", n))
					if err != nil {
						errs <- err
						return
					}
					if ok {
						acked.Add(1)
						if kind == "spam" {
							spamAcked.Add(1)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	after := redisMagic(t, srv)
	learned := (after.NSpam + after.NHam) - (before.NSpam + before.NHam)
	if learned != acked.Load() || after.NSpam-before.NSpam != spamAcked.Load() {
		t.Errorf("counts grew by %d (nspam %d), but %d learns (%d spam) were acknowledged",
			learned, after.NSpam-before.NSpam, acked.Load(), spamAcked.Load())
	}
	if want := int64(learnersPerDaemon * perLearner); acked.Load() != want {
		t.Errorf("%d learns acknowledged, want %d: each distinct message learned once, by one of the daemons", acked.Load(), want)
	}
}

// With its Redis server stopped, a daemon still answers CHECK and
// SYMBOLS at once and without error, scanning without Bayes (no BAYES_xx
// rule), and counts the lookups it could not make; when the server is
// back, Bayes is too.
func TestServeWithRedisStopped(t *testing.T) {
	srv := testpeer.StartRedis(t)
	metricsPort := freePort(t)
	d := startDaemon(t, false, "--daemon-config", redisDaemonConfig(t, t.TempDir(), srv,
		fmt.Sprintf("metrics_listen = \"127.0.0.1:%d\"\n", metricsPort)))
	ctx := context.Background()
	for i := range 3 {
		for _, k := range []struct {
			class spamdproto.Class
			kind  string
		}{{spamdproto.ClassSpam, "spam"}, {spamdproto.ClassHam, "ham"}} {
			if _, err := tell(ctx, d.addr(), k.class, redisMessage(k.kind, "train", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	msg := redisMessage("spam", "probe", 99)
	if got := bayesAnswer(t, d.addr(), msg); got == "" {
		t.Fatal("no BAYES_xx rule with the server up")
	}

	srv.Stop()
	client := &spamdproto.Client{Hosts: []string{d.addr()}, Timeout: 30 * time.Second}
	const deadline = 2 * time.Second
	scans := []struct {
		name string
		scan func() (*spamdproto.Result, error)
	}{
		{"CHECK", func() (*spamdproto.Result, error) { return client.Check(ctx, "", msg, false) }},
		{"SYMBOLS", func() (*spamdproto.Result, error) { return client.Symbols(ctx, "", msg, false) }},
		{"CHECK again", func() (*spamdproto.Result, error) { return client.Check(ctx, "", msg, false) }},
	}
	for _, s := range scans {
		start := time.Now()
		res, err := s.scan()
		took := time.Since(start)
		if err != nil || res.Code != spamdproto.EX_OK || !res.HasSpam {
			t.Errorf("%s with Redis stopped: %+v, %v; want an EX_OK answer with a verdict", s.name, res, err)
			continue
		}
		if took > deadline {
			t.Errorf("%s with Redis stopped took %v, want under %v", s.name, took, deadline)
		}
		if r := bayesRule.FindString(string(res.Body)); r != "" {
			t.Errorf("%s with Redis stopped hit %s", s.name, r)
		}
	}
	if n := metricValue(t, metricsPort, `gospamd_bayes_store_unavailable_total{op="lookup"}`); n < 1 {
		t.Errorf("gospamd_bayes_store_unavailable_total{op=\"lookup\"} is %v, want the scans without Bayes counted", n)
	}
	if _, err := tell(ctx, d.addr(), spamdproto.ClassSpam, redisMessage("spam", "down", 1)); err == nil {
		t.Error("TELL with Redis stopped succeeded")
	}

	srv.Start()
	until := time.Now().Add(15 * time.Second)
	for bayesAnswer(t, d.addr(), msg) == "" {
		if time.Now().After(until) {
			t.Fatal("no BAYES_xx rule 15 s after the server came back")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// metricValue reads one sample (name with its labels, as exposed) from
// the daemon's /metrics; -1 when it is absent.
func metricValue(t testing.TB, port int, sample string) float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				t.Fatalf("metric %s: %q: %v", sample, line, err)
			}
			return v
		}
	}
	return -1
}

// A scan renews the TTL of the tokens its Bayes answer used, as
// SpamAssassin's scan does (bayes_token_ttl, 3 weeks by default), in
// the background; tokens it did not use keep theirs.
func TestScanRenewsTokenTTL(t *testing.T) {
	srv := testpeer.StartRedis(t)
	d := startDaemon(t, false, "--daemon-config", redisDaemonConfig(t, t.TempDir(), srv, ""))
	ctx := context.Background()
	for i := range 3 {
		if _, err := tell(ctx, d.addr(), spamdproto.ClassSpam, redisMessage("spam", "ttl", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := tell(ctx, d.addr(), spamdproto.ClassHam, redisMessage("ham", "ttl", i)); err != nil {
			t.Fatal(err)
		}
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: redisTestDB})
	defer raw.Close()
	tokens, err := raw.Keys(ctx, "w:*").Result()
	if err != nil || len(tokens) == 0 {
		t.Fatalf("token keys: %d, %v", len(tokens), err)
	}
	for _, k := range tokens {
		if err := raw.Expire(ctx, k, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if got := bayesAnswer(t, d.addr(), redisMessage("spam", "ttl-probe", 1)); got == "" {
		t.Fatal("no BAYES_xx rule for the probe")
	}
	renewed := 0
	for deadline := time.Now().Add(10 * time.Second); renewed == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		renewed = 0
		for _, k := range tokens {
			if raw.TTL(ctx, k).Val() > 24*time.Hour {
				renewed++
			}
		}
	}
	if renewed == 0 || renewed == len(tokens) {
		t.Errorf("%d of %d tokens renewed after one scan; want those the scan used, not none nor all", renewed, len(tokens))
	}
}
