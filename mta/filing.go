package mta

import (
	"github.com/emersion/go-smtp"

	"github.com/gospamd/gospamd/rules"
	"github.com/gospamd/gospamd/scan"
)

// Scanned is what filing needs of one scan: the verdict, the score and
// the marked-up message. From a scan.Result (FromResult), or from a
// spamd answer in deliver mode.
type Scanned struct {
	Verdict rules.Verdict
	Score   float64
	// Message is the copy to deliver: the user's markup applied.
	Message []byte
}

// FromResult takes what filing needs from a scan: Rewritten renders the
// user's markup once.
func FromResult(r *scan.Result) *Scanned {
	return &Scanned{Verdict: r.Verdict, Score: r.Rules.Score, Message: r.Rewritten()}
}

// A Filing is what the front end does with one recipient's copy of a
// message, decided from the scan service's verdict and the user's
// switches. The scan decides the verdict; this decides only where the
// verdict sends the copy.
type Filing int

// Filings.
const (
	FileInbox  Filing = iota // deliver to the INBOX (with markup)
	FileJunk                 // deliver to the junk folder (with markup)
	FileReject               // refuse the message (SMTP only)
	FileDrop                 // drop silently: at or over delete_score
	FileTrap                 // spam trap: learn as spam, deliver nothing
)

func (f Filing) String() string {
	switch f {
	case FileInbox:
		return "inbox"
	case FileJunk:
		return "junk"
	case FileReject:
		return "reject"
	case FileDrop:
		return "drop"
	case FileTrap:
		return "trap"
	}
	return "unknown"
}

// fileFor decides one recipient's filing. canReject is false where the
// mail is already accepted (deliver mode, or another recipient of the
// same SMTP transaction takes it): reject-level spam then goes to junk.
func fileFor(res *Scanned, user UserOptions, deleteScore float64, canReject bool) Filing {
	if user.NoFilter || res == nil {
		return FileInbox
	}
	v := res.Verdict
	if v == rules.VerdictReject && canReject {
		return FileReject
	}
	if deleteScore > 0 && v != rules.VerdictHam && res.Score >= deleteScore {
		return FileDrop
	}
	if v == rules.VerdictHam || user.NoJunkSort {
		return FileInbox
	}
	return FileJunk
}

// A reason names why a message or command was refused or deferred: in
// logs and metric labels.
type reason string

const (
	reasonRelay        reason = "relay_denied"
	reasonUnknownUser  reason = "unknown_user"
	reasonBadMailFrom  reason = "badmailfrom"
	reasonBadRcptTo    reason = "badrcptto"
	reasonBadPair      reason = "badmailfromto"
	reasonBadAddress   reason = "bad_address"
	reasonHeaders      reason = "missing_headers"
	reasonSpam         reason = "spam"
	reasonTooBig       reason = "too_big"
	reasonScanFailed   reason = "scan_failed"
	reasonDelivery     reason = "delivery_failed"
	reasonLearnFailed  reason = "learn_failed"
	reasonLoad         reason = "load"
	reasonConnLimit    reason = "connection_limit"
	reasonIPLimit      reason = "connection_limit_ip"
	reasonEarlyTalker  reason = "early_talker"
	reasonRoutesFailed reason = "routes_unreadable"
	reasonHopRefused   reason = "next_hop_refused"
	reasonDNSBL        reason = "dnsbl"
)

// reply is the client-facing answer for a reason: generic text, the
// cause goes to the log.
func reply(r reason) *smtp.SMTPError {
	e := func(code int, c1, c2, c3 int, msg string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{c1, c2, c3}, Message: msg}
	}
	switch r {
	case reasonRelay:
		return e(554, 5, 7, 1, "Relaying denied")
	case reasonUnknownUser, reasonBadMailFrom, reasonBadRcptTo, reasonBadPair:
		return e(550, 5, 1, 1, "No such user here")
	case reasonBadAddress:
		return e(501, 5, 1, 3, "Bad recipient address syntax")
	case reasonHeaders:
		return e(554, 5, 6, 0, "Message refused: required header missing (From, Date)")
	case reasonSpam:
		return e(554, 5, 7, 1, "Message refused as spam")
	case reasonTooBig:
		return e(552, 5, 3, 4, "Message too big")
	case reasonLoad:
		return e(451, 4, 3, 2, "System busy, try again later")
	case reasonConnLimit, reasonIPLimit:
		return e(421, 4, 7, 0, "Too many connections, try again later")
	case reasonHopRefused:
		return e(550, 5, 0, 0, "Message refused for every recipient")
	case reasonEarlyTalker:
		return e(554, 5, 5, 0, "Protocol error: talking before the greeting")
	}
	// scan, delivery, learn and routes failures: try again later.
	return e(451, 4, 3, 0, "Temporary failure, try again later")
}
