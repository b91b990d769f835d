package rules

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// Markup renders a Result the way SpamAssassin marks up a message: the
// X-Spam-* header block (SpamAssassin 4.0's default add_header set), the
// report text of the REPORT verb and of X-Spam-Report, and the rewritten
// message (report_safe 0: the original with the header block added).
type Markup struct {
	// Hostname is _HOSTNAME_ (report_hostname, else this host's name).
	Hostname string
	// Version is _VERSION_, the SpamAssassin version we answer as, and
	// Subversion _SUBVERSION_.
	Version, Subversion string
	// ReportContact is _CONTACTADDRESS_ (report_contact).
	ReportContact string
	// ReportSafe is report_safe: 0 marks a spam up in its own header; 1
	// wraps it as a message/rfc822 attachment of a report, 2 as a
	// text/plain one. Ham always gets the header treatment.
	ReportSafe int
	// ReportTemplate is the policy's report template ("report" lines);
	// empty means the built-in one. ReportWrapWidth is
	// report_wrap_width, where rule descriptions wrap (0: 75).
	ReportTemplate  string
	ReportWrapWidth int
	// Now is the clock for the wrapper's Received line (default
	// time.Now), and Boundary, if set, the wrapper's MIME boundary
	// (default: one made from the time and a random number).
	Now      func() time.Time
	Boundary string
	// RewriteSubject, RewriteFrom and RewriteTo are the rewrite_header
	// texts for spam ("" = leave the header alone); _SCORE_, _REQD_ and
	// _HITS_ in them are replaced.
	RewriteSubject, RewriteFrom, RewriteTo string
	// HeaderOps are the policy's add_header, remove_header and
	// clear_headers lines; nil renders SpamAssassin's default block.
	HeaderOps []cf.HeaderOp
}

// DefaultMarkup answers as SpamAssassin 4.0.1 does by default.
func DefaultMarkup(hostname string) Markup {
	return Markup{
		Hostname:      hostname,
		Version:       "4.0.1",
		Subversion:    "gospamd",
		ReportContact: "the administrator of that system",
	}
}

// A HeaderField is one rendered header: Value is folded (continuation
// lines start with a TAB) and has no final line ending.
type HeaderField struct {
	Name, Value string
}

// headerWrapWidth is fold_headers' wrap column: like Perl's Text::Wrap, a
// folded line is at most headerWrapWidth-1 characters long.
const headerWrapWidth = 79

// Headers returns the X-Spam-* header block for res, in order.
func (mk Markup) Headers(res *Result, m *tokenizer.Message) []HeaderField {
	if mk.HeaderOps != nil {
		return mk.policyHeaders(res)
	}
	spam := res.IsSpam()
	var out []HeaderField
	add := func(name, value string) {
		out = append(out, HeaderField{name, foldHeader(name, value)})
	}
	add("X-Spam-Checker-Version", fmt.Sprintf("SpamAssassin %s (%s) on %s", mk.Version, mk.Subversion, mk.Hostname))
	if spam {
		add("X-Spam-Flag", "YES")
	}
	add("X-Spam-Level", stars(res.Score))
	add("X-Spam-Status", fmt.Sprintf("%s, score=%s required=%.1f tests=%s autolearn=%s version=%s",
		yesNo(spam), DisplayScore(res.Score, res.Required), res.Required, testsTag(res), autolearnTag(res.Autolearn), mk.Version))
	if spam && mk.ReportSafe == 0 {
		out = append(out, HeaderField{"X-Spam-Report", foldMultiline("\n" + mk.reportTag(res))})
	}
	return out
}

// DisplayScore formats a total as _SCORE_ does: one decimal, and a ham
// whose rounded score would reach the rounded threshold is shown just
// under it, so that a score display never claims spam for a ham.
func DisplayScore(score, required float64) string {
	shownReq := math.Round(required*10) / 10
	if score < required && math.Round(score*10)/10 >= shownReq {
		return fmt.Sprintf("%.1f", shownReq-0.1)
	}
	return fmt.Sprintf("%.1f", score)
}

func yesNo(spam bool) string {
	if spam {
		return "Yes"
	}
	return "No"
}

func stars(score float64) string {
	n := min(max(int(score), 0), 50)
	return strings.Repeat("*", n)
}

func testsTag(res *Result) string {
	names := res.Rules()
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// autolearnTag is _AUTOLEARN_: the status, and for every status but
// "disabled" whether an autolearn_force rule decided it.
func autolearnTag(status string) string {
	switch status {
	case "", AutolearnDisabled:
		return AutolearnDisabled
	}
	return status + " autolearn_force=no"
}

// foldHeader folds "Name: value" as SpamAssassin's fold_headers does: a
// value without line breaks is wrapped at headerWrapWidth columns after
// white space or a comma, continuation lines starting with a TAB.
func foldHeader(name, value string) string {
	if strings.Contains(value, "\n") {
		return foldMultiline(value)
	}
	// "!!" rather than ": " keeps the wrapper from breaking there.
	h := wrapPieces(splitAfterSpaceOrComma(name+"!!"+value), "\t", "", headerWrapWidth, false)
	h = blankLines.ReplaceAllString(h, "")
	_, v, _ := strings.Cut(h, "!!")
	return v
}

var blankLines = regexp.MustCompile(`(?m)^\s*\n`)

var newlineRun = regexp.MustCompile(`\s*\n\s*`)

// foldMultiline turns every line break of a multi-line value into a
// break followed by a TAB.
func foldMultiline(value string) string {
	value = strings.TrimRight(value, "\n")
	return newlineRun.ReplaceAllString(value, "\n\t")
}

// reportTag is _REPORT_: one line per rule hit, in hit order.
// Rewrite returns the message as PROCESS answers it. A spam under
// report_safe 1 or 2 is wrapped (see wrap); otherwise it returns raw with
// the X-Spam-* header block of res inserted
// before the original header (after a leading Return-Path field) and
// any X-Spam-* fields it already had (not X-Spam-Prev-*) removed. Line
// endings follow the message's.
func (mk Markup) Rewrite(raw []byte, res *Result, m *tokenizer.Message) []byte {
	if res.IsSpam() && mk.ReportSafe != 0 {
		return mk.wrap(raw, res, m)
	}
	eol := "\n"
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		eol = "\r\n"
	}
	var block strings.Builder
	for _, h := range mk.Headers(res, m) {
		block.WriteString(h.Name + ": " + strings.ReplaceAll(h.Value, "\n", eol) + eol)
	}
	var mbox []byte
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			mbox, raw = raw[:i+1], raw[i+1:]
		}
	}
	header, body := splitHeader(raw)
	fields := splitHeaderFields(header)
	fields = slices.DeleteFunc(fields, func(f []byte) bool {
		name := strings.ToLower(string(f[:max(bytes.IndexByte(f, ':'), 0)]))
		return strings.HasPrefix(name, "x-spam-") && !strings.HasPrefix(name, "x-spam-prev-")
	})
	var prev []string
	if res.IsSpam() {
		fields, prev = mk.rewriteFields(fields, res, eol)
	}
	var out bytes.Buffer
	out.Write(mbox)
	insertAt := 0
	if len(fields) > 0 && bytes.HasPrefix(bytes.ToLower(fields[0]), []byte("return-path:")) {
		insertAt = 1
	}
	for i, f := range fields {
		if i == insertAt {
			out.WriteString(block.String())
		}
		out.Write(f)
	}
	if insertAt >= len(fields) {
		out.WriteString(block.String())
	}
	for _, p := range prev {
		out.WriteString(p)
	}
	out.Write(body)
	return out.Bytes()
}

// rewriteTag expands the tags a rewrite_header text may hold.
func (mk Markup) rewriteTag(text string, res *Result) string {
	score := DisplayScore(res.Score, res.Required)
	return strings.NewReplacer("_SCORE_", score, "_HITS_", score, "_REQD_", fmt.Sprintf("%.1f", res.Required)).Replace(text)
}

// rewriteFields applies rewrite_header to a spam's header fields: the
// Subject gets the text in front (once), From and To get it in
// parentheses after the colon; each rewritten field's original is kept
// as an X-Spam-Prev-<Name> field, returned to go after the header.
func (mk Markup) rewriteFields(fields [][]byte, res *Result, eol string) ([][]byte, []string) {
	var prev []string
	for _, rw := range []struct{ name, text string }{
		{"Subject", mk.RewriteSubject}, {"From", mk.RewriteFrom}, {"To", mk.RewriteTo},
	} {
		if rw.text == "" {
			continue
		}
		tag := mk.rewriteTag(rw.text, res)
		found := false
		for i, f := range fields {
			colon := bytes.IndexByte(f, ':')
			if colon < 0 || !strings.EqualFold(string(f[:colon]), rw.name) {
				continue
			}
			found = true
			value := strings.TrimRight(string(f[colon+1:]), "\r\n")
			prev = append(prev, "X-Spam-Prev-"+rw.name+":"+value+eol)
			trimmed := strings.TrimLeft(value, " \t")
			switch {
			case rw.name != "Subject":
				fields[i] = []byte(string(f[:colon]) + ": (" + tag + ") " + trimmed + eol)
			case strings.HasPrefix(trimmed, tag):
				// already tagged: not added twice
			default:
				fields[i] = []byte(string(f[:colon]) + ": " + tag + " " + trimmed + eol)
			}
			break
		}
		if !found && rw.name == "Subject" {
			fields = append(fields, []byte("Subject: "+tag+" "+eol))
			prev = append(prev, "X-Spam-Prev-Subject: (nonexistent)"+eol)
		}
	}
	return fields, prev
}

// splitHeader splits a message at the empty line ending its header; the
// body part starts with that empty line. A message without one is all
// header, and gets an empty line added.
func splitHeader(raw []byte) (header, body []byte) {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		line := raw[i : i+j+1]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return raw[:i], raw[i:]
		}
		i += j + 1
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		raw = append(slices.Clip(raw), '\n')
	}
	return raw, []byte("\n")
}

// splitHeaderFields splits a header block into fields, each with its
// continuation lines and line endings.
func splitHeaderFields(h []byte) [][]byte {
	var fields [][]byte
	for len(h) > 0 {
		end := 0
		for {
			j := bytes.IndexByte(h[end:], '\n')
			if j < 0 {
				end = len(h)
				break
			}
			end += j + 1
			if end >= len(h) || (h[end] != ' ' && h[end] != '\t') {
				break
			}
		}
		fields = append(fields, h[:end])
		h = h[end:]
	}
	return fields
}

// wrappedHeaders are the original's fields a report_safe wrapper repeats.
var wrappedHeaders = []string{"From", "To", "Cc", "Subject", "Date", "Message-Id"}

// wrap builds the report_safe 1/2 message: a new multipart/mixed message
// from this host whose first part is the report and whose second is the
// original, byte for byte, as message/rfc822 (1) or text/plain (2), the
// way SpamAssassin wraps spam so that a reader never opens it by
// accident.
func (mk Markup) wrap(raw []byte, res *Result, m *tokenizer.Message) []byte {
	now := time.Now
	if mk.Now != nil {
		now = mk.Now
	}
	t := now()
	boundary := mk.Boundary
	if boundary == "" {
		boundary = fmt.Sprintf("----------=_%08X.%08X", t.Unix(), rand.Uint32())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from localhost by %s\n\twith SpamAssassin (version %s);\n\t%s\n",
		mk.Hostname, mk.Version, t.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	for _, name := range wrappedHeaders {
		for _, f := range m.Header {
			if !strings.EqualFold(f.Name, name) {
				continue
			}
			value := strings.ReplaceAll(f.Raw, "\r\n", "\n")
			switch {
			case strings.EqualFold(name, "Subject") && mk.RewriteSubject != "":
				value = " " + mk.rewriteTag(mk.RewriteSubject, res) + " " + strings.TrimLeft(value, " \t")
			case strings.EqualFold(name, "From") && mk.RewriteFrom != "":
				value += "\t(" + mk.rewriteTag(mk.RewriteFrom, res) + ")"
			case strings.EqualFold(name, "To") && mk.RewriteTo != "":
				value += "\t(" + mk.rewriteTag(mk.RewriteTo, res) + ")"
			}
			b.WriteString(f.Name + ":" + value + "\n")
		}
	}
	for _, h := range mk.Headers(res, m) {
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	b.WriteString("MIME-Version: 1.0\n")
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\n\n", boundary)
	b.WriteString("This is a multi-part message in MIME format.\n\n")
	fmt.Fprintf(&b, "--%s\nContent-Type: text/plain; charset=UTF-8\nContent-Disposition: inline\nContent-Transfer-Encoding: 8bit\n\n", boundary)
	disposition := "inline"
	report := mk.Report(res, m)
	if ct := strings.ToLower(strings.TrimSpace(m.Header.Get("Content-Type"))); ct != "" && !strings.HasPrefix(ct, "text/plain") {
		disposition = "attachment"
		report += unsafeReport
	}
	b.WriteString(report + "\n\n")
	attType := "message/rfc822; x-spam-type=original"
	if mk.ReportSafe == 2 {
		attType = "text/plain; x-spam-type=original"
	}
	fmt.Fprintf(&b, "--%s\nContent-Type: %s\nContent-Description: original message before SpamAssassin\nContent-Disposition: %s\nContent-Transfer-Encoding: 8bit\n\n",
		boundary, attType, disposition)
	out := []byte(b.String())
	out = append(out, raw...)
	out = append(out, "\n--"+boundary+"--\n\n"...)
	return out
}

// unsafeReport is added to the report when the original is not plain
// text, which a mail reader might render or run.
const unsafeReport = `The attached original is not plain text: a mail program could run or
display parts of it (scripts, remote images that tell the sender your
address works). To look at it safely, save it and open it in a text
editor.

`

// policyHeaders renders the header templates the policy's header
// operations leave for this message, tags expanded, folded.
func (mk Markup) policyHeaders(res *Result) []HeaderField {
	var out []HeaderField
	for _, f := range cf.HeaderFields(mk.HeaderOps, res.IsSpam()) {
		name := "X-Spam-" + f.Name
		out = append(out, HeaderField{name, foldHeader(name, mk.expandTags(f.Value, res, nil))})
	}
	return out
}

// tagPattern is a template tag, _NAME_ or _NAME(arg)_, as SpamAssassin
// recognises them.
var tagPattern = regexp.MustCompile(`_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)(?:\((.*?)\))?_`)

// expandTags replaces the template tags of add_header values and of the
// report template; m (for _PREVIEW_) may be nil. Unknown tags stay.
func (mk Markup) expandTags(tmpl string, res *Result, m *tokenizer.Message) string {
	spam := res.IsSpam()
	return tagPattern.ReplaceAllStringFunc(tmpl, func(tag string) string {
		sub := tagPattern.FindStringSubmatch(tag)
		name, arg := sub[1], sub[2]
		switch name {
		case "YESNOCAPS":
			return strings.ToUpper(yesNo(spam))
		case "YESNO":
			if arg != "" {
				yes, no, _ := strings.Cut(arg, ",")
				if spam {
					return yes
				}
				return no
			}
			return yesNo(spam)
		case "STARS":
			c := "*"
			if arg != "" {
				c = arg[:1]
			}
			return strings.Repeat(c, min(max(int(res.Score), 0), 50))
		case "SCORE", "HITS":
			return DisplayScore(res.Score, res.Required)
		case "REQD":
			return fmt.Sprintf("%.1f", res.Required)
		case "TESTS":
			if arg != "" {
				names := res.Rules()
				if len(names) == 0 {
					return "none"
				}
				return strings.Join(names, arg)
			}
			return testsTag(res)
		case "TESTSSCORES":
			sep := ","
			if arg != "" {
				sep = arg
			}
			var parts []string
			for _, h := range res.Hits {
				parts = append(parts, fmt.Sprintf("%s=%.3g", h.Rule, h.Score))
			}
			slices.Sort(parts)
			return strings.Join(parts, sep)
		case "AUTOLEARN":
			return autolearnTag(res.Autolearn)
		case "VERSION":
			return mk.Version
		case "SUBVERSION":
			return mk.Subversion
		case "HOSTNAME":
			return mk.Hostname
		case "CONTACTADDRESS":
			return mk.ReportContact
		case "BAYES":
			if !res.BayesRan {
				return "0.5"
			}
			return fmt.Sprintf("%.4f", res.Bayes)
		case "REPORT":
			return "\n" + mk.reportTag(res)
		case "SUMMARY":
			return mk.summaryTag(res)
		case "PREVIEW":
			return contentPreview(m)
		}
		return tag
	})
}
