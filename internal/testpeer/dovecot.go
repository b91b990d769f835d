package testpeer

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A Dovecot is a real Dovecot IMAP server started for one test on
// 127.0.0.1, with a throwaway configuration, password file and Maildirs.
type Dovecot struct {
	Addr string // host:port of its IMAP listener
	Dir  string // its configuration, users and mail
}

// DovecotOptions configure StartDovecot.
type DovecotOptions struct {
	// Users maps login names to passwords.
	Users map[string]string
	// MasterUser and MasterPassword, when set, allow Dovecot master-user
	// logins ("user*master") for every user.
	MasterUser, MasterPassword string
}

// StartDovecot starts Dovecot (Debian's dovecot-imapd), or skips the test
// (fails it under GOSPAMD_REQUIRE_PEERS=1) when it is not installed. It
// is stopped when the test ends.
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
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		Missing(t, "Dovecot's IMAP server (/usr/lib/dovecot/imap, package dovecot-imapd) is not installed")
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
	mail := filepath.Join(dir, "mail")
	if err := os.Mkdir(mail, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(mail, 0o777); err != nil { // past the umask: nobody writes here
		t.Fatal(err)
	}

	var passwd strings.Builder
	for name, pw := range opt.Users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s\n", name, pw)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	passwdFile := write("passwd", passwd.String())
	master := ""
	if opt.MasterUser != "" {
		mf := write("master", fmt.Sprintf("%s:{PLAIN}%s\n", opt.MasterUser, opt.MasterPassword))
		master = fmt.Sprintf("auth_master_user_separator = *\npassdb {\n  driver = passwd-file\n  master = yes\n  args = %s\n}\n", mf)
	}
	port := freePort(t)
	conf := write("dovecot.conf", fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
instance_name = gospamd-test-%[2]d
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = %[3]s
default_internal_user = %[4]s
mail_location = maildir:%[1]s/mail/%%u
first_valid_uid = 1
first_valid_gid = 1
%[5]spassdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[6]s
}
userdb {
  driver = static
  args = uid=%[7]s gid=%[8]s home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
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
}
`, dir, port, loginUser, internalUser, master, passwdFile, mailUser, mailGroup))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-F", "-c", conf)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cancel()
			<-exited
		}
		cancel()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited: %s\n%s", out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot does not answer on %s: %s\n%s", addr, out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &Dovecot{Addr: addr, Dir: dir}
}

// Log returns Dovecot's log so far, for failure messages.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return string(b)
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
