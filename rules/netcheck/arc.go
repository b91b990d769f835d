package netcheck

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// ARC (RFC 8617), as Mail::DKIM::ARC::Verifier judges a chain for
// check_arc_valid: every instance 1..N has one ARC-Authentication-
// Results, ARC-Message-Signature and ARC-Seal; the seals' cv are none
// for 1 and pass after; the newest message signature verifies over the
// message; every seal verifies over the sets up to its own.

// A hdr is one header field as the message has it.
type hdr struct {
	name, raw string // raw: the value after the colon, folding kept
}

// arcResult is "none" (no ARC headers), "pass" or "fail".
func arcResult(headers []hdr, body []byte, lookup func(string) ([]string, error)) string {
	type set struct{ aar, ams, as *hdr }
	sets := map[int]*set{}
	n := 0
	for i := range headers {
		h := &headers[i]
		name := strings.ToLower(h.name)
		if name != "arc-authentication-results" && name != "arc-message-signature" && name != "arc-seal" {
			continue
		}
		inst, ok := arcInstance(name, h.raw)
		if !ok || inst < 1 || inst > 50 {
			return "fail"
		}
		st := sets[inst]
		if st == nil {
			st = &set{}
			sets[inst] = st
		}
		slot := map[string]**hdr{"arc-authentication-results": &st.aar, "arc-message-signature": &st.ams, "arc-seal": &st.as}[name]
		if *slot != nil {
			return "fail"
		}
		*slot = h
		n = max(n, inst)
	}
	if n == 0 {
		return "none"
	}
	for i := 1; i <= n; i++ {
		st := sets[i]
		if st == nil || st.aar == nil || st.ams == nil || st.as == nil {
			return "fail"
		}
		cv := strings.ToLower(dkimTags(st.as.raw)["cv"])
		if (i == 1 && cv != "none") || (i > 1 && cv != "pass") {
			return "fail"
		}
	}
	if !verifyAMS(headers, sets[n].ams, body, lookup) {
		return "fail"
	}
	for k := n; k >= 1; k-- {
		var b strings.Builder
		for i := 1; i <= k; i++ {
			st := sets[i]
			for _, h := range []*hdr{st.aar, st.ams, st.as} {
				raw := h.raw
				last := i == k && h == st.as
				if last {
					raw = emptyB(raw)
				}
				c := relaxedHeader(h.name, raw)
				if last {
					c = strings.TrimSuffix(c, "\r\n")
				}
				b.WriteString(c)
			}
		}
		if !verifySig(dkimTags(sets[k].as.raw), []byte(b.String()), lookup) {
			return "fail"
		}
	}
	return "pass"
}

var (
	arcInstanceRe = regexp.MustCompile(`(?:^|;)\s*i\s*=\s*(\d+)`)
	aarInstanceRe = regexp.MustCompile(`^\s*i\s*=\s*(\d+)\s*;`)
)

func arcInstance(name, raw string) (int, bool) {
	if name == "arc-authentication-results" {
		m := aarInstanceRe.FindStringSubmatch(raw)
		if m == nil {
			return 0, false
		}
		n, err := strconv.Atoi(m[1])
		return n, err == nil
	}
	m := arcInstanceRe.FindStringSubmatch(raw)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// dkimTags reads a tag=value list, whitespace removed from values.
func dkimTags(raw string) map[string]string {
	out := map[string]string{}
	for _, t := range strings.Split(raw, ";") {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.Join(strings.Fields(v), "")
	}
	return out
}

var bTag = regexp.MustCompile(`(^|;)(\s*b\s*=)[^;]*`)

// emptyB is a signature header with the b= value removed.
func emptyB(raw string) string { return bTag.ReplaceAllString(raw, "$1$2") }

var wsp = regexp.MustCompile(`[ \t]+`)

// relaxedHeader is the relaxed canonical form of a header field.
func relaxedHeader(name, raw string) string {
	v := strings.NewReplacer("\r\n", "", "\n", "").Replace(raw)
	v = strings.TrimSpace(wsp.ReplaceAllString(v, " "))
	return strings.ToLower(strings.TrimSpace(name)) + ":" + v + "\r\n"
}

func simpleHeader(name, raw string) string {
	return name + ":" + strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
}

// canonBody is the body in canonical form, lines ending CRLF.
func canonBody(body []byte, relaxed bool) []byte {
	lines := strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	if relaxed {
		for i, l := range lines {
			lines[i] = strings.TrimRight(wsp.ReplaceAllString(l, " "), " \t")
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		if relaxed {
			return nil
		}
		return []byte("\r\n")
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// verifyAMS checks an ARC-Message-Signature as a DKIM signature.
func verifyAMS(headers []hdr, ams *hdr, body []byte, lookup func(string) ([]string, error)) bool {
	tags := dkimTags(ams.raw)
	hc, bc, _ := strings.Cut(strings.ToLower(tags["c"]), "/")
	if hc == "" {
		hc = "simple"
	}
	if bc == "" {
		bc = "simple"
	}
	cb := canonBody(body, bc == "relaxed")
	if l, err := strconv.Atoi(tags["l"]); err == nil && l < len(cb) {
		cb = cb[:l]
	}
	bh := sha256.Sum256(cb)
	if want, err := base64.StdEncoding.DecodeString(tags["bh"]); err != nil || !bytes.Equal(want, bh[:]) {
		return false
	}
	canon := relaxedHeader
	if hc != "relaxed" {
		canon = simpleHeader
	}
	var b strings.Builder
	used := map[int]bool{}
	for _, name := range strings.Split(tags["h"], ":") {
		name = strings.TrimSpace(name)
		for i := len(headers) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(headers[i].name, name) {
				used[i] = true
				b.WriteString(canon(headers[i].name, headers[i].raw))
				break
			}
		}
	}
	b.WriteString(strings.TrimSuffix(canon(ams.name, emptyB(ams.raw)), "\r\n"))
	return verifySig(tags, []byte(b.String()), lookup)
}

// verifySig checks tags' b= over data with the key at s._domainkey.d.
func verifySig(tags map[string]string, data []byte, lookup func(string) ([]string, error)) bool {
	sig, err := base64.StdEncoding.DecodeString(tags["b"])
	if err != nil || tags["d"] == "" || tags["s"] == "" {
		return false
	}
	txts, err := lookup(tags["s"] + "._domainkey." + tags["d"])
	if err != nil || len(txts) == 0 {
		return false
	}
	key := dkimTags(strings.Join(txts, ""))
	raw, err := base64.StdEncoding.DecodeString(key["p"])
	if err != nil || len(raw) == 0 {
		return false
	}
	sum := sha256.Sum256(data)
	switch strings.ToLower(tags["a"]) {
	case "rsa-sha256":
		pub, err := parseRSAKey(raw)
		return err == nil && rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	case "ed25519-sha256":
		return len(raw) == ed25519.PublicKeySize && ed25519.Verify(ed25519.PublicKey(raw), sum[:], sig)
	}
	return false
}

func parseRSAKey(raw []byte) (*rsa.PublicKey, error) {
	if k, err := x509.ParsePKIXPublicKey(raw); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA key")
	}
	return x509.ParsePKCS1PublicKey(raw)
}
