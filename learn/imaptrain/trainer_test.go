package imaptrain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
)

// testMessage is a small message of kind "spam" or "ham"; i makes its
// Message-ID and words its own.
func testMessage(kind string, i int) []byte {
	words := "meeting agenda quarterly report attached thanks colleague"
	if kind == "spam" {
		words = "viagra casino winner lottery cheap pills unsubscribe"
	}
	return []byte(fmt.Sprintf("From: sender%d@example.com\r\nTo: user@example.org\r\n"+
		"Subject: %s %d\r\nMessage-ID: <%s-%d@test.example>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n"+
		"%s word%d%s\r\n", i, kind, i, kind, i, words, i, kind))
}

// memServer is go-imap's in-process server on 127.0.0.1 with the
// capabilities of an IMAP4rev1 server with UIDPLUS and MOVE (as Dovecot).
type memServer struct {
	addr  string
	users map[string]*imapmemserver.User
}

func newMemServer(t *testing.T, users map[string]string) *memServer {
	t.Helper()
	mem := imapmemserver.New()
	ms := &memServer{users: map[string]*imapmemserver.User{}}
	for name, pw := range users {
		u := imapmemserver.NewUser(name, pw)
		if err := u.Create("INBOX", nil); err != nil {
			t.Fatal(err)
		}
		mem.AddUser(u)
		ms.users[name] = u
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, imap.CapUnselect: {}, imap.CapIdle: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	ms.addr = l.Addr().String()
	return ms
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// put appends messages to a user's folder, creating it when missing.
func (ms *memServer) put(t *testing.T, user, folder string, date time.Time, msgs ...[]byte) {
	t.Helper()
	u := ms.users[user]
	_ = u.Create(folder, nil)
	for _, m := range msgs {
		if _, err := u.Append(folder, literal{bytes.NewReader(m), int64(len(m))}, &imap.AppendOptions{Time: date}); err != nil {
			t.Fatal(err)
		}
	}
}

func (ms *memServer) count(t *testing.T, user, folder string) int {
	t.Helper()
	st, err := ms.users[user].Status(folder, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		t.Fatalf("status of %s/%s: %v", user, folder, err)
	}
	return int(*st.NumMessages)
}

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// passwordFile writes pw to a file and returns its path.
func passwordFile(t testing.TB, pw string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testStore is a real Bayes store with its single writer.
type testStore struct {
	store  *classifier.Store
	writer *learn.Writer
}

func newTestStore(t testing.TB) *testStore {
	t.Helper()
	s, err := classifier.Open(filepath.Join(t.TempDir(), "bayes"), classifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testStore{store: s, writer: learn.NewWriter(s, learn.WriterOptions{})}
	t.Cleanup(func() {
		_ = ts.writer.Close()
		_ = s.Close()
	})
	return ts
}

func (ts *testStore) counts(t testing.TB, sc classifier.Scope) (nspam, nham int64) {
	t.Helper()
	m, err := ts.store.Magic(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return m.NSpam, m.NHam
}

// failingLearner refuses the messages that contain marker, and learns
// the others through next.
type failingLearner struct {
	next   Learner
	marker string
}

func (f failingLearner) Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error) {
	if bytes.Contains(raw, []byte(f.marker)) {
		return 0, errors.New("this message cannot be learned")
	}
	return f.next.Learn(ctx, user, class, raw)
}

func messages(kind string, from, n int) [][]byte {
	var out [][]byte
	for i := from; i < from+n; i++ {
		out = append(out, testMessage(kind, i))
	}
	return out
}

func testConfig(server string, accounts ...Account) Config {
	cfg := Config{Server: server, Accounts: accounts, BatchSize: 7}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return cfg
}

func TestPass(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	type want struct {
		rows            []Row // Err compared by presence
		nspam, nham     int64
		left            map[string]int // "user/folder" → messages still there
		failed          bool
		perUserScopeFor string // with PerUser: the scope that must hold the counts
	}
	tests := []struct {
		name     string
		users    map[string]string // on the server
		accounts map[string]string // user → password in its file
		master   bool
		setup    func(t *testing.T, ms *memServer)
		cfg      func(c *Config)
		learner  func(next Learner) Learner
		perUser  bool
		want     want
	}{{
		name:     "spam and ham learned, then removed; Trash never learned",
		users:    map[string]string{"alice": "pw-a"},
		accounts: map[string]string{"alice": "pw-a"},
		setup: func(t *testing.T, ms *memServer) {
			ms.put(t, "alice", "LearnAsSpam", now, messages("spam", 0, 30)...)
			ms.put(t, "alice", "LearnAsHam", now, messages("ham", 0, 30)...)
			ms.put(t, "alice", "Trash", now, messages("ham", 100, 5)...)
		},
		want: want{
			rows:  []Row{{User: "alice", Spam: 30, Ham: 30}},
			nspam: 30, nham: 30,
			left: map[string]int{"alice/LearnAsSpam": 0, "alice/LearnAsHam": 0, "alice/Trash": 5},
		},
	}, {
		name:     "a message that cannot be learned stays and is reported; the others are learned",
		users:    map[string]string{"alice": "pw-a"},
		accounts: map[string]string{"alice": "pw-a"},
		setup: func(t *testing.T, ms *memServer) {
			ms.put(t, "alice", "LearnAsSpam", now, messages("spam", 0, 10)...)
			ms.put(t, "alice", "LearnAsSpam", now, []byte("Subject: broken\r\n\r\nUNLEARNABLE\r\n"))
			ms.put(t, "alice", "LearnAsSpam", now, messages("spam", 10, 10)...)
		},
		learner: func(next Learner) Learner { return failingLearner{next, "UNLEARNABLE"} },
		want: want{
			rows:   []Row{{User: "alice", Spam: 20, Failures: 1}},
			nspam:  20,
			left:   map[string]int{"alice/LearnAsSpam": 1},
			failed: true,
		},
	}, {
		name:     "two accounts, one with a wrong password: the other is learned, the failure reported",
		users:    map[string]string{"alice": "pw-a", "bob": "pw-b"},
		accounts: map[string]string{"alice": "pw-a", "bob": "wrong"},
		setup: func(t *testing.T, ms *memServer) {
			ms.put(t, "alice", "LearnAsSpam", now, messages("spam", 0, 5)...)
			ms.put(t, "bob", "LearnAsSpam", now, messages("spam", 5, 5)...)
		},
		want: want{
			rows:   []Row{{User: "alice", Spam: 5}, {User: "bob", Err: ErrLogin}},
			nspam:  5,
			left:   map[string]int{"alice/LearnAsSpam": 0, "bob/LearnAsSpam": 5},
			failed: true,
		},
	}, {
		name:     "missing learn folders are created; an empty account reports zeros",
		users:    map[string]string{"alice": "pw-a"},
		accounts: map[string]string{"alice": "pw-a"},
		want: want{
			rows: []Row{{User: "alice"}},
			left: map[string]int{"alice/LearnAsSpam": 0, "alice/LearnAsHam": 0},
		},
	}, {
		name:     "junk older than junk_retention_days is expunged; the rest counted, unseen apart",
		users:    map[string]string{"alice": "pw-a"},
		accounts: map[string]string{"alice": "pw-a"},
		cfg:      func(c *Config) { c.JunkRetentionDays = 30 },
		setup: func(t *testing.T, ms *memServer) {
			ms.put(t, "alice", "junkmail", now.AddDate(0, 0, -45), messages("spam", 0, 4)...)
			ms.put(t, "alice", "junkmail", now.AddDate(0, 0, -3), messages("spam", 4, 3)...)
			u := ms.users["alice"]
			_, err := u.Append("junkmail", literal{bytes.NewReader(testMessage("spam", 9)), int64(len(testMessage("spam", 9)))},
				&imap.AppendOptions{Time: now, Flags: []imap.Flag{imap.FlagSeen}})
			if err != nil {
				t.Fatal(err)
			}
		},
		want: want{
			rows: []Row{{User: "alice", Junk: 4, JunkUnseen: 3, Expired: 4}},
			left: map[string]int{"alice/junkmail": 4},
		},
	}, {
		name:     "learned messages go to the archive folder when one is set",
		users:    map[string]string{"alice": "pw-a"},
		accounts: map[string]string{"alice": "pw-a"},
		cfg:      func(c *Config) { c.ArchiveFolder = "Learned" },
		setup: func(t *testing.T, ms *memServer) {
			ms.put(t, "alice", "LearnAsHam", now, messages("ham", 0, 9)...)
		},
		want: want{
			rows: []Row{{User: "alice", Ham: 9}},
			nham: 9,
			left: map[string]int{"alice/LearnAsHam": 0, "alice/Learned": 9},
		},
	}, {
		name:    "master user logs in as user*master; bayes_scope user learns into each user's scope",
		users:   map[string]string{"alice*admin": "master-pw"},
		master:  true,
		perUser: true,
		setup: func(t *testing.T, ms *memServer) {
			ms.put(t, "alice*admin", "LearnAsSpam", now, messages("spam", 0, 3)...)
		},
		want: want{
			rows:            []Row{{User: "alice", Spam: 3}},
			nspam:           3,
			left:            map[string]int{"alice*admin/LearnAsSpam": 0},
			perUserScopeFor: "alice",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMemServer(t, tt.users)
			if tt.setup != nil {
				tt.setup(t, ms)
			}
			cfg := Config{Server: ms.addr, BatchSize: 7}
			for _, u := range sortedKeys(tt.accounts) {
				cfg.Accounts = append(cfg.Accounts, Account{User: u, PasswordFile: passwordFile(t, tt.accounts[u])})
			}
			if tt.master {
				cfg.MasterUser, cfg.MasterPasswordFile, cfg.Users = "admin", passwordFile(t, "master-pw"), []string{"alice"}
			}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			ts := newTestStore(t)
			var l Learner = &SubmitLearner{Submitter: ts.writer, PerUser: tt.perUser}
			if tt.learner != nil {
				l = tt.learner(l)
			}
			tr, err := New(cfg, Options{Learner: l, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := tr.Pass(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Rows) != len(tt.want.rows) {
				t.Fatalf("report has %d rows, want %d", len(rep.Rows), len(tt.want.rows))
			}
			for i, got := range rep.Rows {
				w := tt.want.rows[i]
				if (got.Err != nil) != (w.Err != nil) || (w.Err != nil && !errors.Is(got.Err, w.Err)) {
					t.Errorf("%s: error %v, want %v", got.User, got.Err, w.Err)
				}
				got.Err, w.Err = nil, nil
				if got != w {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, got, w)
				}
			}
			if rep.Failed() != tt.want.failed {
				t.Errorf("Failed() = %v, want %v", rep.Failed(), tt.want.failed)
			}
			nspam, nham := ts.counts(t, classifier.Scope(tt.want.perUserScopeFor))
			if nspam != tt.want.nspam || nham != tt.want.nham {
				t.Errorf("store: nspam %d nham %d, want %d and %d", nspam, nham, tt.want.nspam, tt.want.nham)
			}
			for where, n := range tt.want.left {
				user, folder, _ := strings.Cut(where, "/")
				if got := ms.count(t, user, folder); got != n {
					t.Errorf("%s holds %d messages, want %d", where, got, n)
				}
			}
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			t.Logf("report:\n%s", table.String())
		})
	}
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// killingLearner learns through next and, once after learns have been
// committed, ends the pass (as a kill of the process would) before any
// message is removed.
type killingLearner struct {
	next   Learner
	after  int32
	n      atomic.Int32
	cancel context.CancelFunc
	once   sync.Once
}

func (k *killingLearner) Learn(ctx context.Context, user string, class classifier.Class, raw []byte) (classifier.Result, error) {
	r, err := k.next.Learn(context.WithoutCancel(ctx), user, class, raw)
	if k.n.Add(1) >= k.after {
		k.once.Do(k.cancel)
	}
	return r, err
}

// A pass cut off between learns and their removal removes nothing; the
// next pass neither loses nor double-counts a message.
func TestPassInterruptedBetweenLearnAndRemove(t *testing.T) {
	ms := newMemServer(t, map[string]string{"alice": "pw-a"})
	ms.put(t, "alice", "LearnAsSpam", time.Now(), messages("spam", 0, 30)...)
	cfg := testConfig(ms.addr, Account{User: "alice", PasswordFile: passwordFile(t, "pw-a")})
	cfg.BatchSize = 30
	ts := newTestStore(t)

	ctx, cancel := context.WithCancel(context.Background())
	kl := &killingLearner{next: &SubmitLearner{Submitter: ts.writer}, after: 12, cancel: cancel}
	tr, err := New(cfg, Options{Learner: kl})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Pass(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pass: err %v, want context.Canceled", err)
	}
	if n := ms.count(t, "alice", "LearnAsSpam"); n != 30 {
		t.Fatalf("after the interrupted pass the folder holds %d messages, want all 30 (none removed before the pass ended)", n)
	}
	learned, _ := ts.counts(t, "")
	if learned < 12 {
		t.Fatalf("nspam %d after the interrupted pass, want at least the 12 committed", learned)
	}

	tr, err = New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tr.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if nspam, _ := ts.counts(t, ""); nspam != 30 {
		t.Errorf("nspam %d after the rerun, want 30", nspam)
	}
	if n := ms.count(t, "alice", "LearnAsSpam"); n != 0 {
		t.Errorf("folder holds %d messages after the rerun, want 0", n)
	}
	if r := rep.Rows[0]; r.Spam+r.Known != 30 || r.Known != int(learned) {
		t.Errorf("rerun report: %+v, want %d already known and %d learned", r, learned, 30-learned)
	}
}

func TestParseFolderURL(t *testing.T) {
	tests := []struct {
		in      string
		want    FolderURL
		wantErr string
	}{
		{in: "imap://alice@mail.example.org/Archive%2F2024", want: FolderURL{User: "alice", Server: "mail.example.org:143", Folder: "Archive/2024"}},
		{in: "imap://bob%40example.org@127.0.0.1:1143/Junk", want: FolderURL{User: "bob@example.org", Server: "127.0.0.1:1143", Folder: "Junk"}},
		{in: "imaps://alice@mail.example.org/INBOX", want: FolderURL{User: "alice", Server: "mail.example.org:993", Folder: "INBOX", Security: SecurityTLS}},
		{in: "imap://alice:secret@host/INBOX", wantErr: "password"},
		{in: "imap://host/INBOX", wantErr: "no user"},
		{in: "imap://alice@host/", wantErr: "no folder"},
		{in: "pop3://alice@host/INBOX", wantErr: "want imap://"},
	}
	for _, tt := range tests {
		got, err := ParseFolderURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one about %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// A one-shot import reads every message and leaves the folder as it was:
// none removed, none marked \Seen.
func TestFolderReadOnly(t *testing.T) {
	ms := newMemServer(t, map[string]string{"alice": "pw-a"})
	ms.put(t, "alice", "Old Spam", time.Now(), messages("spam", 0, 250)...)
	f, err := OpenFolder(context.Background(), DialOptions{Server: ms.addr, Login: "alice", Password: "pw-a"}, "Old Spam")
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 250 {
		t.Errorf("Len %d, want 250", f.Len())
	}
	n := 0
	err = f.Each(context.Background(), func(_ string, raw []byte) error {
		if !bytes.Contains(raw, []byte("Message-ID: <spam-")) {
			t.Errorf("message %d: %q", n, raw)
		}
		n++
		return nil
	})
	if err != nil || n != 250 {
		t.Fatalf("Each: %d messages, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	st, err := ms.users["alice"].Status("Old Spam", &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil || *st.NumMessages != 250 || *st.NumUnseen != 250 {
		t.Errorf("after the import: %d messages, %d unseen; want 250 and 250 (%v)", *st.NumMessages, *st.NumUnseen, err)
	}
}

// Reports keeps the last ten passes' reports, newest first.
func TestReports(t *testing.T) {
	ms := newMemServer(t, map[string]string{"alice": "alice-pw"})
	ms.put(t, "alice", "LearnAsSpam", time.Now(), messages("spam", 0, 2)...)
	ts := newTestStore(t)
	tr, err := New(testConfig(ms.addr, Account{User: "alice", PasswordFile: passwordFile(t, "alice-pw")}),
		Options{Learner: &SubmitLearner{Submitter: ts.writer}})
	if err != nil {
		t.Fatal(err)
	}
	var reps []*Report
	for range keptReports + 2 {
		rep, err := tr.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, rep)
	}
	got := tr.Reports()
	if len(got) != keptReports {
		t.Fatalf("%d reports kept, want %d", len(got), keptReports)
	}
	for i, rep := range got {
		if rep != reps[len(reps)-1-i] {
			t.Errorf("report %d is not pass %d", i, len(reps)-1-i)
		}
	}
	if got[len(got)-1].Rows[0].Spam != 0 || reps[0].Rows[0].Spam != 2 {
		t.Errorf("the first pass (learned 2) should have been dropped, the kept ones learned nothing")
	}
}

// TestSetJunkRetentionDays: a retention set while the trainer runs
// applies from the next pass: kept at first (0), expired after.
func TestSetJunkRetentionDays(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ms := newMemServer(t, map[string]string{"alice": "pw-a"})
	ms.put(t, "alice", "junkmail", now.AddDate(0, 0, -45), messages("spam", 0, 4)...)
	ms.put(t, "alice", "junkmail", now.AddDate(0, 0, -3), messages("spam", 4, 3)...)
	cfg := Config{Server: ms.addr, Accounts: []Account{{User: "alice", PasswordFile: passwordFile(t, "pw-a")}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ts := newTestStore(t)
	tr, err := New(cfg, Options{Learner: &SubmitLearner{Submitter: ts.writer}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		days          int
		expired, junk int
	}{{0, 0, 7}, {30, 4, 3}, {1, 3, 0}} {
		tr.SetJunkRetentionDays(step.days)
		if tr.JunkRetentionDays() != step.days {
			t.Fatalf("JunkRetentionDays() %d, want %d", tr.JunkRetentionDays(), step.days)
		}
		rep, err := tr.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r := rep.Rows[0]; r.Expired != step.expired || r.Junk != step.junk {
			t.Errorf("retention %d: expired %d, left %d; want %d, %d", step.days, r.Expired, r.Junk, step.expired, step.junk)
		}
	}
}
