package mta_test

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

	"github.com/gospamd/gospamd/internal/testpeer"
)

// A dovecotLMTP is a real Dovecot LMTP server (Debian's dovecot-lmtpd)
// on 127.0.0.1 with a throwaway configuration: users from a passwd-file
// (others are refused at RCPT with 550), mail in Maildirs under dir.
//
// As root Dovecot refuses uid 0 for mail, so mail belongs to nobody and
// every directory on the way is 0755 (t.TempDir's are 0700); UNIX socket
// paths are limited to 107 bytes, so everything lives in a short
// os.MkdirTemp directory; ssl is off.
type dovecotLMTP struct {
	bin, conf string
	dir       string
	addr      string // host:port of the LMTP listener
	socket    string // its UNIX socket
	cmd       *exec.Cmd
	waited    chan error
}

// dovecotOptions configure startDovecotLMTP.
type dovecotOptions struct {
	users []string // in the passwd-file; others are refused
	// sieveBefore, when set, is a Sieve script (Pigeonhole, Debian's
	// dovecot-sieve) run before delivery, as sieve_before.
	sieveBefore string
	// quota gives users a quota rule ("*:storage=1K"); with one, the
	// quota plugin is on and a delivery over it is refused after DATA.
	quota map[string]string
}

func startDovecotLMTP(t *testing.T, opt dovecotOptions) *dovecotLMTP {
	t.Helper()
	bin := "/usr/sbin/dovecot"
	if _, err := os.Stat(bin); err != nil {
		bin = testpeer.Program(t, "dovecot")
	}
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		testpeer.Missing(t, "Dovecot's LMTP server (/usr/lib/dovecot/lmtp, package dovecot-lmtpd) is not installed")
	}
	dir, err := os.MkdirTemp("", "gsd-lmtp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mailUser, mailGroup := "nobody", "nogroup"
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
		mailUser, mailGroup = u.Username, g.Name
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
	var pw strings.Builder
	for _, u := range opt.users {
		if rule, ok := opt.quota[u]; ok {
			fmt.Fprintf(&pw, "%s:::::::userdb_quota_rule=%s\n", u, rule)
		} else {
			fmt.Fprintf(&pw, "%s::::::\n", u)
		}
	}
	writeFile(t, filepath.Join(dir, "users"), pw.String())
	if err := os.Chmod(filepath.Join(dir, "users"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	var sieve string
	if len(opt.quota) > 0 {
		sieve = "mail_plugins = $mail_plugins quota\nplugin {\n  quota = maildir:User quota\n}\n"
	}
	if opt.sieveBefore != "" {
		if _, err := os.Stat("/usr/lib/dovecot/modules/lib90_sieve_plugin.so"); err != nil {
			testpeer.Missing(t, "Dovecot's Sieve plugin (package dovecot-sieve) is not installed")
		}
		script, err := os.ReadFile(opt.sieveBefore)
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
		path := filepath.Join(sdir, filepath.Base(opt.sieveBefore))
		writeFile(t, path, string(script))
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		sieve += fmt.Sprintf(`protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
namespace inbox {
  inbox = yes
  mailbox junkmail {
    auto = subscribe
    special_use = \Junk
  }
}
plugin {
  sieve_before = %s
}
`, path)
	}
	conf := filepath.Join(dir, "dovecot.conf")
	writeFile(t, conf, fmt.Sprintf(`protocols = lmtp
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = gsd-lmtp-%[2]s
listen = 127.0.0.1
ssl = no
log_path = %[1]s/dovecot.log
default_login_user = %[3]s
default_internal_user = %[3]s
default_internal_group = %[4]s
first_valid_uid = 1
recipient_delimiter = +
mail_location = maildir:%[1]s/mail/%%n
passdb {
  driver = passwd-file
  args = username_format=%%n %[1]s/users
}
userdb {
  driver = passwd-file
  args = username_format=%%n %[1]s/users
  default_fields = uid=%[3]s gid=%[4]s home=%[1]s/home/%%n
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %[2]s
  }
  unix_listener lmtp {
    mode = 0666
  }
}
`, dir, port, mailUser, mailGroup)+sieve)
	if err := os.Chmod(conf, 0o644); err != nil {
		t.Fatal(err)
	}
	d := &dovecotLMTP{bin: bin, conf: conf, dir: dir, addr: addr, socket: filepath.Join(dir, "run", "lmtp")}
	d.start(t)
	t.Cleanup(func() { d.stop(t) })
	return d
}

// start runs Dovecot in the foreground and waits until its LMTP
// listener greets.
func (d *dovecotLMTP) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(d.bin, "-F", "-c", d.conf)
	d.cmd.Stdout, d.cmd.Stderr = os.Stderr, os.Stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	d.waited = make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(d.cmd, d.waited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if greets(d.addr) {
			return
		}
		select {
		case err := <-d.waited:
			d.cmd = nil
			t.Fatalf("dovecot exited: %v\n%s", err, d.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot's LMTP listener %s does not greet\n%s", d.addr, d.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends Dovecot (SIGTERM to its master, which stops its services)
// and waits for it.
func (d *dovecotLMTP) stop(t *testing.T) {
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
		t.Errorf("dovecot did not stop\n%s", d.log())
		_ = d.cmd.Process.Kill()
		<-d.waited
	}
	d.cmd = nil
	// The master leaves its pid file behind when its children linger a
	// moment; wait until the port is free for a restart.
	for i := 0; i < 100 && greets(d.addr); i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

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

func (d *dovecotLMTP) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return string(b)
}

// messages returns the messages in user's INBOX (new/ and cur/).
func (d *dovecotLMTP) messages(t *testing.T, user string) []string {
	t.Helper()
	return d.folder(t, user, "")
}

// folder returns the messages in one of user's folders ("" for the
// INBOX; Maildir++ .NAME).
func (d *dovecotLMTP) folder(t *testing.T, user, name string) []string {
	t.Helper()
	root := filepath.Join(d.dir, "mail", user)
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
