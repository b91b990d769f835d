package tokenizer

import "strings"

// lowerName is strings.ToLower for a header field name: a name that is
// already lower case, or the lower-cased form of a common one, comes back
// without allocating (every field's name is lowered several times while
// parsing and tokenizing a message).
func lowerName(s string) string {
	if len(s) > len(lowerNameBuf{}) {
		return strings.ToLower(s)
	}
	var buf lowerNameBuf
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		buf[i] = c
	}
	if !upper {
		return s
	}
	if l, ok := commonLowerNames[string(buf[:len(s)])]; ok {
		return l
	}
	return string(buf[:len(s)])
}

type lowerNameBuf [40]byte

// commonLowerNames holds the lower-cased names of common header fields,
// each mapped to itself.
var commonLowerNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range strings.Fields(`received from to cc bcc subject date message-id return-path
		delivered-to mime-version content-type content-transfer-encoding content-disposition
		content-length content-id content-description x-mailer user-agent reply-to in-reply-to
		references sender errors-to precedence organization organisation importance priority
		list-id list-help list-post list-subscribe list-unsubscribe list-archive list-owner
		x-beenthere x-mailman-version x-original-date x-priority x-msmail-priority x-mimeole
		x-loop x-authentication-warning status x-status x-keywords x-uid x-virus-scanned
		x-spam-status x-spam-level x-spam-checker-version x-spam-flag x-originating-ip
		x-accept-language x-sender x-mailing-list mailing-list x-egroups-return
		x-apparently-to x-original-to envelope-to x-envelope-to thread-index thread-topic
		x-ms-has-attach x-ms-tnef-correlator x-originalarrivaltime x-mime-autoconverted
		delivery-date resent-from resent-to resent-date resent-message-id x-list x-unsub
		x-unsubscribe mail-followup-to comments keywords x-face x-url`) {
		m[n] = n
	}
	return m
}()
