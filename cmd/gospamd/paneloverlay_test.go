package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gospamd/gospamd/panel/policyedit"
)

// TestPanelOverlay: panel.toml beside the daemon config is applied over
// it; unknown keys are refused as in the config itself; a section the
// config lacks is not created.
func TestPanelOverlay(t *testing.T) {
	const smtpIMAP = "[smtp]\ndomains = [\"example.com\"]\nroutes = \"/r\"\n[imap]\nserver = \"127.0.0.1:143\"\njunk_retention_days = 7\n"
	tests := []struct {
		name     string
		config   string
		overlay  string // "" = no overlay file
		wantSort bool   // junk sorting on ([smtp] no_junk_sort false)
		wantDays int
		wantSMTP bool // the SMTP section exists after loading
		wantErr  string
		baseSort bool
		baseDays int
	}{
		{name: "no overlay", config: smtpIMAP, wantSort: true, wantDays: 7, wantSMTP: true, baseSort: true, baseDays: 7},
		{name: "overlay wins", config: smtpIMAP, overlay: "[smtp]\nno_junk_sort = true\n[imap]\njunk_retention_days = 30\n",
			wantSort: false, wantDays: 30, wantSMTP: true, baseSort: true, baseDays: 7},
		{name: "overlay of one key", config: smtpIMAP, overlay: "[imap]\njunk_retention_days = 0\n",
			wantSort: true, wantDays: 0, wantSMTP: true, baseSort: true, baseDays: 7},
		{name: "no [smtp] section: none created", config: "[spamd]\nmax_children = 3\n", overlay: "[smtp]\nno_junk_sort = true\n",
			wantSort: true, wantSMTP: false, baseSort: true},
		{name: "unknown key refused", config: smtpIMAP, overlay: "[smtp]\nlisten = \"0.0.0.0:25\"\n",
			wantErr: "panel.toml: line 2: smtp.listen: unknown key"},
		{name: "unknown section refused", config: smtpIMAP, overlay: "[spamd]\nallow_tell = true\n",
			wantErr: "panel.toml: line 1: spamd: unknown key"},
		{name: "bad value refused", config: smtpIMAP, overlay: "[imap]\njunk_retention_days = -2\n",
			wantErr: "junk_retention_days -2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.config)
			if tc.overlay != "" {
				if err := os.WriteFile(filepath.Join(filepath.Dir(path), "panel.toml"), []byte(tc.overlay), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := loadDaemonConfig(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.SMTP != nil) != tc.wantSMTP {
				t.Fatalf("[smtp] present %v, want %v", cfg.SMTP != nil, tc.wantSMTP)
			}
			if cfg.SMTP != nil && cfg.SMTP.NoJunkSort == tc.wantSort {
				t.Errorf("no_junk_sort %v, want %v", cfg.SMTP.NoJunkSort, !tc.wantSort)
			}
			if cfg.IMAP != nil && cfg.IMAP.JunkRetentionDays != tc.wantDays {
				t.Errorf("junk_retention_days %d, want %d", cfg.IMAP.JunkRetentionDays, tc.wantDays)
			}
			if b := cfg.panelBase(); b.JunkSort != tc.baseSort || b.JunkRetentionDays != tc.baseDays {
				t.Errorf("base under the overlay %+v, want sort %v days %d", b, tc.baseSort, tc.baseDays)
			}
		})
	}
}

// TestServeReloadsPanelOverlay: junk sorting turned off in panel.toml
// applies to the next message after SIGHUP, without a restart.
func TestServeReloadsPanelOverlay(t *testing.T) {
	d := startSMTPDaemon(t, nil)
	spam := "From: carol@example.net\nTo: alice@example.com\nSubject: offer\nDate: Mon, 7 Dec 2026 04:00:00 +0000\nMessage-ID: <%d@example.net>\n\na six point phrase\n"
	if err := sendOne(d.smtpAddr, "alice@example.com", fmt.Sprintf(spam, 1)); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, d.alice, "junkmail"); n != 1 {
		t.Fatalf("junk folder has %d messages before the overlay, want 1", n)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "panel.toml"), []byte("[smtp]\nno_junk_sort = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLogged(t, d.logs, "panel overlay reloaded", 20*time.Second)
	if err := sendOne(d.smtpAddr, "alice@example.com", fmt.Sprintf(spam, 2)); err != nil {
		t.Fatal(err)
	}
	if inbox, junk := mustCount(t, d.alice, ""), mustCount(t, d.alice, "junkmail"); inbox != 1 || junk != 1 {
		t.Errorf("after the overlay: inbox %d, junk %d; want 1 and 1", inbox, junk)
	}
}

// lintSettings are the "settings" lines of gospamd lint's output: key =
// value, and separately where each was set.
func lintSettings(t *testing.T, site string) (values, where []string) {
	t.Helper()
	out, _, code := runCLI(t, "", "lint", "--config", site)
	if code != exitOK {
		t.Fatalf("lint %s: exit %d\n%s", site, code, out)
	}
	_, block, ok := strings.Cut(out, "settings (value; where set):\n")
	if !ok {
		t.Fatalf("lint shows no settings:\n%s", out)
	}
	for _, l := range strings.Split(block, "\n") {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		v, w, _ := strings.Cut(strings.TrimSpace(l), "; ")
		values, where = append(values, v), append(where, w)
	}
	return values, where
}

// TestLintPanelAndHandAlike: the same change made in the panel and by
// hand ends in the same policy as gospamd lint shows it; lint names the
// panel's fragment and the hand file.
func TestLintPanelAndHandAlike(t *testing.T) {
	root := t.TempDir()
	panelSite, handSite := filepath.Join(root, "panel"), filepath.Join(root, "hand")
	writeFile(t, filepath.Join(panelSite, "10_local.cf"), "required_score 6\n")
	writeFile(t, filepath.Join(handSite, "10_local.cf"), "required_score 6\n")
	writeFile(t, filepath.Join(handSite, "60_mine.cf"),
		"required_score 4\nreject_score 12\nrewrite_header Subject [SPAM]\nblacklist_from *@spammer.example\nrbl_list zen.spamhaus.org\n")

	ed, err := policyedit.New(policyedit.Options{SiteDir: panelSite})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ed.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := policyedit.ChangeFrom(st.Settings)
	c.TagScore, c.RejectScore = "4", "12"
	c.RewriteSubject, c.SubjectText = true, "[SPAM]"
	c.Block = []string{"*@spammer.example"}
	c.Lists["rbl_list zen.spamhaus.org"] = true
	if _, _, err := ed.Apply(context.Background(), policyedit.Who{User: "admin", Role: "admin"}, c); err != nil {
		t.Fatal(err)
	}

	pv, pw := lintSettings(t, panelSite)
	hv, hw := lintSettings(t, handSite)
	if strings.Join(pv, "\n") != strings.Join(hv, "\n") {
		t.Errorf("panel and hand policies differ:\npanel:\n%s\nhand:\n%s", strings.Join(pv, "\n"), strings.Join(hv, "\n"))
	}
	for i, v := range pv {
		if v == "required_score = 4" || v == "blocklist_from *@spammer.example = listed" {
			if !strings.Contains(pw[i], "50_panel.cf") || !strings.Contains(hw[i], "60_mine.cf") {
				t.Errorf("%s: from %q (panel) and %q (hand)", v, pw[i], hw[i])
			}
		}
	}
}
