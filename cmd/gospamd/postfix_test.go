package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/mta"
)

// exampleSection returns the lines of one "# --- NAME ---" section of an
// etc/examples file that match setting, uncommented.
func exampleSection(t *testing.T, doc, name string, setting *regexp.Regexp) []string {
	t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "# --- ") {
			in = strings.HasPrefix(line, "# --- "+name+" ")
			continue
		}
		if in && setting.MatchString(line) {
			out = append(out, strings.TrimPrefix(line, "# "))
		}
	}
	if len(out) == 0 {
		t.Fatalf("the example has no %s section", name)
	}
	return out
}

// TestPostfixProxyFilterExample runs etc/examples/postfix-proxy-filter.cf
// with Debian's Postfix: a private Postfix instance (its own config,
// queue and mail directories) proxies each SMTP session to gospamd
// serve, whose next hop is the instance's second smtpd, which delivers
// into virtual Maildirs. The example's master.cf lines and [smtp]
// section are used as written, with the ports, the chroot column and
// Postfix's final delivery (virtual mailboxes here) adapted to a test.
func TestPostfixProxyFilterExample(t *testing.T) {
	postfix := "/usr/sbin/postfix"
	if _, err := os.Stat(postfix); err != nil {
		postfix = testpeer.Program(t, "postfix")
	}
	swaksBin := testpeer.Program(t, "swaks")
	raw, err := os.ReadFile(filepath.Join("..", "..", "etc", "examples", "postfix-proxy-filter.cf"))
	if err != nil {
		t.Fatal(err)
	}
	example := string(raw)
	front, back := fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))

	// gospamd serve with the example's [smtp] section.
	var smtpCfg struct {
		SMTP mta.Config `toml:"smtp"`
	}
	section := exampleSection(t, example, "/etc/gospamd/gospamd.toml", regexp.MustCompile(`^# (\[smtp\]|[a-z_]+ = .*)$`))
	if err := toml.Unmarshal([]byte(strings.Join(section, "\n")), &smtpCfg); err != nil {
		t.Fatalf("the example's [smtp] section: %v", err)
	}
	if smtpCfg.SMTP.NextHop != "smtp:127.0.0.1:10025" {
		t.Fatalf("the example's next_hop is %q", smtpCfg.SMTP.NextHop)
	}
	d := startSMTPDaemon(t, func(c *mta.Config) {
		*c = smtpCfg.SMTP
		c.NextHop = "smtp:" + back
	})

	// The Postfix instance.
	dir, err := os.MkdirTemp("", "gsd-pf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "spool"), 0o755); err != nil { // Postfix makes its queues in it
		t.Fatal(err)
	}
	mail := filepath.Join(dir, "mail")
	if err := os.Mkdir(mail, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(mail, 0o777); err != nil { // past the umask: virtual(8) writes as nobody
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "conf")
	mustWrite := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(filepath.Join(dir, "vmailbox"), "alice@example.com alice/\nbob@example.com bob/\n")
	mustWrite(filepath.Join(conf, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
meta_directory = /etc/postfix
queue_directory = %[1]s/spool
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.com
mydomain = example.com
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.com, example.org
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = texthash:%[1]s/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
smtputf8_enable = no
biff = no
`, dir))
	// master.cf: the example's services, then Debian's own but for its
	// smtp listener; chroot off (a chroot needs copies of /etc files).
	chrootOff := regexp.MustCompile(`^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)`)
	var master []string
	for _, l := range exampleSection(t, example, "/etc/postfix/master.cf", regexp.MustCompile(`^# (\S+\s+(inet|unix)\s.*|  -o .*)$`)) {
		l = strings.Replace(l, "smtp      inet", front+" inet", 1)
		l = strings.Replace(l, "127.0.0.1:10025", back, 1)
		l = strings.Replace(l, "smtpd_proxy_filter=127.0.0.1:2525", "smtpd_proxy_filter="+d.smtpAddr, 1)
		master = append(master, chrootOff.ReplaceAllString(l, "${1}n$2"))
	}
	debian, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		testpeer.Missing(t, "Postfix's /etc/postfix/master.cf: %v", err)
	}
	skip := false
	for _, l := range strings.Split(string(debian), "\n") {
		switch {
		case strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "":
			continue
		case strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t"):
			if !skip {
				master = append(master, l)
			}
			continue
		}
		f := strings.Fields(l)
		skip = len(f) > 1 && f[1] == "inet" || len(f) > 7 && f[7] == "pipe"
		if !skip {
			master = append(master, chrootOff.ReplaceAllString(l, "${1}n$2"))
		}
	}
	mustWrite(filepath.Join(conf, "master.cf"), strings.Join(master, "\n")+"\n")

	ctl := func(verb string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, postfix, "-c", conf, verb).CombinedOutput()
		if err != nil {
			return fmt.Errorf("postfix %s: %w\n%s", verb, err, out)
		}
		return nil
	}
	if err := ctl("start"); err != nil {
		t.Fatalf("%v\n%s", err, readLog(filepath.Join(dir, "maillog")))
	}
	t.Cleanup(func() {
		if err := ctl("stop"); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !testpeer.Dialable(front) {
		if time.Now().After(deadline) {
			t.Fatalf("Postfix does not listen on %s\n%s", front, readLog(filepath.Join(dir, "maillog")))
		}
		time.Sleep(100 * time.Millisecond)
	}

	alice := filepath.Join(mail, "alice")
	for _, tc := range []struct {
		name       string
		args       []string
		want       int
		inbox      int    // alice's messages after the step
		wantHeader string // in the newest one
	}{
		{"ham through Postfix and gospamd", []string{"--to", "alice@example.com", "--header", "Subject: lunch", "--body", "See you at noon."}, 250, 1, "X-Spam-Status: No"},
		{"tag-level spam marked up", []string{"--to", "alice@example.com", "--header", "Subject: offer", "--body", "a six point phrase"}, 250, 2, "X-Spam-Flag: YES"},
		{"reject-level spam refused during the transaction", []string{"--to", "alice@example.com", "--header", "Subject: offer", "--body", "a twenty point phrase"}, 554, 2, ""},
		{"unknown user refused by Postfix", []string{"--to", "nobody@example.com"}, 550, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out := swaks(t, swaksBin, front, tc.args...)
			if got != tc.want {
				t.Fatalf("answer %d, want %d:\n%s\n%s", got, tc.want, out, readLog(filepath.Join(dir, "maillog")))
			}
			// Postfix delivers from its queue: wait for it.
			deadline := time.Now().Add(30 * time.Second)
			for mustCount(t, alice, "") < tc.inbox && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if n := mustCount(t, alice, ""); n != tc.inbox {
				t.Fatalf("alice has %d messages, want %d\n%s", n, tc.inbox, readLog(filepath.Join(dir, "maillog")))
			}
			if tc.wantHeader != "" {
				if msg := newest(t, alice, ""); !strings.Contains(string(msg), tc.wantHeader) {
					t.Errorf("delivered message lacks %q:\n%s", tc.wantHeader, msg)
				}
			}
		})
	}
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
