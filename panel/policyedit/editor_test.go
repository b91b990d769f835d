package policyedit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/rules/cf"
)

// newSite makes a site directory with files (name → content) and an
// editor over it, the overlay beside a (pretend) daemon config.
func newSite(t *testing.T, files map[string]string, opt Options) (*Editor, string) {
	t.Helper()
	root := t.TempDir()
	site := filepath.Join(root, "policy")
	if err := os.Mkdir(site, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(site, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opt.SiteDir = site
	if opt.OverlayPath == "" {
		opt.OverlayPath = OverlayPath(filepath.Join(root, "gospamd.toml"))
	}
	opt.Now = func() time.Time { return time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC) }
	ed, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return ed, site
}

func mustState(t *testing.T, ed *Editor) *State {
	t.Helper()
	st, err := ed.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func listOn(s Settings, key string) bool {
	i := slices.IndexFunc(s.Lists, func(l NetList) bool { return l.Key() == key })
	return i >= 0 && s.Lists[i].On
}

// TestRoundTrip applies changes through the fragment and reads them back
// from the site directory as the daemon loads it.
func TestRoundTrip(t *testing.T) {
	hand := "required_score 6\nrbl_list bl.spamcop.net\nwelcomelist_from boss@example.com\nblocklist_from *@old-spam.example\nheader SPF_FAIL eval:check_for_spf_fail()\nscore SPF_FAIL 3\n"
	tests := []struct {
		name  string
		edit  func(c *Change)
		check func(t *testing.T, s Settings)
	}{
		{"preset", func(c *Change) { c.Sensitivity = "high" }, func(t *testing.T, s Settings) {
			if s.Sensitivity != "high" || s.TagScore != 3 {
				t.Errorf("sensitivity %s tag %v, want high 3", s.Sensitivity, s.TagScore)
			}
		}},
		{"custom tag and reject", func(c *Change) { c.TagScore, c.RejectScore = "4.5", "11" }, func(t *testing.T, s Settings) {
			if s.Sensitivity != "custom" || s.TagScore != 4.5 || s.RejectScore != 11 {
				t.Errorf("got %s %v %v", s.Sensitivity, s.TagScore, s.RejectScore)
			}
		}},
		{"subject", func(c *Change) { c.RewriteSubject, c.SubjectText = true, "[SPAM _SCORE_]" }, func(t *testing.T, s Settings) {
			if s.SubjectText != "[SPAM _SCORE_]" {
				t.Errorf("subject %q", s.SubjectText)
			}
		}},
		{"lists on and off", func(c *Change) {
			c.Lists["rbl_list zen.spamhaus.org"] = true
			c.Lists["rbl_list bl.spamcop.net"] = false
			c.Lists["uribl_list multi.surbl.org"] = true
		}, func(t *testing.T, s Settings) {
			if !listOn(s, "rbl_list zen.spamhaus.org") || listOn(s, "rbl_list bl.spamcop.net") || !listOn(s, "uribl_list multi.surbl.org") {
				t.Errorf("lists %+v", s.Lists)
			}
		}},
		{"spf and rule scores", func(c *Change) {
			c.SPFFail, c.SPFSoftFail = "5", "1.5"
			c.RuleScores["GOSPAMD_TEST_RULE"] = "2.5"
		}, func(t *testing.T, s Settings) {
			if s.SPFFail != "5" || s.SPFSoftFail != "1.5" || s.RuleScores["GOSPAMD_TEST_RULE"] != "2.5" {
				t.Errorf("scores %q %q %v", s.SPFFail, s.SPFSoftFail, s.RuleScores)
			}
		}},
		{"lists of addresses", func(c *Change) {
			c.Block = append(c.Block, "*@Spammer.example")
			c.Welcome = nil // removes boss@, from a hand file
		}, func(t *testing.T, s Settings) {
			if !slices.Equal(s.Block, []string{"*@old-spam.example", "*@spammer.example"}) || len(s.Welcome) != 0 {
				t.Errorf("block %v welcome %v", s.Block, s.Welcome)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ed, site := newSite(t, map[string]string{"10_local.cf": hand}, Options{})
			st := mustState(t, ed)
			c := ChangeFrom(st.Settings)
			tc.edit(&c)
			after, entries, err := ed.Apply(context.Background(), Who{"admin", "admin"}, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 {
				t.Error("no audit entries for a change")
			}
			tc.check(t, after.Settings)
			// Read back from the files alone, as a fresh page would.
			again := mustState(t, ed)
			tc.check(t, again.Settings)
			if got, _ := os.ReadFile(filepath.Join(site, "10_local.cf")); string(got) != hand {
				t.Errorf("hand file changed:\n%s", got)
			}
			// Nothing changed the second time: an unchanged form is no change.
			_, entries, err = ed.Apply(context.Background(), Who{"admin", "admin"}, ChangeFrom(again.Settings))
			if err != nil || len(entries) != 0 {
				t.Errorf("re-applying the same settings: %v %v", entries, err)
			}
		})
	}
}

// TestUnchangedFormWritesNothing: a form saved as shown leaves no
// fragment behind.
func TestUnchangedFormWritesNothing(t *testing.T) {
	ed, site := newSite(t, map[string]string{"10_local.cf": "required_score 6\n"}, Options{})
	st := mustState(t, ed)
	if _, _, err := ed.Apply(context.Background(), Who{"admin", "admin"}, ChangeFrom(st.Settings)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(site, FragmentName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fragment written for no change: %v", err)
	}
}

// TestHandFileOverrides: a later hand file wins over the panel, the page
// says which file, and the panel never writes the hand file.
func TestHandFileOverrides(t *testing.T) {
	const late = "# mine\nrequired_score 8\nblocklist_from *@spammer.example\n"
	ed, site := newSite(t, map[string]string{"90_local.cf": late}, Options{})
	c := ChangeFrom(mustState(t, ed).Settings)
	c.TagScore = "3"
	c.RejectScore = "12"
	st, _, err := ed.Apply(context.Background(), Who{"admin", "admin"}, c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Settings.TagScore != 8 {
		t.Errorf("tag level in force %v, want the hand file's 8", st.Settings.TagScore)
	}
	if st.Settings.RejectScore != 12 {
		t.Errorf("reject level %v, want the panel's 12", st.Settings.RejectScore)
	}
	lateFile := filepath.Join(site, "90_local.cf")
	if !st.IsOverridden(KeyTagScore) || st.Sources[KeyTagScore].File != lateFile {
		t.Errorf("tag level: overridden %v from %v, want by %s", st.IsOverridden(KeyTagScore), st.Sources[KeyTagScore], lateFile)
	}
	if st.IsOverridden(KeyRejectScore) || st.Sources[KeyRejectScore].File != ed.FragmentPath() {
		t.Errorf("reject level from %v, want the fragment", st.Sources[KeyRejectScore])
	}
	if got, _ := os.ReadFile(lateFile); string(got) != late {
		t.Errorf("hand file rewritten:\n%s", got)
	}
	frag, _ := os.ReadFile(ed.FragmentPath())
	if !strings.HasPrefix(string(frag), "# Written by the gospamd web panel") || !strings.Contains(string(frag), "required_score 3\n") {
		t.Errorf("fragment:\n%s", frag)
	}
}

// TestBrokenRefused: a value the lint refuses is refused with its
// message; files, audit log and policy stay as they were.
func TestBrokenRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Change)
		want string // in the message
	}{
		{"tag not a number", func(c *Change) { c.TagScore = "abc" }, "required_score"},
		{"reject not a number", func(c *Change) { c.RejectScore = "12x" }, "reject_score"},
		{"bad score", func(c *Change) { c.SPFFail = "lots" }, "non-numeric score (lots)"},
		{"bad zone", func(c *Change) { c.Lists["rbl_list not a zone"] = true }, "rbl_list"},
		{"line break", func(c *Change) { c.RewriteSubject, c.SubjectText = true, "x\nrequired_score 1" }, "line breaks"},
		{"retention", func(c *Change) { c.Daemon.JunkRetentionDays = "-3" }, "retention"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ed, site := newSite(t, map[string]string{"10_local.cf": "required_score 6\n"}, Options{})
			before := mustState(t, ed)
			c := ChangeFrom(before.Settings)
			c.RejectScore = "15" // a good change alongside: refused with it
			tc.edit(&c)
			_, _, err := ed.Apply(context.Background(), Who{"admin", "admin"}, c)
			var ref *RefusedError
			if !errors.As(err, &ref) {
				t.Fatalf("err %v, want a RefusedError", err)
			}
			if !strings.Contains(ref.Error(), tc.want) {
				t.Errorf("message %q does not say %q", ref.Error(), tc.want)
			}
			if strings.Contains(ref.Error(), os.TempDir()+"/gospamd-panel-lint") {
				t.Errorf("message names the temporary copy: %q", ref.Error())
			}
			entries, _ := os.ReadDir(site)
			if len(entries) != 1 {
				t.Errorf("site directory has %d files after a refused change", len(entries))
			}
			if got := mustState(t, ed).Settings; got.RejectScore != before.Settings.RejectScore {
				t.Errorf("reject level %v after a refused change", got.RejectScore)
			}
			if log, _ := ReadAudit(ed.Options().AuditPath, 0); len(log) != 0 {
				t.Errorf("audit log has %v", log)
			}
		})
	}
}

// TestLintMessageNamesFragment: the refusal points at the fragment line.
func TestLintMessageNamesFragment(t *testing.T) {
	ed, site := newSite(t, nil, Options{})
	c := ChangeFrom(mustState(t, ed).Settings)
	c.TagScore = "five"
	_, _, err := ed.Apply(context.Background(), Who{}, c)
	want := filepath.Join(site, FragmentName) + ":4: error: required_score"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v, want it to say %q", err, want)
	}
}

// TestReloadRefusedUndoes: when the daemon refuses the reload, the old
// files come back.
func TestReloadRefusedUndoes(t *testing.T) {
	calls := 0
	ed, _ := newSite(t, nil, Options{Reload: func(context.Context) error {
		calls++
		if calls == 1 {
			return errors.New("rule compile failed")
		}
		return nil
	}})
	c := ChangeFrom(mustState(t, ed).Settings)
	c.RejectScore = "9"
	_, _, err := ed.Apply(context.Background(), Who{"a", "admin"}, c)
	var ref *RefusedError
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "rule compile failed") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(ed.FragmentPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fragment left after a refused reload")
	}
	if calls != 2 {
		t.Errorf("reload called %d times, want 2 (the change, then back)", calls)
	}
}

// TestAuditLog: who, what (old → new) and when, newest first.
func TestAuditLog(t *testing.T) {
	ed, _ := newSite(t, nil, Options{DaemonBase: Daemon{JunkSort: true, JunkRetentionDays: 0}})
	c := ChangeFrom(mustState(t, ed).Settings)
	c.RejectScore = "12"
	c.Block = []string{"*@spammer.example"}
	if _, _, err := ed.Apply(context.Background(), Who{"alice", "admin"}, c); err != nil {
		t.Fatal(err)
	}
	c.Daemon = DaemonChange{JunkSort: false, JunkRetentionDays: "30"}
	if _, _, err := ed.Apply(context.Background(), Who{"bob", "admin"}, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAudit(ed.Options().AuditPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	type line struct{ user, setting, old, new string }
	var lines []line
	for _, e := range got {
		if !e.Time.Equal(time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)) || e.Role != "admin" {
			t.Errorf("entry %+v", e)
		}
		lines = append(lines, line{e.User, e.Setting, e.Old, e.New})
	}
	want := []line{
		{"bob", KeyJunkSort, "on", "off"},
		{"bob", KeyJunkRetention, "0", "30"},
		{"alice", KeyRejectScore, "0", "12"},
		{"alice", "blocklist_from *@spammer.example", "", "listed"},
	}
	if !slices.Equal(lines, want) {
		t.Errorf("audit\n got %v\nwant %v", lines, want)
	}
}

// TestOverlay: the daemon settings go to the overlay, only what differs
// from the daemon config, and read back.
func TestOverlay(t *testing.T) {
	tests := []struct {
		name    string
		base    Daemon
		change  DaemonChange
		want    Daemon
		hasFile bool
	}{
		{"no change", Daemon{true, 0}, DaemonChange{true, "0"}, Daemon{true, 0}, false},
		{"sort off", Daemon{true, 0}, DaemonChange{false, "0"}, Daemon{false, 0}, true},
		{"retention", Daemon{true, 7}, DaemonChange{true, "30"}, Daemon{true, 30}, true},
		{"back to the config's", Daemon{false, 7}, DaemonChange{false, "7"}, Daemon{false, 7}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ed, _ := newSite(t, nil, Options{DaemonBase: tc.base})
			c := ChangeFrom(mustState(t, ed).Settings)
			c.Daemon = tc.change
			st, _, err := ed.Apply(context.Background(), Who{}, c)
			if err != nil {
				t.Fatal(err)
			}
			if st.Settings.Daemon != tc.want {
				t.Errorf("daemon %+v, want %+v", st.Settings.Daemon, tc.want)
			}
			_, err = os.Stat(ed.Options().OverlayPath)
			if (err == nil) != tc.hasFile {
				t.Errorf("overlay file exists %v, want %v", err == nil, tc.hasFile)
			}
			ov, err := ReadOverlay(ed.Options().OverlayPath)
			if err != nil {
				t.Fatal(err)
			}
			if got := ov.Apply(tc.base); got != tc.want {
				t.Errorf("overlay read back %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeOverlay(t *testing.T) {
	tests := []struct {
		doc     string
		wantErr string
	}{
		{"[smtp]\nno_junk_sort = true\n[imap]\njunk_retention_days = 30\n", ""},
		{"", ""},
		{"[smtp]\nlisten = \"0.0.0.0:25\"\n", "listen"},
		{"[spamd]\nmax_children = 1\n", "spamd"},
		{"[imap]\njunk_retention_days = -1\n", "junk_retention_days"},
		{"[imap]\njunk_retention_days = \"x\"\n", "junk_retention_days"},
	}
	for _, tc := range tests {
		_, err := DecodeOverlay([]byte(tc.doc))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q: err %v, want %q", tc.doc, err, tc.wantErr)
		}
	}
	yes, days := true, 30
	doc, err := Overlay{SMTP: OverlaySMTP{NoJunkSort: &yes}, IMAP: OverlayIMAP{JunkRetentionDays: &days}}.encode()
	if err != nil {
		t.Fatal(err)
	}
	ov, err := DecodeOverlay(doc)
	if err != nil || ov.SMTP.NoJunkSort == nil || !*ov.SMTP.NoJunkSort || *ov.IMAP.JunkRetentionDays != 30 {
		t.Errorf("round trip of\n%s\n= %+v, %v", doc, ov, err)
	}
}

// TestSources: every setting says the file and line it came from.
func TestSources(t *testing.T) {
	ed, site := newSite(t, map[string]string{
		"10_a.cf": "required_hits 4\nrewrite_header Subject [SPAM]\nwhitelist_from a@b.example\n",
		"20_b.cf": "reject_score 10\nrbl_list zen.spamhaus.org\nblacklist_from *@x.example\n",
	}, Options{})
	st := mustState(t, ed)
	a, b := filepath.Join(site, "10_a.cf"), filepath.Join(site, "20_b.cf")
	want := map[string]cf.Pos{
		KeyTagScore:                    {File: a, Line: 1},
		KeyRewriteSubject:              {File: a, Line: 2},
		"welcomelist_from a@b.example": {File: a, Line: 3},
		KeyRejectScore:                 {File: b, Line: 1},
		"rbl_list zen.spamhaus.org":    {File: b, Line: 2},
		"blocklist_from *@x.example":   {File: b, Line: 3},
	}
	for k, w := range want {
		if got := st.Sources[k]; got != w {
			t.Errorf("%s from %v, want %v", k, got, w)
		}
	}
	if st.Source(ScoreKey(RuleSPFFail)) != "default" {
		t.Errorf("SPF_FAIL source %q", st.Source(ScoreKey(RuleSPFFail)))
	}
}
