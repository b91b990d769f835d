package panel

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/panel/policyedit"
)

// newPolicyPanel serves a panel whose daemon has a site policy directory
// (with files) and a daemon config file; reloads counts the reloads asked.
func newPolicyPanel(t *testing.T, files map[string]string, policyDir bool) (*testPanel, string, *int) {
	t.Helper()
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	if err := os.Mkdir(site, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(site, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hash := func(name, password string) string {
		h, err := HashPassword([]byte(password))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	reloads := new(int)
	deps := Deps{Version: "test", DaemonConfigFile: filepath.Join(dir, "gospamd.toml"),
		PolicyDaemon: policyedit.Daemon{JunkSort: true},
		Reload:       func(context.Context) error { *reloads++; return nil }}
	if policyDir {
		deps.PolicyDir = site
	}
	srv, err := New(Config{PasswordFile: hash("a.hash", adminPassword), ReadonlyPasswordFile: hash("r.hash", readonlyPassword)}, deps)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testPanel{srv: srv, http: hs}, site, reloads
}

// TestPolicyPageRoles: the admin gets the form with the values in force
// and their files; the read-only role gets nothing of it.
func TestPolicyPageRoles(t *testing.T) {
	p, site, _ := newPolicyPanel(t, map[string]string{"20_scores.cf": "required_score 6.5\nblacklist_from *@junk.example\n"}, true)
	admin := p.client(t)
	p.login(t, admin, adminPassword)
	status, body, _ := p.get(t, admin, "/policy")
	if status != http.StatusOK {
		t.Fatalf("admin GET /policy: %d", status)
	}
	for _, want := range []string{`id="tag" name="tag" value="6.5"`, filepath.Join(site, "20_scores.cf") + ":1", "*@junk.example", `href="/policy"`} {
		if !strings.Contains(body, want) {
			t.Errorf("policy page lacks %q", want)
		}
	}
	ro := p.client(t)
	p.login(t, ro, readonlyPassword)
	status, body, _ = p.get(t, ro, "/policy")
	if status != http.StatusForbidden || strings.Contains(body, "required_score") {
		t.Errorf("read-only GET /policy: %d\n%s", status, body)
	}
	if _, page, _ := p.get(t, ro, "/"); strings.Contains(page, `href="/policy"`) {
		t.Error("the read-only nav lists the Policy page")
	}
}

// TestPolicySave: a good change is written, reloaded and shown; a broken
// one is refused with the lint message and reloads nothing.
func TestPolicySave(t *testing.T) {
	p, site, reloads := newPolicyPanel(t, nil, true)
	c := p.client(t)
	p.login(t, c, adminPassword)
	_, _, token := p.get(t, c, "/policy")
	form := url.Values{"csrf_token": {token}, "sensitivity": {"custom"}, "tag": {"4"}, "reject": {"10"},
		"block": {"*@spammer.example\r\n"}, "junk_sort": {"on"}, "junk_retention": {"0"}}
	resp, _ := p.post(t, c, "/policy", form)
	if resp.StatusCode != http.StatusSeeOther || *reloads != 1 {
		t.Fatalf("POST /policy: %d, %d reloads", resp.StatusCode, *reloads)
	}
	frag, err := os.ReadFile(filepath.Join(site, policyedit.FragmentName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"required_score 4\n", "reject_score 10\n", "blocklist_from *@spammer.example\n"} {
		if !strings.Contains(string(frag), want) {
			t.Errorf("fragment lacks %q:\n%s", want, frag)
		}
	}
	_, body, _ := p.get(t, c, "/policy")
	if !strings.Contains(body, "Applied and reloaded") || !strings.Contains(body, `id="audit"`) {
		t.Errorf("page after the change lacks the flash or the audit table")
	}

	form.Set("reject", "ten")
	p.post(t, c, "/policy", form)
	if *reloads != 1 {
		t.Errorf("a refused change reloaded the daemon")
	}
	_, body, _ = p.get(t, c, "/policy")
	if !strings.Contains(body, "not applied, the running policy is unchanged") || !strings.Contains(body, "error: reject_score") {
		t.Errorf("refusal not shown")
	}
}

// TestPolicyUnavailable: without a site policy directory the page says
// what to configure.
func TestPolicyUnavailable(t *testing.T) {
	p, _, _ := newPolicyPanel(t, nil, false)
	c := p.client(t)
	p.login(t, c, adminPassword)
	_, body, _ := p.get(t, c, "/policy")
	if !strings.Contains(body, `id="unavailable"`) || !strings.Contains(body, "[policy] dir") || strings.Contains(body, `id="save"`) {
		t.Errorf("policy page without a policy dir:\n%s", body)
	}
}

func TestChangeFromForm(t *testing.T) {
	tests := []struct {
		name  string
		form  url.Values
		check func(t *testing.T, c policyedit.Change)
	}{
		{"levels and subject", url.Values{"sensitivity": {"high"}, "tag": {"3"}, "reject": {"9"}, "rewrite": {"on"}, "subject": {"[S]"}},
			func(t *testing.T, c policyedit.Change) {
				if c.Sensitivity != "high" || c.TagScore != "3" || c.RejectScore != "9" || !c.RewriteSubject || c.SubjectText != "[S]" {
					t.Errorf("%+v", c)
				}
			}},
		{"lists shown, on and added", url.Values{"list_shown": {"rbl_list a.example", "rbl_list b.example"}, "list_on": {"rbl_list b.example"},
			"list_add_kind": {"uribl_list"}, "list_add_zone": {" C.Example "}},
			func(t *testing.T, c policyedit.Change) {
				want := map[string]bool{"rbl_list a.example": false, "rbl_list b.example": true, "uribl_list c.example": true}
				if !maps.Equal(c.Lists, want) {
					t.Errorf("lists %v", c.Lists)
				}
			}},
		{"unknown list kind is a relay list", url.Values{"list_add_kind": {"evil"}, "list_add_zone": {"x.example"}},
			func(t *testing.T, c policyedit.Change) {
				if !c.Lists["rbl_list x.example"] {
					t.Errorf("lists %v", c.Lists)
				}
			}},
		{"rule scores pair up; empty names skipped", url.Values{"rule_name": {"A_RULE", "", "B_RULE"}, "rule_score": {"1.5", "9", ""}},
			func(t *testing.T, c policyedit.Change) {
				if !maps.Equal(c.RuleScores, map[string]string{"A_RULE": "1.5", "B_RULE": ""}) {
					t.Errorf("scores %v", c.RuleScores)
				}
			}},
		{"address lists one a line; daemon settings", url.Values{"welcome": {"a@b.example\r\n*@c.example"}, "junk_retention": {"30"}},
			func(t *testing.T, c policyedit.Change) {
				if !slices.Equal(c.Welcome, []string{"a@b.example\r", "*@c.example"}) || c.Daemon.JunkSort || c.Daemon.JunkRetentionDays != "30" {
					t.Errorf("%+v", c)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/policy", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			tc.check(t, changeFromForm(r))
		})
	}
}
