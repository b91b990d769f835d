package testpeer

import (
	"bufio"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A Redis is a real redis-server (Debian's redis-server) started for one
// test on 127.0.0.1 with a private port and data directory, with
// appendonly yes and appendfsync always, so that Restart loses no
// acknowledged write.
type Redis struct {
	Addr string // 127.0.0.1:port
	Dir  string // its configuration and data

	t   testing.TB
	bin string
	cmd *exec.Cmd
}

// StartRedis starts redis-server, or skips the test (fails it under
// GOSPAMD_REQUIRE_PEERS=1) when it is not installed. It is stopped when
// the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return startRedis(t, "")
}

// StartRedisTLS is StartRedis with a TLS port too (a self-signed
// certificate for 127.0.0.1, client certificates not asked for): it
// returns that port's address and the pool that trusts the certificate.
func StartRedisTLS(t testing.TB) (r *Redis, tlsAddr string, roots *x509.CertPool) {
	t.Helper()
	cert := SelfSignedCert(t)
	port := freePort(t)
	tlsAddr = fmt.Sprintf("127.0.0.1:%d", port)
	r = startRedis(t, fmt.Sprintf("tls-port %d\ntls-cert-file %s\ntls-key-file %s\ntls-auth-clients no\n",
		port, cert.CertFile, cert.KeyFile))
	return r, tlsAddr, cert.Pool
}

func startRedis(t testing.TB, extraConf string) *Redis {
	t.Helper()
	bin := "/usr/bin/redis-server"
	if _, err := os.Stat(bin); err != nil {
		if p, err := exec.LookPath("redis-server"); err == nil {
			bin = p
		} else {
			Missing(t, "redis-server (package redis-server) is not installed")
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	r := &Redis{Addr: addr, Dir: t.TempDir(), t: t, bin: bin}
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf("bind 127.0.0.1\nport %s\ndir %s\nappendonly yes\nappendfsync always\nsave \"\"\n"+
		"protected-mode yes\ndaemonize no\nlogfile %s\n%s", port, r.Dir, filepath.Join(r.Dir, "redis.log"), extraConf)
	if err := os.WriteFile(filepath.Join(r.Dir, "redis.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts the server (again, after Stop) and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, filepath.Join(r.Dir, "redis.conf"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r.ping() {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.Dir, "redis.log"))
			r.t.Fatalf("redis-server on %s did not answer within 10 s; its log:\n%s", r.Addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *Redis) ping() bool {
	c, err := net.DialTimeout("tcp", r.Addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop stops the server (SIGTERM, as a restart by its init system) and
// waits for it to exit.
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// Kill stops the server with SIGKILL, as a crash.
func (r *Redis) Kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// CPU is the server's CPU time so far (user and system), in seconds, as
// its INFO cpu section reports it; benchmarks take the difference of two
// readings to report the server's share of the work.
func (r *Redis) CPU() float64 {
	r.t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("INFO cpu\r\n")); err != nil {
		r.t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	head, err := rd.ReadString('\n') // $<length> of the bulk reply
	if err != nil || !strings.HasPrefix(head, "$") {
		r.t.Fatalf("redis INFO cpu: %q %v", head, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil {
		r.t.Fatalf("redis INFO cpu: %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		r.t.Fatal(err)
	}
	total := 0.0
	for line := range strings.SplitSeq(string(body), "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_user" || name == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}
