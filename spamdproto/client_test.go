package spamdproto

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests drive our Client against our Server (with the fake scanner
// and teller of helpers_test.go) and against canned answers, and check
// what a caller of the Client sees.

func testClient(addrs ...string) *Client {
	return &Client{Hosts: addrs, Timeout: 10 * time.Second, RetrySleep: -1}
}

func TestClientVerbs(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	ham := readMessage(t, "ham-crlf.eml")
	scanner := gtubeScanner()
	ts := startServer(t, Config{}, scanner, nil)
	c := testClient(ts.addr)
	ctx := context.Background()
	type call func(ctx context.Context, user string, msg []byte, compress bool) (*Result, error)

	tests := []struct {
		name          string
		call          call
		msg           []byte
		compress      bool
		wantSpam      bool
		wantScore     float64
		wantThreshold float64
		wantBody      string
	}{
		{"check spam", c.Check, gtube, false, true, 1000, 5, ""},
		{"check ham", c.Check, ham, false, false, 2.3, 5, ""},
		{"symbols", c.Symbols, gtube, false, true, 1000, 5, "GTUBE,NO_RECEIVED,NO_RELAYS"},
		{"report", c.Report, gtube, false, true, 1000, 5, "Spam detection report\n\n"},
		{"report if spam", c.ReportIfSpam, gtube, false, true, 1000, 5, "Spam detection report\n\n"},
		{"report if spam on ham", c.ReportIfSpam, ham, false, false, 2.3, 5, ""},
		{"process", c.Process, gtube, false, true, 1000, 5, "X-Spam-Flag: YES\n" + string(gtube)},
		{"headers", c.Headers, gtube, false, true, 1000, 5, "X-Spam-Flag: YES\n" + string(HeaderPart(gtube))},
		{"process compressed", c.Process, gtube, true, true, 1000, 5, "X-Spam-Flag: YES\n" + string(gtube)},
		{"symbols compressed ham", c.Symbols, ham, true, false, 2.3, 5, "MISSING_MID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(scanner.log())
			res, err := tt.call(ctx, "frank", tt.msg, tt.compress)
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != EX_OK || !res.HasSpam || res.Spam != tt.wantSpam ||
				res.Score != tt.wantScore || res.Threshold != tt.wantThreshold || string(res.Body) != tt.wantBody {
				t.Errorf("got %+v (body %q)\nwant spam=%v score=%v threshold=%v body %q",
					res, res.Body, tt.wantSpam, tt.wantScore, tt.wantThreshold, tt.wantBody)
			}
			// The server saw the message as sent, inflated, for our user.
			log := scanner.log()[before:]
			want := `scan user="frank" bytes=` + strconv.Itoa(len(tt.msg))
			if len(log) != 1 || log[0] != want {
				t.Errorf("scanner saw %q, want %q", log, want)
			}
		})
	}
}

func TestClientPing(t *testing.T) {
	ts := startServer(t, Config{}, gtubeScanner(), nil)
	res, err := testClient(ts.addr).Ping(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "1.5" || res.Code != EX_OK || res.Status != "PONG" {
		t.Errorf("ping: %+v, want SPAMD/1.5 0 PONG", res)
	}
}

// TestClientTell learns, relearns and forgets one message, as spamc -L
// does, and reports it as spamc -C does.
func TestClientTell(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	teller := newFakeTeller()
	ts := startServer(t, Config{}, gtubeScanner(), teller)
	c := testClient(ts.addr)
	steps := []struct {
		req           TellRequest
		wantSet       Targets
		wantRemove    Targets
		wantTellerSaw string
	}{
		{TellRequest{Class: ClassSpam, Set: Targets{Local: true}}, Targets{Local: true}, Targets{}, "class=spam set=local remove="},
		{TellRequest{Class: ClassSpam, Set: Targets{Local: true}}, Targets{}, Targets{}, "class=spam set=local remove="},
		{TellRequest{Remove: Targets{Local: true}}, Targets{}, Targets{Local: true}, "class=ham set= remove=local"},
		{TellRequest{Class: ClassHam, Set: Targets{Local: true}, Remove: Targets{Remote: true}}, Targets{Local: true}, Targets{}, "class=ham set=local remove=remote"},
	}
	for i, st := range steps {
		req := st.req
		req.User, req.Message = "gina", gtube
		res, err := c.Tell(context.Background(), &req, i == 3)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if res.DidSet != st.wantSet || res.DidRemove != st.wantRemove {
			t.Errorf("step %d: DidSet %v DidRemove %v, want %v %v", i, res.DidSet, res.DidRemove, st.wantSet, st.wantRemove)
		}
		log := teller.log()
		if len(log) != i+1 || !strings.Contains(log[i], `user="gina" `+st.wantTellerSaw+" bytes="+strconv.Itoa(len(gtube))) {
			t.Errorf("step %d: teller saw %q, want %q", i, log, st.wantTellerSaw)
		}
	}
}

// closedAddr is a 127.0.0.1 address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestClientServerErrors(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	failing := &fakeScanner{fn: func(context.Context, *ScanRequest) (ScanResult, error) {
		return nil, errors.New("engine down")
	}}
	broken := startServer(t, Config{}, failing, nil)
	noTell := startServer(t, Config{}, gtubeScanner(), nil)
	withTell := startServer(t, Config{}, gtubeScanner(), newFakeTeller())
	ctx := context.Background()

	tests := []struct {
		name     string
		do       func() (*Result, error)
		wantCode int
		wantMsg  string
	}{
		{"scan fails", func() (*Result, error) { return testClient(broken.addr).Check(ctx, "", gtube, false) }, EX_SOFTWARE, ""},
		{"tell disabled", func() (*Result, error) {
			return testClient(noTell.addr).Tell(ctx, &TellRequest{Message: gtube, Class: ClassSpam, Set: Targets{Local: true}}, false)
		}, EX_UNAVAILABLE, tellDisabledMsg},
		{"set and remove local", func() (*Result, error) {
			return testClient(withTell.addr).Tell(ctx, &TellRequest{Message: gtube, Set: Targets{Local: true}, Remove: Targets{Local: true}}, false)
		}, EX_PROTOCOL, "Unable to set local and remove local in the same operation."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.do()
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrServerStatus) {
				t.Fatalf("got %v, want an *Error wrapping ErrServerStatus", err)
			}
			if e.Code != tt.wantCode || e.Msg != tt.wantMsg {
				t.Errorf("got code %d msg %q, want %d %q", e.Code, e.Msg, tt.wantCode, tt.wantMsg)
			}
			if res == nil || res.Code != tt.wantCode || res.Version != "1.0" {
				t.Errorf("result %+v, want the status line", res)
			}
		})
	}
}

func TestClientConnectErrors(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	closed := closedAddr(t)
	noSuchHost := func(ctx context.Context, host string) ([]string, error) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	dnsDown := func(ctx context.Context, host string) ([]string, error) {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	tests := []struct {
		name     string
		client   *Client
		wantCode int
	}{
		{"refused", testClient(closed), EX_UNAVAILABLE},
		{"unknown host", &Client{Hosts: []string{"spamd.invalid:783"}, LookupHost: noSuchHost}, EX_NOHOST},
		{"dns temporary failure", &Client{Hosts: []string{"spamd.example:783"}, LookupHost: dnsDown}, EX_TEMPFAIL},
		{"no address of family", &Client{Hosts: []string{"[::1]:783"}, Network: "tcp4"}, EX_NOHOST},
		{"missing socket", &Client{UnixSocket: filepath.Join(t.TempDir(), "none.sock")}, EX_SOFTWARE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.client.Check(context.Background(), "", gtube, false)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || res != nil {
				t.Fatalf("got %v, %v; want an *Error with code %d", res, err, tt.wantCode)
			}
			if errors.Is(err, ErrServerStatus) {
				t.Errorf("%v claims to come from the server", err)
			}
		})
	}
}

// recordingDialer dials for real and remembers the addresses it tried.
type recordingDialer struct {
	mu    sync.Mutex
	addrs []string
}

func (d *recordingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, network+" "+addr)
	d.mu.Unlock()
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// TestClientFailover follows spamc's connect loop: attempt k goes to host
// k mod n, every address of a host is tried, Retries bounds the attempts.
func TestClientFailover(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	ts := startServer(t, Config{}, gtubeScanner(), nil)
	closed1, closed2 := closedAddr(t), closedAddr(t)
	_, goodPort, _ := net.SplitHostPort(ts.addr)
	_, closedPort, _ := net.SplitHostPort(closed1)
	twoAddrs := func(ctx context.Context, host string) ([]string, error) {
		if host == "spamd.test" {
			return []string{"127.0.0.2", "127.0.0.1"}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}

	tests := []struct {
		name      string
		client    *Client
		wantErr   bool
		wantDials []string
	}{
		{"second host answers", &Client{Hosts: []string{closed1, ts.addr}},
			false, []string{"tcp " + closed1, "tcp " + ts.addr}},
		{"retries wrap around the list", &Client{Hosts: []string{closed1, closed2}, Retries: 3, RetrySleep: -1},
			true, []string{"tcp " + closed1, "tcp " + closed2, "tcp " + closed1}},
		{"every address of a host", &Client{Hosts: []string{"spamd.test:" + goodPort}, LookupHost: twoAddrs},
			false, []string{"tcp 127.0.0.2:" + goodPort, "tcp 127.0.0.1:" + goodPort}},
		{"unresolvable hosts are dropped", &Client{Hosts: []string{"gone.invalid:" + closedPort, ts.addr}, LookupHost: twoAddrs},
			false, []string{"tcp " + ts.addr}},
		{"one attempt", &Client{Hosts: []string{closed1, ts.addr}, Retries: 1},
			true, []string{"tcp " + closed1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDialer{}
			tt.client.Dialer = d.dial
			res, err := tt.client.Check(context.Background(), "", gtube, false)
			if tt.wantErr != (err != nil) {
				t.Fatalf("got %+v, %v; want error %v", res, err, tt.wantErr)
			}
			if !tt.wantErr && !res.Spam {
				t.Errorf("got %+v, want the spam verdict", res)
			}
			// 127.0.0.2 is loopback on Linux: the server may answer there too.
			got := d.addrs
			if tt.name == "every address of a host" && len(got) == 1 && got[0] == tt.wantDials[0] {
				t.Skip("127.0.0.2 reaches the server on this system")
			}
			if !slices.Equal(got, tt.wantDials) {
				t.Errorf("dialed %q, want %q", got, tt.wantDials)
			}
		})
	}
}

// cannedServer answers every connection with answer after reading the
// request to EOF, and returns its address.
func cannedServer(t *testing.T, answer string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = io.Copy(io.Discard, c)
				_, _ = io.WriteString(c, answer)
			}()
		}
	}()
	return l.Addr().String()
}

func TestClientBadAnswers(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	tests := []struct {
		name     string
		verb     Verb
		answer   string
		wantCode int
	}{
		{"no answer", VerbProcess, "", EX_IOERR},
		{"not spamd", VerbProcess, "HTTP/1.1 200 OK\r\n\r\n", EX_PROTOCOL},
		{"version below 1.0", VerbProcess, "SPAMD/0.9 0 EX_OK\r\n\r\n", EX_PROTOCOL},
		{"code not a number", VerbProcess, "SPAMD/1.1 x EX_OK\r\n\r\n", EX_PROTOCOL},
		{"EOF in headers", VerbProcess, "SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\n", EX_IOERR},
		{"process without Content-length", VerbProcess, "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\nabc", EX_PROTOCOL},
		{"body shorter than Content-length", VerbProcess, "SPAMD/1.1 0 EX_OK\r\nContent-length: 4\r\n\r\nabc", EX_PROTOCOL},
		{"body longer than Content-length", VerbSymbols, "SPAMD/1.1 0 EX_OK\r\nContent-length: 2\r\n\r\nabc", EX_PROTOCOL},
		{"body over the limit", VerbProcess, "SPAMD/1.1 0 EX_OK\r\nContent-length: 20\r\n\r\n" + strings.Repeat("x", 20), EX_TOOBIG},
		{"negative Content-length", VerbReport, "SPAMD/1.1 0 EX_OK\r\nContent-length: -1\r\n\r\n", EX_PROTOCOL},
		{"check without Spam", VerbCheck, "SPAMD/1.1 0 EX_OK\r\n\r\n", EX_PROTOCOL},
		{"error line", VerbCheck, "SPAMD/1.0 76 Bad header line: (EOF during headers)\r\n", EX_PROTOCOL},
		{"huge status line", VerbCheck, "SPAMD/1.1 0 " + strings.Repeat("x", 9000) + "\r\n\r\n", EX_PROTOCOL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(cannedServer(t, tt.answer))
			c.MaxResponseBody = 10
			_, err := c.scan(context.Background(), tt.verb, "", gtube, false)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("got %v, want an *Error with code %d", err, tt.wantCode)
			}
		})
	}
}

// TestClientGoodAnswers covers answers that spamd itself never sends but
// that are valid: other header case, extra headers, bare LF.
func TestClientGoodAnswers(t *testing.T) {
	gtube := readMessage(t, "gtube.eml")
	tests := []struct {
		name   string
		verb   Verb
		answer string
		want   Result
	}{
		{"bare LF, any case", VerbSymbols, "SPAMD/1.1 0 EX_OK\ncontent-LENGTH: 3\nX-Other: 1\nSPAM: yes ; -0.5 / 5.0\n\nA,B",
			Result{Version: "1.1", Status: "EX_OK", HasSpam: true, Spam: true, SpamFlag: "yes", ScoreText: "-0.5",
				ThresholdText: "5.0", Score: -0.5, Threshold: 5, ContentLength: 3, Body: []byte("A,B")}},
		{"tell with both", VerbTell, "SPAMD/1.1 0 EX_OK\r\nDidSet: local,remote\r\nDidRemove: remote\r\n\r\n\r\n",
			Result{Version: "1.1", Status: "EX_OK", ContentLength: -1,
				DidSet: Targets{Local: true, Remote: true}, DidRemove: Targets{Remote: true}}},
		{"malformed Spam header ignored", VerbTell, "SPAMD/1.1 0 EX_OK\r\nSpam: maybe\r\n\r\n",
			Result{Version: "1.1", Status: "EX_OK", ContentLength: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := testClient(cannedServer(t, tt.answer)).scan(context.Background(), tt.verb, "", gtube, false)
			if err != nil {
				t.Fatal(err)
			}
			if !resultsEqual(res, &tt.want) {
				t.Errorf("got %+v\nwant %+v", res, &tt.want)
			}
		})
	}
}

func resultsEqual(a, b *Result) bool {
	norm := func(r Result) Result {
		if len(r.Body) == 0 {
			r.Body = nil
		}
		return r
	}
	return reflect.DeepEqual(norm(*a), norm(*b))
}

// TestClientTimeout: a server that accepts and never answers makes the
// request fail with EX_IOERR after Timeout, as spamc -t does.
func TestClientTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
			<-release // never answer
		}
	}()
	c := &Client{Hosts: []string{l.Addr().String()}, Timeout: 200 * time.Millisecond}
	_, err = c.Check(context.Background(), "", readMessage(t, "gtube.eml"), false)
	var e *Error
	if !errors.As(err, &e) || e.Code != EX_IOERR || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want EX_IOERR after the deadline", err)
	}
}

// TestClientCancel: cancelling the context ends a request in flight.
func TestClientCancel(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	scanner := &fakeScanner{fn: func(ctx context.Context, _ *ScanRequest) (ScanResult, error) {
		close(started)
		<-release
		return nil, errors.New("cancelled by the test")
	}}
	ts := startServer(t, Config{}, scanner, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err := testClient(ts.addr).Check(ctx, "", readMessage(t, "gtube.eml"), false)
	close(release)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestClientUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "spamd") // short: socket paths are limited to ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "spamd.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{Logger: testLogger(t)}, gtubeScanner(), nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		<-done
	})
	res, err := (&Client{UnixSocket: path}).Symbols(context.Background(), "", readMessage(t, "gtube.eml"), false)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != "GTUBE,NO_RECEIVED,NO_RELAYS" {
		t.Errorf("symbols over UNIX socket: %q", res.Body)
	}
}

func TestClientRejectsLineBreakInUser(t *testing.T) {
	_, err := testClient(closedAddr(t)).Check(context.Background(), "a\r\nContent-length: 0", []byte("x"), false)
	var e *Error
	if !errors.As(err, &e) || e.Code != EX_USAGE {
		t.Fatalf("got %v, want EX_USAGE", err)
	}
}
