package mta_test

import (
	"bytes"
	"net"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/mta"
	"github.com/gospamd/gospamd/mta/maildir"
)

// A scriptConn is a client that has said everything at once: the
// server reads the script, then EOF, which ends its session as a
// client's half-close would (net.Pipe cannot half-close, and a session
// left waiting for data would stall each run until a timeout). What the
// server writes is kept. Close tells the test the session is over.
type scriptConn struct {
	r      *bytes.Reader
	mu     sync.Mutex
	out    bytes.Buffer
	closed chan struct{}
	once   sync.Once
}

func newScriptConn(script []byte) *scriptConn {
	return &scriptConn{r: bytes.NewReader(script), closed: make(chan struct{})}
}

func (c *scriptConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *scriptConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *scriptConn) output() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

func (c *scriptConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25} }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000}
}
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// connListener hands the server the connections the test makes.
type connListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnListener() *connListener {
	return &connListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25} }

var (
	replyLine = regexp.MustCompile(`^[2-5][0-9][0-9][ -]`)
	queued    = regexp.MustCompile(`(?m)^250 2\.0\.0 OK: queued`)
)

// FuzzSMTPSession feeds a client's byte stream (commands, pipelined or
// not, and message data) to the SMTP front end over an in-memory
// connection, in every state the input reaches, followed by an end of
// data, QUIT and EOF. The server must not panic or hang, must answer
// only well-formed reply lines, and must store a message only when it
// answered 250 to it.
// Seeds: testdata/fuzz/FuzzSMTPSession.
func FuzzSMTPSession(f *testing.F) {
	e := newEnv(f, func(c *mta.Config) {
		c.MaxSize = 64 << 10
		c.ReadTimeout = confval.Duration(2 * time.Second)
		c.WriteTimeout = confval.Duration(2 * time.Second)
		c.MaxConnections, c.MaxConnectionsPerIP = 1000, 1000
	})
	l := newConnListener()
	go func() { _ = e.srv.Serve(l) }()
	stored := func(t *testing.T) int {
		n := 0
		for _, root := range []string{e.alice, e.bob, filepath.Join(e.dir, "mail", "alice-lists")} {
			for _, folder := range []string{"", "junkmail"} {
				k, err := maildir.Count(root, folder)
				if err != nil {
					t.Fatal(err)
				}
				n += k
			}
		}
		return n
	}
	f.Add([]byte("EHLO client.example.net\r\nMAIL FROM:<carol@example.net>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n" +
		string(message("seed", "hello")) + ".\r\n"))

	f.Fuzz(func(t *testing.T, input []byte) {
		before := stored(t)
		c := newScriptConn(append(bytes.Clone(input), "\r\n.\r\nQUIT\r\n"...))
		l.conns <- c
		select {
		case <-c.closed:
		case <-time.After(30 * time.Second):
			t.Fatalf("session still open 30 s after its client's EOF:\n%s", c.output())
		}
		out := c.output()
		for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n")) {
			if !replyLine.Match(line) {
				t.Fatalf("malformed reply line %q in:\n%s", line, out)
			}
		}
		n := len(queued.FindAll(out, -1))
		if added := stored(t) - before; (n == 0) != (added == 0) || added < n {
			t.Fatalf("%d messages answered 250, %d stored:\n%s", n, added, out)
		}
	})
}
