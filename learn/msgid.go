package learn

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"strings"

	"github.com/gospamd/gospamd/tokenizer"
)

// MessageID is the id under which the seen index records a message: the
// id SpamAssassin generates, sha1_hex(To "\0" Date "\0" sha1_hex(body)) with
// "@sa_generated" appended. To and Date are the decoded values of the last
// such header with their line ending ("" when absent), and the body is the
// pristine body with CRLF line endings turned into LF. Using the same id as
// SpamAssassin keeps a restored sa-learn backup's seen index meaningful.
func MessageID(m *tokenizer.Message) string {
	h := sha1.New()
	h.Write([]byte(lastHeader(m, "To")))
	h.Write([]byte{0})
	h.Write([]byte(lastHeader(m, "Date")))
	h.Write([]byte{0})
	body := m.Body
	if bytes.Contains(body, []byte("\r\n")) {
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	}
	bodySum := sha1.Sum(body)
	var hexBody [40]byte
	hex.Encode(hexBody[:], bodySum[:])
	h.Write(hexBody[:])
	return hex.EncodeToString(h.Sum(nil)) + "@sa_generated"
}

// AltMessageID is the message's own Message-ID without its angle brackets,
// the id databases written by old SpamAssassin versions used; "" if the
// message has none.
func AltMessageID(m *tokenizer.Message) string {
	v := strings.TrimSpace(lastHeader(m, "Message-Id"))
	if len(v) > 2 && v[0] == '<' && v[len(v)-1] == '>' {
		return v[1 : len(v)-1]
	}
	return ""
}

func lastHeader(m *tokenizer.Message, name string) string {
	vs := m.Header.Values(name)
	if len(vs) == 0 || vs[len(vs)-1] == "" {
		return ""
	}
	return vs[len(vs)-1] + "\n"
}
