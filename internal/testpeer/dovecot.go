package testpeer

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A Dovecot is a real Dovecot server started for one test on 127.0.0.1,
// with a throwaway configuration, users file and Maildirs: IMAP
// (Debian's dovecot-imapd), LMTP (dovecot-lmtpd) or both.
type Dovecot struct {
	Addr string // host:port of its IMAP listener; "" without IMAP
	// LMTPAddr and LMTPSocket are its LMTP listeners (TCP host:port and
	// UNIX socket); "" without LMTP.
	LMTPAddr, LMTPSocket string
	Dir                  string // its configuration, users and mail

	bin, conf string
	cmd       *exec.Cmd
	out       *strings.Builder
	waited    chan error
}

// DovecotOptions configure StartDovecot.
type DovecotOptions struct {
	// Users maps login names to passwords. They are the only users:
	// LMTP refuses mail for others at RCPT with 550.
	Users map[string]string
	// MasterUser and MasterPassword, when set, allow Dovecot master-user
	// logins ("user*master") for every user.
	MasterUser, MasterPassword string
	// LMTP adds an LMTP listener on TCP and on a UNIX socket; NoIMAP
	// leaves IMAP out (an LMTP server then needs no dovecot-imapd).
	LMTP, NoIMAP bool
	// SieveBefore, when set, is the path of a Sieve script (Pigeonhole,
	// Debian's dovecot-sieve) run before each LMTP delivery, as
	// sieve_before; the INBOX namespace then has a junkmail folder
	// (special use \Junk) for it to file into.
	SieveBefore string
	// Quota gives users a quota rule ("*:storage=1K"); with one, the
	// quota plugin is on and a delivery over it is refused after DATA.
	Quota map[string]string
}

// StartDovecot starts Dovecot, or skips the test (fails it under
// GOSPAMD_REQUIRE_PEERS=1) when what opt asks for is not installed. It
// is stopped when the test ends; Stop and Start stop and restart it in
// between.
//
// The snags it handles: as root, Dovecot refuses uid 0 for mail, so mail
// belongs to nobody, and every directory on the way is 0755 (t.TempDir's
// are 0700); UNIX socket paths are limited to 107 bytes, so base_dir is
// short; ssl is off; a failed login is answered at once
// (auth_failure_delay = 0) instead of after 2 s.
func StartDovecot(t testing.TB, opt DovecotOptions) *Dovecot {
	t.Helper()
	bin := "/usr/sbin/dovecot"
	if _, err := os.Stat(bin); err != nil {
		bin = Program(t, "dovecot")
	}
	if !opt.NoIMAP {
		if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
			Missing(t, "Dovecot's IMAP server (/usr/lib/dovecot/imap, package dovecot-imapd) is not installed")
		}
	}
	if opt.LMTP {
		if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
			Missing(t, "Dovecot's LMTP server (/usr/lib/dovecot/lmtp, package dovecot-lmtpd) is not installed")
		}
	}
	if opt.SieveBefore != "" {
		if _, err := os.Stat("/usr/lib/dovecot/modules/lib90_sieve_plugin.so"); err != nil {
			Missing(t, "Dovecot's Sieve plugin (package dovecot-sieve) is not installed")
		}
	}
	dir, err := os.MkdirTemp("", "gsd-dc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	mailUser, mailGroup, loginUser := "nobody", "nogroup", "dovenull"
	internalUser := "dovecot"
	if os.Getuid() != 0 {
		// Unprivileged Dovecot runs everything as the user who starts it.
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			t.Fatal(err)
		}
		mailUser, mailGroup, loginUser, internalUser = u.Username, g.Name, u.Username, u.Username
	}
	for _, sub := range []string{"mail", "home"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o777); err != nil { // past the umask: nobody writes here
			t.Fatal(err)
		}
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil { // past the umask: Dovecot's users read it
			t.Fatal(err)
		}
		return p
	}
	var users strings.Builder
	for name, pw := range opt.Users {
		fmt.Fprintf(&users, "%s:{PLAIN}%s::::::", name, pw)
		if rule, ok := opt.Quota[name]; ok {
			fmt.Fprintf(&users, "userdb_quota_rule=%s", rule)
		}
		users.WriteString("\n")
	}
	usersFile := write("users", users.String())
	master := ""
	if opt.MasterUser != "" {
		mf := write("master", fmt.Sprintf("%s:{PLAIN}%s\n", opt.MasterUser, opt.MasterPassword))
		master = fmt.Sprintf("auth_master_user_separator = *\npassdb {\n  driver = passwd-file\n  master = yes\n  args = %s\n}\n", mf)
	}

	d := &Dovecot{Dir: dir, bin: bin}
	var protocols, listeners, extra []string
	if !opt.NoIMAP {
		port := freePort(t)
		d.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		protocols = append(protocols, "imap")
		listeners = append(listeners, fmt.Sprintf(`service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %d
  }
  inet_listener imaps {
    port = 0
  }
}
`, port))
	}
	if opt.LMTP {
		port := freePort(t)
		d.LMTPAddr = fmt.Sprintf("127.0.0.1:%d", port)
		d.LMTPSocket = filepath.Join(dir, "run", "lmtp")
		protocols = append(protocols, "lmtp")
		listeners = append(listeners, fmt.Sprintf(`service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %d
  }
  unix_listener lmtp {
    mode = 0666
  }
}
`, port))
	}
	if len(opt.Quota) > 0 {
		extra = append(extra, "mail_plugins = $mail_plugins quota\nplugin {\n  quota = maildir:User quota\n}\n")
	}
	junk := ""
	if opt.SieveBefore != "" {
		script, err := os.ReadFile(opt.SieveBefore)
		if err != nil {
			t.Fatal(err)
		}
		sdir := filepath.Join(dir, "sieve")
		if err := os.Mkdir(sdir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(sdir, 0o777); err != nil { // Dovecot writes the compiled script beside it
			t.Fatal(err)
		}
		path := write(filepath.Join("sieve", filepath.Base(opt.SieveBefore)), string(script))
		extra = append(extra, fmt.Sprintf("protocol lmtp {\n  mail_plugins = $mail_plugins sieve\n}\nplugin {\n  sieve_before = %s\n}\n", path))
		junk = "  mailbox junkmail {\n    auto = subscribe\n    special_use = \\Junk\n  }\n"
	}
	d.conf = write("dovecot.conf", fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
instance_name = gospamd-test-%[2]s
listen = 127.0.0.1
protocols = %[3]s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = %[4]s
default_internal_user = %[5]s
recipient_delimiter = +
mail_location = maildir:%[1]s/mail/%%n
first_valid_uid = 1
first_valid_gid = 1
%[6]spassdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%n %[7]s
}
userdb {
  driver = passwd-file
  args = username_format=%%n %[7]s
  default_fields = uid=%[8]s gid=%[9]s home=%[1]s/home/%%n
}
%[10]sservice stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
namespace inbox {
  inbox = yes
  separator = /
%[11]s}
%[12]s`, dir, filepath.Base(dir), strings.Join(protocols, " "), loginUser, internalUser, master, usersFile,
		mailUser, mailGroup, strings.Join(listeners, ""), junk, strings.Join(extra, "")))
	d.Start(t)
	t.Cleanup(func() { d.Stop(t) })
	return d
}

// Start runs Dovecot in the foreground and waits until its listeners
// answer (LMTP's with its greeting). StartDovecot calls it; call it
// again after Stop to restart the server on the same ports.
func (d *Dovecot) Start(t testing.TB) {
	t.Helper()
	d.cmd = exec.Command(d.bin, "-F", "-c", d.conf)
	d.out = &strings.Builder{}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	d.waited = make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(d.cmd, d.waited)
	deadline := time.Now().Add(30 * time.Second)
	for !d.answers() {
		select {
		case err := <-d.waited:
			d.cmd = nil
			t.Fatalf("dovecot exited: %v: %s\n%s", err, d.out.String(), d.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot does not answer on %s %s: %s\n%s", d.Addr, d.LMTPAddr, d.out.String(), d.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends Dovecot (SIGTERM to its master, which stops its services)
// and waits for it and for its listeners to close. Stopping a stopped
// server does nothing.
func (d *Dovecot) Stop(t testing.TB) {
	t.Helper()
	if d.cmd == nil {
		return
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("stop dovecot: %v", err)
	}
	select {
	case <-d.waited:
	case <-time.After(20 * time.Second):
		t.Errorf("dovecot did not stop\n%s", d.Log())
		_ = d.cmd.Process.Kill()
		<-d.waited
	}
	d.cmd = nil
	// The master's children may linger a moment: wait until the ports
	// are free for a restart.
	for i := 0; i < 100 && d.answersAny(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

// answers reports whether every listener answers.
func (d *Dovecot) answers() bool {
	return (d.Addr == "" || Dialable(d.Addr)) && (d.LMTPAddr == "" || greets(d.LMTPAddr))
}

// answersAny reports whether a listener still answers.
func (d *Dovecot) answersAny() bool {
	return d.Addr != "" && Dialable(d.Addr) || d.LMTPAddr != "" && greets(d.LMTPAddr)
}

// Dialable reports whether a TCP server accepts connections at addr
// (within a second).
func Dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// greets reports whether an SMTP or LMTP server at addr greets with 220.
func greets(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "220 ")
}

// Log returns Dovecot's log so far, for failure messages.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return string(b)
}

// Messages returns the messages in user's INBOX (new/ and cur/).
func (d *Dovecot) Messages(t testing.TB, user string) []string {
	t.Helper()
	return d.Folder(t, user, "")
}

// Folder returns the messages in one of user's folders ("" for the
// INBOX; Maildir++ .NAME).
func (d *Dovecot) Folder(t testing.TB, user, name string) []string {
	t.Helper()
	root := filepath.Join(d.Dir, "mail", user)
	if name != "" {
		root = filepath.Join(root, "."+name)
	}
	var out []string
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(root, sub))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(root, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
