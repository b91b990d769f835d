package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn"
)

// ErrNoDaemon is returned by Dial when no daemon answers on the socket.
var ErrNoDaemon = errors.New("no gospamd daemon answers on the admin socket")

// A Client talks to a running daemon's admin socket. It is safe for
// concurrent use; Submit sends learns concurrently (bounded), so that the
// daemon's writer can batch them.
type Client struct {
	http  *http.Client
	slots chan struct{}
}

// Dial connects to the daemon listening on socket and checks that it
// answers.
func Dial(ctx context.Context, socket string) (*Client, error) {
	if _, err := os.Stat(socket); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 32,
	}
	c := &Client{http: &http.Client{Transport: tr}, slots: make(chan struct{}, 32)}
	if err := c.do(ctx, http.MethodGet, "/v1/ping", "", nil, io.Discard); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	return c, nil
}

func (c *Client) do(ctx context.Context, method, path string, scope classifier.Scope, body io.Reader, out io.Writer) error {
	u := "http://gospamd" + path
	if scope != "" {
		u += "?scope=" + url.QueryEscape(string(scope))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("daemon: %s", strings.TrimSpace(string(msg)))
	}
	_, err = io.Copy(out, resp.Body)
	return err
}

// text fetches a text answer into w, checking that it arrived whole.
func (c *Client) text(ctx context.Context, path string, scope classifier.Scope, query url.Values, w io.Writer) error {
	if len(query) > 0 {
		if scope != "" {
			query.Set("scope", string(scope))
			scope = ""
		}
		path += "?" + query.Encode()
	}
	var buf bytes.Buffer
	if err := c.do(ctx, http.MethodGet, path, scope, nil, &buf); err != nil {
		return err
	}
	body, ok := bytes.CutSuffix(buf.Bytes(), []byte(endOfText))
	if !ok {
		return fmt.Errorf("daemon: %s: answer cut short: %s", path, lastLine(buf.Bytes()))
	}
	_, err := w.Write(body)
	return err
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// Submit sends op to the daemon and delivers its outcome on the channel.
func (c *Client) Submit(ctx context.Context, op classifier.Op) (<-chan learn.Outcome, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	body, err := json.Marshal(encodeOp(op))
	if err != nil {
		<-c.slots
		return nil, err
	}
	ch := make(chan learn.Outcome, 1)
	go func() {
		defer func() { <-c.slots }()
		var out bytes.Buffer
		if err := c.do(ctx, http.MethodPost, "/v1/apply", "", bytes.NewReader(body), &out); err != nil {
			ch <- learn.Outcome{Err: err}
			return
		}
		var r resultJSON
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			ch <- learn.Outcome{Err: fmt.Errorf("daemon answer: %w", err)}
			return
		}
		res, ok := parseResult(r.Result)
		if !ok {
			ch <- learn.Outcome{Err: fmt.Errorf("daemon answer: unknown result %q", r.Result)}
			return
		}
		ch <- learn.Outcome{Result: res}
	}()
	return ch, nil
}

// DumpMagic writes sa-learn --dump magic.
func (c *Client) DumpMagic(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	return c.text(ctx, "/v1/dump/magic", sc, nil, w)
}

// DumpData writes sa-learn --dump data, filtered by the regexp if any.
func (c *Client) DumpData(ctx context.Context, sc classifier.Scope, re string, w io.Writer) error {
	q := url.Values{}
	if re != "" {
		q.Set("regexp", re)
	}
	return c.text(ctx, "/v1/dump/data", sc, q, w)
}

// Backup writes an sa-learn --backup of the scope.
func (c *Client) Backup(ctx context.Context, sc classifier.Scope, w io.Writer) error {
	return c.text(ctx, "/v1/backup", sc, nil, w)
}

// Restore replaces the scope with the backup read from r.
func (c *Client) Restore(ctx context.Context, sc classifier.Scope, r io.Reader) error {
	return c.do(ctx, http.MethodPost, "/v1/restore", sc, bufio.NewReader(r), io.Discard)
}

// Clear deletes the scope's data.
func (c *Client) Clear(ctx context.Context, sc classifier.Scope) error {
	return c.do(ctx, http.MethodPost, "/v1/clear", sc, nil, io.Discard)
}

// Expire runs token expiry now.
func (c *Client) Expire(ctx context.Context, sc classifier.Scope) error {
	path := "/v1/expire?force=1"
	if sc != "" {
		path += "&scope=" + url.QueryEscape(string(sc))
	}
	return c.do(ctx, http.MethodPost, path, "", nil, io.Discard)
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}
