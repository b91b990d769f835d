package redisstore

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

func newTestReader(s string) *respReader {
	return &respReader{br: bufio.NewReaderSize(strings.NewReader(s), respBufSize)}
}

// The reader returns each reply type as the protocol defines it, and
// refuses what is not RESP2 rather than guessing.
func TestReadReply(t *testing.T) {
	long := strings.Repeat("x", respBufSize)
	tests := []struct {
		name    string
		in      string
		want    []reply // headers read in order, then the wantErr
		wantErr error
	}{
		{"status", "+OK\r\n", []reply{{kind: '+', data: []byte("OK")}}, io.EOF},
		{"error", "-ERR wrong\r\n", []reply{{kind: '-', data: []byte("ERR wrong")}}, io.EOF},
		{"integer", ":-42\r\n:0\r\n", []reply{{kind: ':', n: -42}, {kind: ':'}}, io.EOF},
		{"bulk", "$3\r\nabc\r\n$0\r\n\r\n", []reply{{kind: '$', n: 3, data: []byte("abc")}, {kind: '$', data: []byte{}}}, io.EOF},
		{"bulk with CRLF inside", "$4\r\na\r\nb\r\n", []reply{{kind: '$', n: 4, data: []byte("a\r\nb")}}, io.EOF},
		{"null bulk", "$-1\r\n", []reply{{kind: '$', n: -1}}, io.EOF},
		{"array", "*2\r\n$1\r\ns\r\n$-1\r\n", []reply{{kind: '*', n: 2}, {kind: '$', n: 1, data: []byte("s")}, {kind: '$', n: -1}}, io.EOF},
		{"null array", "*-1\r\n", []reply{{kind: '*', n: -1}}, io.EOF},
		{"bulk too long to return is skipped", "$" + "16384\r\n" + long + "\r\n+OK\r\n",
			[]reply{{kind: '$', n: respBufSize}, {kind: '+', data: []byte("OK")}}, io.EOF},
		{"bulk body cut short", "$5\r\nab", nil, io.ErrUnexpectedEOF},
		{"line cut short", "+OK", nil, io.ErrUnexpectedEOF},
		{"bulk without CRLF", "$2\r\nabcd\r\n", nil, errProtocol},
		{"line ended by LF alone", "+OK\n", nil, errProtocol},
		{"unknown type", "?x\r\n", nil, errProtocol},
		{"RESP3 null, boolean, double", "_\r\n#t\r\n,1.5\r\n", []reply{{kind: '_', n: -1}, {kind: '#', data: []byte("t")}, {kind: ',', data: []byte("1.5")}}, io.EOF},
		{"RESP3 map and bulk error", "%1\r\n+a\r\n:1\r\n!3\r\nERR\r\n", []reply{{kind: '%', n: 1}, {kind: '+', data: []byte("a")}, {kind: ':', n: 1}, {kind: '!', n: 3, data: []byte("ERR")}}, io.EOF},
		{"RESP3 null map", "%-1\r\n", nil, errProtocol},
		{"RESP3 null with a value", "_x\r\n", nil, errProtocol},
		{"empty line", "\r\n", nil, errProtocol},
		{"bad integer", ":12a\r\n", nil, errProtocol},
		{"integer overflow", ":99999999999999999999\r\n", nil, errProtocol},
		{"negative length", "$-2\r\n", nil, errProtocol},
		{"huge array", "*999999999999\r\n", nil, errProtocol},
		{"line longer than the buffer", "+" + long + "\r\n", nil, errProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestReader(tt.in)
			for i, want := range tt.want {
				got, err := r.read()
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if got.kind != want.kind || got.n != want.n || string(got.data) != string(want.data) || (got.data == nil) != (want.data == nil) {
					t.Fatalf("reply %d: got %c %d %q, want %c %d %q", i, got.kind, got.n, got.data, want.kind, want.n, want.data)
				}
			}
			if _, err := r.read(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("then %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// A lookup's replies are read into counts, the counters and the seen
// class; an error reply for one command is returned after the rest of
// the replies are read, so the connection stays in step.
func TestReadLookup(t *testing.T) {
	ok := "+OK\r\n" + strings.Repeat("+QUEUED\r\n", 6)
	tests := []struct {
		name      string
		in        string
		wantErr   string
		want      []classifier.Counts
		spam, ham int64
		seen      classifier.Class
	}{
		{"counts", ok + "*6\r\n$2\r\n12\r\n$1\r\n7\r\n$-1\r\n" +
			"*2\r\n$1\r\n3\r\n$-1\r\n*2\r\n$-1\r\n$1\r\n5\r\n*2\r\n$-1\r\n$-1\r\n",
			"", []classifier.Counts{{Spam: 3}, {Ham: 5}, {}}, 12, 7, 0},
		{"seen, odd values", ok + "*6\r\n$-1\r\n$2\r\n-4\r\n$1\r\nh\r\n" +
			"*2\r\n$3\r\nabc\r\n$2\r\n-1\r\n*2\r\n$10\r\n9999999999\r\n$1\r\n0\r\n*2\r\n$2\r\n+2\r\n$1\r\n1\r\n",
			"", []classifier.Counts{{}, {Spam: 1<<32 - 1}, {Spam: 2, Ham: 1}}, 0, 0, classifier.Ham},
		{"error reply in the middle", ok + "*6\r\n$1\r\n1\r\n$1\r\n1\r\n$-1\r\n" +
			"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n*2\r\n$-1\r\n$1\r\n5\r\n*2\r\n$-1\r\n$-1\r\n",
			"WRONGTYPE Operation against a key holding the wrong kind of value", nil, 0, 0, 0},
		{"EXEC aborted", "+OK\r\n+QUEUED\r\n-ERR unknown command\r\n" + strings.Repeat("+QUEUED\r\n", 4) + "-EXECABORT Transaction discarded\r\n",
			"ERR unknown command", nil, 0, 0, 0},
		{"EXEC with too few replies", ok + "*2\r\n$1\r\n1\r\n$1\r\n1\r\n", "redis protocol error", nil, 0, 0, 0},
		{"array where a string is expected", ok + "*6\r\n*1\r\n", "redis protocol error", nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in + "+NEXT\r\n"
			r := newTestReader(in)
			out := make([]classifier.Counts, 3)
			m, seen, err := readLookup(r, out, 1)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if isServerError(err) {
					if rep, err := r.read(); err != nil || string(rep.data) != "NEXT" {
						t.Errorf("after an error reply the reader is not at the next reply: %q %v", rep.data, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.NSpam != tt.spam || m.NHam != tt.ham || seen != tt.seen {
				t.Errorf("counters %d/%d seen %q, want %d/%d %q", m.NSpam, m.NHam, seen, tt.spam, tt.ham, tt.seen)
			}
			for i := range out {
				if out[i] != tt.want[i] {
					t.Errorf("token %d: %+v, want %+v", i, out[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzReadReply feeds the reader arbitrary bytes: it must neither panic
// nor loop, whatever a broken server or proxy sends, and a lookup read
// from them must fail or fill in sane counts.
func FuzzReadReply(f *testing.F) {
	for _, seed := range []string{
		"+OK\r\n", "-ERR x\r\n", ":12\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n",
		"*2\r\n$1\r\ns\r\n$-1\r\n", "*2\r\n*2\r\n:1\r\n:2\r\n+x\r\n",
		"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n$1\r\n5\r\n$1\r\n2\r\n*2\r\n$1\r\n1\r\n$-1\r\n",
		"$5\r\nab", "*99999999\r\n", ":-9223372036854775808\r\n", "%2\r\n",
		">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nw:abcde\r\n+OK\r\n", ">2\r\n$10\r\ninvalidate\r\n_\r\n:1\r\n", "%1\r\n+a\r\n~1\r\n_\r\n", "!3\r\nERR\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := &respReader{br: bufio.NewReaderSize(bytes.NewReader(in), respBufSize)}
		for range len(in) + 1 {
			if _, err := r.readValue(); err != nil {
				break
			}
		}
		out := make([]classifier.Counts, 1)
		r = &respReader{br: bufio.NewReaderSize(bytes.NewReader(in), respBufSize)}
		if m, _, err := readLookup(r, out, 0); err == nil && (m.NSpam < 0 || m.NHam < 0) {
			t.Errorf("negative counters %d/%d", m.NSpam, m.NHam)
		}
		// The same with the tracking connection's push handler.
		c := newTokenCache(nil, nil)
		c.counts = map[tokenizer.Key]classifier.Counts{tokenizer.Key([]byte("abcde")): {Spam: 1}}
		r = &respReader{br: bufio.NewReaderSize(bytes.NewReader(in), respBufSize), push: c.invalidate}
		for range len(in) + 1 {
			if _, err := r.readValue(); err != nil {
				break
			}
		}
	})
}

// Invalidations pushed between (and inside) replies drop the tokens they
// name, a null one all of them; the reply after them is read as usual.
func TestInvalidationPush(t *testing.T) {
	a, b := tokenizer.Key([]byte("aaaaa")), tokenizer.Key([]byte("bbbbb"))
	tests := []struct {
		name string
		in   string
		left int
	}{
		{"one key", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nw:aaaaa\r\n", 1},
		{"other keys", ">2\r\n$10\r\ninvalidate\r\n*3\r\n$7\r\nv:NSPAM\r\n$7\r\nw:ccccc\r\n$3\r\nw:a\r\n", 2},
		{"flush", ">2\r\n$10\r\ninvalidate\r\n_\r\n", 0},
		{"two pushes", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nw:aaaaa\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nw:bbbbb\r\n", 0},
		{"another push", ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTokenCache(nil, nil)
			c.counts = map[tokenizer.Key]classifier.Counts{a: {Spam: 1}, b: {Ham: 2}}
			r := newTestReader(tt.in + "*2\r\n$1\r\n1\r\n_\r\n")
			r.push = c.invalidate
			rep, err := r.read()
			if err != nil || rep.kind != '*' || rep.n != 2 {
				t.Fatalf("reply after the pushes: %c %d %v", rep.kind, rep.n, err)
			}
			if len(c.counts) != tt.left {
				t.Errorf("%d tokens left in the cache, want %d", len(c.counts), tt.left)
			}
		})
	}
}
